"""Catalogs: named collections of items (id, text, metadata) that task entrypoints search."""
