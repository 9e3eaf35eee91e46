"""Ingestion: sources of raw feeds and the bronze writer that lands them once, with a manifest."""
