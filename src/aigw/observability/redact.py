"""Scrubbing for anything written to logs: secrets and e-mail/phone/card-like strings never pass.

This is the log-side safety net, applied to every string field of every log line. It is eager on
purpose: a false positive costs a little debugging detail, a false negative leaks data.

Log lines carry request data (paths, model names, error texts), so the work per string is bounded
twice over:
- every pattern runs in time linear in its input. A pattern tried at each position must not scan
  the rest of a long run every time it fails there: the e-mail's local part looks at most 64
  characters ahead for its "@" (unbounded, it took 0.4 s for 16 KiB of letters and 15 s for
  100 KiB), a JWT's first segment stops at the next "-eyJ", runs are possessive, and a run of
  dates is split in a loop (it was a recursion per date: a stack overflow at 16 KiB);
- a string longer than `max_length` is cut before any pattern runs, back to the start of the token
  the cut falls in (an e-mail or key cut in half would no longer match its pattern, and its first
  half would pass), and a marker says how many characters were dropped.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable

Redactor = Callable[[str], str]

MAX_LOG_VALUE = 16_384  # characters of one logged string; a traceback fits, a hostile body does not
# Characters an e-mail, key or token is made of: a cut inside a run of them moves back to its start.
_TOKEN_CHARS = r"A-Za-z0-9._%+@~/=-"
_LONGEST_CUT_TOKEN = 256  # a longer run is cut where it is: no e-mail or key is that long

_PATTERNS: tuple[tuple[str, str], ...] = (
    ("PRIVATE_KEY", r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)"),
    ("BEARER", r"\b(?i:bearer)\s+[A-Za-z0-9._~+/=-]+"),
    # A first segment stops before another "-eyJ": a failed match is retried from there, not
    # from every "eyJ" in the same run (each retry scanning to the run's end).
    ("JWT", r"\beyJ(?:[A-Za-z0-9_]|-(?!eyJ)){5,}+\.[A-Za-z0-9_-]{5,}+\.[A-Za-z0-9_-]*+"),
    (
        "API_KEY",
        r"\b(?:sk|pk|rk)-[A-Za-z0-9_-]{8,}|\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"
        r"|\bgh[pousr]_[A-Za-z0-9]{20,}|\bxox[abpr]-[A-Za-z0-9-]{10,}"
        r"|\bAIza[0-9A-Za-z_-]{35}",
    ),
    # At most 64 characters before the "@" (the longest local part RFC 5321 allows): a start that
    # finds no "@" has looked at 64 characters, not at the rest of the run.
    ("EMAIL", r"[A-Za-z0-9._%+-]{1,64}+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"),
    # Runs of 7+ digits with the separators phone and card numbers use; dates, versions and
    # dotted IP addresses are left alone by `_looks_numeric_noise`.
    ("NUMBER", r"(?<![\w.])\+?\(?\d[\d\s().-]{5,}\d(?![\w])"),
)
# One pass over the text finds every kind: each alternative is a named group, earlier ones win.
_ANY = re.compile("|".join(f"(?P<{label}>{pattern})" for label, pattern in _PATTERNS))
# Without an "@" no e-mail can match: the costliest alternative is left out (most log strings).
_ANY_BUT_EMAIL = re.compile("|".join(f"(?P<{label}>{pattern})" for label, pattern in _PATTERNS if label != "EMAIL"))
_NUMBER_START = re.compile(r"(?<![\w.])\+?\(?\d")
_CACHE_MAX_LENGTH = 128  # short values (paths, model names) repeat from request to request
_IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}$")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DECIMAL = re.compile(r"\d+\.\d+$")
# A date, address or decimal that a run of digits starts with: kept, and the rest looked at alone.
_NOISE_PREFIX = re.compile(r"(?:\d{4}-\d{2}-\d{2}|\d{1,3}(?:\.\d{1,3}){3}|\d+\.\d+)(?=\s)")
_LAST_SEPARATOR = re.compile(rf"[\s\S]*[^{_TOKEN_CHARS}]")
_TOKEN_CHAR = re.compile(rf"[{_TOKEN_CHARS}]")


def _looks_numeric_noise(text: str) -> bool:
    digits = sum(c.isdigit() for c in text)
    return digits < 7 or bool(_IPV4.match(text) or _DATE.match(text) or _DECIMAL.match(text))


def _replace_number(match: re.Match[str]) -> str:
    """The run of digits, or `[NUMBER]` for its part after any leading dates, addresses or decimals.
    A loop, not a recursion per prefix: a run of thousands of dates is one pass, not a stack overflow."""
    text = match.group(0)
    start = 0
    while (prefix := _NOISE_PREFIX.match(text, start)) is not None:
        following = _NUMBER_START.search(text, prefix.end())
        if following is None:
            return text
        start = following.start()
    rest = text[start:]
    return text[:start] + (rest if _looks_numeric_noise(rest) else "[NUMBER]")


def _replace_any(match: re.Match[str]) -> str:
    label = match.lastgroup
    return _replace_number(match) if label == "NUMBER" else f"[{label}]"


def _redact_patterns(text: str) -> str:
    return (_ANY if "@" in text else _ANY_BUT_EMAIL).sub(_replace_any, text)


def cut_point(text: str, limit: int) -> int:
    """Where to cut `text` to keep at most `limit` characters: at `limit`, or back at the start of a
    run of token characters that the cut would split (so no e-mail or key is kept half-way)."""
    if len(text) <= limit:
        return len(text)
    if limit == 0 or not (_TOKEN_CHAR.match(text, limit) and _TOKEN_CHAR.match(text, limit - 1)):
        return limit
    window_start = max(0, limit - _LONGEST_CUT_TOKEN)
    separator = _LAST_SEPARATOR.match(text[window_start:limit])
    return limit if separator is None else window_start + separator.end()


def truncation_marker(dropped: int) -> str:
    return f"…[{dropped} more chars]"


class LogRedactor:
    """Replaces known secret values, then anything shaped like a secret or personal data."""

    def __init__(self, secrets: Iterable[str] = (), max_length: int = MAX_LOG_VALUE) -> None:
        self._secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)
        self._short = functools.lru_cache(maxsize=1024)(self._redact)
        self.max_length = max_length

    def add_secret(self, secret: str | None) -> None:
        if secret and len(secret) >= 4 and secret not in self._secrets:
            self._secrets = sorted([*self._secrets, secret], key=len, reverse=True)
            self._short.cache_clear()

    def __call__(self, text: str) -> str:
        if len(text) <= _CACHE_MAX_LENGTH:
            return self._short(text)
        return self.clipped(text, self.max_length)

    def clipped(self, text: str, limit: int) -> str:
        """`text` redacted, cut first to at most `limit` characters (plus a marker when cut)."""
        if len(text) <= limit:
            return self._short(text) if len(text) <= _CACHE_MAX_LENGTH else self._redact(text)
        # A registered secret that the cut would split is replaced first: it may hold separators.
        # One more character tells `cut_point` whether the cut falls inside a token.
        longest = len(self._secrets[0]) if self._secrets else 0
        head = self._replace_secrets(text[: limit + longest + 1])
        end = cut_point(head, limit)
        return _redact_patterns(head[:end]) + truncation_marker(len(text) - end)

    def _replace_secrets(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, "[SECRET]")
        return text

    def _redact(self, text: str) -> str:
        return _redact_patterns(self._replace_secrets(text))
