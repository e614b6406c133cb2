"""The features, one folder each; they stand on ``core`` and the libraries, and ``server`` wires them."""
