"""Answers leave in one shape: the same metadata on every answer, JSON answers checked against the
`response_format` the caller asked for."""
