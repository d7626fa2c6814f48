"""`PIIDetector.detect`: one regex pass for candidates, a validator per kind, overlaps resolved.

The cost per KiB is bounded for any text: the regexes are bounded and linear, the checks per
candidate are cheap and bounded, candidates never overlap more than a bounded look-back, and the
one costly check (libphonenumber) is paid from a `WorkBudget` (see `budget`).

Free-form entities (person names, postal addresses) are opt-in: with `entities` non-empty the
detector imports `aigw.context.pii.entities` on first use (a worker that never asks never loads it)
and merges its findings below every structured one: where they overlap, the structured finding wins
(a phone number inside an address keeps its own placeholder).
"""

from __future__ import annotations

import bisect
import functools
import importlib
import re
from collections.abc import Callable, Iterable
from typing import cast

from aigw.context.pii import numbers, phone_metadata, validators
from aigw.context.pii.budget import WorkBudget
from aigw.context.pii.findings import Finding, PIIType, resolve_overlaps
from aigw.context.pii.patterns import CLASSIFIER, LATER, SCANNER
from aigw.context.pii.phones import DEFAULT_REGIONS, PhoneRules

# (type, start, end) in the padded text the scanner saw
_Span = tuple[PIIType, int, int]
_Handler = Callable[[re.Match[str], str], list[_Span]]
_NAME = re.compile(r"[\w-]+")
_FindEntities = Callable[[str, frozenset[str], WorkBudget | None], list[Finding]]


class PIIDetector:
    """Finds structured personal data and secrets in text. Stateless and safe to share.

    `regions` are the ISO country codes national phone numbers (written without +country code)
    are tried against; `types` limits what is reported (all types by default); `entities` names the
    free-form kinds (`"PERSON"`, `"ADDRESS"`) looked for as well, none by default.
    """

    def __init__(
        self,
        *,
        regions: Iterable[str] = DEFAULT_REGIONS,
        types: Iterable[PIIType] | None = None,
        entities: frozenset[str] = frozenset(),
    ) -> None:
        self.regions = tuple(r.upper() for r in regions)
        self.entities = frozenset(entities)
        phone_metadata.prepare(self.regions)
        self.types = frozenset(PIIType if types is None else types)
        handlers: dict[str, _Handler] = {
            "pem": _whole(PIIType.SECRET),
            "jwt": _whole(PIIType.SECRET),
            "token": _token,
            "bearer": _bearer,
            "aws": _aws_secret,
            "assign": _assign,
            "email": _email,
            "iban": _iban,
            "ipv6": _ipv6,
            "ipv4": _ipv4,
        }
        self._handlers = handlers

    def detect(
        self, text: str, budget: WorkBudget | None = None, *, entities: frozenset[str] | None = None
    ) -> list[Finding]:
        """Every finding in `text`, in order, never overlapping (the more specific type wins).

        `budget` is the request's (shared by all its texts); without one, `text` gets its own.
        `entities` (the detector's own when None) are the free-form kinds looked for as well.
        """
        if not text:
            return []
        budget = budget if budget is not None else WorkBudget()
        budget.earn(len(text))
        found = self._structured(text, budget)
        kinds = self.entities if entities is None else entities
        if not kinds:
            return found
        extra = [f for f in _entity_finder()(text, frozenset(kinds), budget) if f.type in self.types]
        return merge_below(found, extra)

    def _structured(self, text: str, budget: WorkBudget) -> list[Finding]:
        phones = PhoneRules(self.regions, budget)
        padded = " " + text  # the scanner consumes the character before a candidate
        spans: list[_Span] = []
        pos = 0
        while (hit := SCANNER.search(padded, pos)) is not None:
            start = hit.start() + (2 if padded[hit.start()] == "\\" and padded[hit.start() + 1] in "nrt" else 1)
            found, pos = self._classify(padded, start, phones)
            spans.extend(found)
        findings = [
            Finding(kind, start - 1, end - 1, text[start - 1 : end - 1])
            for kind, start, end in spans
            if kind in self.types
        ]
        return resolve_overlaps(findings)

    def _classify(self, text: str, start: int, phones: PhoneRules) -> tuple[list[_Span], int]:
        """The findings of the first kind that matches at `start` and passes its validator, and where
        to scan on: after the last finding, after a whole run of digits (its parts were all looked at),
        else after `start` — a rejected candidate may still hold another one."""
        match = CLASSIFIER.match(text, start)
        if match is None:
            return [], start
        kind = match.lastgroup or ""
        found = self._validate(kind, match, text, phones)
        if found:
            return found, max(found[-1][2], match.end() if kind == "number" else 0)
        rejected = kind
        while (later := _match_later(rejected, text, start)) is not None:  # the kinds after it may match here
            rejected = later.lastgroup or ""
            if found := self._validate(rejected, later, text, phones):
                return found, found[-1][2]
        return [], match.end() if kind == "number" else start

    def _validate(self, kind: str, match: re.Match[str], text: str, phones: PhoneRules) -> list[_Span]:
        """The findings `match` holds once its kind's validator has looked at it (group 0 is that
        kind's match, inner groups keep their names)."""
        if kind == "number":
            return numbers.number_findings(text, match.start(), match.end(), phones)
        return self._handlers[kind](match, text)


def merge_below(kept: list[Finding], lower: list[Finding]) -> list[Finding]:
    """`kept` (in text order, not overlapping) plus the findings of `lower`, the longer first, then the
    earlier, each clipped to the parts no finding already taken covers: `lower` never displaces a finding
    of `kept`, and an address holding a phone number is still masked around it, never dropped whole."""
    out = list(kept)
    for finding in sorted(lower, key=lambda f: (f.start - f.end, f.start)):
        for start, end in _uncovered(out, finding.start, finding.end):
            piece = finding.value[start - finding.start : end - finding.start]
            if start > finding.start:  # cut here: the separator left before the piece is not PII
                trimmed = piece.lstrip(_CUT_EDGE)
                start, piece = start + len(piece) - len(trimmed), trimmed
            if end < finding.end:
                piece = piece.rstrip(_CUT_EDGE)
            if piece.strip():
                at = bisect.bisect_left(out, start, key=lambda f: f.start)
                out.insert(at, Finding(finding.type, start, start + len(piece), piece))
    return out


_CUT_EDGE = " \t\r\n,;"  # what a clipped piece loses where it was cut: separators


def _uncovered(taken: list[Finding], start: int, end: int) -> list[tuple[int, int]]:
    """The parts of [start, end) that no finding of `taken` (in text order, not overlapping) covers."""
    at = bisect.bisect_right(taken, start, key=lambda f: f.end)  # the first finding ending after `start`
    parts: list[tuple[int, int]] = []
    while at < len(taken) and taken[at].start < end:
        if taken[at].start > start:
            parts.append((start, taken[at].start))
        start = max(start, taken[at].end)
        at += 1
    if start < end:
        parts.append((start, end))
    return parts


@functools.cache
def _entity_finder() -> _FindEntities:
    """`aigw.context.pii.entities.find_entities`, imported on first use (it may load a model)."""
    module = importlib.import_module("aigw.context.pii.entities")
    return cast(_FindEntities, module.find_entities)


def _match_later(kind: str, text: str, start: int) -> re.Match[str] | None:
    pattern = LATER[kind]
    return pattern.match(text, start) if pattern is not None else None


def _whole(kind: PIIType) -> _Handler:
    def handler(match: re.Match[str], text: str) -> list[_Span]:
        return [(kind, match.start(), match.end())]

    return handler


def _aws_secret(match: re.Match[str], text: str) -> list[_Span]:
    if not validators.has_aws_context(text, match.start()):
        return []
    return [(PIIType.SECRET, match.start(), match.end())]


def _token(match: re.Match[str], text: str) -> list[_Span]:
    token = match.group()
    # "sk-" also starts slugs and CSS names; the other prefixes are distinctive enough.
    if token.startswith("sk-") and not validators.is_api_token(token, 3):
        return []
    return [(PIIType.SECRET, match.start(), match.end())]


def _bearer(match: re.Match[str], text: str) -> list[_Span]:
    if not validators.is_api_token(match.group("bearer_value"), 0):
        return []
    return [(PIIType.SECRET, *match.span("bearer_value"))]


def _assign(match: re.Match[str], text: str) -> list[_Span]:
    start, end = match.span("assign_value")
    value = match.group("assign_value")
    if value[0] not in "\"'":  # f(password=hunter2) or {token: abc123}: the bracket is code
        value = value.rstrip(")]}")
        end = start + len(value)
        if not value:
            return []
    name = _NAME.match(text, match.start())
    tight = text[start - 1] == "="
    if name is None or not validators.is_assigned_secret(name.group(), match.group("assign_key"), value, tight=tight):
        return []
    if value[0] in "\"'":
        start, end = start + 1, end - 1
    return [(PIIType.SECRET, start, end)]


def _email(match: re.Match[str], text: str) -> list[_Span]:
    return [(PIIType.EMAIL, match.start(), match.end())] if validators.is_email(match.group()) else []


def _iban(match: re.Match[str], text: str) -> list[_Span]:
    end = validators.is_iban_end(text, match.start(), match.end())
    return [(PIIType.IBAN, match.start(), end)] if end is not None else []


def _ipv6(match: re.Match[str], text: str) -> list[_Span]:
    return [(PIIType.IPV6, match.start(), match.end())] if validators.is_ipv6(match.group()) else []


def _ipv4(match: re.Match[str], text: str) -> list[_Span]:
    start, end = match.span()
    return [(PIIType.IPV4, start, end)] if validators.is_ipv4(text, start, end) else []


DEFAULT_DETECTOR = PIIDetector()


def detect(text: str, entities: frozenset[str] = frozenset()) -> list[Finding]:
    """Findings in `text` with the default detector (all structured types, `DEFAULT_REGIONS` for
    phones), plus the free-form `entities` (`"PERSON"`, `"ADDRESS"`) when asked for."""
    return DEFAULT_DETECTOR.detect(text, entities=entities)
