"""The detector's seam for free-form entities: imported only when asked for, merged below structured findings."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator

import pytest

from aigw.context.pii import PIIDetector, PIIType, detect
from aigw.context.pii import detector as detector_module
from aigw.context.pii.budget import WorkBudget
from aigw.context.pii.detector import merge_below
from aigw.context.pii.findings import Finding

_TEXT = "Ring Anna Schmidt, Hauptstraße 5, 10115 Berlin, on +49 30 901820 or anna@example.de."


@pytest.fixture
def fake_entities(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, frozenset[str]]]]:
    """A stand-in `aigw.context.pii.entities` that reports a person and an address overlapping the phone."""
    calls: list[tuple[str, frozenset[str]]] = []

    def find_entities(text: str, kinds: frozenset[str], budget: WorkBudget | None = None) -> list[Finding]:
        calls.append((text, kinds))
        person = text.index("Anna Schmidt")
        address = text.index("Hauptstraße")
        address_end = text.index(" or ")  # deliberately runs over the phone number
        out = []
        if "PERSON" in kinds:
            out.append(Finding(PIIType.PERSON, person, person + 12, text[person : person + 12]))
        if "ADDRESS" in kinds:
            out.append(Finding(PIIType.ADDRESS, address, address_end, text[address:address_end]))
        return out

    module = types.ModuleType("aigw.context.pii.entities")
    module.find_entities = find_entities  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "aigw.context.pii.entities", module)
    detector_module._entity_finder.cache_clear()
    yield calls
    detector_module._entity_finder.cache_clear()


def test_entities_are_not_looked_for_by_default(fake_entities: list[tuple[str, frozenset[str]]]) -> None:
    found = detect(_TEXT)
    assert {f.type for f in found} == {PIIType.PHONE, PIIType.EMAIL}
    assert fake_entities == []


def test_entities_merge_below_structured_findings(fake_entities: list[tuple[str, frozenset[str]]]) -> None:
    found = detect(_TEXT, entities=frozenset({"PERSON", "ADDRESS"}))
    assert [(f.type, f.value) for f in found] == [
        (PIIType.PERSON, "Anna Schmidt"),
        (PIIType.ADDRESS, "Hauptstraße 5, 10115 Berlin, on"),  # clipped where it ran over the phone, not dropped
        (PIIType.PHONE, "+49 30 901820"),
        (PIIType.EMAIL, "anna@example.de"),
    ]
    assert fake_entities == [(_TEXT, frozenset({"PERSON", "ADDRESS"}))]


def test_detector_level_entities_and_type_filter(fake_entities: list[tuple[str, frozenset[str]]]) -> None:
    detector = PIIDetector(entities=frozenset({"PERSON"}))
    assert PIIType.PERSON in {f.type for f in detector.detect(_TEXT)}
    assert PIIType.PERSON not in {f.type for f in detector.detect(_TEXT, entities=frozenset())}
    limited = PIIDetector(types=[PIIType.EMAIL], entities=frozenset({"PERSON"}))
    assert [f.type for f in limited.detect(_TEXT)] == [PIIType.EMAIL]


def test_merge_below_keeps_every_upper_finding_and_prefers_longer_lower_ones() -> None:
    upper = [Finding(PIIType.PHONE, 10, 20, "x" * 10)]
    lower = [
        Finding(PIIType.PERSON, 0, 5, "a" * 5),
        Finding(PIIType.ADDRESS, 0, 8, "b" * 8),  # longer: wins over the person at 0-5
        Finding(PIIType.ADDRESS, 15, 30, "c" * 15),  # overlaps the phone: clipped to 20-30
        Finding(PIIType.PERSON, 20, 25, "d" * 5),  # inside the clipped address: nothing left of it
    ]
    merged = merge_below(upper, lower)
    assert [(f.type, f.start, f.end, f.value) for f in merged] == [
        (PIIType.ADDRESS, 0, 8, "b" * 8),
        (PIIType.PHONE, 10, 20, "x" * 10),
        (PIIType.ADDRESS, 20, 30, "c" * 10),
    ]


def test_a_lower_finding_around_upper_ones_keeps_every_uncovered_piece_trimmed() -> None:
    text = "Flat 3, +44 20 7946 0018, 221B Baker Street, x@y.uk, London NW1"
    phone = text.index("+44")
    mail = text.index("x@y.uk")
    upper = [
        Finding(PIIType.PHONE, phone, phone + 16, text[phone : phone + 16]),
        Finding(PIIType.EMAIL, mail, mail + 6, text[mail : mail + 6]),
    ]
    merged = merge_below(upper, [Finding(PIIType.ADDRESS, 0, len(text), text)])
    assert [(f.type, f.value) for f in merged] == [
        (PIIType.ADDRESS, "Flat 3"),
        (PIIType.PHONE, "+44 20 7946 0018"),
        (PIIType.ADDRESS, "221B Baker Street"),
        (PIIType.EMAIL, "x@y.uk"),
        (PIIType.ADDRESS, "London NW1"),
    ]
    assert all(text[f.start : f.end] == f.value for f in merged)


def test_an_uncut_lower_finding_keeps_its_own_edges() -> None:
    text = "Contrada Argenti, 6, 20084, Lacchiarella (MI)"
    merged = merge_below([], [Finding(PIIType.ADDRESS, 0, len(text), text)])
    assert [(f.start, f.end, f.value) for f in merged] == [(0, len(text), text)]
