"""scripts/pii_eval (make eval-pii): labels are exact spans, seeds reproduce, the docs summary keeps the rest."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

from pii_eval import report
from pii_eval.clean import clean_docs
from pii_eval.corpus import LOCALES, STRUCTURED, faker_docs, hard_docs
from pii_eval.scoring import covered

from aigw.context.pii import Finding, PIIType


def test_spans_are_exact_and_every_type_and_locale_is_there() -> None:
    docs = faker_docs((5,), per_locale=24)
    kinds = {span.type for doc in docs for span in doc.spans}
    assert set(STRUCTURED) <= kinds | {"SSN"} and {"PERSON", "ADDRESS"} <= kinds
    assert {doc.locale for doc in docs} == set(LOCALES)
    for doc in docs:
        for span in doc.spans:
            assert doc.text[span.start : span.end] == span.value
    assert [d.text for d in faker_docs((5,), per_locale=24)] == [d.text for d in docs]  # seeded


def test_hard_cases_and_clean_texts_load() -> None:
    labelled, clean = hard_docs()
    assert len(labelled) >= 30 and len(clean) >= 30
    assert all(doc.text[s.start : s.end] == s.value for doc in labelled for s in doc.spans)
    assert all(not doc.spans for doc in clean_docs((5,), per_locale=3))


def test_covered_means_every_non_space_character_masked() -> None:
    labelled, _ = hard_docs()
    span = labelled[0].spans[0]
    whole = Finding(PIIType.PHONE, span.start, span.end, span.value)
    half = Finding(PIIType.PHONE, span.start, span.start + 3, span.value[:3])
    assert covered(span, [whole]) and not covered(span, [half])


@pytest.mark.parametrize("existing", ["", "# Search evaluation\n\nresults\n"])
def test_summary_is_written_between_markers_and_keeps_the_rest(tmp_path: Path, existing: str) -> None:
    path = tmp_path / "evaluation.md"
    path.write_text(existing, encoding="utf-8")
    info = {"command": "make eval-pii", "date": "today", "commit": "abc"}
    report.write_summary(path, [("target", "1.0", True)], info)
    report.write_summary(path, [("target", "0.5", False)], info)
    text = path.read_text(encoding="utf-8")
    assert text.startswith(existing.rstrip("\n")) and text.count(report.MARK_START) == 1
    assert "**FAIL**" in text and "**pass**" not in text
