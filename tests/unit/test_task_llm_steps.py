"""What the LLM steps of tasks keep of a model's answer: filters the collection can hold, clean
synonyms, candidates' ids only."""

from __future__ import annotations

import pytest

from aigw.catalog.fields import field_specs, usable_filters
from aigw.catalog.item import Hit, Item
from aigw.tasks.intent import MAX_SYNONYMS, intent_from_answer
from aigw.tasks.llm_ranking import explanations, reranked, shown
from aigw.tasks.llm_step import StepFailed

ITEMS = [
    Item("a", "Red sofa", {"category": "furniture", "price": 900, "in_stock": True, "tags": ["living", "soft"]}),
    Item("b", "Kettle", {"category": "kitchen", "price": 30.5, "in_stock": False, "sku": "K-1"}),
    Item("c", "Chair", {"category": "furniture", "price": 80, "mixed": 3}),
    Item("d", "Lamp", {"category": "lighting", "mixed": "three"}),
]


def test_fields_are_choices_ranges_and_booleans_and_mixed_ones_are_left_out() -> None:
    specs = field_specs(ITEMS)
    assert specs["category"].describe() == ["furniture", "kitchen", "lighting"]
    assert specs["tags"].describe() == ["living", "soft"]
    assert specs["price"].low == 30.5 and specs["price"].high == 900
    assert specs["in_stock"].describe() == "true or false"
    assert "mixed" not in specs


def test_a_string_field_with_many_values_is_free_text() -> None:
    items = [Item(str(i), "x", {"title": f"title {i}", "kind": "one"}) for i in range(100)]
    assert set(field_specs(items)) == {"kind"}


def test_declared_fields_replace_the_inferred_ones() -> None:
    specs = field_specs(ITEMS, {"category": ["furniture", "kitchen"], "brand": "the maker's name"})
    assert specs["category"].describe() == ["furniture", "kitchen"]
    assert usable_filters({"brand": "Acme", "category": "garden"}, specs) == {"brand": "Acme"}


@pytest.mark.parametrize(
    ("proposed", "kept"),
    [
        ({"category": "FURNITURE"}, {"category": "furniture"}),
        ({"category": ["kitchen", "moon"]}, {"category": "kitchen"}),
        ({"category": ["kitchen", "lighting"]}, {"category": ["kitchen", "lighting"]}),
        ({"category": "moon"}, {}),
        ({"price": {"lte": 100, "between": 3, "gte": "cheap"}}, {"price": {"lte": 100}}),
        ({"price": 80}, {"price": 80}),
        ({"price": True}, {}),
        ({"in_stock": "yes"}, {}),
        ({"in_stock": True}, {"in_stock": True}),
        ({"colour": "red"}, {}),
        ({"category": None}, {}),
    ],
)
def test_only_usable_filters_are_kept(proposed: dict[str, object], kept: dict[str, object]) -> None:
    assert usable_filters(proposed, field_specs(ITEMS)) == kept


def test_an_intent_without_search_text_keeps_the_query_and_synonyms_are_cleaned() -> None:
    answer = {"search_text": "  ", "filters": "none", "synonyms": ["Sofa", " couch ", "couch", 3, "", *"abcdefg"]}
    intent = intent_from_answer(answer, "sofa", field_specs(ITEMS))
    assert intent.search_text == "sofa" and intent.filters == {} and intent.source == "llm"
    assert intent.synonyms[:2] == ["couch", "a"] and len(intent.synonyms) == MAX_SYNONYMS


def test_reranking_keeps_every_candidate_and_ignores_unknown_ids() -> None:
    hits = [Hit("a", 0.9), Hit("b", 0.8), Hit("c", 0.7)]
    ranked = [{"id": "z", "score": 1}, {"id": "c", "score": 2, "reason": " best "}, {"id": "c", "score": 0}]
    answer = {"results": ranked}
    ordered, reasons = reranked(hits, answer, k=3)
    assert [h.id for h in ordered] == ["c", "a", "b"] and ordered[0].score == 1.0
    assert ordered[1].score < ordered[0].score and ordered[2].score < ordered[1].score
    assert reasons == {"c": "best"}
    with pytest.raises(StepFailed):
        reranked(hits, {"results": [{"id": "z", "score": 1}]}, k=3)


def test_explanations_only_for_the_recommended_items() -> None:
    hits = [Hit("a", 0.9), Hit("b", 0.8)]
    found = explanations(hits, {"explanations": [{"id": "a", "reason": "like it"}, {"id": "c", "reason": "no"}]})
    assert found == {"a": "like it"}
    with pytest.raises(StepFailed):
        explanations(hits, {"explanations": [{"id": "a", "reason": ""}]})


def test_candidates_are_shown_with_plain_metadata_and_short_text() -> None:
    items = {i.id: i for i in ITEMS} | {"long": Item("long", "x" * 5000, {"nested": {"a": 1}})}
    seen = shown([Hit("a", 1.0), Hit("gone", 0.5), Hit("long", 0.4)], items)
    assert seen[0] == {"id": "a", "text": "Red sofa", "category": "furniture", "price": 900, "in_stock": True}
    assert [s["id"] for s in seen] == ["a", "long"] and len(seen[1]["text"]) == 400 and "nested" not in seen[1]
