"""Inventory: the stock ledger, balances, reservations and availability to promise."""
