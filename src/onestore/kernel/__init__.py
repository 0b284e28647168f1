"""The few value types every context shares: money, ids, clock, errors, events.

The kernel imports nothing but the standard library and Babel, so every domain model can use it.
"""
