"""How deeply JSON nests, found without recursion, so that hostile JSON cannot exhaust the stack.

Python's `json`, `jsonschema` and our own walks recurse once (or several times) per level and raise
`RecursionError` near 1,000 levels; orjson parses up to 1,024 levels but serialises only 254. A
document from a caller (tool-call arguments are JSON inside a JSON string, so a bound on the
request body does not see them) or from an upstream is therefore measured here before anything
walks it, and is refused or handled as plain text past `MAX_JSON_DEPTH`.

Decision: 64 levels. Real documents are far shallower (a chat completion with log-probabilities
nests 7 levels, OpenAI's strict schemas allow 5 levels of objects), and 64 levels leave every
walker, `jsonschema` included, well inside Python's recursion limit.

Cost: counting `[` and `{` is a C-speed pass; only a text with more brackets than the bound is
scanned token by token (brackets, quotes and escapes, one linear regex, no backtracking).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

MAX_JSON_DEPTH = 64

# A whole string (an unterminated one runs to the end: possessive, so no backtracking) or a bracket.
_TOKENS = r'"(?:[^"\\]++|\\.)*+(?:"|\Z)|(?P<open>[\[{])|(?P<close>[\]}])'
_TEXT_TOKENS = re.compile(_TOKENS, re.DOTALL)
_BYTES_TOKENS = re.compile(_TOKENS.encode(), re.DOTALL)


def text_exceeds_depth(text: str | bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON text nests deeper than `limit` arrays and objects (brackets inside strings
    do not count). Works on any text: for one that is not JSON the answer is merely a bound."""
    if isinstance(text, bytes):
        if text.count(b"[") + text.count(b"{") <= limit:
            return False
        tokens: Iterator[re.Match[str] | re.Match[bytes]] = _BYTES_TOKENS.finditer(text)
    else:
        if text.count("[") + text.count("{") <= limit:
            return False
        tokens = _TEXT_TOKENS.finditer(text)
    depth = 0
    for token in tokens:
        if token.lastgroup == "open":
            depth += 1
            if depth > limit:
                return True
        elif token.lastgroup == "close":
            depth -= 1
    return False


def value_exceeds_depth(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether a parsed JSON value (dicts and lists) nests deeper than `limit` containers."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        current, depth = stack.pop()
        if isinstance(current, dict):
            children: Any = current.values()
        elif isinstance(current, list):
            children = current
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False
