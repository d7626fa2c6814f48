"""PII evaluation on data the detector was not tuned on: recall per type and locale, false
positives, cost per KiB (`make eval-pii`).

    .venv/bin/python scripts/evaluate_pii.py [--split dev|heldout|both] [--output FILE.md | --write-docs]

The corpus (`scripts/pii_eval`): Faker values in 10 locales embedded in templates written as people
write tickets, e-mails, chat lines, CRM notes and tables, with exact spans; hand-written hard cases;
PII-free texts full of dates, order numbers, prices and tracking codes. Seeds are split: `dev`
(looked at while tuning the detector) and `heldout` (only run for the report). An extra held-out
check formats libphonenumber's example numbers of 44 regions in layouts nobody tuned for.

The report goes to bench-results/evaluation-pii.md (git-ignored); `--write-docs` writes the committed
docs/evaluation-pii.md and refreshes the marked PII summary at the end of docs/evaluation.md.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from benchlib.pii_scan import benchmark  # noqa: E402
from pii_eval import report  # noqa: E402
from pii_eval.clean import clean_docs  # noqa: E402
from pii_eval.corpus import (  # noqa: E402
    DEV_SEEDS,
    ENTITIES,
    HELDOUT_SEEDS,
    OUT_OF_SCOPE,
    STRUCTURED,
    faker_docs,
    hard_docs,
)
from pii_eval.heldout_phones import heldout_phone_docs  # noqa: E402
from pii_eval.scoring import chunks, cost_per_kib, false_positives, score  # noqa: E402

from aigw.context.pii import Masker, PIIDetector  # noqa: E402
from aigw.context.pii.budget import WorkBudget  # noqa: E402

OUTPUT = ROOT / "bench-results" / "evaluation-pii.md"
PUBLISHED = ROOT / "docs" / "evaluation-pii.md"
SUMMARY_IN = ROOT / "docs" / "evaluation.md"


def entities_available() -> bool:
    """Whether the entity detector (`aigw.context.pii.entities.find_entities`) is part of this checkout
    and loads (its optional extra may not be installed)."""
    try:
        module = importlib.import_module("aigw.context.pii.entities")
    except ImportError as error:
        print(f"entities not evaluated: {error}", file=sys.stderr)
        return False
    return hasattr(module, "find_entities")


def evaluate(split: str) -> dict[str, object]:
    started = time.monotonic()
    # the project's prompt benchmark (`make bench`) first, in a process not yet holding the corpus
    bench = benchmark(kib=4, rounds=300)
    detector = PIIDetector()
    structured = frozenset(STRUCTURED)
    seeds = {"dev": DEV_SEEDS, "heldout": HELDOUT_SEEDS}
    splits = ["dev", "heldout"] if split == "both" else [split]
    hard, hard_clean = hard_docs()
    results: dict[str, object] = {"splits": {}, "bench": bench}
    for name in splits:
        docs = faker_docs(seeds[name])
        clean = clean_docs(seeds[name])
        entry: dict[str, object] = {
            "seeds": seeds[name],
            "docs": len(docs),
            "clean": len(clean),
            "recall": score(docs, detector.detect, structured | frozenset(OUT_OF_SCOPE)),
            "fp": false_positives(clean, detector.detect),
        }
        results["splits"][name] = entry  # type: ignore[index]
    results["hard"] = score(hard, detector.detect, structured)
    results["hard_docs"] = len(hard)
    results["hard_fp"] = false_positives(hard_clean, detector.detect)
    results["hard_clean"] = len(hard_clean)
    phones = heldout_phone_docs()
    results["heldout_phones"] = (phones, score(phones, detector.detect, frozenset({"PHONE"})))
    # cost: the default path (a fresh Masker per piece, as per request) on the corpus as long prompts
    timing_texts = [d.text for d in faker_docs(seeds[splits[-1]], per_locale=30)] + [
        d.text for d in clean_docs(seeds[splits[-1]], per_locale=20)
    ]
    pieces = chunks(timing_texts)
    for piece in pieces[:3]:
        Masker().mask(piece)  # warm-up: metadata and patterns
    results["cost"] = cost_per_kib(pieces, lambda text: Masker().mask(text))
    if entities_available():
        kinds = frozenset(ENTITIES)
        entity_detect = lambda text: detector.detect(text, WorkBudget(), entities=kinds)  # noqa: E731
        entity_detect(pieces[0])  # loads the model once
        ent: dict[str, object] = {}
        for name in splits:
            docs = faker_docs(seeds[name])
            clean = clean_docs(seeds[name])
            ent[name] = {
                "recall": score(docs, entity_detect, kinds | structured),
                "fp": false_positives(clean, entity_detect),
                "clean": len(clean),
            }
        ent["hard"] = score(hard, entity_detect, kinds)
        ent["cost"] = cost_per_kib(pieces, entity_detect)
        results["entities"] = ent
    results["took"] = time.monotonic() - started
    return results


def _machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs, {cpu}, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def _commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", choices=("dev", "heldout", "both"), default="both")
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--output", type=Path, default=OUTPUT, help="the report (default bench-results/evaluation-pii.md)"
    )
    where.add_argument(
        "--write-docs", action="store_true", help="write docs/evaluation-pii.md and the summary in docs/evaluation.md"
    )
    parser.add_argument("--misses", type=int, default=40, help="how many misses and false positives to list")
    args = parser.parse_args(argv)
    results = evaluate(args.split)
    info = {
        "command": "make eval-pii" + (" EVAL_ARGS=--write-docs" if args.write_docs else ""),
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": _machine(),
        "commit": _commit(),
    }
    text, verdicts = report.render(results, info, args.misses)
    output = PUBLISHED if args.write_docs else args.output
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    if args.write_docs:
        report.write_summary(SUMMARY_IN, verdicts, info)
    print(report.console(results, verdicts))
    print(f"report: {output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
