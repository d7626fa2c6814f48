"""Logging, tracing and metrics: used by every layer, importing none of them."""
