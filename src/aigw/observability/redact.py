"""Scrubbing for anything written to logs: secrets and e-mail/phone/card-like strings never pass.

This is the log-side safety net, applied to every string field of every log line. It is eager on
purpose: a false positive costs a little debugging detail, a false negative leaks data.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable

Redactor = Callable[[str], str]

_PATTERNS: tuple[tuple[str, str], ...] = (
    ("PRIVATE_KEY", r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)"),
    ("BEARER", r"\b(?i:bearer)\s+[A-Za-z0-9._~+/=-]+"),
    ("JWT", r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"),
    (
        "API_KEY",
        r"\b(?:sk|pk|rk)-[A-Za-z0-9_-]{8,}|\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"
        r"|\bgh[pousr]_[A-Za-z0-9]{20,}|\bxox[abpr]-[A-Za-z0-9-]{10,}"
        r"|\bAIza[0-9A-Za-z_-]{35}",
    ),
    ("EMAIL", r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"),
    # Runs of 7+ digits with the separators phone and card numbers use; dates, versions and
    # dotted IP addresses are left alone by `_looks_numeric_noise`.
    ("NUMBER", r"(?<![\w.])\+?\(?\d[\d\s().-]{5,}\d(?![\w])"),
)
# One pass over the text finds every kind: each alternative is a named group, earlier ones win.
_ANY = re.compile("|".join(f"(?P<{label}>{pattern})" for label, pattern in _PATTERNS))
_NUMBER = re.compile(_PATTERNS[-1][1])
_CACHE_MAX_LENGTH = 128  # short values (paths, model names) repeat from request to request
_IPV4 = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
_DECIMAL = re.compile(r"^\d+\.\d+$")
# A date, address or decimal that a run of digits starts with: kept, and the rest looked at alone.
_NOISE_PREFIX = re.compile(r"^(?:\d{4}-\d{2}-\d{2}|\d{1,3}(?:\.\d{1,3}){3}|\d+\.\d+)(?=\s)")


def _looks_numeric_noise(text: str) -> bool:
    digits = sum(c.isdigit() for c in text)
    return digits < 7 or bool(_IPV4.match(text) or _DATE.match(text) or _DECIMAL.match(text))


def _replace_number(match: re.Match[str]) -> str:
    text = match.group(0)
    prefix = _NOISE_PREFIX.match(text)
    if prefix is not None:
        return text[: prefix.end()] + _NUMBER.sub(_replace_number, text[prefix.end() :])
    return text if _looks_numeric_noise(text) else "[NUMBER]"


def _replace_any(match: re.Match[str]) -> str:
    label = match.lastgroup
    return _replace_number(match) if label == "NUMBER" else f"[{label}]"


class LogRedactor:
    """Replaces known secret values, then anything shaped like a secret or personal data."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)
        self._short = functools.lru_cache(maxsize=1024)(self._redact)

    def add_secret(self, secret: str | None) -> None:
        if secret and len(secret) >= 4 and secret not in self._secrets:
            self._secrets = sorted([*self._secrets, secret], key=len, reverse=True)
            self._short.cache_clear()

    def __call__(self, text: str) -> str:
        return self._short(text) if len(text) <= _CACHE_MAX_LENGTH else self._redact(text)

    def _redact(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, "[SECRET]")
        return _ANY.sub(_replace_any, text)
