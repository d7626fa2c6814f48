"""FuzzyIndex: the local typo- and synonym-tolerant search used when no provider answers."""

from __future__ import annotations

import random
import string

import pytest

from aigw.catalog.item import Hit, Item
from aigw.fallbacks.fuzzy import FuzzyIndex, load_synonyms

BRANDS = [
    "Acme", "Nordlys", "Lumen", "Vertex", "Oakhill", "Polar", "Kestrel", "Zenith", "Halcyon", "Meridian",
    "Tundra", "Aurora", "Cobalt", "Granite", "Harbor", "Juniper", "Monarch", "Orchid", "Sierra", "Willow",
]  # fmt: skip
ADJECTIVES = [
    "classic", "modern", "compact", "deluxe", "portable", "ergonomic", "lightweight", "premium", "rustic",
    "vintage", "foldable", "adjustable", "waterproof", "insulated", "wireless", "elegant", "sturdy", "cozy",
]  # fmt: skip
CATEGORIES = [
    "sofa", "armchair", "bookcase", "wardrobe", "nightstand", "desk", "lamp", "mirror", "kettle", "toaster",
    "blender", "laptop", "tablet", "headphones", "speaker", "monitor", "keyboard", "jacket", "sweater",
    "backpack", "wallet", "sneakers", "boots", "umbrella", "tent", "bicycle", "helmet", "blanket", "rug", "clock",
]  # fmt: skip
MATERIALS = ["leather", "cotton", "wool", "linen", "oak", "walnut", "steel", "glass", "bamboo", "velvet", "canvas"]
COLOURS = ["black", "white", "grey", "navy", "teal", "olive", "mustard", "coral", "burgundy", "ivory", "silver"]
FEATURES = [
    "easy to clean", "two year warranty", "free delivery", "ideal for small spaces", "soft touch finish",
    "made from recycled materials", "removable washable cover", "long lasting", "tool free setup",
]  # fmt: skip


def make_catalog(count: int = 3000, seed: int = 20) -> list[Item]:
    """Products titled brand + adjective + category + material + colour (titles unique), with metadata."""
    rng = random.Random(seed)
    items: list[Item] = []
    seen: set[tuple[str, ...]] = set()
    while len(items) < count:
        title = tuple(rng.choice(pool) for pool in (BRANDS, ADJECTIVES, CATEGORIES, MATERIALS, COLOURS))
        if title in seen:
            continue
        seen.add(title)
        brand, _, category, _, _ = title
        text = f"{' '.join(title)}. {rng.choice(FEATURES).capitalize()}, {rng.choice(FEATURES)}."
        metadata = {
            "category": category,
            "brand": brand,
            "price": rng.randint(5, 900),
            "in_stock": rng.random() < 0.7,
        }
        items.append(Item(id=f"sku-{len(items):05d}", text=text, metadata=metadata))
    return items


def typo(word: str, rng: random.Random) -> str:
    """One or two slips: swapped neighbours, a missing, an extra or a wrong letter."""
    out = word
    for _ in range(rng.randint(1, 2)):
        i = rng.randrange(len(out))
        kind = rng.choice(("swap", "drop", "add", "change"))
        if kind == "swap" and len(out) > 1:
            i = min(i, len(out) - 2)
            out = out[:i] + out[i + 1] + out[i] + out[i + 2 :]
        elif kind == "drop" and len(out) > 3:
            out = out[:i] + out[i + 1 :]
        elif kind == "add":
            out = out[:i] + rng.choice(string.ascii_lowercase) + out[i:]
        else:
            out = out[:i] + rng.choice(string.ascii_lowercase.replace(out[i].lower(), "")) + out[i + 1 :]
    return out


def title_words(item: Item) -> list[str]:
    return item.text.split(".")[0].split()


@pytest.fixture(scope="module")
def catalog() -> list[Item]:
    return make_catalog()


@pytest.fixture(scope="module")
def index(catalog: list[Item]) -> FuzzyIndex:
    return FuzzyIndex(catalog)


def ids(hits: list[Hit]) -> list[str]:
    return [h.id for h in hits]


def test_typo_queries_find_the_item_in_the_top_10(catalog: list[Item], index: FuzzyIndex) -> None:
    rng = random.Random(4)
    targets = rng.sample(catalog, 300)
    found = 0
    for item in targets:
        words = title_words(item)
        rng.shuffle(words)
        query = " ".join(typo(w, rng) if len(w) >= 4 else w for w in words)
        found += item.id in ids(index.search(query, k=10))
    recall = found / len(targets)
    assert recall >= 0.95, f"typo recall@10 = {recall:.3f} over {len(targets)} queries, expected >= 0.95"


def test_exact_title_ranks_its_item_first(catalog: list[Item], index: FuzzyIndex) -> None:
    for item in catalog[:50]:
        assert index.search(" ".join(title_words(item)), k=1)[0].id == item.id


def test_word_order_does_not_matter(catalog: list[Item], index: FuzzyIndex) -> None:
    words = title_words(catalog[7])
    forward = index.search(" ".join(words), k=10)
    backward = index.search(" ".join(reversed(words)), k=10)
    assert forward == backward
    assert forward[0].id == catalog[7].id


def test_filler_words_do_not_break_matching(catalog: list[Item], index: FuzzyIndex) -> None:
    item = catalog[11]
    brand, adjective, category, material, colour = title_words(item)
    query = f"I need a cheap {colour} {category} for my home, {material} {brand} {adjective} please"
    assert index.search(query, k=3)[0].id == item.id


def test_scores_are_in_unit_range_and_sorted(index: FuzzyIndex) -> None:
    hits = index.search("grey wool sweter", k=25)
    assert len(hits) == 25
    assert all(0.0 <= h.score <= 1.0 for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_k_limits_the_results(index: FuzzyIndex) -> None:
    assert len(index.search("lamp", k=3)) == 3
    assert index.search("lamp", k=0) == []


@pytest.mark.parametrize("query", ["", "   ", "\t\n"])
def test_blank_query_returns_nothing(index: FuzzyIndex, query: str) -> None:
    assert index.search(query) == []


def test_query_of_only_filler_words_returns_nothing(index: FuzzyIndex) -> None:
    assert index.search("for the a") == []


def test_results_are_deterministic_and_ties_go_by_id() -> None:
    items = [Item(f"id-{n}", "red wool scarf") for n in (3, 1, 2)] + [Item("other", "blue cotton scarf")]
    one = FuzzyIndex(items)
    two = FuzzyIndex(reversed(items))
    assert one.search("red scarf") == two.search("red scarf")
    assert ids(one.search("red scarf"))[:3] == ["id-1", "id-2", "id-3"]
    assert one.search("red scarf") == one.search("red scarf")


def test_results_depend_on_the_contents_not_on_the_history(catalog: list[Item]) -> None:
    rng = random.Random(9)
    live = FuzzyIndex(catalog[:300])
    contents = {item.id: item for item in catalog[:300]}
    queries = ["grey wool sweter", "oak bokcase", "leather", "cheap lamp", "navy sneakers"]
    for query in queries:
        live.search(query)  # searches in between: the lexicon is patched, not rebuilt
        gone = [item.id for item in rng.sample(catalog[:300], 40)]
        live.delete(gone)
        for item_id in gone:
            contents.pop(item_id, None)
        added = rng.sample(catalog[300:600], 40)
        live.upsert(added)
        contents.update((item.id, item) for item in added)
    fresh = FuzzyIndex(sorted(contents.values(), key=lambda item: item.id, reverse=True))
    assert len(live) == len(fresh)
    for query in queries:
        assert live.search(query, k=20) == fresh.search(query, k=20)


def test_case_and_accents_are_ignored() -> None:
    index = FuzzyIndex([Item("a", "Crème Brûlée Café Set"), Item("b", "Plain tea set")])
    assert ids(index.search("creme brulee cafe", k=1)) == ["a"]
    assert ids(index.search("CRÈME", k=1)) == ["a"]
    upper = FuzzyIndex([Item("c", "STRASSE MAP")])
    assert ids(upper.search("straße")) == ["c"]


def test_synonyms_work_both_ways() -> None:
    index = FuzzyIndex(
        [
            Item("sofa", "Three seat velvet sofa"),
            Item("couch", "Leather couch with chaise"),
            Item("lamp", "Velvet floor lamp"),
        ]
    )
    assert set(ids(index.search("couch", k=2))) == {"sofa", "couch"}
    assert ids(index.search("couch", k=1)) == ["couch"]  # the word itself beats its synonym
    assert set(ids(index.search("sofa", k=2))) == {"sofa", "couch"}
    assert "lamp" not in ids(index.search("settee"))


def test_multi_word_synonyms_work_both_ways() -> None:
    index = FuzzyIndex(
        [
            Item("sneakers", "White canvas sneakers"),
            Item("running", "Lightweight running shoes for road"),
            Item("boots", "Black leather boots"),
        ]
    )
    assert ids(index.search("running shoes", k=2)) == ["running", "sneakers"]
    assert ids(index.search("sneakers", k=2)) == ["sneakers", "running"]
    assert set(ids(index.search("trainers", k=2))) == {"running", "sneakers"}
    assert ids(index.search("runing shoes", k=2)) == ["running", "sneakers"]


def test_synonyms_tolerate_typos_in_the_query() -> None:
    index = FuzzyIndex([Item("tv", "55 inch television, 4K"), Item("radio", "Portable radio")])
    assert ids(index.search("televsion", k=1)) == ["tv"]
    assert ids(index.search("tv", k=1)) == ["tv"]
    assert ids(FuzzyIndex([Item("fridge", "Refrigerator with freezer")]).search("frdge")) == ["fridge"]


def test_extra_synonyms_are_merged_and_symmetric() -> None:
    index = FuzzyIndex([Item("a", "Widget deluxe"), Item("b", "Gizmo basic")], synonyms={"gadget": ["widget"]})
    assert ids(index.search("gadget", k=1)) == ["a"]
    table = load_synonyms({"Gadget": ["Widget", "Doohickey"], "TV": "Télévision"})
    assert "television" in table["tv"]
    assert "widget" in table["gadget"] and "gadget" in table["widget"] and "doohickey" in table["widget"]
    assert {"notebook", "laptop"} <= table["laptop"] | {"laptop"}
    assert "couch" in table["sofa"] and "sofa" in table["couch"]
    assert "running shoes" in table["sneakers"] and "sneakers" in table["running shoes"]


def test_compound_words_and_prefixes() -> None:
    index = FuzzyIndex([Item("hp", "Noise cancelling headphones"), Item("ph", "Phone stand"), Item("hd", "Hat")])
    assert ids(index.search("head phones", k=1)) == ["hp"]
    assert ids(index.search("noise headph", k=1)) == ["hp"]


def test_filters_equality_list_and_range(catalog: list[Item], index: FuzzyIndex) -> None:
    by_id = {item.id: item for item in catalog}
    hits = index.search("leather sofa", k=20, filters={"category": "sofa"})
    assert hits and all(by_id[h.id].metadata["category"] == "sofa" for h in hits)
    hits = index.search("wool", k=20, filters={"brand": ["Acme", "Sierra"]})
    assert hits and all(by_id[h.id].metadata["brand"] in {"Acme", "Sierra"} for h in hits)
    hits = index.search("black", k=20, filters={"price": {"gte": 100, "lt": 200}, "in_stock": True})
    assert hits and all(100 <= by_id[h.id].metadata["price"] < 200 and by_id[h.id].metadata["in_stock"] for h in hits)
    assert index.search("black", filters={"category": "no such category"}) == []


def test_narrow_filter_reaches_past_the_best_candidates(catalog: list[Item], index: FuzzyIndex) -> None:
    wanted = {"brand": "Willow", "category": "lamp"}
    allowed = {i.id for i in catalog if i.metadata["brand"] == "Willow" and i.metadata["category"] == "lamp"}
    silver = {i.id for i in catalog if i.id in allowed and "silver" in i.text}
    assert len(silver) >= 2
    hits = index.search("silver", k=len(silver) + 2, filters=wanted)
    assert set(ids(hits)) <= allowed
    assert set(ids(hits)[: len(silver)]) == silver
    assert sorted(ids(index.search("lamp", k=50, filters=wanted))) == sorted(allowed)


def test_hyphenated_short_prefixes_make_one_word() -> None:
    index = FuzzyIndex(
        [Item("tee", "Organic cotton T-shirt"), Item("bike", "Folding e-bike"), Item("fit", "Slim-fit jeans")]
    )
    assert ids(index.search("tshirt", k=1)) == ["tee"]
    assert ids(index.search("t-shirt", k=1)) == ["tee"]
    assert ids(index.search("ebike", k=1)) == ["bike"]
    assert ids(index.search("slim jeans", k=1)) == ["fit"]


def test_field_weights_search_metadata_and_rank_heavier_fields_first() -> None:
    items = [
        Item("in-title", "A sturdy bag", {"title": "Explorer backpack"}),
        Item("in-text", "Explorer edition bag", {"title": "Sturdy tote"}),
    ]
    weighted = FuzzyIndex(items, field_weights={"title": 2.0})
    assert ids(weighted.search("explorer", k=2)) == ["in-title", "in-text"]
    assert ids(weighted.search("backpack", k=1)) == ["in-title"]
    assert FuzzyIndex(items).search("backpack") == []  # metadata is not searched unless weighted


def test_upsert_replaces_by_id() -> None:
    index = FuzzyIndex([Item("x", "green kettle"), Item("y", "blue toaster")])
    index.upsert([Item("x", "red blender")])
    assert len(index) == 2
    assert index.search("kettle") == []
    assert ids(index.search("blender")) == ["x"]


def test_writes_after_a_search_reach_the_fuzzy_vocabulary() -> None:
    index = FuzzyIndex([Item("x", "green kettle")])
    assert index.search("toastr") == []
    index.upsert([Item("y", "chrome toaster")])
    assert ids(index.search("toastr")) == ["y"]
    index.delete(["y"])
    assert index.search("toastr") == []
    index.upsert([Item("x", "green kettle"), Item("z", "green kettle")])  # same text again: vocabulary unchanged
    assert ids(index.search("kettel")) == ["x", "z"]


def test_delete_removes_and_counts() -> None:
    index = FuzzyIndex([Item("x", "green kettle"), Item("y", "green toaster"), Item("z", "green lamp")])
    assert index.delete(["x", "missing", "y"]) == 2
    assert len(index) == 1
    assert ids(index.search("green")) == ["z"]
    assert index.delete(["x"]) == 0
    index.upsert([Item("x", "green kettle")])
    assert sorted(ids(index.search("green"))) == ["x", "z"]


def test_empty_index_finds_nothing() -> None:
    index = FuzzyIndex()
    assert len(index) == 0
    assert index.search("anything at all") == []


def test_field_weights_need_a_positive_field() -> None:
    with pytest.raises(ValueError, match="positive"):
        FuzzyIndex(field_weights={"text": 0})
