"""Scoring: which labelled spans the detector masked, false positives, and the cost per KiB."""

from __future__ import annotations

import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from aigw.context.pii import Finding

from .corpus import Doc, Span

Detect = Callable[[str], list[Finding]]


def covered(span: Span, findings: Iterable[Finding]) -> bool:
    """Fully masked: every character of the span but spaces lies inside some finding (of any type:
    masked is masked; the type is counted apart)."""
    inside = [False] * (span.end - span.start)
    for f in findings:
        for i in range(max(f.start, span.start), min(f.end, span.end)):
            inside[i - span.start] = True
    return all(hit or span.value[i].isspace() for i, hit in enumerate(inside))


def touched(span: Span, findings: Iterable[Finding]) -> bool:
    return any(f.start < span.end and span.start < f.end for f in findings)


@dataclass
class Recall:
    """Caught/total per type, per locale and per (locale, type), with the misses kept for the report."""

    caught: Counter[str] = field(default_factory=Counter)
    total: Counter[str] = field(default_factory=Counter)
    typed: Counter[str] = field(default_factory=Counter)  # caught with the right type
    partial: Counter[str] = field(default_factory=Counter)  # some of it masked, not all
    by_locale: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    by_locale_total: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    misses: list[tuple[Span, str, str]] = field(default_factory=list)  # (span, locale, text)
    extra_findings: int = 0  # findings on labelled texts that overlap no label

    def add(self, doc: Doc, findings: list[Finding], types: frozenset[str]) -> None:
        for span in doc.spans:
            if span.type not in types:
                continue
            self.total[span.type] += 1
            self.by_locale_total[doc.locale][span.type] += 1
            if covered(span, findings):
                self.caught[span.type] += 1
                self.by_locale[doc.locale][span.type] += 1
                self.typed[span.type] += any(f.type.value == span.type and touched(span, [f]) for f in findings)
            else:
                self.partial[span.type] += touched(span, findings)
                self.misses.append((span, doc.locale, doc.text))
        labels = doc.spans
        self.extra_findings += sum(1 for f in findings if not any(f.start < s.end and s.start < f.end for s in labels))

    def rate(self, kind: str | None = None, locale: str | None = None, types: Iterable[str] = ()) -> tuple[int, int]:
        """(caught, total) for one type, one locale's `types`, or every type in `types`."""
        if locale is not None:
            kinds = [kind] if kind else list(types)
            return (sum(self.by_locale[locale][k] for k in kinds), sum(self.by_locale_total[locale][k] for k in kinds))
        if kind is not None:
            return self.caught[kind], self.total[kind]
        kinds = list(types)
        return sum(self.caught[k] for k in kinds), sum(self.total[k] for k in kinds)


def score(docs: list[Doc], detect: Detect, types: frozenset[str]) -> Recall:
    recall = Recall()
    for doc in docs:
        recall.add(doc, detect(doc.text), types)
    return recall


def false_positives(docs: list[Doc], detect: Detect) -> list[tuple[Doc, list[Finding]]]:
    """The PII-free texts where anything was found, with what was found."""
    out = []
    for doc in docs:
        found = detect(doc.text)
        if found:
            out.append((doc, found))
    return out


def chunks(texts: list[str], kib: int = 4) -> list[str]:
    """The texts joined (blank line between them) into pieces of about `kib` KiB, as a long prompt."""
    out, current, size = [], [], 0
    for text in texts:
        current.append(text)
        size += len(text) + 2
        if size >= kib * 1024:
            out.append("\n\n".join(current))
            current, size = [], 0
    if current:
        out.append("\n\n".join(current))
    return out


def cost_per_kib(pieces: list[str], run: Callable[[str], object], rounds: int = 3) -> dict[str, float]:
    """CPU ms per KiB of `run` on each piece (thread CPU time, the best of `rounds` per piece, so a
    preemption on a busy machine counts less): p50, p95 and max over pieces."""
    samples = []
    for piece in pieces:
        best = float("inf")
        for _ in range(rounds):
            started = time.thread_time()
            run(piece)
            best = min(best, time.thread_time() - started)
        samples.append(best * 1000 / (len(piece.encode()) / 1024))
    samples.sort()
    return {
        "pieces": len(samples),
        "p50": statistics.median(samples),
        "p95": samples[min(len(samples) - 1, int(len(samples) * 0.95))],
        "max": samples[-1],
    }
