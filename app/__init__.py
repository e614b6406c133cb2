"""MyDRTV social layer: composition root, settings, accounts and the REST edge."""
