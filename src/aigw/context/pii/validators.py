"""Per-type checks that turn a scanner candidate into a finding (checksums, number rules, context)."""

from __future__ import annotations

import ipaddress
import re

from stdnum import iban as stdnum_iban
from stdnum import luhn
from stdnum.us import ssn as stdnum_ssn

from aigw.context.pii.findings import PIIType
from aigw.context.pii.phones import has_phone_context, is_phone, split_extension

_SSN_SHAPE = re.compile(r"\d{3}([- ])\d{2}\1\d{4}")
_CARD_SHAPE = re.compile(r"\d+(?:([ -])\d+(?:\1\d+)*)?")
# 2024-11-25, 2024/1/5, 25/11/2024, 11.25.2024, 25-11-24: never a phone number.
_DATE = re.compile(r"\d{4}([./-])\d{1,2}\1\d{1,2}|\d{1,2}([./-])\d{1,2}\2(?:\d{4}|\d{2})")
_SPACED_TOKEN = re.compile(r"\S+")
_MAESTRO_12 = ("50", "56", "57", "58", "6")  # 12-digit Maestro cards; every other card has 13-19 digits
# First digits of the card networks by number length: 13 Visa; 14 Diners; 15 Amex, JCB, UATP; 16 Visa,
# Mastercard, Discover, JCB, UnionPay, Mir, Maestro; 17-19 Visa, Maestro, UnionPay, Mir. Snowflake IDs
# and millisecond timestamps (starting with 1) are left alone.
_CARD_FIRST_DIGITS = {13: "4", 14: "3", 15: "123", 16: "23456", 17: "23456", 18: "23456", 19: "23456"}
_MAX_SPLIT_TOKENS = 8
_NUMBER_START = frozenset("+(0123456789")
_VERSION_BEFORE = re.compile(r"(?i:\bversion|\bver\.?|\brelease|\bbuild|\bv)[ :]{0,2}$")


def is_card(number: str) -> bool:
    """A payment card number: 13-19 digits (12 for Maestro), a card network's first digit, Luhn."""
    digits = number.replace(" ", "").replace("-", "")
    if not digits.isdigit():
        return False
    if 13 <= len(digits) <= 19:
        plausible = digits[0] in _CARD_FIRST_DIGITS[len(digits)]
    else:
        plausible = len(digits) == 12 and digits.startswith(_MAESTRO_12)
    return plausible and luhn.is_valid(digits)


def is_ssn(number: str) -> bool:
    """A US social security number written 123-45-6789 or 123 45 6789, with issuable area/group/serial."""
    return _SSN_SHAPE.fullmatch(number) is not None and stdnum_ssn.is_valid(number.replace(" ", "-"))


def number_kind(
    candidate: str, text: str, start: int, regions: tuple[str, ...], *, cards: bool = True, phones: bool = True
) -> PIIType | None:
    """What a run of digits is: SSN, CARD or PHONE (in that order), or None for dates and the rest."""
    if _DATE.fullmatch(split_extension(candidate)):
        return None
    if _SSN_SHAPE.fullmatch(candidate):
        # shaped like an SSN: never a phone number
        return PIIType.SSN if phones and is_ssn(candidate) else None
    if cards and _CARD_SHAPE.fullmatch(candidate) and is_card(candidate):
        return PIIType.CARD
    if not phones:
        return None
    bare_allowed = candidate.isdigit() and has_phone_context(text, start, start + len(candidate))
    return PIIType.PHONE if is_phone(candidate, regions, bare_allowed) else None


def number_findings(text: str, start: int, end: int, regions: tuple[str, ...]) -> list[tuple[PIIType, int, int]]:
    """Findings in a digit run; when the whole run is nothing, its space-separated parts are tried."""
    start, end = _balance_parentheses(text, start, end)
    kind = number_kind(text[start:end], text, start, regions)
    if kind is not None:
        return [(kind, start, end)]
    tokens = [m.span() for m in _SPACED_TOKEN.finditer(text, start, end)]
    if len(tokens) < 2:
        return []
    return _split_findings(text, tokens[:_MAX_SPLIT_TOKENS], regions)


def _split_findings(
    text: str, tokens: list[tuple[int, int]], regions: tuple[str, ...]
) -> list[tuple[PIIType, int, int]]:
    """Longest run of tokens first, left to right (`555-123-4567 2024-11-25` → a phone and a date)."""
    digits = [0]  # digits in tokens[:i], so that hopeless windows are skipped before any parsing
    for start, end in tokens:
        digits.append(digits[-1] + sum(c.isdigit() for c in text[start:end]))
    found: list[tuple[PIIType, int, int]] = []
    first = 0
    while first < len(tokens):
        for last in range(len(tokens) - 1, first - 1, -1):
            count = digits[last + 1] - digits[first]
            if (first, last) == (0, len(tokens) - 1) or not 7 <= count <= 19:
                continue  # the whole run was tried already; too few or too many digits
            finding = _window_finding(text, tokens, first, last, regions, count)
            if finding is not None:
                found.append(finding)
                first = last
                break
        first += 1
    return found


def _window_finding(
    text: str, tokens: list[tuple[int, int]], first: int, last: int, regions: tuple[str, ...], digits: int
) -> tuple[PIIType, int, int] | None:
    start, end = _balance_parentheses(text, tokens[first][0], tokens[last][1])
    value = text[start:end]
    if value[0] not in _NUMBER_START or not (value[-1].isdigit() or value[-1] == ")"):
        return None
    # A part that a plain group of digits continues is the middle of a longer number (a tracking
    # number): not a phone; a card only when what follows is shorter (a CVV).
    phones = not _next_to_digits(text, tokens, first, last, 2)
    cards = digits >= 13 and not _next_to_digits(text, tokens, first, last, 4)
    if not (phones or cards):
        return None
    kind = number_kind(value, text, start, regions, cards=cards, phones=phones)
    return (kind, start, end) if kind is not None else None


def _next_to_digits(text: str, tokens: list[tuple[int, int]], first: int, last: int, shortest: int) -> bool:
    neighbours = [tokens[i] for i in (first - 1, last + 1) if 0 <= i < len(tokens)]
    return any(end - start >= shortest and text[start:end].isdigit() for start, end in neighbours)


def _balance_parentheses(text: str, start: int, end: int) -> tuple[int, int]:
    """Drops a parenthesis that belongs to the sentence: `(call 555-0143)`, `(+44 20 7946 0958)`."""
    value = text[start:end]
    if value.endswith(")") and value.count(")") > value.count("("):
        end -= 1
    elif value.startswith("(") and value.count("(") > value.count(")"):
        start += 1
    elif value.startswith("(") and value.endswith(")") and _closes_at(value) == len(value) - 1:
        start, end = start + 1, end - 1
    return start, end


def _closes_at(value: str) -> int:
    """Index of the parenthesis that closes the one at index 0."""
    depth = 0
    for index, char in enumerate(value):
        depth += (char == "(") - (char == ")")
        if depth == 0:
            return index
    return -1


def is_iban_end(text: str, start: int, end: int) -> int | None:
    """Where the IBAN starting at `start` ends (trailing space-separated groups may not belong), or None."""
    while end - start >= 15:
        compact = text[start:end].replace(" ", "")
        if _iban_checksum_ok(compact) and stdnum_iban.is_valid(compact):  # the cheap check first
            return end
        space = text.rfind(" ", start, end)
        if space < 0:
            return None
        end = space
    return None


_IBAN_DIGITS = str.maketrans({chr(c): str(c - 55) for c in range(ord("A"), ord("Z") + 1)})


def _iban_checksum_ok(compact: str) -> bool:
    """ISO 7064 mod 97-10, the IBAN check digits."""
    return int((compact[4:] + compact[:4]).translate(_IBAN_DIGITS)) % 97 == 1


def is_ipv4(text: str, start: int, end: int) -> bool:
    """A valid dotted quad, except right after the word "version"/"v" (documented in the package)."""
    try:
        ipaddress.IPv4Address(text[start:end])
    except ValueError:
        return False
    return _VERSION_BEFORE.search(text, max(0, start - 10), start) is None


def is_ipv6(value: str) -> bool:
    """A valid IPv6 address with some substance: `fe80::1` yes, `1::2` (a slice in code) or `::1` no."""
    try:
        ipaddress.IPv6Address(value)
    except ValueError:
        return False
    groups = [g for g in value.split(":") if g]
    return len(groups) >= 3 or max((len(g) for g in groups), default=0) >= 3


def is_email(value: str) -> bool:
    """A mailbox address: no empty or dotted-edge parts, no hyphen-edged domain labels."""
    local, _, domain = value.rpartition("@")
    if local.startswith(".") or local.endswith(".") or ".." in local or local == "git":
        return False  # git@github.com:org/repo is an SSH remote, not a mailbox
    return all(label and not label.startswith("-") and not label.endswith("-") for label in domain.split("."))


_AWS_CONTEXT = re.compile(r"(?i:aws|secret)")
AWS_CONTEXT_BEFORE = 48


def has_aws_context(text: str, start: int) -> bool:
    """An AWS secret key is only told from other 40-character tokens by "aws"/"secret" shortly before it."""
    return _AWS_CONTEXT.search(text, max(0, start - AWS_CONTEXT_BEFORE), start) is not None


def is_api_token(value: str, prefix: int) -> bool:
    """A key (`sk-…`, a bearer token …) whose part after `prefix` looks random: letters and digits, or
    upper and lower case (a slug such as `sk-learn-pipeline-tutorial` is all lower case)."""
    rest = value[prefix:]
    has_digit = any(c.isdigit() for c in rest)
    has_upper = any(c.isupper() for c in rest)
    has_lower = any(c.islower() for c in rest)
    return (has_digit and (has_upper or has_lower)) or (has_upper and has_lower)


_PASSWORD_KEYS = ("passw", "passphrase", "pwd")
_NOT_A_VALUE = frozenset(
    [
        "none",
        "null",
        "nil",
        "true",
        "false",
        "undefined",
        "string",
        "str",
        "int",
        "bytes",
        "optional",
        "required",
        "redacted",
        "hidden",
        "secret",
        "password",
        "env",
        "self",
        "this",
    ]
)
# Templates and masks, never a literal: ${VAR}, {{ var }}, <your key>, %s, ******** or xxxxxxxx.
_TEMPLATE_VALUE = re.compile(r"\$\{|\{\{|^<[^>]*>$|^%\(?\w*\)?s$|^(.)\1*$")
# Code when unquoted: get_password(), cfg["pw"], config.password, $VAR, API_KEY (a variable's name).
_CODE_VALUE = re.compile(
    r"^[A-Za-z_][\w.]*[(\[]|^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+$|^\$[A-Za-z_]\w*$|^[A-Z][A-Z0-9]*_[A-Z0-9_]+$"
)


def is_assigned_secret(name: str, key: str, value: str, *, tight: bool) -> bool:
    """The value of `password=…` / `api_key: …` is a literal secret, not code, a type or a placeholder.

    `name` is the whole assigned name (`DB_PASSWORD`), `key` the keyword found in it (`PASSWORD`),
    `tight` whether the value follows "=" without a space (`password=hunter` in a URL or a config).
    """
    quoted = len(value) >= 2 and value[0] in "\"'" and value[-1] == value[0]
    inner = value[1:-1] if quoted else value
    if inner.lower() in _NOT_A_VALUE or inner.lower() == name.lower() or _TEMPLATE_VALUE.search(inner):
        return False
    if not quoted and _CODE_VALUE.search(inner):
        return False
    if key.lower().startswith(_PASSWORD_KEYS):
        if len(inner) < 4:
            return False
        # In prose ("Password: please reset it") an unquoted lowercase word is not a password.
        return quoted or tight or not (inner.isalpha() and inner.islower())
    has_digit = any(c.isdigit() for c in inner)
    has_alpha = any(c.isalpha() for c in inner)
    return len(inner) >= 8 and " " not in inner and ((has_digit and has_alpha) or len(inner) >= 24)
