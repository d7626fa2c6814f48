"""The LLM steps that work on a task's results: reranking search results (with a reason for each)
and explaining recommendations. Both keep to the candidates they are given: an id the model makes
up is ignored, and a step whose answer names no candidate fails (`invalid_response`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aigw.catalog.item import Hit, Item
from aigw.tasks.llm_step import JsonStep, StepFailed

_REASON = {"type": "string"}
RERANK = JsonStep(
    "rerank_explain",
    {
        "type": "object",
        "properties": {
            "results": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"id": {"type": "string"}, "score": {"type": "number"}, "reason": _REASON},
                    "required": ["id", "score"],
                },
            }
        },
        "required": ["results"],
    },
    max_tokens=1500,
)
EXPLAIN = JsonStep(
    "recommend_explain",
    {
        "type": "object",
        "properties": {
            "explanations": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"id": {"type": "string"}, "reason": _REASON},
                    "required": ["id", "reason"],
                },
            }
        },
        "required": ["explanations"],
    },
    max_tokens=1500,
)
MAX_RERANKED = 30  # candidates shown to the model
TEXT_CHARS = 400  # of each candidate's text
REASON_CHARS = 300


def shown(hits: Sequence[Hit], items: Mapping[str, Item], limit: int = MAX_RERANKED) -> list[dict[str, Any]]:
    """The candidates as the model sees them: id, the start of the text, plain metadata values."""
    out: list[dict[str, Any]] = []
    for hit in hits[:limit]:
        item = items.get(hit.id)
        if item is None:
            continue
        plain = {k: v for k, v in item.metadata.items() if isinstance(v, str | int | float | bool) and k != "id"}
        out.append({"id": item.id, "text": item.text[:TEXT_CHARS], **plain})
    return out


def reranked(hits: Sequence[Hit], answer: Mapping[str, Any], k: int) -> tuple[list[Hit], dict[str, str]]:
    """`hits` in the model's order, with its scores and reasons. Candidates it left out follow,
    scored below every one it ranked, so reranking reorders and never loses a result."""
    known = {hit.id: hit for hit in hits}
    ranked: list[Hit] = []
    reasons: dict[str, str] = {}
    for entry in answer.get("results") or []:
        if not isinstance(entry, Mapping):
            continue
        item_id, score = entry.get("id"), entry.get("score")
        if item_id not in known or item_id in reasons:
            continue
        value = float(score) if isinstance(score, int | float) and not isinstance(score, bool) else 0.5
        ranked.append(Hit(str(item_id), min(1.0, max(0.0, value))))
        reason = entry.get("reason")
        reasons[str(item_id)] = reason.strip()[:REASON_CHARS] if isinstance(reason, str) else ""
    if not ranked:
        raise StepFailed("invalid_response")
    floor = min(hit.score for hit in ranked)
    rest = [Hit(hit.id, floor * hit.score * 0.999) for hit in hits if hit.id not in reasons]
    return (ranked + rest)[:k], {i: r for i, r in reasons.items() if r}


def explanations(hits: Sequence[Hit], answer: Mapping[str, Any]) -> dict[str, str]:
    """The model's reason for each recommended item it explained."""
    wanted = {hit.id for hit in hits}
    found: dict[str, str] = {}
    for entry in answer.get("explanations") or []:
        if not isinstance(entry, Mapping):
            continue
        item_id, reason = entry.get("id"), entry.get("reason")
        if item_id in wanted and isinstance(reason, str) and reason.strip() and item_id not in found:
            found[str(item_id)] = reason.strip()[:REASON_CHARS]
    if not found:
        raise StepFailed("invalid_response")
    return found
