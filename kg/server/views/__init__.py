"""The views of the web service, one module per group of pages (each a Flask blueprint)."""
