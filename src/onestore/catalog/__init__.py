"""The catalog: products, variants, barcodes, categories, attributes, units, channels,
locations and assortments — the master data every channel shares."""
