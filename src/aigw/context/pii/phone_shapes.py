"""Phone *shapes*: layouts that say "phone number" by themselves, whatever the numbering plan says.

Decision: people write numbers they are given, not numbers libphonenumber knows (Faker's random area
codes, a new range, a typo), so a number written the way only phone numbers are written is masked
without asking whether it is valid. What only phone numbers look like, per E.164 (at most 15 digits):

* `00` then a country code and number, with separators (`0049 30 901820`, `(00492) 58991`): 9-17
  digits. Bare `00…` runs are how identifiers are padded: they need a phone word or to be valid;
* an area code in parentheses and a subscriber number of 5+ digits (`(01632) 960 253`,
  `(000) 8113432`, `(351) 919825979`, `(22) 123 45 67`): 7-15 digits;
* a trunk `0`, then digit groups with separators (`070-123 45 67`, `0171/2345678`, `01.45.67.89.10`,
  `08-89 91 39`): 8-12 digits, a first group of 1-5 digits and later groups of 2-8, never 12 digits in
  groups of four (that is a tracking number: `0218 2717 3235`).

Dates never get here (`numbers` drops them first) and a currency after the run, or an identifier's
word before it, vetoes every shape (`phone_context`).
"""

from __future__ import annotations

import re

_GROUP = re.compile(r"\d+")
_SEPARATOR = re.compile(r"[ \u00a0./-]|\)")
# Thousands as amounts are written (`3 660 993`, `12.345.678`); with a first group of three digits
# they are as often Polish, Portuguese or Spanish phone numbers (`512 345 678`).
_AMOUNT = re.compile(r"\d{1,2}(?:[ \u00a0.,]\d{3})+")
_THOUSANDS = re.compile(r"\d{1,3}(?:[ \u00a0.,]\d{3})+")
_PAREN_AREA = re.compile(r"\((\d{2,5})\)\s?[-/]?\s?\d")
MIN_SHAPE_DIGITS = 7
MAX_DIGITS = 15  # E.164


def phone_shape(written: str) -> bool:
    """Whether `written` (a candidate without its extension, not starting with `+`) is laid out as
    only phone numbers are."""
    digits = sum(map(str.isdigit, written))
    head = written.lstrip("(")
    if _SEPARATOR.search(written) is None:
        return head.startswith("0") and not head.startswith("00") and 9 <= digits <= 12
    if head.startswith("00"):
        return 9 <= digits <= MAX_DIGITS + 2
    paren = _PAREN_AREA.match(written)
    if paren is not None:
        return MIN_SHAPE_DIGITS <= digits <= MAX_DIGITS and digits - len(paren.group(1)) >= 5
    groups = _GROUP.findall(written)
    if head.startswith("0"):
        shortest = 9 if "." in written else 8  # `01.02.03.04` is a dotted quad or a version
        return shortest <= digits <= 12 and _grouped_like_a_phone(groups, digits)
    return _separated_like_a_phone(written, groups, digits)


def _grouped_like_a_phone(groups: list[str], digits: int) -> bool:
    if not 1 <= len(groups[0]) <= 5 or any(not 2 <= len(g) <= 8 for g in groups[1:]):
        return False
    return not (digits >= 12 and all(len(g) == 4 for g in groups))


def _separated_like_a_phone(written: str, groups: list[str], digits: int) -> bool:
    """Groups of 2-5 digits (an area code and up to 8 when there are two), 8-13 digits, that are not
    an amount's thousands (`512 345 678` is left to the numbering plan), a decimal (`48.858370`) or
    a tracking number in fours (`7907 0700 7740`)."""
    if not 8 <= digits <= 13 or not 2 <= len(groups[0]) <= 5:
        return False
    if len(groups) == 2:  # not a decimal (`48.858370`) nor a year and a sequence (`2024/000123`)
        year_slash = "/" in written and len(groups[0]) == 4 and groups[0].startswith(("19", "20"))
        return "." not in written and not year_slash and 5 <= len(groups[1]) <= 8
    if any(not 2 <= len(g) <= 5 for g in groups[1:]) or _THOUSANDS.fullmatch(written):
        return False
    return not (digits >= 12 and all(len(g) == 4 for g in groups))


def grouped_like_a_phone(written: str) -> bool:
    """Digit groups a phone number may have, whatever comes first: no one-digit group after the first
    (ISBNs `0-7654-6507-8`), not a decimal, not an amount's thousands (`3 660 993`, `12.345.678`)."""
    groups = _GROUP.findall(written)
    if len(groups) == 1:
        return True
    if len(groups) == 2 and "." in written:
        return False  # a decimal: `2.294481`
    # one digit at the end is an extension (`030 - 901 820 0`) unless the first group has one too (ISBN)
    inner = groups[1:-1] if len(groups) > 2 and len(groups[0]) > 1 else groups[1:]
    if any(len(g) < 2 for g in inner):
        return False
    return _AMOUNT.fullmatch(written) is None


def parentheses_in_place(written: str) -> bool:
    """A parenthesis opens only before the first or second digit group (`(030) …`, `+49 (0) 30 …`,
    `1 (800) …`): one after that is prose (`8 336 817 (2022)`)."""
    at = written.find("(", 1)
    return at < 0 or len(_GROUP.findall(written, 0, at)) <= 1
