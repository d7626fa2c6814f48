"""What the detector reports: the PII types, their precedence and one finding."""

from __future__ import annotations

import bisect
import enum
from dataclasses import dataclass


class PIIType(enum.StrEnum):
    """A kind of personal or secret data; the value names the placeholder (`<EMAIL_1>`)."""

    SECRET = "SECRET"
    CARD = "CARD"
    IBAN = "IBAN"
    SSN = "SSN"
    EMAIL = "EMAIL"
    PHONE = "PHONE"
    IPV6 = "IPV6"
    IPV4 = "IPV4"
    # Free-form entities (opt-in, `aigw.context.pii.entities`): below every structured type, so a
    # phone number or an e-mail address inside an address keeps its own placeholder.
    ADDRESS = "ADDRESS"
    PERSON = "PERSON"


# Validated, pattern-found types: what the detector reports by default.
STRUCTURED_TYPES: frozenset[PIIType] = frozenset(PIIType) - {PIIType.ADDRESS, PIIType.PERSON}
# Found by `aigw.context.pii.entities` (a model and rules), only when a policy asks for them.
ENTITY_TYPES: frozenset[PIIType] = frozenset({PIIType.PERSON, PIIType.ADDRESS})


# Overlapping findings: the higher rank wins, then the longer one, then the earlier one.
PRIORITY: dict[PIIType, int] = {kind: rank for rank, kind in enumerate(reversed(PIIType))}


@dataclass(frozen=True, slots=True)
class Finding:
    """One detected value: `text[start:end] == value`."""

    type: PIIType
    start: int
    end: int
    value: str


def resolve_overlaps(findings: list[Finding]) -> list[Finding]:
    """Keeps a non-overlapping subset, most specific first, and returns it in text order."""
    if len(findings) < 2:
        return findings
    ranked = sorted(findings, key=lambda f: (-PRIORITY[f.type], f.start - f.end, f.start))
    kept: list[Finding] = []  # in text order, never overlapping
    for finding in ranked:
        at = bisect.bisect_left(kept, finding.start, key=lambda f: f.start)
        clear_left = at == 0 or kept[at - 1].end <= finding.start
        clear_right = at == len(kept) or finding.end <= kept[at].start
        if clear_left and clear_right:
            kept.insert(at, finding)
    return kept
