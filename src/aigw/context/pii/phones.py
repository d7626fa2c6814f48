"""Phone numbers: libphonenumber's rules, applied only to candidates the scanner found.

Parsing costs about 30-50 µs per region, so every cheap test comes first, ending with
`phone_metadata.may_be_valid_national` (the region's number pattern on the digits: most
candidates stop there). `PhoneRules` holds one scan's state: libphonenumber's answers are memoized for that scan
only (a process-wide cache would keep phone numbers in memory long after the request that held
them) and paid from the request's `WorkBudget`; once it is spent a candidate that passes the cheap
tests counts as a phone (masks more, never less). What is accepted:

* international, `+` then a country code: a valid number, or a possible one (right length for
  the country) written with separators (`+1-462-405-7986`: an unassigned area code is still
  clearly a phone number);
* international with `00` instead of `+`: valid numbers only (`00…` is also how IDs are padded);
* North American shape `(212) 555-0143`, `212.555.0143`, `1-212-555-0143`, `001-212-…` with an
  optional extension (area code and exchange starting with 2-9);
* national numbers with separators: valid in one of the configured regions. Regions with the
  trunk prefix 0 (GB, DE, FR, NL, JP …) are only tried for candidates that start with 0. The number
  must be grouped the way the region groups it (`2024-118823` is a valid Washington number, but
  nobody writes it so) or, in trunk-prefix regions, be written as area code and subscriber number
  (`06994 31879`, `(0716) 611499`, `03-1234-5678`) or in pairs (`08 08 39 44 68`): ISBNs and
  grouped tracking numbers are not;
* bare national digit runs (`3420837783`): valid in a region and a phone word (phone, tel, call,
  mobile, Telefon, portable, 電話 …) within `CONTEXT_BEFORE` characters before or `CONTEXT_AFTER`
  after; without one they are indistinguishable from order and account numbers.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

from aigw.context.pii.budget import PARSE, WorkBudget
from aigw.context.pii.phone_metadata import (
    country_code_for_region,
    digits_of,
    may_be_valid_international,
    may_be_valid_national,
    national_lengths,
    trunk_prefix,
)

DEFAULT_REGIONS: tuple[str, ...] = ("US", "GB", "DE", "FR", "ES", "IT", "NL", "BE", "CH", "AT", "PT", "BR", "JP", "AU")
MIN_DIGITS = 8  # with the country code
# Without one: 9 digits with the trunk 0 (`0331 12345`); shorter runs are postcodes (`075-7832`) or IDs.
MIN_NATIONAL_DIGITS = 9
MAX_BARE_DIGITS = 11  # a bare 12+ digit run is a tracking or account number
CONTEXT_BEFORE = 40
CONTEXT_AFTER = 30
# Regions where a national number without its leading 0 is still the usual way to write it.
_NO_TRUNK_WRITTEN = frozenset({"BR"})

_EXTENSION = re.compile(r"(?:[ ]?(?:x|ext\.?|extension|#)[ ]?\d{1,6})$")
_NANP = re.compile(r"(?:(?:\+?1|001)[ .-]?)?(?:\([2-9]\d\d\)[ ]?|[2-9]\d\d[ .-])[2-9]\d\d[ .-]\d{4}")
_DIGIT_GROUPS = re.compile(r"\d+")
# How people in trunk-prefix countries write numbers, whatever the area code's real length: area code
# and subscriber number (`06994 31879`, `(0716) 611499`, `03-1234-5678`) or French pairs (`08 08 39 44 68`).
_AREA_AND_SUBSCRIBER = re.compile(
    r"(?:\(0\d{1,5}\)|0\d{1,5})(?:[ /-]?\d{5,8}|[ /-]\d{2,4}[ -]\d{4})|0\d(?:[ .-]\d\d){4}"
)
# Words that announce a phone number (English and the languages of DEFAULT_REGIONS); "number" only
# as "my/her/your … number" (not "order number", not lorem ipsum).
_CONTEXT = re.compile(
    r"(?i:\b(?:(?:tele)?phone|tel\b|tel[.:]|call|mobile|cell|sms|text me|whatsapp|fax|contact|reach|dial"
    r"|hotline|telefon|handy|anruf|ruf|t[ée]l[ée]phone|portable|appel|tel[ée]fono|m[óo]vil|ll[áa]m|cellulare"
    r"|chiam|telefoon|mobiel|bel\b|celular|lig[au]|tlf|(?:my|his|her|their|your|our)\s+number\b)"
    r"|電話|携帯)"
)


def split_extension(candidate: str) -> str:
    """The number without a trailing `x123` / `ext. 123` extension."""
    if "x" not in candidate and "#" not in candidate:
        return candidate  # most candidates, without a regex search
    match = _EXTENSION.search(candidate)
    return candidate[: match.start()] if match else candidate


def has_phone_context(text: str, start: int, end: int) -> bool:
    """Whether a phone word stands shortly before or after `text[start:end]` (for bare digit runs)."""
    return (
        _CONTEXT.search(text, max(0, start - CONTEXT_BEFORE), start) is not None
        or _CONTEXT.search(text, end, end + CONTEXT_AFTER) is not None
    )


class PhoneRules:
    """The phone rules for one scan: `regions` for national numbers, a memo of libphonenumber's
    answers (a candidate seen twice in one text is parsed once) and the request's `budget`."""

    def __init__(self, regions: tuple[str, ...], budget: WorkBudget) -> None:
        self.regions = regions
        self.budget = budget
        self._answers: dict[tuple[str, str, bool], bool] = {}  # (candidate, region or mode, bare)

    def is_phone(self, candidate: str, bare_allowed: bool) -> bool:
        """Whether `candidate` (as found by the scanner, extension included) is a phone number."""
        number = split_extension(candidate).strip("( ")
        digits = sum(map(str.isdigit, number))
        if not MIN_DIGITS <= digits <= 15 or (digits < MIN_NATIONAL_DIGITS and not number.startswith(("+", "00"))):
            return False
        if number.startswith("+"):
            return self._international(candidate, grouped=not number[1:].isdigit(), strict=False)
        if number.startswith("00") and self._international("+" + candidate.lstrip("( ")[2:], grouped=True, strict=True):
            return True
        if _NANP.fullmatch(split_extension(candidate)):
            return True  # the shape is strict enough: area code and exchange do not start with 0 or 1
        bare = number.isdigit()
        if bare and (not bare_allowed or digits > MAX_BARE_DIGITS):
            return False
        written = digits_of(number)
        regions = _regions_for(number.lstrip("(").startswith("0"), digits, self.regions)
        if not regions or not may_be_valid_national(written, regions):
            return False  # the usual answer for text that is not a phone number: one regex search
        return any(self._national(candidate, written, region, bare) for region in regions)

    def _international(self, candidate: str, *, grouped: bool, strict: bool) -> bool:
        possible = grouped and not strict
        if not may_be_valid_international(digits_of(split_extension(candidate)), possible=possible):
            return False
        return self._ask((candidate, "+", possible), lambda: _international(candidate, possible=possible))

    def _national(self, candidate: str, written: str, region: str, bare: bool) -> bool:
        if not may_be_valid_national(written, (region,)):
            return False
        return self._ask((candidate, region, bare), lambda: _valid_national(candidate, region, bare))

    def _ask(self, key: tuple[str, str, bool], check: Callable[[], bool]) -> bool:
        """libphonenumber's answer, from the memo, else paid from the budget, else True (fail-safe)."""
        answer = self._answers.get(key)
        if answer is None:
            if not self.budget.spend(PARSE):
                return True
            answer = self._answers[key] = check()
        return answer


def _international(candidate: str, *, possible: bool) -> bool:
    try:
        parsed = phonenumbers.parse(candidate, None)
    except NumberParseException:
        return False
    if possible and phonenumbers.is_possible_number(parsed):
        return True  # cheap, and enough for a +number written with separators
    return bool(phonenumbers.is_valid_number(parsed))


@functools.cache
def _regions_for(trunk: bool, digits: int, regions: tuple[str, ...]) -> tuple[str, ...]:
    """The regions worth trying a number for: right trunk prefix (`trunk`: it starts with 0), right length."""
    out = []
    for region in regions:
        uses_trunk = trunk_prefix(region) == "0"
        if uses_trunk and not trunk and region not in _NO_TRUNK_WRITTEN:
            continue
        if (digits - 1 if uses_trunk and trunk else digits) in national_lengths(region):
            out.append(region)
    return tuple(out)


def _valid_national(candidate: str, region: str, bare: bool) -> bool:
    try:
        parsed = phonenumbers.parse(candidate, region)
    except NumberParseException:
        return False
    if parsed.country_code != country_code_for_region(region):
        return False
    if not phonenumbers.is_valid_number(parsed):
        return False
    if bare:
        return True
    written = split_extension(candidate)
    if _grouped_like(written, phonenumbers.format_number(parsed, PhoneNumberFormat.NATIONAL)):
        return True
    # 12-digit runs such as "0218 2717 3235" are tracking numbers, not phones.
    return (
        trunk_prefix(region) == "0"
        and _AREA_AND_SUBSCRIBER.fullmatch(written) is not None
        and sum(c.isdigit() for c in written) <= 11
    )


def _grouped_like(candidate: str, formatted: str) -> bool:
    """Every break between digit groups in `candidate` is also a break in the region's own format."""
    written = [len(g) for g in _DIGIT_GROUPS.findall(candidate)]
    canonical = [len(g) for g in _DIGIT_GROUPS.findall(formatted.split(" ext.")[0])]
    offset = sum(canonical) - sum(written)  # a trunk prefix the region writes and the text omits
    if offset < 0:
        return False
    canonical_breaks = set(_cumulative(canonical))
    return all(b + offset in canonical_breaks for b in _cumulative(written))


def _cumulative(lengths: list[int]) -> list[int]:
    total, breaks = 0, []
    for length in lengths[:-1]:
        total += length
        breaks.append(total)
    return breaks
