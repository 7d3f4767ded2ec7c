"""One module per CLI command; each defines ``command``. Keep imports here light."""
