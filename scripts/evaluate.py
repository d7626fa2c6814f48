"""Search quality of the local paths on a labelled query set: recall@10, nDCG@10 and latency, as a Markdown report.

    .venv/bin/python scripts/evaluate.py [--catalog FILE.jsonl] [--queries FILE.jsonl] [--output FILE.md | --write-docs]
                                         [--k 10] [--pool 50] [--field-weights JSON] [--no-local]

Defaults: the demo catalog and its queries (src/aigw/demo/, made by scripts/make_demo_catalog.py). `make eval` runs
this. Prints a JSON summary on stdout; progress goes to stderr.

The report goes to bench-results/evaluation.md (git-ignored): a run on any machine or branch leaves the working tree
clean. `--write-docs` writes the committed copy, docs/evaluation.md, instead: that is a deliberate refresh of the
published figures (the report names the commit and machine it was made on), never a side effect of `make eval`.

The catalog is a JSON Lines file as `aigw collections load` reads it: {"id", "text", "metadata"} a line.
The query file is JSON Lines too, one query a line (the format is checked by `aigw.fallbacks.evaluation`):

    {"query": "grey couch", "kind": "synonym", "filters": {"in_stock": true}, "relevant": ["id-1", "id-2"]}
    {"query": "keep my coffee hot", "kind": "paraphrase", "relevant": {"id-7": 2, "id-9": 1}}

`kind` groups the results (any label; the demo uses typo, synonym, paraphrase, filter), `filters` (optional) are
sent with the query in the syntax of `aigw.catalog.filters`, `relevant` is a list of ids (grade 1 each) or an
object of id -> grade (a positive integer; higher is more relevant). Ids that are not in the catalog are reported
and ignored; a query left with no relevant item is skipped and reported.

Every query runs through each path in this process, as the gateway's local fallbacks run them, with the query's
filters:

    fuzzy              FuzzyIndex over the items (the shipped synonyms, text only unless --field-weights), top k
    local_embeddings   all-MiniLM-L6-v2 int8 on the CPU: the query embedded, exact cosine search, top k
    hybrid             both asked for their top --pool, fused by reciprocal rank fusion (aigw.fallbacks.hybrid,
                       constant 60; local embeddings first, as in the gateway's fallback order), top k

Latency is per query, one at a time on one thread, after a warm-up query: the local paths include embedding the
query, hybrid includes both searches (run one after the other) and the fusion.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aigw.catalog.item import Hit, Item
from aigw.cli.catalog import read_items
from aigw.cli.control import CommandError
from aigw.fallbacks import local_embeddings
from aigw.fallbacks.evaluation import (
    LabelledQuery,
    QueryFileError,
    found_at_k,
    load_queries,
    mean,
    ndcg_at_k,
    percentile,
    recall_at_k,
)
from aigw.fallbacks.fuzzy import FuzzyIndex
from aigw.fallbacks.hybrid import DEFAULT_CONSTANT, fuse
from aigw.fallbacks.synonyms import load_synonyms
from aigw.fallbacks.text import extract_terms
from aigw.fallbacks.vector_index import VectorIndex

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "src" / "aigw" / "demo"
OUTPUT = ROOT / "bench-results" / "evaluation.md"
PUBLISHED = ROOT / "docs" / "evaluation.md"
PATHS = ("fuzzy", "local_embeddings", "hybrid")
MISSES = 4  # worst queries shown per path
_EMBED_BATCH = 256

Search = Callable[[str, int, Mapping[str, Any]], list[Hit]]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------- the paths


@dataclass(slots=True)
class Paths:
    """The searches to evaluate, by name, and what building them took."""

    searches: dict[str, Search] = field(default_factory=dict)
    build_seconds: dict[str, float] = field(default_factory=dict)
    local_note: str = ""


def build_paths(items: Sequence[Item], *, field_weights: Mapping[str, float] | None, local: bool, pool: int) -> Paths:
    paths = Paths()
    t0 = time.perf_counter()
    fuzzy = FuzzyIndex(items, field_weights=field_weights)
    fuzzy.search("warm up", 10)  # builds the lexicon, as the first search in the gateway does
    paths.build_seconds["fuzzy"] = time.perf_counter() - t0
    paths.searches["fuzzy"] = fuzzy.search
    if not local:
        paths.local_note = "not run (--no-local)"
        return paths
    reason = local_embeddings.unavailable_reason()
    embedder = local_embeddings.get_embedder() if reason is None else None
    if embedder is None:
        paths.local_note = f"not installed: {reason or local_embeddings.unavailable_reason()}"
        log(f"local embeddings unavailable, reporting fuzzy only ({paths.local_note})")
        return paths
    log(f"embedding {len(items)} items with {embedder.name} ...")
    t0 = time.perf_counter()
    index = VectorIndex(embedder.dimensions)
    for start in range(0, len(items), _EMBED_BATCH):
        batch = items[start : start + _EMBED_BATCH]
        index.upsert([i.id for i in batch], embedder.embed([i.text for i in batch]), [i.metadata for i in batch])
    paths.build_seconds["local_embeddings"] = time.perf_counter() - t0
    embedder.embed(["warm up"])

    def vectors(query: str, k: int, filters: Mapping[str, Any]) -> list[Hit]:
        return index.search(embedder.embed([query])[0], k, filters)

    def hybrid(query: str, k: int, filters: Mapping[str, Any]) -> list[Hit]:
        return fuse([vectors(query, pool, filters), fuzzy.search(query, pool, filters)], k, constant=DEFAULT_CONSTANT)

    paths.searches["local_embeddings"] = vectors
    paths.searches["hybrid"] = hybrid
    paths.local_note = f"{embedder.name} ({embedder.dimensions} dimensions, ONNX on the CPU, {embedder.threads} thread)"
    return paths


# ---------------------------------------------------------------------------------------------- running


@dataclass(slots=True)
class Result:
    """One query through one path."""

    ranked: list[str]
    recall: float
    ndcg: float
    ms: float
    found: float = 0.0  # an item of the highest grade in the top k


def run(paths: Paths, queries: Sequence[LabelledQuery], k: int) -> dict[str, list[Result]]:
    results: dict[str, list[Result]] = {name: [] for name in paths.searches}
    for number, query in enumerate(queries, 1):
        for name, search in paths.searches.items():
            t0 = time.perf_counter()
            hits = search(query.query, k, query.filters)
            ms = (time.perf_counter() - t0) * 1000
            ranked = [h.id for h in hits]
            recall, ndcg = recall_at_k(ranked, query.relevant, k), ndcg_at_k(ranked, query.relevant, k)
            results[name].append(Result(ranked, recall, ndcg, ms, found_at_k(ranked, query.relevant, k)))
        if number % 50 == 0:
            log(f"{number}/{len(queries)} queries")
    return results


# ---------------------------------------------------------------------------------------------- synonym table


class TableBridge:
    """Whether the fuzzy path's shipped synonym table links a query's words to the words of its relevant items.

    A query is bridged when, for at least half of its relevant items, it contains a phrase of the table that the
    item's text lacks while the text has one of the phrase's equivalents ("couch" asked, "sofa" written). On such
    queries the fuzzy path is helped by the table; on the others it has only the words themselves.
    """

    def __init__(self, items: Iterable[Item]) -> None:
        self._table: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
        for phrase, equivalents in load_synonyms().items():
            key = tuple(extract_terms(phrase))
            if key:
                self._table.setdefault(key, []).extend(t for t in (tuple(extract_terms(e)) for e in equivalents) if t)
        self._texts = {item.id: item.text for item in items}
        self._grams: dict[str, set[tuple[str, ...]]] = {}

    def bridged(self, query: LabelledQuery) -> bool:
        keys = [g for g in _ngrams(extract_terms(query.query)) if g in self._table]
        if not keys:
            return False
        items = [i for i in query.relevant if i in self._texts]
        helped = sum(1 for i in items if self._helps(keys, self._item_grams(i)))
        return bool(items) and helped * 2 >= len(items)

    def _helps(self, keys: Sequence[tuple[str, ...]], grams: set[tuple[str, ...]]) -> bool:
        return any(key not in grams and any(e in grams for e in self._table[key]) for key in keys)

    def _item_grams(self, item_id: str) -> set[tuple[str, ...]]:
        grams = self._grams.get(item_id)
        if grams is None:
            grams = self._grams[item_id] = set(_ngrams(extract_terms(self._texts[item_id])))
        return grams


def _ngrams(terms: Sequence[str], longest: int = 4) -> list[tuple[str, ...]]:
    return [tuple(terms[i : i + n]) for n in range(1, longest + 1) for i in range(len(terms) - n + 1)]


# ---------------------------------------------------------------------------------------------- summary


def _ci95(values: Sequence[float]) -> float:
    """Half-width of a normal-approximation 95% confidence interval of the mean."""
    return 1.96 * statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else 0.0


def summarise(
    queries: Sequence[LabelledQuery], results: Mapping[str, Sequence[Result]], bridged: Sequence[bool]
) -> dict[str, Any]:
    kinds = sorted({q.kind for q in queries}, key=lambda kind: min(i for i, q in enumerate(queries) if q.kind == kind))
    groups: dict[str, list[int]] = {"all": list(range(len(queries)))}
    for kind in kinds:
        groups[kind] = [i for i, q in enumerate(queries) if q.kind == kind]
    paths: dict[str, Any] = {}
    for name, rows in results.items():
        paths[name] = {
            "recall@k": {g: round(mean([rows[i].recall for i in idx]), 4) for g, idx in groups.items()},
            "ndcg@k": {g: round(mean([rows[i].ndcg for i in idx]), 4) for g, idx in groups.items()},
            "found@k": {g: round(mean([rows[i].found for i in idx]), 4) for g, idx in groups.items()},
            "ci95": {
                "recall@k": round(_ci95([r.recall for r in rows]), 4),
                "ndcg@k": round(_ci95([r.ndcg for r in rows]), 4),
                "found@k": round(_ci95([r.found for r in rows]), 4),
            },
            "latency_ms": {
                "p50": round(percentile([r.ms for r in rows], 50), 2),
                "p95": round(percentile([r.ms for r in rows], 95), 2),
                "max": round(max((r.ms for r in rows), default=0.0), 2),
            },
            "bridged_ndcg@k": {
                kind: {
                    "bridged": _mean_or_none([rows[i].ndcg for i in groups[kind] if bridged[i]]),
                    "not_bridged": _mean_or_none([rows[i].ndcg for i in groups[kind] if not bridged[i]]),
                }
                for kind in kinds
            },
        }
    summary: dict[str, Any] = {
        "queries": {"all": len(queries), **{kind: len(groups[kind]) for kind in kinds}},
        "bridged_by_synonym_table": {kind: sum(bridged[i] for i in groups[kind]) for kind in kinds},
        "paths": paths,
    }
    if "hybrid" in results:
        summary["hybrid_vs"] = {
            other: _wins(results["hybrid"], results[other]) for other in results if other != "hybrid"
        }
    return summary


def _mean_or_none(values: Sequence[float]) -> float | None:
    return round(mean(values), 4) if values else None


def _wins(a: Sequence[Result], b: Sequence[Result]) -> dict[str, int]:
    """Queries where a's nDCG is higher, lower, or the same (within 0.001) as b's."""
    better = sum(1 for x, y in zip(a, b, strict=True) if x.ndcg > y.ndcg + 1e-3)
    worse = sum(1 for x, y in zip(a, b, strict=True) if x.ndcg < y.ndcg - 1e-3)
    return {"better": better, "worse": worse, "same": len(a) - better - worse}


# ---------------------------------------------------------------------------------------------- the report


def _git() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"git {head}" + (" + uncommitted changes" if dirty else "")


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs, {cpu}, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def _cell(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def _metric_table(summary: Mapping[str, Any], metric: str) -> list[str]:
    """Paths by query group; the best path of each group in bold, the overall mean with its 95% interval."""
    groups = list(summary["queries"])
    paths = summary["paths"]
    best = {g: max(d[metric][g] for d in paths.values()) for g in groups}
    lines = [
        "| path | " + " | ".join(f"{g} ({summary['queries'][g]})" for g in groups) + " |",
        "|---|" + "---:|" * len(groups),
    ]
    for name, data in paths.items():
        cells = [
            f"**{_cell(data[metric][g])}**" if len(paths) > 1 and data[metric][g] == best[g] else _cell(data[metric][g])
            for g in groups
        ]
        cells[0] += f" ± {data['ci95'][metric]:.3f}"
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def _reading(summary: Mapping[str, Any]) -> list[str]:
    """Sentences drawn from the numbers, so they stay true when the script is rerun on other data."""
    paths = summary["paths"]
    kinds = [g for g in summary["queries"] if g != "all"]
    out = []
    for kind in kinds:
        ranked = sorted(paths, key=lambda p: -paths[p]["ndcg@k"][kind])
        scores = ", ".join(f"{p} {paths[p]['ndcg@k'][kind]:.3f}" for p in ranked)
        gap = paths[ranked[0]]["ndcg@k"][kind] - (paths[ranked[1]]["ndcg@k"][kind] if len(ranked) > 1 else 0.0)
        lead = f"{ranked[0]} leads by {gap:.3f}" if len(ranked) > 1 else ""
        out.append(f"- **{kind}** (nDCG@10): {scores}" + (f"; {lead}." if lead else "."))
    for name, data in paths.items():
        weakest = min(kinds, key=lambda kind: data["ndcg@k"][kind])
        strongest = max(kinds, key=lambda kind: data["ndcg@k"][kind])
        out.append(
            f"- **{name}** is weakest on {weakest} queries (nDCG@10 {data['ndcg@k'][weakest]:.3f}, recall@10 "
            f"{data['recall@k'][weakest]:.3f}) and strongest on {strongest} ({data['ndcg@k'][strongest]:.3f})."
        )
    if "hybrid" in paths and len(paths) > 1:
        singles = [p for p in paths if p != "hybrid"]
        behind = [
            f"{kind} ({paths['hybrid']['ndcg@k'][kind] - max(paths[p]['ndcg@k'][kind] for p in singles):+.3f})"
            for kind in kinds
        ]
        vs = "; ".join(
            f"against {other}, {v['better']} queries better, {v['worse']} worse, {v['same']} the same"
            for other, v in summary["hybrid_vs"].items()
        )
        out.append(
            "- **hybrid** against the better single path of each kind (nDCG@10 difference): "
            + ", ".join(behind)
            + f". Per query (nDCG@10): {vs}. Fusion with equal weights rewards agreement: on a kind where one path "
            "is far weaker, its misses push the fused ranking below the better path's own."
        )
    bridged = summary["bridged_by_synonym_table"]
    fuzzy = paths["fuzzy"]["bridged_ndcg@k"]
    parts = []
    for kind in kinds:
        if bridged[kind] and fuzzy[kind]["not_bridged"] is not None:
            parts.append(
                f"{kind}: {bridged[kind]} of {summary['queries'][kind]} bridged, fuzzy nDCG@10 "
                f"{_cell(fuzzy[kind]['bridged'])} on those and {_cell(fuzzy[kind]['not_bridged'])} on the rest"
            )
    if parts:
        out.append(
            "- The fuzzy path's shipped synonym table (src/aigw/fallbacks/synonyms.yaml) links some queries to their "
            "items' words (a query is *bridged* when, for at least half of its relevant items, it uses a phrase "
            "of the table that the item lacks while the item has one of its equivalents): "
            + "; ".join(parts)
            + ". Words outside the table are what fuzzy search cannot bridge; local embeddings do not use the table."
        )
    return out


def _misses(name: str, queries: Sequence[LabelledQuery], rows: Sequence[Result], texts: Mapping[str, str]) -> list[str]:
    order = sorted(range(len(queries)), key=lambda i: (rows[i].ndcg, rows[i].recall, i))[:MISSES]
    lines = [f"**{name}**", "", "| query | kind | nDCG@10 | relevant | its first results |", "|---|---|---:|---:|---|"]
    for i in order:
        shown = "; ".join(_title(texts.get(item, item)) for item in rows[i].ranked[:3]) or "(nothing)"
        query = queries[i].query + (f" `{json.dumps(dict(queries[i].filters))}`" if queries[i].filters else "")
        lines.append(
            f"| {_md(query)} | {queries[i].kind} | {rows[i].ndcg:.2f} | {len(queries[i].relevant)} | {_md(shown)} |"
        )
    return [*lines, ""]


def _title(text: str, limit: int = 60) -> str:
    head = text.split(". ", 1)[0]
    return head if len(head) <= limit else head[: limit - 1] + "…"


def _md(text: str) -> str:
    return text.replace("|", "\\|")


@dataclass(frozen=True, slots=True)
class RunInfo:
    catalog: Path
    queries: Path
    items: int
    categories: int
    skipped: int
    unknown_ids: int
    k: int
    pool: int
    command: str
    seconds: float
    build_seconds: Mapping[str, float]
    local_note: str
    field_weights: Mapping[str, float] | None


def report(
    info: RunInfo,
    summary: Mapping[str, Any],
    queries: Sequence[LabelledQuery],
    results: Mapping[str, Sequence[Result]],
    texts: Mapping[str, str],
) -> str:
    k = info.k
    counts = ", ".join(f"{n} {kind}" for kind, n in summary["queries"].items() if kind != "all")
    builds = ", ".join(f"{name} {s:.1f} s" for name, s in info.build_seconds.items())
    weights = json.dumps(dict(info.field_weights)) if info.field_weights else "none (item text only, as the gateway)"
    lines = [
        "# Search evaluation",
        "",
        "Generated by `scripts/evaluate.py`; do not edit by hand, rerun to refresh.",
        "",
        f"- Command: `{info.command}` (`make eval` runs it on the demo catalog)",
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; took {info.seconds:.0f} s",
        f"- Machine: {_machine()}",
        f"- Code: {_git()}",
        f"- Catalog: `{_shown(info.catalog)}`, {info.items:,} items in {info.categories} categories",
        f"- Queries: `{_shown(info.queries)}`, {summary['queries']['all']} queries ({counts})"
        + (f"; {info.skipped} skipped (no relevant item in the catalog)" if info.skipped else "")
        + (f"; {info.unknown_ids} relevant ids not in the catalog, ignored" if info.unknown_ids else ""),
        f"- Local embeddings: {info.local_note}",
        f"- Index build: {builds}; fuzzy field weights: {weights}",
        "",
        "## Method",
        "",
        f"Every query runs, with its filters, through each path in one process, as the gateway's local fallbacks "
        f"run them: **fuzzy** (`FuzzyIndex`: typo-tolerant keywords with the shipped synonym table) top {k}; "
        f"**local_embeddings** (the query embedded by all-MiniLM-L6-v2 int8 on the CPU, exact cosine search in "
        f"`VectorIndex` over the embedded item texts) top {k}; **hybrid**: both paths asked for their top "
        f"{info.pool}, fused by reciprocal rank fusion (`aigw.fallbacks.hybrid.fuse`, constant {DEFAULT_CONSTANT}, "
        f"local embeddings first as in the gateway's fallback order), top {k}. No path was tuned to these queries.",
        "",
        f"**recall@{k}** = relevant items in the top {k} / min(relevant items, {k}) (capped, so a query with more "
        f"than {k} relevant items can still reach 1.0). **nDCG@{k}**: gain = the relevance grade, discount "
        f"log2(rank + 1), divided by the DCG of the ideal order of all graded items. Both are means over queries; "
        f"± is the half-width of a 95% confidence interval of the overall mean (normal approximation). "
        f"Latency is wall time per query, one at a time on one thread after a warm-up query; the local paths "
        f"include embedding the query, hybrid includes both searches (one after the other) and the fusion.",
        "",
        (
            "Labels: the demo queries' relevant ids are computed from item attributes by "
            "`scripts/make_demo_catalog.py` (typo queries: items whose title has every word of the phrase before the "
            "typos, grade 2, and other items of the same product type and named attributes, grade 1; the others: the "
            "product types the query asks for, graded 2 for what was asked and 1 for what would also do, narrowed by "
            "the filters)."
            if info.queries.resolve() == (DEMO / "queries.jsonl").resolve()
            else "Labels: as given in the query file."
        )
        + " The best path of each column is in bold."
        + ("" if len(results) > 1 else f" Only fuzzy was run: local embeddings {info.local_note}."),
        "",
        f"## recall@{k}",
        "",
        *_metric_table(summary, "recall@k"),
        "",
        f"## nDCG@{k}",
        "",
        *_metric_table(summary, "ndcg@k"),
        "",
        f"## found@{k}: the intended item in the top {k}",
        "",
        f"Share of queries with an item of the highest grade among the first {k} (for typo queries: the item "
        "whose name was mistyped).",
        "",
        *_metric_table(summary, "found@k"),
        "",
        "## Latency (ms per query)",
        "",
        "| path | p50 | p95 | max |",
        "|---|---:|---:|---:|",
        *[
            f"| {name} | {d['latency_ms']['p50']:.2f} | {d['latency_ms']['p95']:.2f} | {d['latency_ms']['max']:.2f} |"
            for name, d in summary["paths"].items()
        ],
        "",
        "## Reading",
        "",
        *_reading(summary),
        "",
        "Caveats that hold whatever the numbers: the demo catalog is synthetic, written from templates (items of "
        "one product type share a few description sentences, so paraphrases that echo a description are easier "
        "than in a real catalog); relevance follows product types and attributes, not human judgments, so an "
        "item of a related type that a shopper might accept counts as a miss unless the query lists its type; "
        "the same person wrote the catalog and the queries; with 50-100 queries a kind, differences under ~0.03 "
        "are within noise (see the ± of the overall means).",
        "",
        "## Worst queries per path",
        "",
        "The queries each path ranks worst (lowest nDCG@10), with what it returned first: where it is weak.",
        "",
    ]
    for name, rows in results.items():
        lines += _misses(name, queries, rows, texts)
    lines += [
        "## Reproduce",
        "",
        "```sh",
        "make eval                                             # the demo catalog and queries",
        ".venv/bin/python scripts/evaluate.py --catalog my.jsonl --queries my_queries.jsonl --output /tmp/eval.md",
        ".venv/bin/python scripts/make_demo_catalog.py           # regenerate the demo files (seeded, identical)",
        "```",
        "",
        "The query file format is described at the top of `scripts/evaluate.py`.",
        "",
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------- main


def _known(queries: Sequence[LabelledQuery], ids: set[str]) -> tuple[list[LabelledQuery], int, int]:
    """The queries with unknown ids dropped from their relevant sets; how many queries and ids were dropped."""
    kept: list[LabelledQuery] = []
    unknown = 0
    for q in queries:
        relevant = {i: g for i, g in q.relevant.items() if i in ids}
        unknown += len(q.relevant) - len(relevant)
        if relevant:
            kept.append(LabelledQuery(q.query, q.kind, relevant, q.filters))
    return kept, len(queries) - len(kept), unknown


def _pii_section(path: Path) -> str:
    """The PII summary `scripts/evaluate_pii.py --write-docs` keeps at the end of the file, carried over."""
    start = "<!-- pii-evaluation:start"
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    return "\n" + old[old.index(start) :] if start in old else ""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--catalog", type=Path, default=DEMO / "catalog.jsonl", help="items, JSON Lines")
    parser.add_argument("--queries", type=Path, default=DEMO / "queries.jsonl", help="labelled queries, JSON Lines")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--output", type=Path, default=OUTPUT, help="the report (default bench-results/evaluation.md)")
    where.add_argument(
        "--write-docs", dest="output", action="store_const", const=PUBLISHED, help="refresh the committed docs copy"
    )
    parser.add_argument("--k", type=int, default=10, help="results scored per query (default 10)")
    parser.add_argument("--pool", type=int, default=50, help="results each path gives the hybrid (default 50)")
    parser.add_argument(
        "--field-weights", type=json.loads, default=None, help='fuzzy field weights, e.g. {"brand": 0.8}'
    )
    parser.add_argument("--no-local", action="store_true", help="fuzzy only, even if local embeddings are installed")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        items = read_items(args.catalog)
        queries, skipped, unknown = _known(load_queries(args.queries), {i.id for i in items})
    except (CommandError, QueryFileError, OSError) as exc:
        print(f"evaluate: {exc}", file=sys.stderr)
        return 2
    if not queries:
        print("evaluate: no query has a relevant item in the catalog", file=sys.stderr)
        return 2
    log(f"{len(items)} items, {len(queries)} queries {dict(Counter(q.kind for q in queries))}")
    paths = build_paths(items, field_weights=args.field_weights, local=not args.no_local, pool=args.pool)
    results = run(paths, queries, args.k)
    bridge = TableBridge(items)
    summary = summarise(queries, results, [bridge.bridged(q) for q in queries])
    categories = len({str(i.metadata.get("category")) for i in items if "category" in i.metadata})
    command = ".venv/bin/python scripts/evaluate.py" + (
        " " + " ".join(sys.argv[1:]) if argv is None and sys.argv[1:] else ""
    )
    info = RunInfo(
        args.catalog, args.queries, len(items), categories, skipped, unknown, args.k, args.pool, command,
        time.perf_counter() - started, paths.build_seconds, paths.local_note, args.field_weights,
    )  # fmt: skip
    texts = {i.id: i.text for i in items}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(report(info, summary, queries, results, texts) + _pii_section(args.output), encoding="utf-8")
    log(f"wrote {_shown(args.output)} in {time.perf_counter() - started:.1f} s")
    print(json.dumps({"k": args.k, "local_embeddings": paths.local_note, "seconds": round(info.seconds, 1), **summary}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
