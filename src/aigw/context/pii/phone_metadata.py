"""What libphonenumber's metadata says, cached per region or country code, and the cheap test that
every number it would call valid passes.

`may_be_valid_national` and `may_be_valid_international` let the phone rules skip most parses
(and are what they fall back on when a request's `WorkBudget` is spent): they only say False
where libphonenumber could not say valid. Why that holds: `is_valid_number` first requires the
national significant number to match the general description (pattern and lengths; only the
pattern is checked here) of a region sharing the number's country code, and that number is a
*suffix* of the digits written, since
parsing only cuts an international prefix, country code, trunk prefix or carrier code from the
front, unless the rules of the region parsing it have a transform rule that adds digits
(Argentina's mobile 9, the area code of a Caribbean number written locally): for those regions
the test always says "maybe". The parsing region is the default region for a national number
and the country code's main region for an international one.
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
    if region == "001":  # non-geographic numbers: no country code of their own
        return 0
    return int(phonenumbers.country_code_for_region(region))


def country_code_of(digits: str) -> int | None:
    """The country code `parse` reads from the digits after a `+`: the first known 1-3 digit prefix."""
    if digits.startswith("0"):
        return None
    for length in (1, 2, 3):
        if len(digits) > length and int(digits[:length]) in COUNTRY_CODE_TO_REGION_CODE:
            return int(digits[:length])
    return None


def may_be_valid_national(digits: str, regions: tuple[str, ...]) -> bool:
    """False only if `digits`, parsed as a national number of one of `regions`, is valid in none."""
    if not all(map(_keeps_suffix, regions)):
        return True
    return any(_has_valid_suffix(digits, country_code) for country_code in _country_codes(regions))


def may_be_valid_international(digits: str, *, possible: bool = False) -> bool:
    """False only if `+digits` cannot be a valid number (or, with `possible`, of a possible length)."""
    country_code = country_code_of(digits)
    if country_code is None:
        return False
    if not _keeps_suffix(phonenumbers.region_code_for_country_code(country_code)):
        return True
    national = digits[len(str(country_code)) :]
    if possible:
        return len(national) >= _shortest_possible(country_code)
    return _has_valid_suffix(national, country_code)


def prepare(regions: tuple[str, ...]) -> None:
    """Loads the metadata and compiles the patterns `regions` need (~25 ms, once per process), so
    that the first requests do not pay for it."""
    for country_code in _country_codes(regions):
        _has_valid_suffix("", country_code)
        _shortest_possible(country_code)
    all(map(_keeps_suffix, regions))


@functools.cache
def _country_codes(regions: tuple[str, ...]) -> tuple[int, ...]:
    return tuple(sorted({country_code_for_region(region) for region in regions}))


def _has_valid_suffix(digits: str, country_code: int) -> bool:
    pattern, longest = _valid_suffix(country_code)
    return pattern.search(digits, max(0, len(digits) - longest)) is not None


@functools.cache
def _keeps_suffix(region: str) -> bool:
    """Whether parsing with `region`'s rules keeps the national number a suffix of the digits: no
    transform rule, or one that keeps a trailing group as it is (`\\2`)."""
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code_for_region(region), region)
    rule = metadata.national_prefix_transform_rule if metadata is not None else None
    return not rule or re.fullmatch(r"\\\d", rule) is not None


@functools.cache
def _valid_suffix(country_code: int) -> tuple[re.Pattern[str], int]:
    """A pattern for a suffix of a digit string that matches a general description of one of the
    country's regions, and the longest such suffix (where the search starts). The lengths are not
    checked here (as a look-ahead per position they cost more than all the rest): looser, still safe."""
    descriptions = _general_descriptions(country_code)
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
