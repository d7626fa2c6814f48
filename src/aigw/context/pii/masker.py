"""Per-request masking with stable placeholders, and restoring them, also across streamed chunks."""

from __future__ import annotations

import bisect
import re
from collections import Counter
from collections.abc import Callable

from aigw.context.pii.budget import WorkBudget
from aigw.context.pii.detector import DEFAULT_DETECTOR, PIIDetector
from aigw.context.pii.findings import Finding, PIIType

PLACEHOLDER = re.compile(r"<(?:" + "|".join(kind.value for kind in PIIType) + r")_[0-9]+>")


class Masker:
    """Masks the texts of one request: each distinct value gets one placeholder such as `<EMAIL_1>`.

    The same value keeps the same placeholder across every text masked by this instance, so a model
    can still tell that two messages mention the same address; "the same" ignores how numbers are
    grouped and the case of e-mail addresses (restoring gives the first spelling seen). `mapping`
    (placeholder → original) lives only in memory and only as long as this object: never log or
    store it. `counts()` says how many values of each type were masked (occurrences), never which.
    """

    def __init__(self, detector: PIIDetector | None = None) -> None:
        self.detector = detector or DEFAULT_DETECTOR
        self.mapping: dict[str, str] = {}
        self._placeholders: dict[tuple[PIIType, str], str] = {}
        self._numbers: Counter[PIIType] = Counter()
        self._counts: Counter[PIIType] = Counter()
        self._sorted: list[str] = []  # placeholders in sorted order, for prefix look-ups while streaming
        self._budget = WorkBudget()  # one for all the texts of the request

    def mask(self, text: str) -> str:
        """`text` with every finding replaced by its placeholder."""
        findings = self.detector.detect(text, self._budget)
        if not findings:
            return text
        parts: list[str] = []
        last = 0
        for finding in findings:
            parts.append(text[last : finding.start])
            parts.append(self._placeholder(finding))
            last = finding.end
        parts.append(text[last:])
        return "".join(parts)

    def counts(self) -> dict[str, int]:
        """Masked occurrences per type, e.g. `{"EMAIL": 2, "PHONE": 1}`."""
        return {kind.value: n for kind, n in self._counts.items()}

    def restore(self, text: str, escape: Callable[[str], str] | None = None) -> str:
        """`text` with every placeholder this masker produced replaced by its original value, passed
        through `escape` when given (inside a JSON string, say)."""
        if not self.mapping or "<" not in text:
            return text
        mapping = self.mapping
        if escape is None:
            return PLACEHOLDER.sub(lambda m: mapping.get(m.group(0), m.group(0)), text)
        return PLACEHOLDER.sub(lambda m: escape(mapping[m.group(0)]) if m.group(0) in mapping else m.group(0), text)

    def stream_restorer(self, escape: Callable[[str], str] | None = None) -> StreamRestorer:
        """A restorer for one streamed text."""
        return StreamRestorer(self, escape)

    def partial_placeholder_start(self, text: str) -> int:
        """Where a trailing, still incomplete placeholder begins in `text`; `len(text)` if there is none."""
        at = text.rfind("<")
        if at < 0 or ">" in text[at:]:
            return len(text)
        tail = text[at:]
        if len(self._sorted) != len(self.mapping):
            self._sorted = sorted(self.mapping)
        i = bisect.bisect_left(self._sorted, tail)
        return at if i < len(self._sorted) and self._sorted[i].startswith(tail) else len(text)

    def _placeholder(self, finding: Finding) -> str:
        self._counts[finding.type] += 1
        key = (finding.type, _normal_form(finding))
        placeholder = self._placeholders.get(key)
        if placeholder is None:
            self._numbers[finding.type] += 1
            placeholder = f"<{finding.type.value}_{self._numbers[finding.type]}>"
            self._placeholders[key] = placeholder
            self.mapping[placeholder] = finding.value
        return placeholder


_NOT_ALNUM = re.compile(r"[^0-9A-Za-z+]")


def _normal_form(finding: Finding) -> str:
    """The same value however it is written: `4111 1111 1111 1111` is `4111-1111-1111-1111`."""
    if finding.type in (PIIType.CARD, PIIType.IBAN, PIIType.SSN, PIIType.PHONE):
        return _NOT_ALNUM.sub("", finding.value).upper()
    if finding.type is PIIType.EMAIL:
        return finding.value.lower()
    return finding.value


class StreamRestorer:
    """Restores placeholders in a streamed answer, whatever the chunk boundaries.

    `feed` returns what is safe to emit now and holds back a trailing piece that may still become a
    placeholder (`<EMA`, `<EMAIL_`, `<EMAIL_1`); it is held only while it is a prefix of a
    placeholder this masker issued, so the hold is never longer than the longest placeholder and a
    stray `<` is released at once. `flush` returns what is left at the end of the stream.
    """

    def __init__(self, masker: Masker, escape: Callable[[str], str] | None = None) -> None:
        self._masker = masker
        self._escape = escape
        self._held = ""

    def feed(self, chunk: str) -> str:
        text = self._held + chunk if self._held else chunk
        cut = self._masker.partial_placeholder_start(text)
        self._held = text[cut:]
        return self._masker.restore(text[:cut], self._escape)

    def flush(self) -> str:
        text, self._held = self._held, ""
        return self._masker.restore(text, self._escape)
