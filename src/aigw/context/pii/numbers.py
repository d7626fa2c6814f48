"""Runs of digits: SSN, card or phone number, or nothing (dates, order numbers, versions).

A run found by the scanner is at most ~30 characters. It is judged whole first; when it is
nothing, its space-separated parts (at most `MAX_SPLIT_TOKENS`) are tried as windows, longest
first, left to right, so `555-123-4567 2024-11-25` gives a phone and a date. Runs never overlap
(the scan goes on after a run) and the work per run is bounded, but trying up to 35 windows is
the costly part for text made of numbers, so the windows are paid from the request's
`WorkBudget` (and libphonenumber's parses, through `PhoneRules`). When it is spent, a run that
holds enough digits for a phone number is masked whole, as a phone number: more is masked, never
less.
"""

from __future__ import annotations

import re

from stdnum import luhn
from stdnum.us import ssn as stdnum_ssn

from aigw.context.pii.budget import WINDOW
from aigw.context.pii.findings import PIIType
from aigw.context.pii.phone_context import named_as_identifier
from aigw.context.pii.phones import MIN_DIGITS, PhoneRules, split_extension

_SSN_SHAPE = re.compile(r"\d{3}([- ])\d{2}\1\d{4}")
_CARD_SHAPE = re.compile(r"\d+(?:([ -])\d+(?:\1\d+)*)?")
# 2024-11-25, 2024/1/5, 25/11/2024, 11.25.2024, 25-11-24: never a phone number.
_DATE = re.compile(r"(\d{4})([./-])(\d{1,2})\2(\d{1,2})|(\d{1,2})([./-])(\d{1,2})\6(?:\d{4}|\d{2})")
_SPACED_TOKEN = re.compile(r"\S+")
_MAESTRO_12 = ("50", "56", "57", "58", "6")  # 12-digit Maestro cards; every other card has 13-19 digits
# First digits of the card networks by number length: 13 Visa; 14 Diners; 15 Amex, JCB, UATP; 16 Visa,
# Mastercard, Discover, JCB, UnionPay, Mir, Maestro; 17-19 Visa, Maestro, UnionPay, Mir. Snowflake IDs
# and millisecond timestamps (starting with 1) are left alone.
_CARD_FIRST_DIGITS = {13: "4", 14: "3", 15: "123", 16: "23456", 17: "23456", 18: "23456", 19: "23456"}
_DINERS_14 = ("300", "301", "302", "303", "304", "305", "309", "36", "38", "39")  # the 14-digit cards
MAX_SPLIT_TOKENS = 8
_NUMBER_START = frozenset("+(0123456789")

_Span = tuple[PIIType, int, int]


def is_date(value: str) -> bool:
    """A date: `2024-11-25`, `2024/1/5`, `25/11/2024`, `11.25.2024`, `25-11-24`, with a month and day
    that can be one (`68-06-61`, a phone number's last groups, is not)."""
    match = _DATE.fullmatch(value)
    if match is None:
        return False
    if match.group(1) is not None:
        return 1 <= int(match.group(3)) <= 12 and 1 <= int(match.group(4)) <= 31
    first, second = int(match.group(5)), int(match.group(7))
    return 1 <= min(first, second) <= 12 and max(first, second) <= 31


def is_card(number: str) -> bool:
    """A payment card number: 13-19 digits (12 for Maestro), a card network's first digit, Luhn."""
    digits = number.replace(" ", "").replace("-", "")
    if not digits.isdigit():
        return False
    if len(digits) == 14:
        plausible = digits.startswith(_DINERS_14)
    elif 13 <= len(digits) <= 19:
        plausible = digits[0] in _CARD_FIRST_DIGITS[len(digits)]
    else:
        plausible = len(digits) == 12 and digits.startswith(_MAESTRO_12)
    return plausible and luhn.is_valid(digits)


def is_ssn(number: str) -> bool:
    """A US social security number written 123-45-6789 or 123 45 6789, with issuable area/group/serial."""
    return _SSN_SHAPE.fullmatch(number) is not None and stdnum_ssn.is_valid(number.replace(" ", "-"))


def number_kind(
    candidate: str, text: str, start: int, phones: PhoneRules, *, cards: bool = True, phone: bool = True
) -> PIIType | None:
    """What a run of digits is: SSN, CARD or PHONE (in that order), or None for dates and the rest."""
    if is_date(split_extension(candidate)):
        return None
    if _SSN_SHAPE.fullmatch(candidate):
        # shaped like an SSN: never a phone number
        return PIIType.SSN if phone and is_ssn(candidate) else None
    # 12 and 14 digits (Maestro, Diners) are the lengths of many tracking and account numbers too
    if (
        cards
        and _CARD_SHAPE.fullmatch(candidate)
        and is_card(candidate)
        and (sum(map(str.isdigit, candidate)) > 14 or not named_as_identifier(text, start))
    ):
        return PIIType.CARD
    if not phone or _holds_date_or_time(candidate, text, start + len(candidate)):
        return None
    return PIIType.PHONE if phones.is_phone(candidate, text, start) else None


def _holds_date_or_time(candidate: str, text: str, end: int) -> bool:
    """`2024-11-25 14` of `2024-11-25 14:30`: a date among its parts, or an hour at its end."""
    if text.startswith(":", end) and text[end + 1 : end + 2].isdigit():
        return True
    parts = candidate.split()
    if len(parts) < 2:
        return False
    # a date with its century anywhere; `24-02-84` only first (last, it is how phone numbers end)
    return is_date(parts[0]) or any(is_date(part) and len(part) >= 10 for part in parts[1:])


def number_findings(text: str, start: int, end: int, phones: PhoneRules) -> list[_Span]:
    """Findings in a digit run; when the whole run is nothing, its space-separated parts are tried."""
    start, end = _balance_parentheses(text, start, end)
    phones.begin_run(start, end)
    if not phones.budget.spend(WINDOW):
        return _whole_run_as_phone(text, start, end)
    kind = number_kind(text[start:end], text, start, phones)
    if kind is not None:
        return [(kind, start, end)]
    tokens = [m.span() for m in _SPACED_TOKEN.finditer(text, start, end)][:MAX_SPLIT_TOKENS]
    if len(tokens) < 2:
        return []
    windows = len(tokens) * (len(tokens) + 1) // 2 - 1
    if not phones.budget.spend(windows * WINDOW):
        return _whole_run_as_phone(text, start, end)
    return _split_findings(text, tokens, phones)


def _whole_run_as_phone(text: str, start: int, end: int) -> list[_Span]:
    """The fail-safe once the budget is spent: a run with enough digits for any kind (8: a phone
    number with its country code) might have held one, so it is masked whole; a date never. The
    checks that cost next to nothing (SSN and card shapes, Luhn) still name the type."""
    run = text[start:end]
    if sum(map(str.isdigit, run)) < MIN_DIGITS or is_date(run):
        return []
    if _SSN_SHAPE.fullmatch(run) and is_ssn(run):
        return [(PIIType.SSN, start, end)]
    if _CARD_SHAPE.fullmatch(run) and is_card(run):
        return [(PIIType.CARD, start, end)]
    return [(PIIType.PHONE, start, end)]


def _split_findings(text: str, tokens: list[tuple[int, int]], phones: PhoneRules) -> list[_Span]:
    """Longest run of tokens first, left to right (`555-123-4567 2024-11-25` → a phone and a date)."""
    digits = [0]  # digits in tokens[:i], so that hopeless windows are skipped before any parsing
    for start, end in tokens:
        digits.append(digits[-1] + sum(map(str.isdigit, text[start:end])))
    found: list[_Span] = []
    first = 0
    while first < len(tokens):
        for last in range(len(tokens) - 1, first - 1, -1):
            count = digits[last + 1] - digits[first]
            if (first, last) == (0, len(tokens) - 1) or not MIN_DIGITS <= count <= 19:
                continue  # the whole run was tried already; too few (for any kind) or too many digits
            finding = _window_finding(text, tokens, first, last, phones, count)
            if finding is not None:
                found.append(finding)
                first = last
                break
        first += 1
    return found


def _window_finding(
    text: str, tokens: list[tuple[int, int]], first: int, last: int, phones: PhoneRules, digits: int
) -> _Span | None:
    start, end = _balance_parentheses(text, tokens[first][0], tokens[last][1])
    value = text[start:end]
    if value[0] not in _NUMBER_START or not (value[-1].isdigit() or value[-1] == ")"):
        return None
    # A part that a plain group of digits continues is the middle of a longer number (a tracking
    # number): not a phone; a card only when what follows is shorter (a CVV).
    phone = not _next_to_digits(text, tokens, first, last, 2)
    cards = digits >= 13 and not _next_to_digits(text, tokens, first, last, 4)
    if not (phone or cards):
        return None
    kind = number_kind(value, text, start, phones, cards=cards, phone=phone)
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
