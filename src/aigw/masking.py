"""Secrets hidden from every view of the configuration: `aigw config check`, the admin API's config
view, `aigw config show` and the audit log all show what `mask_secrets` returns.

A configuration names its secrets in two ways, and both are masked:
- a field whose name looks secret (`api_key`, a header `Authorization`, `X-Api-Key`, a query
  parameter `key`, `sig`, `code`, `token` …): its string value becomes `***`;
- a URL with credentials in it (`postgresql://user:pass@host`, `https://host/?api-key=…`): the
  password and the values of secret-looking query parameters become `***`.
Names are matched eagerly, on purpose: a readable value shown as `***` costs a look at the file, a
secret shown costs a rotation. Names ending in `_env` hold the *name* of an environment variable,
never its value, so they stay readable (an operator needs them to know what to set).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"
# Words that make a field name secret wherever they appear in it (after dropping separators).
_SECRET_PARTS = (
    "authorization",
    "apikey",
    "token",
    "secret",
    "passw",
    "signature",
    "credential",
    "cookie",
    "session",
    "privatekey",
    "bearer",
)
# Short words that make a name secret only as a whole word (`x-auth`, `key`, `sig`), not inside
# another word (`monkey`, `design`).
_SECRET_WORDS = frozenset({"auth", "key", "sig", "pwd", "pass", "code", "jwt", "sas"})
_NOT_SECRET = frozenset({"auth_header"})  # which header carries the key, not the key
_WORD = re.compile(r"[a-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_MAX_NAME = 256  # longer names are masked without looking: no real header or field is that long
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]{0,31}://\S+")


def looks_secret(name: str) -> bool:
    """Whether a field, header or query parameter called `name` holds a secret value."""
    if len(name) > _MAX_NAME:
        return True
    lowered = name.lower()
    if lowered in _NOT_SECRET or lowered.endswith("_env"):
        return False
    compact = re.sub(r"[^a-z0-9]", "", lowered)
    if any(part in compact for part in _SECRET_PARTS):
        return True
    return any(word in _SECRET_WORDS for word in _WORD.findall(_CAMEL.sub("_", name).lower()))


def mask_url(url: str | None) -> str | None:
    """`url` with its password and the values of secret-looking query parameters replaced by `***`."""
    if not url:
        return url
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    authority, slash, tail = _split_authority(rest)
    if "@" in authority:
        creds, _, host = authority.rpartition("@")
        user = creds.split(":", 1)[0]
        authority = f"{user}:{MASK}@{host}" if ":" in creds else f"{user}@{host}"
    masked = f"{scheme}://{authority}{slash}{tail}"
    if "?" not in tail:
        return masked
    parts = urlsplit(masked)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    if not any(looks_secret(name) for name, _ in pairs):
        return masked
    query = urlencode([(name, MASK if looks_secret(name) else value) for name, value in pairs], safe="*")
    return urlunsplit(parts._replace(query=query))


def _split_authority(rest: str) -> tuple[str, str, str]:
    """(user:password@host, the separator, path?query#fragment); a password may hold '/' or '?'
    unescaped, so the authority ends at the first separator after the last '@'."""
    at = rest.rfind("@")
    for index in range(max(at, 0), len(rest)):
        if rest[index] in "/?#":
            return rest[:index], rest[index], rest[index + 1 :]
    return rest, "", ""


def mask_secrets(value: Any) -> Any:
    """A copy of a JSON-like configuration value with every secret masked (see the module doc)."""
    if isinstance(value, Mapping):
        return {key: _mask_field(str(key), item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [mask_secrets(item) for item in value]
    return value


def mask_entry(key: str, value: Any) -> Any:
    """A configuration entry's value with its secrets masked, as a field named `key` would be."""
    return _mask_field(key, value)


def _mask_field(name: str, value: Any) -> Any:
    if looks_secret(name) and not isinstance(value, Mapping):
        return _mask_strings(value)
    if isinstance(value, str):
        return mask_url(value) if _URL.fullmatch(value) else value
    return mask_secrets(value)


def _mask_strings(value: Any) -> Any:
    """Every string in `value` (a secret-named field's value, or a list of them) masked; numbers
    and booleans kept (`max_prompt_tokens` names a count, not a token)."""
    if isinstance(value, str):
        return MASK
    if isinstance(value, list | tuple):
        return [_mask_strings(item) for item in value]
    return value
