"""What libphonenumber's metadata says, cached per region or country code, and the cheap test that
every number it would call valid passes.

`may_be_valid` is what lets the phone rules skip most parses (and what they fall back on when a
scan's `WorkBudget` is spent): it only says False where libphonenumber could not say valid. Why
that holds: the national significant number `parse` keeps is always a *suffix* of the digits
written (an international prefix, country code, trunk prefix or carrier code are only ever cut
from the front; Brazil's and Japan's transform rules keep a trailing group), and
`is_valid_number` first requires it to match the general description (lengths and pattern) of a
region sharing the number's country code.
"""

from __future__ import annotations

import functools
import re
import unicodedata

import phonenumbers
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata

_NOT_DIGIT = re.compile(r"\D")
_ANY_LENGTH = frozenset(range(2, 18))


def digits_of(value: str) -> str:
    """The decimal digits of `value` as ASCII (libphonenumber reads every script's digits)."""
    digits = _NOT_DIGIT.sub("", value)
    return digits if digits.isascii() else "".join(str(unicodedata.decimal(c)) for c in digits)


@functools.cache
def trunk_prefix(region: str) -> str | None:
    metadata = PhoneMetadata.metadata_for_region(region)
    return metadata.national_prefix if metadata is not None else None


@functools.cache
def national_lengths(region: str) -> frozenset[int]:
    metadata = PhoneMetadata.metadata_for_region(region)
    if metadata is None or metadata.general_desc is None:
        return frozenset(range(4, 18))
    return frozenset(metadata.general_desc.possible_length or range(4, 18))


@functools.cache
def country_code_for_region(region: str) -> int:
    return int(phonenumbers.country_code_for_region(region))


def country_code_of(digits: str) -> int | None:
    """The country code `parse` reads from the digits after a `+`: the first known 1-3 digit prefix."""
    if digits.startswith("0"):
        return None
    for length in (1, 2, 3):
        if len(digits) > length and int(digits[:length]) in COUNTRY_CODE_TO_REGION_CODE:
            return int(digits[:length])
    return None


def may_be_valid(digits: str, country_code: int) -> bool:
    """False only if no suffix of `digits` is a valid national number of `country_code`."""
    return may_be_valid_in_any(digits, (country_code,))


def may_be_valid_in_any(digits: str, country_codes: tuple[int, ...]) -> bool:
    """`may_be_valid` for several country codes at once (one search)."""
    pattern, longest = _valid_suffix(*country_codes)
    return pattern.search(digits, max(0, len(digits) - longest)) is not None


def may_be_possible(digits: str, country_code: int) -> bool:
    """False only if no suffix of `digits` has a possible length for `country_code` (`is_possible_number`)."""
    return len(digits) >= _shortest_possible(country_code)


@functools.cache
def _valid_suffix(*country_codes: int) -> tuple[re.Pattern[str], int]:
    """A pattern for a suffix of a digit string that matches a general description of one of the
    countries' regions, and the longest such suffix (where the search starts). The lengths are not
    checked here (as a look-ahead per position they cost more than all the rest): looser, still safe."""
    descriptions = [d for country_code in country_codes for d in _general_descriptions(country_code)]
    pattern = "|".join(rf"(?:{national})\Z" for _, national in descriptions) or r"(?!)"
    return re.compile(pattern), max((max(lengths) for lengths, _ in descriptions), default=0)


@functools.cache
def _shortest_possible(country_code: int) -> int:
    lengths = [n for lengths, _ in _general_descriptions(country_code, local=True) for n in lengths]
    return min(lengths, default=1 << 30)


@functools.cache
def _general_descriptions(country_code: int, local: bool = False) -> tuple[tuple[frozenset[int], str], ...]:
    out = []
    for region in COUNTRY_CODE_TO_REGION_CODE.get(country_code, ()):
        metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, region)
        desc = metadata.general_desc if metadata is not None else None
        if desc is None or not desc.national_number_pattern:
            continue
        lengths = frozenset(desc.possible_length)
        if local:
            lengths |= frozenset(desc.possible_length_local_only)
        out.append((lengths or _ANY_LENGTH, desc.national_number_pattern))
    return tuple(out)
