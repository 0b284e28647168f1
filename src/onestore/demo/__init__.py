"""The demo retailer: a deterministic, realistic catalog, network and staff for trying onestore."""
