"""onestore: one customer, one inventory, one order for every channel."""

__version__ = "0.1.0"
