"""Who is calling and what they may do: staff users with store-scoped roles, customer
principals, API tokens, page sessions, and the one policy every route goes through."""
