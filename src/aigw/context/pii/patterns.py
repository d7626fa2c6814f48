"""Candidate scanning: one combined regex finds where something may start, a second one says what.

The patterns only propose; `validators` decides. Speed comes from the shape of `SCANNER`:

* every match starts by consuming the one character *before* a candidate, which must not be an
  ASCII word character. Python's regex engine turns such a leading character set into a fast C
  loop that skips letters and digits without trying any alternative, so in prose the alternatives
  run about once per word instead of once per character. Callers scan `" " + text`.
* every alternative starts with a literal or a character set and holds no group: the engine then
  rejects it after one character without saving state. Named groups around the alternatives
  (the textbook way to tell them apart) made the scan twice as slow, so `SCANNER` only says where
  to look, and `CLASSIFIER` — the exact patterns of all kinds as one alternation with a named group
  per kind — is matched once, anchored, at that position.

`SCANNER` is a relaxation of `CLASSIFIER` (it matches wherever a kind does, and more often), so
nothing is missed; a stray proposal costs one anchored match. A backslash escape such as `\\n`
counts as a boundary too (it is consumed with the backslash), so raw JSON text (tool arguments,
tool results) is scanned like decoded text and a finding never starts inside an escape sequence.
Word characters for boundaries are ASCII only: Japanese or Chinese text runs straight into
numbers and addresses.
"""

from __future__ import annotations

import re

_WORD = "A-Za-z0-9_"
_END = rf"(?![{_WORD}])"

_PEM = (
    r"-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----[\s\S]*?"
    r"(?:-----END[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----|\Z)"
)
# Every repetition is bounded (and possessive where that changes nothing): a rejected candidate is
# looked into again from its second character, so an unbounded one would make "sk-sk-sk-…" quadratic.
_JWT = r"eyJ[A-Za-z0-9_-]{8,512}+\.eyJ[A-Za-z0-9_-]{8,8192}+\.[A-Za-z0-9_-]{0,1024}+"
_TOKEN = (
    r"(?:sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,256}+"
    r"|(?:AKIA|ASIA)[0-9A-Z]{16}"
    r"|gh[pousr]_[A-Za-z0-9]{30,255}+|github_pat_[A-Za-z0-9_]{30,255}+"
    r"|xox[abprs]-[A-Za-z0-9-]{10,255}+"
    r"|AIza[0-9A-Za-z_-]{35}"
    rf"|(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{{16,255}}+)(?![{_WORD}-])"
)
_BEARER = r"(?i:bearer)[ \t]{1,8}(?P<bearer_value>[A-Za-z0-9._~+/-]{16,4096}+={0,2})"
# A 40-character AWS secret access key: mixed case and a digit (a git SHA is lowercase hex); the
# validator wants "aws" or "secret" shortly before it.
_AWS_SECRET = (
    r"(?<![A-Za-z0-9/+])(?=[A-Za-z0-9/+]{0,39}[A-Z])(?=[A-Za-z0-9/+]{0,39}[a-z])(?=[A-Za-z0-9/+]{0,39}[0-9])"
    r"[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])"
)
# `password=…`, `"api_key": "…"`, `DB_PASSWORD: …`: the keyword may sit inside a longer name (at most
# 62 characters). The look-ahead (name characters, then ":" or "=") is implied by the rest; it rejects
# most positions in one quick pass instead of trying every keyword at each of the first 25 characters.
_ASSIGN_KEY = (
    r"(?i:passw(?:or)?d|passphrase|pwd|secret|api[_-]?key|access[_-]?key|private[_-]?key"
    r"|(?:auth|access|refresh|bearer|api|bot|session)[_-]?token|token(?!s))"
)
_ASSIGN_NAME = r"(?=[A-Za-z0-9_-]{1,62}+[\"']?[ \t]{0,3}[:=])[A-Za-z0-9_-]{0,24}?"
_ASSIGN = (
    rf"{_ASSIGN_NAME}(?P<assign_key>{_ASSIGN_KEY})[A-Za-z0-9_-]{{0,24}}"
    r"[\"']?[ \t]{0,3}[:=][ \t]{0,3}"
    r"(?P<assign_value>\"[^\"\n]{1,256}\"|'[^'\n]{1,256}'|[!#-&(-+\--:<-\[\]-~]{1,256})"
)
# The local part may hold an apostrophe between letters (o'hara@…), never at its start (a quoted address).
# The look-ahead (at most 64 local-part characters, then "@") is implied by the rest and quick to reject.
_EMAIL = (
    rf"(?<![.%+\-\\])(?=[{_WORD}.%+\-']{{1,64}}+@)(?:[{_WORD}.%+\-]|(?<=[{_WORD}])'(?=[{_WORD}])){{1,64}}+"
    rf"@(?:[A-Za-z0-9\-]{{1,63}}\.){{1,8}}[A-Za-z]{{2,24}}(?![{_WORD}\-@])"
)
_IBAN = rf"[A-Z]{{2}}\d{{2}}(?:[ ]?[A-Z0-9]{{4}}){{2,7}}(?:[ ]?[A-Z0-9]{{1,4}})?{_END}"
# The last look-ahead is `validators.is_ipv6`'s "substance" (a group of 3+ characters, or 3 groups),
# loosely: in the pattern (and SCANNER) it keeps "::" and "1::2" of dense punctuation from being
# candidates at every other character.
_IPV6_SUBSTANCE = r"(?=[0-9A-Fa-f:.]{0,50}?(?:[0-9A-Fa-f.]{3}|[0-9A-Fa-f.]:++[0-9A-Fa-f.]++:++[0-9A-Fa-f.]))"
_IPV6 = (
    r"(?=[0-9A-Fa-f:])(?<![:.])(?=[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:)"
    rf"{_IPV6_SUBSTANCE}[0-9A-Fa-f:]{{2,39}}+"
    rf"(?:\.\d{{1,3}}\.\d{{1,3}}\.\d{{1,3}})?(?![{_WORD}:]|\.[{_WORD}])"
)
_IPV4 = rf"(?<![.])(?:\d{{1,3}}\.){{3}}\d{{1,3}}(?![{_WORD}]|\.\d)"
# Digits with the separators phone and card numbers use, an optional extension; 7+ characters.
# Not after "-", "/", "#", "$" … (order numbers, paths, prices) nor after "12," or "12:" (thousands,
# times). A run is at most ~30 characters; `validators.number_findings` looks at its parts itself.
_NUMBER = (
    r"(?<![.\-/@#$€£¥%+&*])(?<!\d[,:])"
    r"[+(]{0,2}\d[\d \u00a0().\-/]{5,28}\d\)?"
    rf"(?:[ ]?(?:x|ext\.?|extension|#)[ ]?\d{{1,6}})?(?![{_WORD}@]|[.\-/,]\d)"
)


# In priority order: at one position the first that matches (and validates) wins.
_KINDS: tuple[tuple[str, str], ...] = (
    ("jwt", _JWT),
    ("token", _TOKEN),
    ("bearer", _BEARER),
    ("aws", _AWS_SECRET),
    ("iban", _IBAN),
    ("pem", _PEM),
    ("ipv4", _IPV4),
    ("number", _NUMBER),
    ("ipv6", _IPV6),
    ("assign", _ASSIGN),
    ("email", _EMAIL),
)
# All kinds in one anchored match at a position `SCANNER` found; the named group says which kind.
CLASSIFIER = re.compile("|".join(f"(?P<{name}>{pattern})" for name, pattern in _KINDS))
# Each kind alone.
PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple((name, re.compile(pattern)) for name, pattern in _KINDS)
# For each kind, the kinds after it as one alternation: when a kind's match is rejected by its
# validator, one anchored match (not one per kind) says which later kind matches there.
LATER: dict[str, re.Pattern[str] | None] = {
    name: re.compile("|".join(f"(?P<{n}>{p})" for n, p in _KINDS[index + 1 :])) if index + 1 < len(_KINDS) else None
    for index, (name, _) in enumerate(_KINDS)
}
# Where each kind can start, cut down to a literal or character set first and no groups.
_STARTS = (
    r"-----BEGIN",
    r"eyJ[A-Za-z0-9_-]{8}",
    r"sk-[A-Za-z0-9_-]{20,264}+(?![A-Za-z0-9_-])",  # a whole token's run, so "sk-sk-sk-…" is rejected here
    r"[sr]k_(?:live|test)_",
    r"A(?:KIA|SIA|Iza)",
    r"gh[pousr]_",
    r"github_pat_",
    r"xox[abprs]-",
    r"[bB][eE][aA][rR][eE][rR][ \t]",
    r"[A-Za-z0-9/+][A-Za-z0-9/+]{39}(?![A-Za-z0-9/+=])",
    r"[A-Z][A-Z]\d\d",
    # numbers; the look-behinds of _NUMBER run only once the first character matched
    r"[+(\d](?<![.\-/@#$€£¥%+&*].)(?<!\d[,:].)(?:(?<=[+(])[+(]?\d)?[\d \u00a0().\-/]{5,30}\d",
    r"\d(?<!\..)\d{0,2}\.\d{1,3}\.\d{1,3}\.\d",  # dotted quads
    # IPv6 never starts right after ":" or "." and needs some substance (as `_IPV6` says)
    r"(?<![:.])(?=[0-9A-Fa-f][0-9A-Fa-f]{0,3}:[0-9A-Fa-f]{0,4}:|:[0-9A-Fa-f]{0,4}:)" + _IPV6_SUBSTANCE,
    # a name holding a keyword, followed by ":" / "=" (an assignment)
    _ASSIGN_NAME + _ASSIGN_KEY,
    # a name followed by "@" and a domain label (e-mail), never right after ".%+-\\" (as `_EMAIL` says)
    rf"(?<![.%+\-\\])[{_WORD}.%+\-](?=[{_WORD}.%+\-']{{0,63}}+@[A-Za-z0-9\-]{{1,63}}+\.)",
)
SCANNER = re.compile(rf"[^{_WORD}](?:(?<=\\)[nrt])?+(?:" + "|".join(_STARTS) + ")")
