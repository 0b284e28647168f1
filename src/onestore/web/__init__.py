"""Server-rendered pages (Jinja2) for people: the back office today, POS and storefront later.

Pages call the same service functions and declare permissions with the same dependencies as
the JSON API, so a page can never show what the API would refuse.
"""
