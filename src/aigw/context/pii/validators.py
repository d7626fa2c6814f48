"""Per-type checks that turn a scanner candidate into a finding (checksums, context); numbers are in `numbers`."""

from __future__ import annotations

import functools
import ipaddress
import re

from stdnum import iban as stdnum_iban
from stdnum import numdb

_VERSION_BEFORE = re.compile(r"(?i:\bversion|\bver\.?|\brelease|\bbuild|\bv)[ :]{0,2}$")


def is_iban_end(text: str, start: int, end: int) -> int | None:
    """Where the IBAN starting at `start` ends (trailing space-separated groups may not belong), or None.

    Every country's IBANs have one length, so only the end where the country's length is reached
    (at a space or at `end`) is checked: one checksum per candidate, whatever follows it.
    """
    length = _iban_length(text[start : start + 2])
    if length is None:
        return None
    whole = _iban_of_length(length).match(text, start, end)
    if whole is None:
        return None
    stop = whole.end()
    if stop != end and text[stop] != " ":
        return None
    compact = whole.group().replace(" ", "")
    return stop if _iban_checksum_ok(compact) and stdnum_iban.is_valid(compact) else None


@functools.cache
def _iban_of_length(length: int) -> re.Pattern[str]:
    """`length` IBAN characters, single spaces allowed between them (the scanner's groups of four)."""
    return re.compile(rf"(?:[A-Z0-9] ?){{{length - 1}}}[A-Z0-9]")


@functools.cache
def _iban_length(country: str) -> int | None:
    """The length of the country's IBANs (ISO 13616 registry, from python-stdnum), None if it has none."""
    info = dict(numdb.get("iban").info(country)[:1])
    structure = info.get(country, {}).get("bban")
    return 4 + sum(int(n) for n in re.findall(r"(\d+)!", structure)) if structure else None


_IBAN_DIGITS = str.maketrans({chr(c): str(c - 55) for c in range(ord("A"), ord("Z") + 1)})


def _iban_checksum_ok(compact: str) -> bool:
    """ISO 7064 mod 97-10, the IBAN check digits."""
    return int((compact[4:] + compact[:4]).translate(_IBAN_DIGITS)) % 97 == 1


def is_ipv4(text: str, start: int, end: int) -> bool:
    """A valid dotted quad, except right after the word "version"/"v" (documented in the package), and
    except the unspecified and broadcast addresses (`0.0.0.0`, `255.255.255.255`: nobody's)."""
    try:
        address = ipaddress.IPv4Address(text[start:end])
    except ValueError:
        return False
    if address.is_unspecified or int(address) == 0xFFFFFFFF:
        return False
    return _VERSION_BEFORE.search(text, max(0, start - 10), start) is None


def is_ipv6(value: str) -> bool:
    """A valid IPv6 address with some substance: `fe80::1` yes, `1::2` (a slice in code) or `::1` no."""
    groups = [g for g in value.split(":") if g]
    if len(groups) < 3 and max((len(g) for g in groups), default=0) < 3:
        return False  # the cheap test first: "::" and "1::2" come by the thousand in some text
    try:
        ipaddress.IPv6Address(value)
    except ValueError:
        return False
    return True


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
