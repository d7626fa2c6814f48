"""Phone numbers: the rules, in order, applied only to candidates the scanner found.

1. Vetoes: fewer than 7 or more than 17 digits, a currency or percent sign after it, a parenthesis
   after the area code (`8 336 817 (2022)`), the word right before naming it as something else
   ("order", "Rechnung", "pedido", `bytes=`) or a table column headed so (`phone_context`).
2. `+`, a country code and a number (7-15 digits): a phone, valid or not by the numbering plan.
3. A phone *shape* (`phone_shapes`): `00…` with separators, an area code in parentheses, a trunk 0
   with separators or 9-12 digits, groups of 2-5 digits; the North American shape `(212) 555-0143`.
4. A phone word nearby (`phone_context`: ten languages, in the same sentence, or a one-letter label
   `T`/`M:`) or a table column headed "Phone"/"Telefon": any 7-15 digit run grouped as a phone is
   (not an ISBN's one-digit groups, not an amount's thousands).
5. Otherwise libphonenumber decides, for runs with separators (`512 345 678` in PL): valid in one of
   the regions and grouped the way the region groups it (`2024-118823` is a valid Washington number,
   but nobody writes it so), or, in trunk-prefix regions, as area code and subscriber number; and
   `00…` runs that are possible international numbers. Bare runs without a phone word stop here:
   they are order and account numbers as often as phone numbers.

Parsing costs about 30-50 µs per region, so every cheap test comes first, ending with
`phone_metadata.may_be_valid_national`. `PhoneRules` holds one scan's state: libphonenumber's
answers are memoized for that scan only (a process-wide cache would keep phone numbers in memory
long after the request that held them) and paid from the request's `WorkBudget`; once it is spent a
candidate that passes the cheap tests counts as a phone (masks more, never less).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

from aigw.context.pii.budget import PARSE, WINDOW, WorkBudget
from aigw.context.pii.phone_context import (
    column_header,
    has_phone_context,
    header_says_identifier,
    header_says_phone,
    money_after,
    named_as_identifier,
)
from aigw.context.pii.phone_metadata import (
    country_code_for_region,
    digits_of,
    may_be_valid_international,
    may_be_valid_national,
    national_lengths,
    trunk_prefix,
)
from aigw.context.pii.phone_shapes import (
    MAX_DIGITS,
    MIN_SHAPE_DIGITS,
    grouped_like_a_phone,
    parentheses_in_place,
    phone_shape,
)

DEFAULT_REGIONS: tuple[str, ...] = (
    "US", "GB", "DE", "FR", "ES", "IT", "NL", "BE", "CH", "AT", "PT", "PL", "SE", "BR", "JP", "AU",
)  # fmt: skip
MIN_DIGITS = 8  # with the country code
# Without one: 9 digits with the trunk 0 (`0331 12345`); shorter runs are postcodes (`075-7832`) or IDs.
MIN_NATIONAL_DIGITS = 9
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


def split_extension(candidate: str) -> str:
    """The number without a trailing `x123` / `ext. 123` extension."""
    if "x" not in candidate and "#" not in candidate:
        return candidate  # most candidates, without a regex search
    match = _EXTENSION.search(candidate)
    return candidate[: match.start()] if match else candidate


@dataclass(frozen=True, slots=True)
class _Words:
    identifier: bool  # named as something else: "order …", a column headed "Order no."
    phone_word: bool  # a phone word nearby, or a column headed "Phone"


def _read_words(text: str, start: int, end: int) -> _Words:
    header = column_header(text, start)
    if named_as_identifier(text, start) or (header is not None and header_says_identifier(header)):
        return _Words(identifier=True, phone_word=False)
    phone_word = has_phone_context(text, start, end) or (header is not None and header_says_phone(header))
    return _Words(identifier=False, phone_word=phone_word)


class PhoneRules:
    """The phone rules for one scan: `regions` for national numbers, a memo of libphonenumber's
    answers (a candidate seen twice in one text is parsed once) and the request's `budget`."""

    def __init__(self, regions: tuple[str, ...], budget: WorkBudget) -> None:
        self.regions = regions
        self.budget = budget
        self._answers: dict[tuple[str, str], bool] = {}  # (candidate, region or "+")
        self._run = (0, 0)
        self._run_words: _Words | None = None

    def is_phone(self, candidate: str, text: str, start: int) -> bool:
        """Whether `candidate` (as found by the scanner at `text[start:]`, extension included) is a
        phone number: by its shape, by a phone word next to it, or valid in one of the regions."""
        written = split_extension(candidate)
        number = written.strip("( ")
        digits = sum(map(str.isdigit, number))
        end = start + len(candidate)
        if not MIN_SHAPE_DIGITS <= digits <= MAX_DIGITS + 2 or money_after(text, end):
            return False
        if not parentheses_in_place(written):
            return False  # "8 336 817 (2022)": a parenthesis after the area code is prose
        if number.startswith("+"):
            return digits <= MAX_DIGITS  # `+`, a country code and a number: nothing else is written so
        around = self._around(text, start, end)
        if around.identifier:
            return False  # "order 0171 2345678", a cell under "Order no.": the writer says what it is
        if phone_shape(written) or _NANP.fullmatch(written):
            return True
        if digits <= MAX_DIGITS and grouped_like_a_phone(written) and around.phone_word:
            return True
        if not MIN_NATIONAL_DIGITS <= digits <= MAX_DIGITS:
            return False
        if number.startswith("00") and self._possible_international("+" + number[2:]):
            return True  # `0031690103792`: 00, a country code and a number of a possible length for it
        if number.isdigit():
            return False  # a bare run without a phone word: as likely an order or account number
        return self._valid_national(candidate, number, digits)

    def begin_run(self, start: int, end: int) -> None:
        """The scanner's run of digits `[start, end)` whose parts (windows) are about to be judged:
        the words around it are read once for all of them (`_around`)."""
        self._run = (start, end)
        self._run_words = None

    def _around(self, text: str, start: int, end: int) -> _Words:
        """What the words around the candidate say, read once per run (the windows of a run share
        its surroundings), from the budget (a table header is looked for up to `TABLE_LOOKBACK`
        characters back); once it is spent, a phone word (masks more, never less)."""
        run_start, run_end = self._run
        if not run_start <= start < end <= run_end:
            run_start, run_end, self._run_words = start, end, None
            self._run = (start, end)
        if self._run_words is None:
            if not self.budget.spend(WINDOW):
                self._run_words = _Words(identifier=False, phone_word=True)
            else:
                self._run_words = _read_words(text, run_start, run_end)
        return self._run_words

    def _valid_national(self, candidate: str, number: str, digits: int) -> bool:
        written = digits_of(number)
        regions = _regions_for(number.lstrip("(").startswith("0"), digits, self.regions)
        if not regions or not may_be_valid_national(written, regions):
            return False  # the usual answer for text that is not a phone number: one regex search
        return any(self._national(candidate, written, region) for region in regions)

    def _possible_international(self, candidate: str) -> bool:
        if not may_be_valid_international(digits_of(candidate), possible=True):
            return False
        return self._ask((candidate, "+"), lambda: _possible_international(candidate))

    def _national(self, candidate: str, written: str, region: str) -> bool:
        if not may_be_valid_national(written, (region,)):
            return False
        return self._ask((candidate, region), lambda: _valid_national(candidate, region))

    def _ask(self, key: tuple[str, str], check: Callable[[], bool]) -> bool:
        """libphonenumber's answer, from the memo, else paid from the budget, else True (fail-safe)."""
        answer = self._answers.get(key)
        if answer is None:
            if not self.budget.spend(PARSE):
                return True
            answer = self._answers[key] = check()
        return answer


def _possible_international(candidate: str) -> bool:
    try:
        parsed = phonenumbers.parse(candidate, None)
    except NumberParseException:
        return False
    return bool(phonenumbers.is_possible_number(parsed))


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


def _valid_national(candidate: str, region: str) -> bool:
    try:
        parsed = phonenumbers.parse(candidate, region)
    except NumberParseException:
        return False
    if parsed.country_code != country_code_for_region(region):
        return False
    if not phonenumbers.is_valid_number(parsed):
        return False
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
