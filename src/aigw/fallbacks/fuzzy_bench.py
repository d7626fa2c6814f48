"""Benchmark of the fuzzy fallback index: build time, search latency and typo recall on a synthetic catalog.

    python -m aigw.fallbacks.fuzzy_bench [items] [queries]

The catalog is seeded and product-like (brand, adjective, category, colour, material, then feature phrases:
10-30 words per item). Queries are an item's title words, shuffled, each word of 4+ letters given one or two
typos (swap, drop, add or change a letter), sometimes with a filler word; a query counts as recalled when its
item is in the top 10. Latency is wall time of `FuzzyIndex.search` on this thread, one query at a time.
"""

from __future__ import annotations

import random
import statistics
import string
import sys
import time

from aigw.catalog.item import Item
from aigw.fallbacks.fuzzy import FuzzyIndex


def _split(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_BRANDS = _split(
    "acme nordwind lumina vertex oakridge polaris kestrel zenith halcyon brightline meridian tundra solace "
    "aurora cobalt fjordic granite harbor ironwood juniper kaleido larkspur monarch novella orchid pinnacle "
    "quartzite redwood sierra trillium umbra velvet willow xenon yarrow zephyr atlas boreal cascade"
)
_ADJECTIVES = _split(
    "classic modern compact deluxe portable ergonomic lightweight heavy-duty premium rustic minimalist vintage "
    "foldable adjustable waterproof insulated cordless wireless ultra-slim oversized handcrafted breathable "
    "durable stackable reversible quilted padded tapered slim-fit relaxed cushioned reinforced rechargeable "
    "smart quiet powerful elegant cozy sturdy sleek versatile luxurious everyday outdoor professional"
)
_CATEGORIES = _split(
    "sofa armchair recliner ottoman bookcase wardrobe dresser nightstand desk stool bench cabinet sideboard "
    "mattress pillow duvet blanket curtain rug lamp chandelier mirror clock vase kettle toaster blender "
    "microwave refrigerator dishwasher vacuum heater humidifier laptop tablet smartphone headphones earbuds "
    "speaker monitor keyboard mouse router printer camera projector smartwatch charger backpack suitcase "
    "handbag wallet jacket raincoat sweater hoodie t-shirt jeans trousers shorts dress skirt sneakers boots "
    "sandals slippers scarf gloves beanie sunglasses umbrella tent bicycle helmet skateboard treadmill "
    "dumbbells kayak hammock grill cooler thermos"
)
_MATERIALS = _split(
    "leather suede cotton linen wool cashmere silk denim canvas nylon polyester bamboo oak walnut pine teak "
    "steel aluminium brass ceramic glass marble velvet rattan wicker acrylic"
)
_COLOURS = _split(
    "black white grey charcoal navy blue teal turquoise green olive mint yellow mustard orange coral red "
    "burgundy pink lavender purple brown beige cream ivory silver gold"
)
_FEATURES = (
    "easy to clean",
    "machine washable",
    "two year warranty",
    "free delivery",
    "assembly required",
    "ideal for small spaces",
    "perfect gift for family and friends",
    "energy efficient design",
    "long lasting battery life",
    "fast charging support",
    "soft touch finish",
    "scratch resistant surface",
    "includes carrying case",
    "suitable for indoor and outdoor use",
    "made from recycled materials",
    "designed in scandinavia",
    "hand wash only",
    "tool free setup",
    "noise cancelling technology",
    "memory foam comfort layer",
    "removable washable cover",
    "anti slip base",
    "dishwasher safe parts",
    "adjustable height settings",
    "available in several sizes",
    "premium stitching details",
    "lightweight travel friendly build",
    "classic timeless look",
)


def make_catalog(count: int, seed: int = 7) -> list[Item]:
    """`count` product-like items, each titled brand + adjective + category + colour + material."""
    rng = random.Random(seed)
    items = []
    for n in range(count):
        title = [rng.choice(pool) for pool in (_BRANDS, _ADJECTIVES, _CATEGORIES, _COLOURS, _MATERIALS)]
        features = rng.sample(_FEATURES, rng.randint(1, 4))
        text = " ".join(title) + ". " + ". ".join(features).capitalize() + "."
        metadata = {"brand": title[0], "category": title[2], "price": round(rng.uniform(5, 2000), 2)}
        items.append(Item(id=f"sku-{n:06d}", text=text, metadata=metadata))
    return items


def typo(word: str, rng: random.Random, edits: int) -> str:
    """`word` with `edits` random keyboard slips: adjacent swap, dropped, added or changed letter."""
    out = word
    for _ in range(edits):
        i = rng.randrange(len(out))
        kind = rng.choice(("swap", "drop", "add", "change"))
        if kind == "swap" and len(out) > 1:
            i = min(i, len(out) - 2)
            out = out[:i] + out[i + 1] + out[i] + out[i + 2 :]
        elif kind == "drop" and len(out) > 2:
            out = out[:i] + out[i + 1 :]
        elif kind == "add":
            out = out[:i] + rng.choice(string.ascii_lowercase) + out[i:]
        else:
            out = out[:i] + rng.choice(string.ascii_lowercase.replace(out[i], "")) + out[i + 1 :]
    return out


def typo_query(item: Item, rng: random.Random) -> str:
    """The item's title words, shuffled, 1-2 typos in each word of 4+ letters, maybe a filler word."""
    title = item.text.split(".")[0].split()
    rng.shuffle(title)
    noisy = [typo(w, rng, rng.randint(1, 2)) if len(w) >= 4 else w for w in title]
    if rng.random() < 0.3:
        noisy.insert(rng.randrange(len(noisy) + 1), rng.choice(("cheap", "for", "a", "the", "best")))
    return " ".join(noisy)


def benchmark(items: int = 10_000, queries: int = 200) -> dict[str, float]:
    """Build an index of `items`, run `queries` typo queries; times in ms (search) and s (build)."""
    catalog = make_catalog(items)
    started = time.perf_counter()
    index = FuzzyIndex(catalog)
    build_s = time.perf_counter() - started
    rng = random.Random(11)
    targets = rng.sample(catalog, min(queries, len(catalog)))
    index.search("warm up")
    latencies, found = [], 0
    for item in targets:
        query = typo_query(item, rng)
        started = time.perf_counter()
        hits = index.search(query, k=10)
        latencies.append((time.perf_counter() - started) * 1000)
        found += any(h.id == item.id for h in hits)
    latencies.sort()
    return {
        "items": float(items),
        "p50_ms": statistics.median(latencies),
        "p95_ms": latencies[max(0, round(0.95 * len(latencies)) - 1)],
        "build_s": build_s,
        "recall_at_10": found / len(targets),
    }


if __name__ == "__main__":
    arguments = [int(a) for a in sys.argv[1:3]]
    for name, value in benchmark(*arguments).items():
        print(f"{name}: {value:.3f}")
