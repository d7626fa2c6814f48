"""`benchmark()`: scan-and-mask cost on typical prompt text, in ms of CPU per KiB (`make bench`, `make eval-pii`).

CPU time of the calling thread (`time.thread_time`), not wall time: the masking runs on the event
loop, so its CPU is what it costs, and on a busy machine wall time mostly measures preemption.
"""

from __future__ import annotations

import random
import statistics
import time

from aigw.context.pii.masker import Masker

_PROSE = (
    "The quarterly report shows that revenue grew by 12% compared to last year, driven mostly by strong "
    "demand in the European market. Please summarise the key points for the board meeting on Thursday "
    "and highlight any risks to the 2025 plan. Our team in Berlin asked whether the new pricing model, "
    "starting at $1,299.99 per seat, applies to existing customers from 2024-11-25 onwards. ",
    "Write a short, friendly reply to the customer below. Keep it under 120 words, thank them for the "
    "feedback on version 3.2.1 and explain that order ORD-2024-118823 shipped on 25/11/2024 at 14:30. ",
    "def total(items):\n    return sum(i.price * i.qty for i in items)  # see commit 9f2c1e7 and #4411\n",
)
_PII = (
    "You can reach me at {user}.{n}@example.com if anything is unclear. ",
    "My mobile is +44 7700 900{n3}, call after six. ",
    "The office line is (212) 555-0{n3} ext. 12. ",
    "Card on file: 4111 1111 1111 1111, please do not store it. ",
    "Wire it to DE89 3704 0044 0532 0130 00 by Friday. ",
    "The server at 10.20.{o}.{o2} keeps timing out. ",
    "Her SSN is 123-45-6{n3} according to the form. ",
    "My key sk-proj-Abc{n3}Def456Ghi789Jkl012Mno345 stopped working. ",
)


def prompt_text(kib: int, seed: int = 0) -> str:
    """English prose with about two PII items per KiB, `kib` KiB long."""
    rng = random.Random(seed)
    parts: list[str] = []
    size = 0
    while size < kib * 1024:
        piece = rng.choice(_PROSE) if rng.random() < 0.75 else _fill(rng.choice(_PII), rng)
        parts.append(piece)
        size += len(piece)
    return "".join(parts)[: kib * 1024]


def _fill(template: str, rng: random.Random) -> str:
    n3 = f"{rng.randrange(100, 1000)}"
    return template.format(
        user=rng.choice(("anna", "li", "joao")),
        n=rng.randrange(100),
        n3=n3,
        o=rng.randrange(256),
        o2=rng.randrange(1, 255),
    )


def benchmark(kib: int = 4, rounds: int = 200) -> dict[str, float]:
    """Times `Masker().mask` on a fresh `kib`-KiB prompt per round: CPU ms per KiB (p50, p95, max)."""
    samples: list[float] = []
    findings = 0
    for round_ in range(rounds):
        text = prompt_text(kib, seed=round_)
        masker = Masker()
        started = time.thread_time()
        masker.mask(text)
        samples.append((time.thread_time() - started) * 1000 / kib)
        findings += sum(masker.counts().values())
    samples.sort()
    return {
        "kib": kib,
        "rounds": rounds,
        "p50_ms_per_kib": round(statistics.median(samples), 4),
        "p95_ms_per_kib": round(samples[min(len(samples) - 1, int(len(samples) * 0.95))], 4),
        "max_ms_per_kib": round(samples[-1], 4),
        "findings_per_text": round(findings / rounds, 1),
    }
