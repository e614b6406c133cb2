"""The composition root: picks every backend from its URL, builds the app, runs it (``mydrtv``)."""
