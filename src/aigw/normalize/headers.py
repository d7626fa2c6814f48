"""Header values that are safe to send, whatever they were built from.

Response headers carry names that callers and upstreams choose (the model asked for, the model an
upstream says served). A value with a line break or a character outside Latin-1 makes the server
refuse the whole response after the upstream call was paid for: the connection drops. So every
such value goes through `header_value`: printable ASCII up to `MAX_HEADER_VALUE` characters passes
unchanged (the usual case, one C-level check); anything else is percent-encoded as UTF-8, which
keeps it readable and reversible, and cut to the bound.
"""

from __future__ import annotations

from urllib.parse import quote

MAX_HEADER_VALUE = 256
# Printable ASCII but "%": a value that needed encoding keeps its other characters as they are.
_KEPT = frozenset(chr(c) for c in range(0x20, 0x7F) if chr(c) != "%")


def header_value(value: str, limit: int = MAX_HEADER_VALUE) -> str:
    """`value` as a header may carry it: printable ASCII, at most `limit` characters."""
    if len(value) <= limit and value.isascii() and value.isprintable():
        return value.strip(" ")
    pieces: list[str] = []
    size = 0
    for char in value[:limit]:  # character by character: a cut never splits one's escape
        piece = char if char in _KEPT else quote(char, safe="", errors="backslashreplace")
        size += len(piece)
        if size > limit:
            break
        pieces.append(piece)
    return "".join(pieces).strip(" ")


def safe_headers(headers: dict[str, str]) -> dict[str, str]:
    """Every value of `headers` made header-safe (names are ours: constants in the code)."""
    return {name: header_value(value) for name, value in headers.items()}
