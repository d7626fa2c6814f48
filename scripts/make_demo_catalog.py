"""Generate the demo catalog and its labelled queries: src/aigw/demo/catalog.jsonl and src/aigw/demo/queries.jsonl.

    .venv/bin/python scripts/make_demo_catalog.py [--seed 7] [--items 3000] [--out src/aigw/demo]

Deterministic: the same seed writes byte-identical files (tests/unit/test_demo_catalog.py checks the shipped ones
are what this script makes). About 3,000 products over 15 categories and ~175 product types; every item is
`{"id": "demo-00001", "text": "<title>. <one-sentence description>", "metadata": {"category", "type", "brand",
"color", "price", "rating", "in_stock", "tags"}}`. Brands, product lines, book titles and authors are invented.
`color` is the base colour a shopper would filter on ("grey"), while the title may say "Charcoal"; `type` is the
product type, `tags` its material and a feature or two.

The queries are written by hand below (SYNONYMS, PARAPHRASES, FILTERED), except the typo queries, which a seeded
typo function (drop, swap, replace with a neighbouring key, or insert a letter) makes from words of item titles.
Their relevant ids are never written by hand: they are computed from item attributes.

- typo: a phrase taken from one item's title (its noun, or brand + noun, colour + noun, material + noun, brand +
  line + noun; for books the author stands for the brand and the book's title for the line); relevant, grade 2:
  every item whose title contains all the words of the phrase, spelled right; grade 1: the other items of the same
  product type with the same brand, line, colour or material as the phrase names ("Mesh Task Chair" for
  "loftline office chair").
- synonym: a shopper's word the catalog does not use ("couch" for sofas); relevant = the product types named, with
  a grade, narrowed by `where` (metadata conditions in the filter syntax, not sent with the query). The generator
  checks that the shopper's word (in [brackets] below) occurs in no relevant item's text.
- paraphrase: a need in a shopper's words ("something to keep my coffee hot on my desk"); relevant = product types
  with grades (2 = what was asked for, 1 = would also do).
- filter: a text need plus filters sent with the query (category, price range, in_stock, brand, colour, rating);
  relevant = the types named whose metadata pass the filters. A brand of "{top}" becomes the brand with the most
  items passing the other conditions.

None of the queries is taken from the fuzzy path's synonym table (src/aigw/fallbacks/synonyms.yaml); some shopper
words are naturally in it too ("couch"), and `scripts/evaluate.py` reports the synonym and paraphrase queries that
the table bridges separately from those it does not.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aigw.catalog.filters import matches

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "src" / "aigw" / "demo"
SEED = 7
ITEMS = 3000
TYPO_QUERIES = 70

# ---------------------------------------------------------------------------------------------- vocabulary

BRANDS: dict[str, tuple[str, ...]] = {
    "electronics": ("Voltaro", "Nexio", "Auralis", "Kinetra", "Pixela", "Sonaris", "Quberon"),
    "furniture": ("Hollinwood", "Norrvik", "Casa Bellmont", "Ardenne", "Loftline", "Tamberg", "Oakmere"),
    "kitchen": ("Korvella", "Brewhaus", "Culina", "Pantrio", "Vesuvia", "Ember & Oak", "Kitchenry"),
    "clothing": ("Northweave", "Alder & Finch", "Kestrel Co", "Drift Supply", "Mabel Rae", "Urbanist", "Fjellhem"),
    "shoes": ("Stridewell", "Trailcraft", "Pavia", "Sole Theory", "Halden", "Kiko Step", "Marchetti"),
    "sports": ("Summitline", "Ridgeback Outdoor", "Pacebird", "Ironvale", "Trekora", "Bluewater", "Campfield"),
    "toys": ("Tinkerloo", "Brightbee", "Wobblewood", "Marble & Moss", "Zoomzy", "Pipsqueak Play", "Galaxo"),
    "books": ("Harrowgate Press", "Lantern House", "Bluequill Books", "Meridian & Pike", "Foxglove Publishing"),
    "beauty": ("Lumière Botanica", "Dermaly", "Velvetine", "Purelle", "Glowra", "Barber & Birch", "Solenne"),
    "garden": ("Greenthumb Co", "Verdalia", "Fernhill", "Rootwell", "Meadowcraft", "Hedgerow", "Bloomfield"),
    "tools": ("Torqline", "Brackenforge", "Stanwick", "Ironhand", "Voltforge", "Pryce", "Hammersmith"),
    "grocery": ("Hollowbrook", "Golden Acre", "Nonna Lucia", "Sunhaven", "Wildcomb", "Rivermill", "Kettle & Crane"),
    "pet": ("Pawsley", "Barkwell", "Whisker & Co", "Furrytail", "Petropolis", "Muttley & Moss", "Kittora"),
    "office": ("Deskwise", "Paperlane", "Inkwell & Co", "Officium", "Stackr", "Notara", "Clipsmith"),
    "baby": ("Little Lumi", "Cradlewell", "Bebeto", "Snugglepod", "Tiny Trek", "Nestlings", "Moonbeam Baby"),
}
LINES = (
    "Arlo", "Brio", "Calder", "Dovo", "Elara", "Fenn", "Gala", "Hexa", "Istra", "Juno", "Kairo", "Lyra", "Mira",
    "Nexa", "Orin", "Pico", "Quill", "Rhea", "Sola", "Tarn", "Ulla", "Vela", "Wren", "Yara", "Zephyr", "Alto",
)  # fmt: skip
MODEL_SUFFIXES = ("", " 2", " 3", " Pro", " Max", " Lite", " X", " S")
NUMBERED = {"electronics", "tools"}  # product lines with model suffixes ("Nova Pro")

# Colour name in the title -> the base colour in metadata (what a colour filter uses).
COLOURS: dict[str, str] = {
    "Black": "black", "Matte Black": "black", "White": "white", "Ivory": "white", "Cream": "white",
    "Silver": "silver", "Space Grey": "grey", "Charcoal": "grey", "Light Grey": "grey", "Heather Grey": "grey",
    "Grey": "grey", "Midnight Blue": "blue", "Navy": "blue", "Royal Blue": "blue", "Blue": "blue", "Indigo": "blue",
    "Light Wash": "blue", "Turquoise": "blue", "Rose Gold": "pink", "Blush Pink": "pink", "Pink": "pink",
    "Rose Pink": "pink", "Sage Green": "green", "Forest Green": "green", "Olive": "green", "Green": "green",
    "Sand": "beige", "Camel": "beige", "Stone": "beige", "Nude Beige": "beige", "Mustard": "yellow",
    "Yellow": "yellow", "Terracotta": "orange", "Orange": "orange", "Coral": "orange", "Walnut Brown": "brown",
    "Dark Brown": "brown", "Tan": "brown", "Burgundy": "red", "Red": "red", "Ruby Red": "red", "Purple": "purple",
    "Berry": "purple", "Plum": "purple",
}  # fmt: skip
PALETTES: dict[str, tuple[str, ...]] = {
    "tech": ("Black", "Matte Black", "White", "Silver", "Space Grey", "Midnight Blue", "Rose Gold", "Sage Green"),
    "home": (
        "Charcoal", "Light Grey", "Ivory", "Sand", "Navy", "Forest Green", "Mustard", "Terracotta", "Black",
        "White", "Blush Pink", "Walnut Brown",
    ),
    "wear": (
        "Black", "White", "Navy", "Heather Grey", "Olive", "Burgundy", "Camel", "Red", "Royal Blue", "Pink",
        "Cream", "Forest Green",
    ),
    "shoe": ("Black", "Dark Brown", "Tan", "White", "Navy", "Grey", "Olive", "Burgundy"),
    "denim": ("Indigo", "Light Wash", "Black", "Grey", "Stone"),
    "bright": ("Red", "Blue", "Yellow", "Green", "Orange", "Purple", "Pink", "Black", "Turquoise"),
    "tool": ("Yellow", "Orange", "Red", "Black", "Blue", "Green"),
    "lips": ("Ruby Red", "Nude Beige", "Berry", "Coral", "Rose Pink", "Plum"),
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Kind:
    """A product type: how its titles and descriptions are written, and its price range."""

    name: str
    category: str
    nouns: tuple[str, ...]
    price: tuple[float, float]
    blurbs: tuple[str, ...]  # one sentence each; {material} is filled in, lower case
    materials: tuple[str, ...] = ()
    specs: tuple[str, ...] = ()
    palette: str | None = None
    features: tuple[str, ...] = ()  # tags besides the material


def _kinds() -> list[Kind]:
    """Every product type but books (see BOOK_GENRES)."""
    k: list[Kind] = []

    def add(
        name: str,
        category: str,
        nouns: Sequence[str],
        price: tuple[float, float],
        blurbs: Sequence[str],
        materials: Sequence[str] = (),
        specs: Sequence[str] = (),
        palette: str | None = None,
        features: Sequence[str] = (),
    ) -> None:
        fields = (tuple(nouns), price, tuple(blurbs), tuple(materials), tuple(specs), palette, tuple(features))
        k.append(Kind(name, category, *fields))

    # fmt: off
    c = "electronics"
    add("wireless earbuds", c, ["Wireless Earbuds", "True Wireless Earbuds"], (25, 250), [
        "Active noise cancellation, touch controls and a pocket-sized charging case with 30 hours of playback.",
        "Sweat-resistant buds with three sizes of silicone tips and a low-latency mode for games.",
    ], specs=["Bluetooth 5.3", "IPX4", "ANC"], palette="tech", features=["bluetooth", "noise cancelling"])
    add("over-ear headphones", c, ["Over-Ear Headphones", "Noise Cancelling Headphones"], (40, 400), [
        "Plush memory-foam ear cushions and adaptive noise cancelling for long flights and open-plan offices.",
        "Folding headband with 40 mm drivers, a detachable cable and 40 hours of wireless playback.",
    ], palette="tech", features=["bluetooth", "foldable"])
    add("bluetooth speaker", c, ["Bluetooth Speaker", "Portable Bluetooth Speaker"], (20, 200), [
        "Splash-proof IPX7 body with 360-degree sound and a strap for hanging it from a backpack.",
        "Pair two units for stereo sound; the battery lasts a whole day at the beach.",
    ], specs=["10 W", "20 W", "40 W"], palette="bright", features=["waterproof", "portable"])
    add("smartwatch", c, ["Smartwatch", "GPS Smartwatch"], (60, 400), [
        "Tracks heart rate, sleep and workouts, with built-in GPS and a week of battery life.",
        "Always-on AMOLED display, contactless payments and notifications from your phone.",
    ], specs=["41 mm", "45 mm"], palette="tech", features=["gps", "heart rate"])
    add("power bank", c, ["Power Bank", "Slim Power Bank"], (15, 90), [
        "Tops up two devices at once over USB-C PD and slips into a jacket pocket.",
        "Airline-safe capacity with an LED level indicator and pass-through charging.",
    ], specs=["10000 mAh", "20000 mAh", "26800 mAh"], palette="tech", features=["usb-c"])
    add("usb-c charger", c, ["USB-C Wall Charger", "GaN Fast Charger"], (12, 60), [
        "Compact GaN plug that fast-charges phones, tablets and laptops from one socket.",
        "Two USB-C ports and one USB-A port share power intelligently between devices.",
    ], specs=["20 W", "30 W", "65 W", "100 W"], palette="tech", features=["usb-c", "fast charging"])
    add("laptop", c, ["Laptop", "Ultrabook Laptop"], (400, 2200), [
        "16 GB memory and a 512 GB SSD in a slim {material} body that lasts a workday on one charge.",
        "Backlit keyboard, Wi-Fi 6E and a full-HD camera for studying or working from home.",
    ], materials=["Aluminium", "Magnesium Alloy"], specs=['13.3"', '14"', '15.6"', '16"'], palette="tech",
        features=["ssd", "wi-fi 6e"])
    add("tablet", c, ["Tablet", "Android Tablet"], (120, 900), [
        "Sharp display for streaming, reading and drawing with the optional stylus.",
        "Quad speakers and all-day battery make it a good screen for films in bed.",
    ], specs=['8"', '10.1"', '11"', '12.4"'], palette="tech", features=["android", "stylus support"])
    add("monitor", c, ["4K Monitor", "Computer Monitor", "Gaming Monitor"], (120, 900), [
        "IPS panel with slim bezels, a height-adjustable stand and a USB-C input that also charges a laptop.",
        "144 Hz refresh rate and 1 ms response time for smooth, tear-free gaming.",
    ], specs=['24"', '27"', '32"'], palette="tech", features=["ips", "usb-c"])
    add("webcam", c, ["Webcam", "1080p Webcam", "4K Webcam"], (25, 200), [
        "Autofocus lens with a privacy shutter and dual microphones for clearer video meetings.",
        "Clips onto any monitor; light correction keeps you visible in a dim room.",
    ], palette="tech", features=["autofocus", "usb"])
    add("mechanical keyboard", c, ["Mechanical Keyboard", "Wireless Mechanical Keyboard"], (50, 220), [
        "Hot-swappable tactile switches with per-key RGB lighting and a braided USB-C cable.",
        "Wired and wireless modes, PBT keycaps and a solid aluminium frame.",
    ], specs=["Tenkeyless", "Full-Size", "75% Layout"], palette="tech", features=["rgb", "hot-swappable"])
    add("wireless mouse", c, ["Wireless Mouse", "Ergonomic Mouse"], (15, 120), [
        "Quiet clicks, a contoured grip and months of battery life from one AA cell.",
        "Precise optical sensor that tracks on glass, with a USB receiver that stores inside.",
    ], palette="tech", features=["quiet click", "ergonomic"])
    add("e-reader", c, ["E-Reader", "Waterproof E-Reader"], (80, 300), [
        "Glare-free e-ink display with a warm front light, readable in bright sun, and weeks of battery.",
        "Holds thousands of titles, so a whole library fits in your bag.",
    ], specs=['6"', '7"', '10.2"'], palette="tech", features=["e-ink", "front light"])
    add("action camera", c, ["Action Camera", "4K Action Camera"], (80, 450), [
        "Shoots 4K at 60 fps with image stabilisation and is waterproof to 10 m without a housing.",
        "Comes with helmet and handlebar mounts for cycling, skiing and surfing footage.",
    ], palette="tech", features=["4k", "waterproof"])

    c = "furniture"
    add("sofa", c, ["Sofa", "3-Seater Sofa", "Sectional Sofa"], (300, 2500), [
        "Deep seat cushions with feather-wrapped foam on a solid wood frame, upholstered in {material}.",
        "Removable, washable {material} covers and a kiln-dried hardwood frame that seats three comfortably.",
    ], materials=["Velvet", "Linen Blend", "Boucle", "Leather", "Performance Fabric"], palette="home",
        features=["living room"])
    add("armchair", c, ["Armchair", "Accent Chair", "Wingback Chair"], (150, 900), [
        "High-density foam cushions and tapered oak legs, upholstered in {material}.",
        "A generous seat and padded arms in {material} for a quiet corner of the living room.",
    ], materials=["Velvet", "Boucle", "Leather", "Linen", "Rattan"], palette="home", features=["living room"])
    add("coffee table", c, ["Coffee Table", "Round Coffee Table"], (80, 700), [
        "A lower shelf keeps magazines and remotes out of sight; the {material} top wipes clean.",
        "Solid {material} top on a powder-coated steel base for living rooms of any size.",
    ], materials=["Oak", "Walnut", "Marble", "Tempered Glass", "Reclaimed Pine"], palette="home")
    add("bookcase", c, ["Bookcase", "5-Shelf Bookcase", "Ladder Bookcase"], (60, 500), [
        "Five adjustable shelves hold records, plants and photo frames; wall anchor included.",
        "Open-back design in {material} that fits narrow hallways and alcoves.",
    ], materials=["Oak Veneer", "Walnut", "White Lacquer", "Pine", "Metal and Oak"], palette="home")
    add("office chair", c, ["Office Chair", "Ergonomic Office Chair", "Mesh Task Chair"], (90, 800), [
        "Adjustable lumbar support, 4D armrests and a breathable {material} back for long workdays.",
        "Synchro-tilt mechanism, seat depth adjustment and smooth-rolling casters for hard floors.",
    ], materials=["Mesh", "Leather", "Fabric"], palette="home", features=["lumbar support", "swivel"])
    add("standing desk", c, ["Standing Desk", "Electric Height-Adjustable Desk"], (250, 1200), [
        "Dual motors raise the {material} top from sitting to standing height in seconds, with four presets.",
        "Anti-collision sensor and a cable tray keep a home office tidy and safe.",
    ], materials=["Bamboo", "Oak Veneer", "Walnut Veneer", "White Laminate"], palette="home",
        features=["height adjustable"])
    add("bed frame", c, ["Bed Frame", "Platform Bed", "Upholstered Bed"], (200, 1500), [
        "Slatted base needs no box spring, with clearance underneath for storage boxes.",
        "Padded headboard in {material}; tool-free assembly in about twenty minutes.",
    ], materials=["Solid Pine", "Oak", "Linen", "Velvet", "Metal"], specs=["Double", "Queen", "King"],
        palette="home", features=["bedroom"])
    add("nightstand", c, ["Nightstand", "2-Drawer Nightstand"], (50, 350), [
        "Two soft-close drawers and an open shelf keep a lamp, book and glasses within reach of the bed.",
        "A compact {material} piece with a cable cut-out for charging your phone overnight.",
    ], materials=["Oak", "Walnut", "White Lacquer", "Rattan"], palette="home", features=["bedroom"])
    add("dining table", c, ["Dining Table", "Extendable Dining Table"], (250, 2000), [
        "A solid {material} top on sturdy trestle legs, finished with a food-safe oil.",
        "A hidden leaf extends the {material} top for holiday dinners with the whole family.",
    ], materials=["Oak", "Walnut", "Acacia", "Marble"], specs=["Seats 4", "Seats 6", "Seats 8"], palette="home")
    add("bar stool", c, ["Bar Stool", "Swivel Bar Stool"], (40, 300), [
        "Swivel seat with a footrest ring and a padded backrest, sold individually.",
        "Gas-lift height adjustment from 60 to 80 cm with a chrome base and a {material} seat.",
    ], materials=["Faux Leather", "Velvet", "Oak", "Rattan"], palette="home")
    add("wardrobe", c, ["Wardrobe", "2-Door Wardrobe", "Sliding Door Wardrobe"], (200, 1400), [
        "A full-length hanging rail, a top shelf and two drawers for folded knitwear.",
        "Mirrored sliding doors save space in small bedrooms; {material} finish.",
    ], materials=["Oak Veneer", "White Lacquer", "Walnut", "Pine"], palette="home", features=["bedroom"])
    add("tv stand", c, ["TV Stand", "Media Unit"], (80, 600), [
        "Holds screens up to 65 inches, with cable management and shelves for a console and a soundbar.",
        "Low-profile {material} unit with push-to-open doors that hide the set-top box.",
    ], materials=["Oak", "Walnut", "Black Ash", "White Gloss"], palette="home", features=["living room"])

    c = "kitchen"
    add("drip coffee maker", c, ["Drip Coffee Maker", "Programmable Coffee Maker"], (30, 200), [
        "Brews up to 12 cups into a thermal carafe, with a 24-hour timer so coffee is ready when you wake.",
        "Bloom setting and a permanent mesh filter for a fuller cup without paper filters.",
    ], palette="home", features=["programmable", "thermal carafe"])
    add("espresso machine", c, ["Espresso Machine", "Bean-to-Cup Espresso Machine"], (150, 1200), [
        "A 15-bar pump, a steam wand for latte art and a removable water tank.",
        "Built-in conical grinder with 15 grind settings pulls café-style shots at home.",
    ], palette="home", features=["steam wand"])
    add("electric kettle", c, ["Electric Kettle", "Gooseneck Kettle"], (20, 150), [
        "Brings 1.7 litres to the boil in under four minutes, then switches itself off.",
        "Variable temperature presets for green tea, pour-over coffee and baby formula.",
    ], materials=["Stainless Steel", "Glass", "Matte Enamel"], palette="home", features=["auto shut-off"])
    add("toaster", c, ["Toaster", "2-Slice Toaster", "4-Slice Toaster"], (25, 180), [
        "Extra-wide slots fit bagels and thick sourdough, with defrost and reheat settings.",
        "Seven browning levels, a {material} housing and a removable crumb tray.",
    ], materials=["Stainless Steel", "Brushed Copper", "Matte Plastic"], palette="home")
    add("blender", c, ["Blender", "High-Speed Blender"], (40, 450), [
        "A 1,200 W motor crushes ice and frozen fruit in seconds; the jug goes in the dishwasher.",
        "Pulse and preset programmes for soups, nut butters and shakes.",
    ], palette="home", features=["dishwasher safe"])
    add("air fryer", c, ["Air Fryer", "Dual Basket Air Fryer"], (60, 250), [
        "Rapid hot-air circulation crisps chips and chicken wings with a spoonful of oil.",
        "Two independent drawers finish a main and a side at the same time.",
    ], specs=["4 L", "5.5 L", "8 L"], palette="home", features=["digital display"])
    add("chef's knife", c, ["Chef's Knife", "Japanese Chef's Knife"], (25, 250), [
        "Full-tang {material} blade honed to a 15-degree edge, with a pakkawood handle.",
        "Balanced for rocking cuts through herbs, onions and squash, in {material}.",
    ], materials=["German Steel", "Damascus Steel", "High-Carbon Steel", "Ceramic"], specs=["20 cm", "21 cm"])
    add("frying pan", c, ["Frying Pan", "Non-Stick Frying Pan"], (20, 150), [
        "PFAS-free coating releases eggs and pancakes easily and suits every hob including induction.",
        "Riveted stay-cool handle and a {material} body, oven-safe up to 260 °C.",
    ], materials=["Cast Iron", "Carbon Steel", "Ceramic Non-Stick", "Tri-Ply Stainless"],
        specs=["20 cm", "24 cm", "28 cm"], features=["induction"])
    add("cutting board", c, ["Cutting Board", "End-Grain Cutting Board"], (15, 120), [
        "A juice groove catches liquids while carving roasts, and the surface is gentle on knife edges.",
        "Reversible {material} board with rubber feet that stop it from sliding.",
    ], materials=["Acacia", "Walnut", "Bamboo", "Maple", "Polypropylene"])
    add("travel mug", c, ["Travel Mug", "Insulated Travel Mug"], (12, 45), [
        "Double-wall vacuum insulation keeps drinks hot for six hours and cold for twelve; the lid locks tight.",
        "Fits car cup holders and most espresso machines, with a one-handed flip lid.",
    ], materials=["Stainless Steel", "Ceramic-Lined Steel"], specs=["350 ml", "470 ml", "590 ml"],
        palette="home", features=["leak-proof", "insulated"])
    add("mug warmer", c, ["Mug Warmer", "Smart Mug Warmer"], (15, 60), [
        "A heated coaster that holds your drink at a steady 55 °C while you work.",
        "Auto shut-off after four hours; includes a matching ceramic mug.",
    ], palette="home", features=["auto shut-off"])
    add("food storage containers", c, ["Food Storage Containers", "Glass Meal Prep Containers"], (15, 70), [
        "Snap-lock lids seal in leftovers; freezer, microwave and dishwasher safe.",
        "Stackable {material} containers in nested sizes for meal prep and packed lunches.",
    ], materials=["Borosilicate Glass", "BPA-Free Plastic", "Stainless Steel"],
        specs=["10-Piece Set", "18-Piece Set", "24-Piece Set"])
    add("stand mixer", c, ["Stand Mixer", "Tilt-Head Stand Mixer"], (120, 650), [
        "Comes with a dough hook, whisk and flat beater for bread, cakes and meringues.",
        "Planetary mixing action and ten speeds; the steel bowl holds a double batch of cookie dough.",
    ], specs=["4.5 L", "5.5 L", "6.9 L"], palette="home")

    c = "clothing"
    add("hoodie", c, ["Hoodie", "Zip-Up Hoodie", "Fleece Hoodie"], (25, 110), [
        "Midweight {material} with a lined hood, kangaroo pocket and ribbed cuffs.",
        "Brushed inside for warmth on cool evenings and pre-shrunk so it keeps its shape.",
    ], materials=["Organic Cotton", "Brushed Fleece", "French Terry", "Recycled Cotton"],
        specs=["Regular Fit", "Relaxed Fit", "Oversized"], palette="wear")
    add("t-shirt", c, ["T-Shirt", "Crew Neck T-Shirt", "V-Neck T-Shirt"], (10, 45), [
        "Soft {material} jersey with a tag-free neck that holds its shape wash after wash.",
        "Lightweight, breathable {material} for hot days, layering or the gym.",
    ], materials=["Organic Cotton", "Pima Cotton", "Linen Blend", "Merino"], specs=["Regular Fit", "Slim Fit"],
        palette="wear")
    add("jeans", c, ["Jeans", "Slim Jeans", "Straight Leg Jeans"], (35, 150), [
        "Five-pocket {material} with a touch of stretch for all-day comfort.",
        "Mid-rise waist and a tapered leg, washed for a lived-in feel.",
    ], materials=["Stretch Denim", "Selvedge Denim", "Organic Denim"], specs=["Slim Fit", "Straight Fit",
        "Relaxed Fit", "Bootcut"], palette="denim")  # fmt: skip
    add("rain jacket", c, ["Rain Jacket", "Waterproof Shell Jacket"], (50, 300), [
        "Fully taped seams, an adjustable hood and pit zips keep you dry and ventilated on wet hikes.",
        "Packs into its own pocket; {material} shell with a PFC-free water-repellent finish.",
    ], materials=["2-Layer Nylon", "3-Layer Recycled Polyester", "Ripstop Nylon"], palette="wear",
        features=["waterproof", "packable"])
    add("puffer jacket", c, ["Puffer Jacket", "Down Jacket", "Insulated Jacket"], (70, 400), [
        "{material} fill traps heat in sub-zero wind, with a quilted shell and a high collar.",
        "Lightweight and packable, yet warm enough for winter city commutes.",
    ], materials=["Recycled Down", "Duck Down", "Synthetic Insulation"], palette="wear", features=["insulated"])
    add("sweater", c, ["Sweater", "Crew Neck Sweater", "Cable Knit Sweater"], (40, 250), [
        "Fine-gauge {material} knit that is warm without bulk, with ribbed hem and cuffs.",
        "Classic cable pattern knitted from soft {material}; hand wash or gentle cycle.",
    ], materials=["Merino Wool", "Lambswool", "Cashmere", "Alpaca Blend", "Cotton"], palette="wear")
    add("leggings", c, ["Leggings", "High-Waisted Leggings"], (20, 110), [
        "Squat-proof, four-way stretch {material} with a hidden waistband pocket for keys.",
        "Sweat-wicking and buttery soft, for the studio, a run or lounging.",
    ], materials=["Nylon-Spandex", "Recycled Polyester", "Cotton Stretch"], palette="wear")
    add("pajamas", c, ["Pajama Set", "Flannel Pajama Set"], (25, 120), [
        "Long-sleeve button-up top and drawstring trousers in breathable {material}.",
        "Relaxed fit for lazy Sundays; the {material} softens with every wash.",
    ], materials=["Brushed Flannel", "Cotton Poplin", "Bamboo Jersey", "Silk Satin"], palette="wear")
    add("socks", c, ["Socks", "Crew Socks", "Hiking Socks"], (8, 35), [
        "Cushioned soles, a reinforced heel and toe, and arch support that keeps them in place.",
        "Breathable {material} that wicks moisture and resists odour on long days.",
    ], materials=["Merino Wool", "Bamboo", "Cotton Blend"], specs=["3-Pack", "5-Pack", "6-Pack"], palette="wear")
    add("beanie", c, ["Beanie", "Ribbed Beanie", "Cuffed Beanie"], (10, 50), [
        "Soft rib knit with a fold-over cuff that covers the ears on cold mornings.",
        "Stretchy {material} that stays snug without itching.",
    ], materials=["Merino Wool", "Acrylic Knit", "Cashmere Blend", "Recycled Wool"], palette="wear")
    add("scarf", c, ["Scarf", "Knitted Scarf", "Blanket Scarf"], (15, 120), [
        "Generous length to wrap twice, with fringed ends.",
        "Woven from {material}, light enough for autumn and warm enough for winter.",
    ], materials=["Lambswool", "Cashmere", "Merino", "Cotton-Modal"], palette="wear")
    add("swimsuit", c, ["Swimsuit", "One-Piece Swimsuit"], (25, 120), [
        "Chlorine-resistant {material} with UPF 50+ protection and a supportive shelf bra.",
        "Quick-drying, fully lined, cut for lap swimming and beach days.",
    ], materials=["Recycled Nylon", "Polyester-Elastane"], palette="wear")

    c = "shoes"
    add("running shoes", c, ["Running Shoes", "Road Running Shoes"], (60, 220), [
        "Responsive foam midsole and a breathable {material} upper, built for daily miles on pavement.",
        "Carbon-plated racer with a rocker sole for tempo runs and race day.",
    ], materials=["Engineered Mesh", "Knit", "Recycled Mesh"], specs=["Men's", "Women's"], palette="shoe")
    add("trail running shoes", c, ["Trail Running Shoes"], (80, 200), [
        "Aggressive 5 mm lugs and a rock plate grip muddy, rocky paths.",
        "Water-resistant {material} upper with a gusseted tongue that keeps grit out.",
    ], materials=["Ripstop Mesh", "Knit"], specs=["Men's", "Women's"], palette="shoe")
    add("hiking boots", c, ["Hiking Boots", "Waterproof Hiking Boots"], (80, 300), [
        "A waterproof membrane, ankle support and a lugged rubber sole for long days in the hills.",
        "{material} uppers, cushioned and supportive from the first outing.",
    ], materials=["Nubuck Leather", "Suede and Mesh", "Full-Grain Leather"], specs=["Men's", "Women's"],
        palette="shoe")
    add("sandals", c, ["Sandals", "Slide Sandals", "Sport Sandals"], (20, 120), [
        "Contoured cork footbed and adjustable {material} straps for summer days.",
        "Quick-drying straps and a grippy sole for rivers and beaches.",
    ], materials=["Leather", "Webbing", "Vegan Leather"], palette="shoe")
    add("slippers", c, ["Slippers", "Moccasin Slippers"], (15, 80), [
        "Plush {material} lining with a memory-foam insole and an indoor-outdoor sole.",
        "Keep toes toasty on cold floors; machine washable.",
    ], materials=["Shearling", "Faux Fur", "Felted Wool"], palette="shoe")
    add("loafers", c, ["Loafers", "Penny Loafers"], (60, 250), [
        "Hand-stitched {material} upper on a flexible rubber sole.",
        "A smart-casual classic that goes with chinos or tailoring.",
    ], materials=["Suede", "Polished Leather", "Patent Leather"], specs=["Men's", "Women's"], palette="shoe")
    add("chelsea boots", c, ["Chelsea Boots", "Ankle Boots"], (70, 280), [
        "Elastic side panels and a pull tab make them easy to put on; Goodyear-welted sole.",
        "A sleek {material} boot that works with jeans or tailoring.",
    ], materials=["Suede", "Leather", "Waxed Leather"], specs=["Men's", "Women's"], palette="shoe")
    add("high heels", c, ["High Heels", "Stiletto Pumps", "Block Heel Pumps"], (50, 300), [
        "A cushioned footbed and a 9 cm heel for special occasions and evenings out.",
        "Pointed toe in {material}, elegant with a dress or a tailored suit.",
    ], materials=["Patent Leather", "Suede", "Satin"], palette="shoe")
    add("kids' sneakers", c, ["Kids' Sneakers", "Kids' Light-Up Sneakers"], (25, 80), [
        "Hook-and-loop straps so little ones can put them on alone, with a non-marking sole.",
        "Flexible, lightweight and ready for the playground.",
    ], specs=["Toddler", "Little Kid", "Big Kid"], palette="bright")
    add("rain boots", c, ["Rain Boots", "Rubber Rain Boots"], (25, 120), [
        "Natural rubber, fully waterproof, with a pull-on loop and a grippy tread for muddy paths.",
        "A tall shaft keeps out puddles; fleece lining for chilly mornings.",
    ], specs=["Adult", "Kids"], palette="bright")

    c = "sports"
    add("tent", c, ["Camping Tent", "Backpacking Tent", "Family Tent"], (60, 600), [
        "Freestanding frame pitches in minutes; the rainfly has a 3,000 mm waterhead.",
        "Two doors and two vestibules so nobody climbs over anyone at night.",
    ], specs=["2-Person", "4-Person", "6-Person"], palette="bright", features=["waterproof"])
    add("sleeping bag", c, ["Sleeping Bag", "Mummy Sleeping Bag"], (40, 350), [
        "Compresses to the size of a loaf of bread and keeps you warm down to its comfort rating.",
        "Box-baffle construction with a draft collar and a two-way zip; {material} fill.",
    ], materials=["Down", "Synthetic"], specs=["Comfort 10 °C", "Comfort 0 °C", "Comfort -5 °C"], palette="bright")
    add("yoga mat", c, ["Yoga Mat", "Non-Slip Yoga Mat"], (15, 120), [
        "Grippy {material} surface that stays put in sweaty flows; comes with a carry strap.",
        "Extra cushioning for knees and wrists, with alignment lines printed on top.",
    ], materials=["Natural Rubber", "TPE", "Cork"], specs=["4 mm", "6 mm", "8 mm"], palette="bright")
    add("dumbbells", c, ["Dumbbells", "Adjustable Dumbbells", "Hex Dumbbells"], (20, 400), [
        "Rubber-coated hex heads that don't roll and protect the floor.",
        "Dial-select plates replace a whole rack in a small flat.",
    ], specs=["2 x 5 kg", "2 x 10 kg", "2-24 kg"], palette="tool")
    add("bicycle", c, ["Road Bike", "Hybrid Bike", "Gravel Bike"], (400, 3000), [
        "Lightweight aluminium frame, carbon fork and hydraulic disc brakes.",
        "A 2x11 drivetrain for climbing hills and fast group rides.",
    ], specs=["Frame S", "Frame M", "Frame L"], palette="bright")
    add("bike helmet", c, ["Bike Helmet", "Cycling Helmet"], (30, 250), [
        "Rotational impact protection, 18 vents and a clip for a rear light.",
        "Dial-fit cradle and a removable visor for commuting or trails.",
    ], specs=["S/M", "M/L"], palette="bright")
    add("water bottle", c, ["Water Bottle", "Insulated Water Bottle"], (10, 50), [
        "Keeps water cold for 24 hours; the wide mouth fits ice cubes.",
        "Leak-proof chug lid with a carry loop for the gym or the trail, in {material}.",
    ], materials=["Stainless Steel", "Tritan Plastic", "Glass"], specs=["500 ml", "750 ml", "1 L"],
        palette="bright")
    add("hiking backpack", c, ["Hiking Backpack", "Daypack"], (40, 300), [
        "Ventilated back panel, hip belt pockets and a hydration sleeve for full-day hikes.",
        "Adjustable torso length and a built-in rain cover.",
    ], specs=["20 L", "30 L", "45 L", "65 L"], palette="bright")
    add("camping stove", c, ["Camping Stove", "Backpacking Stove"], (25, 180), [
        "Boils a litre of water in about four minutes on a standard gas canister.",
        "Folds into its own pot; a windshield keeps the flame steady.",
    ], palette="tool")
    add("headlamp", c, ["Headlamp", "Rechargeable Headlamp"], (15, 90), [
        "Red night mode, a tilting beam and USB-C charging for night hikes and camping.",
        "Weighs 80 g and runs for 40 hours on its low setting.",
    ], specs=["300 Lumens", "500 Lumens", "1000 Lumens"], palette="bright")
    add("resistance bands", c, ["Resistance Bands", "Resistance Band Set"], (10, 60), [
        "Five levels from light to extra heavy, with handles, ankle straps and a door anchor.",
        "Latex-free loops for glute, mobility and physio exercises at home.",
    ], specs=["5-Piece Set", "11-Piece Set"], palette="bright")

    c = "toys"
    add("building blocks", c, ["Building Blocks Set", "Building Bricks Set"], (15, 150), [
        "Colourful interlocking pieces with instructions for three models, for ages 6 and up.",
        "Includes a storage tub and a baseplate for free play.",
    ], specs=["250 Pieces", "500 Pieces", "1000 Pieces"], palette="bright")
    add("jigsaw puzzle", c, ["Jigsaw Puzzle"], (10, 40), [
        "Thick blue-board pieces with a linen finish that cuts glare; includes a poster.",
        "A scenic illustration by an independent artist, made from recycled card.",
    ], specs=["500 Pieces", "1000 Pieces", "1500 Pieces"])
    add("plush toy", c, ["Plush Teddy Bear", "Plush Bunny", "Plush Elephant"], (10, 50), [
        "Super-soft and safety-tested from birth, with embroidered eyes.",
        "Machine washable and just the right size for hugging.",
    ], palette="bright")
    add("remote control car", c, ["Remote Control Car", "RC Off-Road Truck"], (25, 200), [
        "2.4 GHz controller, 30 km/h top speed and a rechargeable battery for 25 minutes of driving.",
        "Four-wheel drive and shock-absorbing suspension for grass, gravel and sand.",
    ], palette="bright")
    add("board game", c, ["Board Game", "Strategy Board Game", "Family Board Game"], (15, 80), [
        "2 to 6 players, about 45 minutes a game, easy to learn for ages 8 and up.",
        "Trade, build and outwit your friends in a game that's different every time.",
    ])
    add("dollhouse", c, ["Dollhouse", "Wooden Dollhouse"], (50, 250), [
        "Three floors, a working lift and 20 pieces of furniture.",
        "Open-back design for easy play, made from sustainably sourced wood.",
    ], palette="bright")
    add("wooden train set", c, ["Wooden Train Set", "Wooden Railway Set"], (25, 150), [
        "Beechwood track, bridges and magnetic carriages that work with other wooden railways.",
        "A figure-of-eight layout with a tunnel, a station and two engines.",
    ], specs=["40 Pieces", "60 Pieces", "100 Pieces"])
    add("kids' scooter", c, ["Kids' Scooter", "3-Wheel Kids' Scooter"], (30, 150), [
        "Lean-to-steer design with light-up wheels and an adjustable T-bar.",
        "Foldable frame and a rear brake, for ages 3 to 8.",
    ], palette="bright")
    add("art set", c, ["Art Set", "Drawing and Painting Set"], (15, 80), [
        "Crayons, coloured pencils, markers and watercolours in a wooden carry case.",
        "Non-toxic supplies for budding artists aged 5 and up.",
    ], specs=["80 Pieces", "120 Pieces", "150 Pieces"])
    add("science kit", c, ["Science Kit", "STEM Science Kit"], (20, 90), [
        "Over 30 experiments with crystals, volcanoes and slime, with a step-by-step guide.",
        "Safety goggles and lab tools included, for ages 8 and up.",
    ])

    c = "beauty"
    add("shampoo", c, ["Shampoo", "Sulfate-Free Shampoo"], (5, 35), [
        "Gentle cleansing with {material} for dry or colour-treated hair.",
        "Clarifying formula with {material} that lifts oil and product build-up without stripping.",
    ], materials=["Argan Oil", "Tea Tree", "Coconut", "Rosemary"], specs=["250 ml", "400 ml", "1 L"])
    add("conditioner", c, ["Conditioner", "Deep Conditioner"], (5, 35), [
        "Detangles and smooths with {material}, rinsing out without weighing hair down.",
        "A weekly {material} mask that repairs split ends and adds shine.",
    ], materials=["Argan Oil", "Shea Butter", "Coconut", "Oat Protein"], specs=["250 ml", "400 ml"])
    add("face moisturizer", c, ["Face Moisturizer", "Daily Moisturizer"], (10, 80), [
        "Lightweight gel texture with hyaluronic acid and ceramides for 24-hour hydration.",
        "Non-comedogenic, fragrance-free and suitable for sensitive skin.",
    ], specs=["50 ml", "75 ml"])
    add("sunscreen", c, ["Sunscreen SPF 50", "Mineral Sunscreen SPF 30"], (8, 40), [
        "Broad-spectrum UVA/UVB protection that absorbs quickly and leaves no white cast.",
        "Water-resistant for 80 minutes, in a reef-friendly formula.",
    ], specs=["50 ml", "100 ml", "200 ml"])
    add("lipstick", c, ["Lipstick", "Matte Lipstick", "Satin Lipstick"], (8, 40), [
        "A creamy, long-wearing shade with shea butter that doesn't dry the lips.",
        "Velvety matte finish that lasts through lunch without feathering.",
    ], palette="lips")
    add("perfume", c, ["Eau de Parfum", "Eau de Toilette"], (25, 180), [
        "Notes of {material} that linger from morning to evening.",
        "A warm signature of {material} in a weighted glass bottle.",
    ], materials=["Amber and Vanilla", "Bergamot and Cedar", "Jasmine and Musk", "Fig and Vetiver"],
        specs=["30 ml", "50 ml", "100 ml"])
    add("hair dryer", c, ["Hair Dryer", "Ionic Hair Dryer"], (25, 400), [
        "A 2,000 W motor with ionic technology for fast, frizz-free results and a cool-shot button.",
        "Light and quiet, with a diffuser and a concentrator nozzle.",
    ], palette="tech")
    add("electric toothbrush", c, ["Electric Toothbrush", "Sonic Toothbrush"], (25, 200), [
        "31,000 strokes a minute, a two-minute timer and a pressure sensor that protects gums.",
        "Three cleaning modes and a travel case; one charge lasts three weeks.",
    ], palette="tech")
    add("nail polish", c, ["Nail Polish", "Gel-Effect Nail Polish"], (5, 20), [
        "Chip-resistant, glossy shade that dries in 60 seconds.",
        "Vegan, 10-free formula with a wide brush for even coats.",
    ], palette="lips")
    add("beard trimmer", c, ["Beard Trimmer", "Cordless Beard Trimmer"], (20, 120), [
        "Self-sharpening steel blades with 20 length settings from stubble to full beard.",
        "Waterproof body with a 90-minute runtime and a USB-C charger.",
    ], palette="tech")
    add("face serum", c, ["Face Serum", "Facial Serum"], (12, 90), [
        "A few drops of {material} morning and night smooth fine lines and boost radiance.",
        "Fast-absorbing {material} in a dropper bottle, for every skin type.",
    ], materials=["Vitamin C", "Retinol", "Niacinamide", "Hyaluronic Acid"], specs=["30 ml", "50 ml"])

    c = "garden"
    add("garden hose", c, ["Garden Hose", "Expandable Garden Hose"], (20, 90), [
        "Kink-resistant and fitted with brass connectors and a 9-pattern spray nozzle.",
        "Expands to three times its length when the tap is on and shrinks back for storage.",
    ], specs=["15 m", "25 m", "30 m"], palette="bright")
    add("lawn mower", c, ["Lawn Mower", "Cordless Lawn Mower", "Robotic Lawn Mower"], (120, 1200), [
        "A 36 V brushless motor, 40 cm cutting width and a 50 L collection box.",
        "Mulching and rear-collection modes, with a height adjuster for neat stripes.",
    ], palette="tool")
    add("pruning shears", c, ["Pruning Shears", "Bypass Pruning Shears"], (12, 60), [
        "Sharp bypass blades cut branches up to 2 cm cleanly; the lock keeps them closed in your pocket.",
        "Ergonomic handles and a replaceable blade for roses, shrubs and fruit trees.",
    ], palette="tool")
    add("watering can", c, ["Watering Can", "Indoor Watering Can"], (10, 50), [
        "A long spout and a detachable rose for gentle watering of seedlings and pots.",
        "Balanced {material} can that pours steadily without splashing.",
    ], materials=["Galvanised Steel", "Recycled Plastic", "Copper"], specs=["5 L", "7 L", "10 L"],
        palette="home")
    add("raised garden bed", c, ["Raised Garden Bed", "Raised Planter Bed"], (40, 300), [
        "A tool-free {material} kit that sets up in minutes for vegetables, herbs and flowers.",
        "Deep enough for root crops, with corner posts that stop the soil bowing the sides.",
    ], materials=["Cedar", "Galvanised Steel", "Larch"])
    add("plant pot", c, ["Plant Pot", "Self-Watering Plant Pot"], (8, 80), [
        "Drainage hole and saucer included; for herbs, succulents or houseplants.",
        "A {material} pot with a reservoir that waters roots for up to two weeks.",
    ], materials=["Terracotta", "Glazed Ceramic", "Concrete", "Recycled Plastic"],
        specs=["15 cm", "25 cm", "35 cm"], palette="home")
    add("bird feeder", c, ["Bird Feeder", "Hanging Bird Feeder"], (10, 60), [
        "Squirrel-resistant metal ports and a weatherproof roof; holds 1 kg of seed.",
        "A clear tube lets you see when to refill, and the base twists off for cleaning.",
    ], palette="home")
    add("garden gloves", c, ["Garden Gloves", "Gardening Gloves"], (8, 30), [
        "Thorn-proof palms and breathable backs for weeding and rose pruning.",
        "Latex-coated fingers grip wet tools; machine washable.",
    ], specs=["Size S", "Size M", "Size L"], palette="bright")
    add("leaf blower", c, ["Leaf Blower", "Cordless Leaf Blower"], (50, 300), [
        "A variable-speed turbo sweeps leaves and clippings off patios and drives.",
        "Switches to vacuum mode and shreds what it collects into a 45 L bag.",
    ], palette="tool")
    add("hedge trimmer", c, ["Hedge Trimmer", "Cordless Hedge Trimmer"], (50, 300), [
        "Dual-action 55 cm blade with an anti-jam function; cuts branches up to 22 mm.",
        "A rotating rear handle makes shaping tall or wide hedges easier.",
    ], palette="tool")
    add("compost bin", c, ["Compost Bin", "Rotating Compost Tumbler"], (30, 200), [
        "Turns kitchen scraps and garden waste into rich soil in as little as eight weeks.",
        "A vented lid and a hatch at the base for taking out finished compost.",
    ], specs=["220 L", "330 L"], palette="home")
    add("seed kit", c, ["Vegetable Seed Kit", "Herb Seed Kit"], (8, 40), [
        "Twelve varieties of heirloom seeds with a sowing calendar and plant markers.",
        "Peat-free pellets and a mini greenhouse tray to get seedlings going indoors.",
    ])

    c = "tools"
    add("cordless drill", c, ["Cordless Drill", "Drill Driver", "Combi Drill"], (40, 300), [
        "Two-speed gearbox, LED light and two 2.0 Ah batteries in a carry case.",
        "Brushless motor with 60 Nm of torque for masonry, wood and metal.",
    ], specs=["12 V", "18 V", "20 V"], palette="tool")
    add("hammer", c, ["Claw Hammer", "Framing Hammer"], (10, 60), [
        "Forged steel head with a magnetic nail starter and an anti-vibration grip.",
        "A {material} handle and a milled face that won't slip off nail heads.",
    ], materials=["Fibreglass", "Hickory", "Steel"], palette="tool")
    add("screwdriver set", c, ["Screwdriver Set", "Precision Screwdriver Set"], (10, 80), [
        "Magnetic tips in slotted, Phillips and Torx sizes, with a storage case.",
        "Precision bits for phones, laptops and glasses, with a swivel cap.",
    ], specs=["6-Piece", "32-Piece", "60-Piece"], palette="tool")
    add("tape measure", c, ["Tape Measure"], (5, 30), [
        "The wide blade stands out 3 m unsupported, with a belt clip and a locking button.",
        "Metric and imperial markings on a nylon-coated blade that resists wear.",
    ], specs=["5 m", "8 m", "10 m"], palette="tool")
    add("spirit level", c, ["Spirit Level", "Torpedo Level"], (8, 60), [
        "Three shock-resistant vials and a magnetic edge, accurate to 0.5 mm per metre.",
        "A milled aluminium body with end caps that survive drops.",
    ], specs=["25 cm", "60 cm", "120 cm"], palette="tool")
    add("socket set", c, ["Socket Set", "Socket Wrench Set"], (25, 200), [
        "Chrome vanadium sockets in metric and imperial sizes with a 72-tooth ratchet.",
        "Extension bars and a universal joint in a blow-moulded case.",
    ], specs=["40-Piece", "94-Piece", "130-Piece"], palette="tool")
    add("circular saw", c, ["Circular Saw", "Cordless Circular Saw"], (60, 300), [
        "A 190 mm blade with bevel cuts to 45 degrees and a laser guide.",
        "Dust port, electric brake and a depth adjuster for sheet materials.",
    ], palette="tool")
    add("tool box", c, ["Tool Box", "Rolling Tool Box"], (20, 150), [
        "A removable tray, metal latches and a padlock eye keep tools organised and secure.",
        "Telescopic handle and wheels for moving heavy kit between jobs.",
    ], palette="tool")
    add("work light", c, ["LED Work Light", "Rechargeable Work Light"], (20, 120), [
        "3,000 lumens on a folding stand that lights up a garage, loft or building site.",
        "Magnetic base and a hook, with a battery that lasts a full shift.",
    ], palette="tool")
    add("utility knife", c, ["Utility Knife", "Retractable Utility Knife"], (6, 30), [
        "A quick-change blade, a rubber grip and five spare blades stored in the handle.",
        "A retractable, lockable blade for carpet, plasterboard and packaging.",
    ], palette="tool")
    add("stud finder", c, ["Stud Finder", "Wall Scanner"], (15, 120), [
        "Detects wood and metal studs and live AC wiring behind drywall up to 38 mm.",
        "An LCD screen shows the centre and edges of what is hidden behind the plaster.",
    ], palette="tool")
    add("ladder", c, ["Step Ladder", "Telescopic Ladder"], (40, 300), [
        "Aluminium, rated to 150 kg, with wide anti-slip treads and a tool tray.",
        "Extends rung by rung and collapses to 90 cm for the boot of a car.",
    ], specs=["3 Steps", "5 Steps", "3.8 m"], palette="tool")

    c = "grocery"
    add("coffee beans", c, ["Coffee Beans", "Whole Bean Coffee"], (8, 35), [
        "Roasted in small batches for notes of chocolate and toasted nuts.",
        "Fairtrade beans with bright citrus acidity, best ground just before brewing.",
    ], materials=["Dark Roast", "Medium Roast", "Espresso Roast", "Single-Origin Ethiopia", "Colombian"],
        specs=["250 g", "500 g", "1 kg"])
    add("green tea", c, ["Green Tea", "Loose Leaf Green Tea"], (3, 25), [
        "Delicate, grassy leaves picked in spring and steamed to keep their colour.",
        "Brew at 80 °C for two minutes for a smooth, sweet cup.",
    ], materials=["Sencha", "Jasmine", "Matcha", "Gunpowder"], specs=["20 Bags", "50 Bags", "100 g Tin"])
    add("olive oil", c, ["Extra Virgin Olive Oil"], (6, 30), [
        "First cold pressing of Koroneiki olives with a peppery, grassy finish.",
        "Estate-bottled in dark glass to protect the flavour.",
    ], materials=["Cold-Pressed", "Organic", "Early Harvest"], specs=["500 ml", "750 ml", "1 L"])
    add("pasta", c, ["Spaghetti", "Penne Rigate", "Fusilli"], (1.5, 8), [
        "Bronze-die cut durum wheat pasta, slow-dried for a rough texture that holds sauce.",
        "Made with stone-ground semolina and cooked al dente in ten minutes.",
    ], materials=["Organic", "Wholewheat", "Gluten-Free"], specs=["500 g", "1 kg"])
    add("granola", c, ["Granola", "Crunchy Granola"], (3, 12), [
        "Oven-baked oat clusters with {material}, lightly sweetened.",
        "Whole grains and {material} in big crunchy clusters, great with yogurt.",
    ], materials=["Honey Almond", "Dark Chocolate", "Mixed Berry", "Maple Pecan"], specs=["400 g", "750 g"])
    add("dark chocolate", c, ["Dark Chocolate Bar"], (2, 9), [
        "Single-estate cocoa with {material}, smooth and not too sweet.",
        "Bean-to-bar chocolate made with {material} and nothing artificial.",
    ], materials=["Sea Salt", "Orange", "Almond", "Raspberry"], specs=["70% Cocoa", "85% Cocoa", "90% Cocoa"])
    add("peanut butter", c, ["Peanut Butter", "Crunchy Peanut Butter"], (3, 12), [
        "Just roasted peanuts and a pinch of salt, with no palm oil.",
        "Stir-free and spreadable straight from the cupboard.",
    ], materials=["Organic", "Smooth", "High-Protein"], specs=["340 g", "1 kg"])
    add("honey", c, ["Raw Honey", "Manuka Honey", "Wildflower Honey"], (5, 45), [
        "Unfiltered and cold-extracted from hives in the hills.",
        "Thick, golden and floral; lovely stirred into tea or porridge.",
    ], specs=["250 g", "500 g"])
    add("sparkling water", c, ["Sparkling Mineral Water", "Sparkling Water"], (3, 15), [
        "Naturally carbonated at source, with zero sugar and zero calories.",
        "Crisp bubbles and a hint of {material}, in recyclable cans.",
    ], materials=["Lime", "Unflavoured", "Grapefruit", "Cucumber Mint"],
        specs=["6 x 500 ml", "12 x 330 ml", "24 x 330 ml"])
    add("basmati rice", c, ["Basmati Rice", "Brown Basmati Rice"], (2, 15), [
        "Aged long grains that cook up fluffy and fragrant.",
        "Grown in the Himalayan foothills and aged for a year for a nutty aroma.",
    ], specs=["1 kg", "2 kg", "5 kg"])
    add("hot sauce", c, ["Hot Sauce", "Chipotle Hot Sauce", "Habanero Hot Sauce"], (3, 12), [
        "Fermented chillies and garlic with a smoky kick.",
        "Small-batch and fiery, with a fruity finish.",
    ], specs=["150 ml", "250 ml"])
    add("oat milk", c, ["Oat Milk", "Barista Oat Milk"], (1.5, 12), [
        "Creamy, dairy-free and foams well for lattes and flat whites.",
        "Made from gluten-free oats with added calcium and vitamin D.",
    ], specs=["1 L", "6 x 1 L"])

    c = "pet"
    add("dog food", c, ["Dry Dog Food", "Grain-Free Dog Food"], (10, 90), [
        "Complete nutrition with real {material} as the first ingredient.",
        "Balanced recipe with {material}, omega oils for a shiny coat and no artificial colours.",
    ], materials=["Chicken and Rice", "Salmon and Potato", "Lamb and Brown Rice"], specs=["2 kg", "6 kg", "12 kg"])
    add("cat food", c, ["Wet Cat Food", "Dry Cat Food"], (5, 60), [
        "High-protein meals with {material} and taurine for healthy eyes and heart.",
        "Tender chunks of {material} that fussy eaters finish.",
    ], materials=["Tuna", "Chicken", "Salmon", "Turkey"], specs=["12 x 85 g", "2 kg", "7 kg"])
    add("dog bed", c, ["Dog Bed", "Orthopedic Dog Bed"], (25, 180), [
        "A memory-foam base with raised bolsters and a removable, machine-washable cover.",
        "Water-resistant liner and a non-slip bottom; the {material} cover is soft on old joints.",
    ], materials=["Faux Fur", "Corduroy", "Canvas"], specs=["Small", "Medium", "Large"], palette="home")
    add("cat litter", c, ["Clumping Cat Litter"], (5, 30), [
        "Low-dust, unscented clumps that trap odour for up to two weeks.",
        "Lightweight {material} formula that is easy to scoop.",
    ], materials=["Clay", "Tofu", "Pine Pellet"], specs=["5 L", "10 L", "20 L"])
    add("dog leash", c, ["Dog Leash", "Retractable Dog Leash"], (10, 45), [
        "Padded handle, reflective stitching and a swivel clip; 1.8 m long.",
        "Extends to 5 m with a one-button brake for park walks.",
    ], palette="bright")
    add("cat tree", c, ["Cat Tree", "Cat Tower"], (40, 200), [
        "Sisal-wrapped posts, two perches and a hideaway cube for climbing and claw care.",
        "A tall, stable tower with a plush hammock at the top.",
    ], palette="home")
    add("dog toy", c, ["Dog Chew Toy", "Rope Tug Toy"], (5, 25), [
        "Tough natural rubber for strong chewers; fill it with treats to keep your dog busy.",
        "Braided cotton rope for tug and fetch that also cleans teeth.",
    ], palette="bright")
    add("pet carrier", c, ["Pet Carrier", "Airline-Approved Pet Carrier"], (25, 120), [
        "Ventilated mesh sides, a fleece pad and a shoulder strap for car rides and flights.",
        "A top-loading door makes it easy to lift a nervous animal in and out.",
    ], palette="home")
    add("aquarium", c, ["Aquarium Kit", "Glass Aquarium"], (40, 400), [
        "Includes an LED hood, a silent filter and a heater, ready for tropical species.",
        "Curved front glass and a built-in filter chamber hidden behind the back wall.",
    ], specs=["20 L", "60 L", "120 L"])
    add("grooming brush", c, ["Pet Grooming Brush", "Deshedding Brush"], (8, 35), [
        "Removes loose undercoat and tangles; a button retracts the pins for easy cleaning.",
        "Gentle rubber nubs for short coats that also massage the skin.",
    ], palette="bright")
    add("litter box", c, ["Litter Box", "Covered Litter Box"], (20, 120), [
        "A hooded design with a carbon filter and a swing door that contains smells.",
        "High sides and a removable rim stop scatter around the tray.",
    ], palette="home")

    c = "office"
    add("notebook", c, ["Notebook", "Dotted Notebook", "Hardcover Notebook"], (5, 30), [
        "192 pages of 100 gsm ivory paper that resists ink bleed, with a ribbon marker.",
        "Lay-flat binding, an elastic closure and a back pocket for loose notes.",
    ], specs=["A5", "A4", "B5"], palette="wear")
    add("gel pens", c, ["Gel Pens", "Fine Gel Pens"], (4, 25), [
        "Smooth 0.5 mm quick-dry ink for note-taking and journaling.",
        "Assorted vivid colours with comfortable rubber grips.",
    ], specs=["12-Pack", "24-Pack", "36-Pack"])
    add("desk lamp", c, ["Desk Lamp", "LED Desk Lamp"], (20, 150), [
        "Five colour temperatures, a dimmer and a USB port for charging your phone.",
        "A flexible arm puts light exactly where you read or work.",
    ], palette="home")
    add("stapler", c, ["Stapler", "Heavy-Duty Stapler"], (8, 45), [
        "Staples up to 40 sheets with half the effort and rarely jams.",
        "A full-strip metal body with a built-in remover.",
    ], palette="tool")
    add("paper shredder", c, ["Paper Shredder", "Cross-Cut Shredder"], (40, 300), [
        "Cross-cuts 10 sheets at a time, plus credit cards, into a 20 L bin.",
        "Quiet enough for a home office, with an auto-start sensor and overheat protection.",
    ])
    add("printer paper", c, ["Printer Paper", "Multipurpose Paper"], (5, 40), [
        "Bright white 80 gsm sheets for laser and inkjet printers.",
        "Jam-free, acid-free and sourced from certified forests.",
    ], specs=["A4 500 Sheets", "A4 2500 Sheets", "Letter 500 Sheets"])
    add("sticky notes", c, ["Sticky Notes", "Super Sticky Notes"], (3, 20), [
        "Repositionable 76 x 76 mm pads in bright colours that stick to monitors and walls.",
        "Recyclable paper that peels off cleanly without leaving residue.",
    ], specs=["12 Pads", "24 Pads"])
    add("desk organizer", c, ["Desk Organizer", "Mesh Desk Organizer"], (10, 60), [
        "Five compartments and a drawer for pens, cables and notes.",
        "A {material} caddy with a phone slot and a letter tray.",
    ], materials=["Bamboo", "Metal Mesh", "Acrylic"], palette="home")
    add("whiteboard", c, ["Whiteboard", "Magnetic Whiteboard"], (20, 200), [
        "Magnetic, ghost-free surface with a marker tray and wall fixings.",
        "Aluminium frame and a lacquered steel surface that wipes clean.",
    ], specs=["60 x 45 cm", "90 x 60 cm", "120 x 90 cm"])
    add("label maker", c, ["Label Maker", "Bluetooth Label Maker"], (20, 120), [
        "Prints durable labels for files, cables and pantry jars from your phone or its keypad.",
        "Thermal printing, so it never needs ink; tapes from 6 to 18 mm.",
    ], palette="tech")
    add("monitor stand", c, ["Monitor Stand", "Monitor Riser"], (15, 90), [
        "Lifts your screen to eye level and frees desk space underneath.",
        "A {material} shelf with storage drawers and a phone slot.",
    ], materials=["Bamboo", "Walnut", "Steel"], palette="home")
    add("filing cabinet", c, ["Filing Cabinet", "3-Drawer Filing Cabinet"], (60, 350), [
        "Lockable drawers with full-extension runners for A4 and letter files.",
        "A slim steel unit on castors that fits under most desks.",
    ], palette="home")

    c = "baby"
    add("stroller", c, ["Stroller", "Compact Stroller", "Travel System Stroller"], (120, 900), [
        "One-hand fold, a near-flat recline and an extendable canopy, from birth to 22 kg.",
        "All-terrain wheels with suspension and a roomy basket underneath.",
    ], palette="home")
    add("car seat", c, ["Infant Car Seat", "Convertible Car Seat"], (80, 450), [
        "ISOFIX base, side-impact protection and a five-point harness.",
        "Rotates 360 degrees for easy loading and fits rear- or forward-facing.",
    ], palette="home")
    add("baby monitor", c, ["Baby Monitor", "Video Baby Monitor"], (30, 250), [
        "Night vision, two-way talk and temperature alerts on a 5-inch screen.",
        "Pan and tilt camera with lullabies and a range of 300 m.",
    ], palette="tech")
    add("diapers", c, ["Diapers", "Overnight Diapers"], (8, 45), [
        "12-hour leak protection with a wetness indicator and a soft, breathable cover.",
        "Plant-based, chlorine-free materials that are kind to sensitive skin.",
    ], specs=["Size 1", "Size 3", "Size 5"])
    add("baby bottle", c, ["Baby Bottle", "Anti-Colic Baby Bottle"], (6, 40), [
        "Vented anti-colic design with a slow-flow teat; BPA-free.",
        "Wide neck for easy cleaning, made of {material}.",
    ], materials=["Glass", "Silicone", "Polypropylene"], specs=["150 ml", "260 ml", "3-Pack"])
    add("high chair", c, ["High Chair", "Convertible High Chair"], (50, 300), [
        "Adjustable height, a removable tray and a five-point harness; grows into a toddler chair.",
        "A {material} frame that wipes clean and folds flat.",
    ], materials=["Beech Wood", "Plastic", "Aluminium"], palette="home")
    add("crib", c, ["Crib", "Convertible Crib"], (120, 700), [
        "Three base heights and teething rails; converts to a toddler bed.",
        "Solid {material} with non-toxic paint and a mattress support.",
    ], materials=["Solid Beech", "Pine", "Painted Wood"], palette="home")
    add("baby carrier", c, ["Baby Carrier", "Ergonomic Baby Carrier"], (40, 200), [
        "Hip-healthy seat, lumbar support and four carrying positions from newborn to toddler.",
        "Breathable mesh panels for summer walks.",
    ], palette="wear")
    add("pacifier", c, ["Pacifier", "Orthodontic Pacifier"], (5, 20), [
        "A symmetrical silicone teat, a ventilated shield and a sterilising case.",
        "Glow-in-the-dark handles for night-time finding.",
    ], specs=["2-Pack", "4-Pack"], palette="bright")
    add("play mat", c, ["Baby Play Mat", "Activity Play Gym"], (25, 150), [
        "A padded mat with hanging toys, a mirror and crinkle textures for tummy time.",
        "Foam tiles that wipe clean and cushion first steps.",
    ], palette="bright")
    add("baby wipes", c, ["Baby Wipes", "Sensitive Baby Wipes"], (3, 20), [
        "99% water and fragrance-free, gentle on newborn skin.",
        "Thick, soft sheets in a resealable pack.",
    ], specs=["4 x 60 Wipes", "12 x 64 Wipes"])
    add("swaddle blanket", c, ["Swaddle Blanket", "Muslin Swaddle Blanket"], (12, 45), [
        "Breathable {material} that keeps newborns snug and settled.",
        "Generous 120 cm squares of {material} that double as a nursing cover.",
    ], materials=["Cotton Muslin", "Bamboo Muslin"], specs=["2-Pack", "3-Pack"], palette="wear")
    # fmt: on
    return k


# Books: the "line" is the book's title, the brand its publisher, the noun its genre.
BOOK_TITLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "mystery novel": (
        ("The {} Murders", "Death at {}", "A Body in {}", "The {} Affair", "Murder on {}"),
        ("Kingsmere", "Blackwater Quay", "Ashcombe Manor", "Saltmarsh Lane", "Rook Street", "Larkspur Hall"),
    ),
    "science fiction novel": (
        ("The Last Signal from {}", "Echoes of {}", "The {} Protocol", "Beyond {}", "The Drift of {}"),
        ("Kepler-9", "Europa", "Titan Station", "Proxima", "Helix Seven", "Andromeda Gate"),
    ),
    "fantasy novel": (
        ("The Crown of {}", "Throne of {}", "The Mapmaker of {}", "The Dragon of {}", "Song of {}"),
        ("Ashenvale", "the Winter Sea", "Embers", "Seven Towers", "Thornwood", "the Hollow King"),
    ),
    "romance novel": (
        ("Summer at {}", "Love in {}", "The Little Bakery on {}", "Second Chances at {}", "A Winter in {}"),
        ("Puffin Cove", "Rosebay Harbour", "Lavender Lane", "Willow Creek", "Sorrento", "Cliffside"),
    ),
    "cookbook": (
        ("{} Kitchen", "Simply {}", "The {} Table", "{} Every Day", "One Pan {}"),
        ("Vegetarian", "Italian", "Japanese", "Mediterranean", "Mexican", "Middle Eastern"),
    ),
    "picture book": (
        ("The Bear Who Lost {}", "Goodnight, {}", "{} and the Moon", "Where Is {}?", "{}'s Big Day"),
        ("Little Fox", "Otto", "Pip", "Mabel", "Barnaby", "Hazel Hedgehog"),
    ),
    "travel guide": (
        ("{} Travel Guide", "The Essential Guide to {}", "{}: Where to Go", "{} on Foot", "Discover {}"),
        ("Japan", "Portugal", "Iceland", "Mexico", "Vietnam", "Scotland", "Peru"),
    ),
    "history book": (
        ("A History of {}", "{}: A New History", "The Fall of {}", "The Rise of {}", "Empire of {}"),
        ("Rome", "the Ottomans", "Byzantium", "the Vikings", "the Silk Road", "Venice"),
    ),
    "self-help book": (
        ("The Habit of {}", "The Art of {}", "Small Steps to {}", "Unstuck: A Guide to {}", "The Power of {}"),
        ("Focus", "Calm", "Saying No", "Deep Work", "Better Sleep", "Confidence"),
    ),
    "programming book": (
        ("Learning {}", "{} in Practice", "Effective {}", "{} from Scratch", "The {} Cookbook"),
        ("Python", "Rust", "Go", "JavaScript", "SQL", "TypeScript", "Kotlin"),
    ),
    "gardening book": (
        ("The {} Vegetable Garden", "Grow Your Own {}", "The {} Balcony Garden", "Gardening for {}"),
        ("Small Space", "Weekend", "Organic", "Year-Round", "No-Dig", "Beginners"),
    ),
}
BOOK_GENRES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "mystery novel": (
        ("Mystery Novel", "Detective Mystery"),
        (
            "An inspector must unravel a village's secrets before the killer strikes again.",
            "A locked-room puzzle with a twist you won't see coming.",
        ),
    ),
    "science fiction novel": (
        ("Science Fiction Novel", "Space Opera Novel"),
        (
            "A starship crew wakes from cryosleep to find Earth has gone silent.",
            "First contact, artificial minds and a rebellion on a terraformed Mars.",
        ),
    ),
    "fantasy novel": (
        ("Fantasy Novel", "Epic Fantasy Novel"),
        (
            "A young cartographer discovers her maps can redraw the kingdom itself.",
            "Warring houses, old magic and a dragon that remembers everything.",
        ),
    ),
    "romance novel": (
        ("Romance Novel",),
        (
            "Two rival bakers, one seaside town and a summer that changes everything.",
            "A heartwarming second-chance story of two old friends finding each other again.",
        ),
    ),
    "cookbook": (
        ("Cookbook",),
        (
            "Over 100 simple dishes for busy evenings, each with a photo.",
            "Seasonal cooking with a guide to stocking the pantry.",
        ),
    ),
    "picture book": (
        ("Children's Picture Book",),
        (
            "A gentle bedtime story about a little animal who can't fall asleep, with bright illustrations.",
            "A rhyming read-aloud for ages 2 to 5.",
        ),
    ),
    "travel guide": (
        ("Travel Guide",),
        (
            "Itineraries, maps and local tips for first-time visitors, updated this year.",
            "Where to eat, stay and hike, with pull-out city maps.",
        ),
    ),
    "history book": (
        ("History Book", "Narrative History"),
        (
            "A sweeping, readable account drawing on letters and archives.",
            "How an empire rose, traded, fought and fell, told through the people who lived it.",
        ),
    ),
    "self-help book": (
        ("Self-Help Book",),
        (
            "Practical steps to build better habits, beat procrastination and find focus.",
            "Short chapters with exercises to try each day.",
        ),
    ),
    "programming book": (
        ("Programming Book",),
        (
            "A hands-on introduction with exercises, from first script to a deployed web app.",
            "Idiomatic patterns, testing and performance for working developers.",
        ),
    ),
    "gardening book": (
        ("Gardening Book",),
        (
            "Month-by-month advice on sowing, pruning and feeding the soil.",
            "Planting plans for small plots, pots and windowsills.",
        ),
    ),
}
BOOK_FORMATS = ("Paperback", "Hardcover", "Large Print")
AUTHOR_FIRST = (
    "Ada", "Tomas", "Imogen", "Rafael", "Priya", "Callum", "Noor", "Henrik", "Lucia", "Owen", "Mei", "Jonah",
    "Freya", "Anselm", "Zara", "Declan",
)  # fmt: skip
AUTHOR_LAST = (
    "Whitcombe", "Ferreira", "Halvorsen", "Okafor", "Lindqvist", "Moreau", "Castell", "Brennan", "Takeda",
    "Ashworth", "Vasquez", "Quinlan", "Sorensen", "Adeyemi",
)  # fmt: skip


# ---------------------------------------------------------------------------------------------- items


@dataclass(slots=True)
class Product:
    """An item with the attributes its title was made from (used to label queries; not all are written out)."""

    id: str
    kind: str
    title: str
    text: str
    metadata: dict[str, Any]
    parts: dict[str, str] = field(default_factory=dict)  # brand, line, noun, colour, material

    def record(self) -> dict[str, Any]:
        return {"id": self.id, "text": self.text, "metadata": self.metadata}


def _price(rng: random.Random, low: float, high: float) -> float:
    value = rng.uniform(low, high)
    if value < 10:
        return round(int(value) + rng.choice((0.49, 0.99)), 2)
    return float(int(value)) + rng.choice((0.0, 0.99, 0.99, 0.5))


def _rating(rng: random.Random) -> float:
    return round(rng.triangular(2.6, 5.0, 4.5), 1)


def _metadata(rng: random.Random, kind: Kind, brand: str, colour: str, material: str) -> dict[str, Any]:
    tags = [t for t in (material.lower(), *kind.features) if t]
    return {
        "category": kind.category,
        "type": kind.name,
        "brand": brand,
        "color": COLOURS[colour] if colour else "none",
        "price": _price(rng, *kind.price),
        "rating": _rating(rng),
        "in_stock": rng.random() < 0.8,
        "tags": tags,
    }


def _title(rng: random.Random, parts: Mapping[str, str], spec: str) -> str:
    brand, line, noun, colour, material = (parts.get(p, "") for p in ("brand", "line", "noun", "colour", "material"))
    styles = ["plain"] + (["material"] if material else []) + (["in"] if colour else [])
    style = rng.choice(styles)
    if style == "material":
        head = f"{brand} {line} {material} {noun}".replace("  ", " ")
        tail = [f"({spec})"] if spec else []
        return " ".join([head, *tail]) + (f" - {colour}" if colour else "")
    if style == "in":
        extra = ", ".join(x for x in (material, spec) if x)
        return f"{brand} {line} {noun} in {colour}".replace("  ", " ") + (f", {extra}" if extra else "")
    extra = ", ".join(x for x in (spec, colour) if x)
    return f"{brand} {line} {noun}".replace("  ", " ") + (f", {extra}" if extra else "")


def _goods(rng: random.Random, kind: Kind, number: int, seen: set[str]) -> Product:
    """One non-book product of `kind`, its title unique among `seen`."""
    while True:
        brand = rng.choice(BRANDS[kind.category])
        line = "" if kind.category == "grocery" else rng.choice(LINES)
        if line and kind.category in NUMBERED:
            line += rng.choice(MODEL_SUFFIXES)
        noun = rng.choice(kind.nouns)
        colour = rng.choice(PALETTES[kind.palette]) if kind.palette else ""
        material = rng.choice(kind.materials) if kind.materials else ""
        spec = rng.choice(kind.specs) if kind.specs else ""
        parts = {"brand": brand, "line": line, "noun": noun, "colour": colour, "material": material}
        title = _title(rng, parts, spec)
        if title not in seen:
            break
    seen.add(title)
    blurb = rng.choice(kind.blurbs).replace("{material}", material.lower() or "quality materials")
    blurb = blurb[0].upper() + blurb[1:]
    item_id = f"demo-{number:05d}"
    metadata = _metadata(rng, kind, brand, colour, material)
    return Product(item_id, kind.name, title, f"{title}. {blurb}", metadata, {k: v for k, v in parts.items() if v})


def _book(rng: random.Random, kind: Kind, number: int, seen: set[str]) -> Product:
    patterns, fillers = BOOK_TITLES[kind.name]
    labels, blurbs = BOOK_GENRES[kind.name]
    while True:
        book = rng.choice(patterns).format(rng.choice(fillers))
        book_format = rng.choice(BOOK_FORMATS)
        author = f"{rng.choice(AUTHOR_FIRST)} {rng.choice(AUTHOR_LAST)}"
        title = f"{book} ({book_format}) - {rng.choice(labels)} by {author}"
        if book not in seen:
            break
    seen.add(book)
    publisher = rng.choice(BRANDS["books"])
    metadata = _metadata(rng, kind, publisher, "", "")
    metadata["tags"] = [book_format.lower(), kind.name.split()[0]]
    noun = title.split(" - ", 1)[1].split(" by ", 1)[0]
    parts = {"brand": author, "line": book, "noun": noun}  # the author stands in for a brand in titles
    return Product(f"demo-{number:05d}", kind.name, title, f"{title}. {rng.choice(blurbs)}", metadata, parts)


def make_products(seed: int = SEED, count: int = ITEMS) -> list[Product]:
    """`count` products spread evenly over every product type, then shuffled so ids do not follow types."""
    rng = random.Random(seed)
    kinds = _kinds() + [
        Kind(name, "books", BOOK_GENRES[name][0], (7, 40), BOOK_GENRES[name][1]) for name in BOOK_GENRES
    ]
    order = [kinds[i % len(kinds)] for i in range(count)]
    rng.shuffle(order)
    seen: set[str] = set()
    products = []
    for number, kind in enumerate(order, 1):
        make = _book if kind.category == "books" else _goods
        products.append(make(rng, kind, number, seen))
    return products


# ---------------------------------------------------------------------------------------------- labels

_WORD = re.compile(r"[a-z0-9]+")


def tokens(text: str) -> set[str]:
    """Lower-case words, apostrophes dropped, with a naive plural fold, for labelling (not the search's tokenizer)."""
    out = set()
    for word in _WORD.findall(text.lower().replace("'", "").replace("\u2019", "")):
        out.add(word)
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            out.add(word[:-1])
    return out


@dataclass(frozen=True, slots=True)
class Spec:
    """A hand-written query: the product types it asks for with grades, and conditions on their metadata."""

    query: str
    kinds: Mapping[str, int]
    where: Mapping[str, Any] = field(default_factory=dict)  # narrows the relevant set; not sent with the query
    filters: Mapping[str, Any] = field(default_factory=dict)  # sent with the query, and narrows the relevant set


def S(query: str, kinds: Mapping[str, int], **where: Any) -> Spec:
    return Spec(query, kinds, where)


# Shopper words for product types, the word the catalog does not use in [brackets].
SYNONYMS = [
    S("[couch]", {"sofa": 2}),
    S("grey [couch]", {"sofa": 2}, color="grey"),
    S("velvet [settee]", {"sofa": 2}, tags="velvet"),
    S("leather [lounge suite]", {"sofa": 2, "armchair": 1}, tags="leather"),
    S("[bedside table]", {"nightstand": 2}),
    S("[bookshelf]", {"bookcase": 2}),
    S("[closet] for clothes", {"wardrobe": 2}),
    S("[armoire]", {"wardrobe": 2}),
    S("[desk] chair", {"office chair": 2}),
    S("[computer] chair with lumbar support", {"office chair": 2}),
    S("[kitchen] table", {"dining table": 2}),
    S("tv [cabinet]", {"tv stand": 2}),
    S("[trainers]", {"running shoes": 2, "trail running shoes": 2, "kids' sneakers": 1}),
    S("[jogging] shoes", {"running shoes": 2, "trail running shoes": 1}),
    S("[jumper]", {"sweater": 2}),
    S("cashmere [jumper]", {"sweater": 2}, tags="cashmere"),
    S("[pullover] knit", {"sweater": 2}),
    S("[hooded sweatshirt]", {"hoodie": 2}),
    S("white [tee]", {"t-shirt": 2}, color="white"),
    S("winter [coat]", {"puffer jacket": 2}),
    S("[anorak]", {"rain jacket": 2}),
    S("[raincoat]", {"rain jacket": 2}),
    S("[yoga pants]", {"leggings": 2}),
    S("[sleepwear]", {"pajamas": 2}),
    S("[bathing suit]", {"swimsuit": 2}),
    S("[woolly hat]", {"beanie": 2}),
    S("[bobble hat]", {"beanie": 2}),
    S("[muffler] for winter", {"scarf": 2}),
    S("[walking] boots", {"hiking boots": 2}),
    S("[wellies]", {"rain boots": 2}),
    S("[gumboots] for kids", {"rain boots": 2}),
    S("[flip flops]", {"sandals": 2}),
    S("[house shoes]", {"slippers": 2}),
    S("[earphones]", {"wireless earbuds": 2, "over-ear headphones": 1}),
    S("[portable charger] for my phone", {"power bank": 2}),
    S("[battery pack]", {"power bank": 2}),
    S("[notebook computer]", {"laptop": 2}),
    S("[pc screen]", {"monitor": 2}),
    S("[ebook] reader", {"e-reader": 2}),
    S("[fitness watch]", {"smartwatch": 2}),
    S("[skillet]", {"frying pan": 2}),
    S("[chopping] board", {"cutting board": 2}),
    S("[tupperware]", {"food storage containers": 2}),
    S("[kitchen] knife", {"chef's knife": 2}),
    S("[lego]", {"building blocks": 2}),
    S("[cuddly toy]", {"plush toy": 2}),
    S("[stuffed animal]", {"plush toy": 2}),
    S("[radio controlled] car", {"remote control car": 2}),
    S("[whodunit]", {"mystery novel": 2}),
    S("[crime fiction]", {"mystery novel": 2}),
    S("[sci-fi] book", {"science fiction novel": 2}),
    S("[recipe] book", {"cookbook": 2}),
    S("[guidebook]", {"travel guide": 2}),
    S("[coding] book", {"programming book": 2}),
    S("[sun cream]", {"sunscreen": 2}),
    S("[sunblock]", {"sunscreen": 2}),
    S("[perfume]", {"perfume": 2}),
    S("[cologne]", {"perfume": 2}),
    S("face [cream]", {"face moisturizer": 2}),
    S("[blow] dryer", {"hair dryer": 2}),
    S("nail [varnish]", {"nail polish": 2}),
    S("beard [clippers]", {"beard trimmer": 2}),
    S("[hosepipe]", {"garden hose": 2}),
    S("[secateurs]", {"pruning shears": 2}),
    S("[flower] pot", {"plant pot": 2}),
    S("[power] drill", {"cordless drill": 2}),
    S("[measuring] tape", {"tape measure": 2}),
    S("[bubble] level", {"spirit level": 2}),
    S("[spanner] set", {"socket set": 2}),
    S("[box cutter]", {"utility knife": 2}),
    S("tool [chest]", {"tool box": 2}),
    S("[evoo]", {"olive oil": 2}),
    S("[seltzer]", {"sparkling water": 2}),
    S("[fizzy] water", {"sparkling water": 2}),
    S("dog [kibble]", {"dog food": 2}),
    S("[kitty] litter", {"cat litter": 2}),
    S("dog [lead]", {"dog leash": 2}),
    S("[fish tank]", {"aquarium": 2}),
    S("[post-its]", {"sticky notes": 2}),
    S("[dry erase board]", {"whiteboard": 2}),
    S("[pram]", {"stroller": 2}),
    S("[pushchair]", {"stroller": 2}),
    S("[nappies]", {"diapers": 2}),
    S("[dummy] for a baby", {"pacifier": 2}),
    S("[cot] for a newborn", {"crib": 2}),
    S("baby [sling]", {"baby carrier": 2}),
    S("[feeding] bottle", {"baby bottle": 2}),
    S("[hand] weights", {"dumbbells": 2}),
    S("[rucksack] for hiking", {"hiking backpack": 2}),
    S("[head torch]", {"headlamp": 2}),
    S("[bicycle]", {"bicycle": 2}),
    S("[pilates] mat", {"yoga mat": 2}),
    S("[tabletop] game", {"board game": 2}),
    S("[doll's house]", {"dollhouse": 2}),
]

PARAPHRASES = [
    S("something to keep my coffee hot on my desk", {"mug warmer": 2, "travel mug": 1}),
    S("keep drinks cold on a long hike", {"water bottle": 2, "travel mug": 1}),
    S("shoes for a marathon on city streets", {"running shoes": 2, "trail running shoes": 1}),
    S("shoes for muddy mountain paths", {"trail running shoes": 2, "hiking boots": 2, "rain boots": 1}),
    S("listen to music on the train without disturbing anyone", {"wireless earbuds": 2, "over-ear headphones": 2}),
    S("charge my phone when I'm nowhere near a socket", {"power bank": 2}),
    S("read novels on holiday without packing paper books", {"e-reader": 2, "tablet": 1}),
    S("make smoothies before work", {"blender": 2}),
    S("healthier fried food without a deep fat fryer", {"air fryer": 2}),
    S("hot water for tea in a couple of minutes", {"electric kettle": 2}),
    S("barista-style drinks in my own kitchen", {"espresso machine": 2, "drip coffee maker": 1}),
    S("bake bread without kneading the dough by hand", {"stand mixer": 2}),
    S("cook eggs without them sticking", {"frying pan": 2}),
    S("take leftovers to work for lunch", {"food storage containers": 2}),
    S("stay dry on a rainy hike", {"rain jacket": 2, "rain boots": 1, "hiking boots": 1}),
    S("warm coat for snowy city winters", {"puffer jacket": 2}),
    S("stop my ears freezing on winter walks", {"beanie": 2, "scarf": 1}),
    S("something to swim laps in at the pool", {"swimsuit": 2}),
    S("stretchy trousers for pilates class", {"leggings": 2}),
    S("comfy footwear to wear around the house", {"slippers": 2}),
    S("smart shoes for the office", {"loafers": 2, "chelsea boots": 1, "high heels": 1}),
    S("elegant shoes to wear with an evening dress", {"high heels": 2}),
    S("shoes my toddler can put on by himself", {"kids' sneakers": 2}),
    S("sleep outdoors under the stars", {"tent": 2, "sleeping bag": 2}),
    S("cook dinner at the campsite", {"camping stove": 2}),
    S("see the trail after dark", {"headlamp": 2}),
    S("head protection for riding to work", {"bike helmet": 2}),
    S("build muscle at home without a gym", {"dumbbells": 2, "resistance bands": 2}),
    S("bag for a full day walking in the mountains", {"hiking backpack": 2}),
    S("commute to work on two wheels", {"bicycle": 2}),
    S("gift for a child who loves building things", {"building blocks": 2, "wooden train set": 1}),
    S("something for family game night", {"board game": 2, "jigsaw puzzle": 1}),
    S("soft cuddly friend for a newborn", {"plush toy": 2}),
    S("toy vehicle my son can steer around the garden", {"remote control car": 2}),
    S("gift that gets a curious 9 year old into chemistry", {"science kit": 2}),
    S("everything a young artist needs to draw and paint", {"art set": 2}),
    S("a gripping story about solving a murder", {"mystery novel": 2}),
    S("novel about space travel and aliens", {"science fiction novel": 2}),
    S("epic story with dragons and magic", {"fantasy novel": 2}),
    S("a feel-good love story for the beach", {"romance novel": 2}),
    S("ideas for quick family meals after work", {"cookbook": 2}),
    S("bedtime story to read to my toddler", {"picture book": 2}),
    S("help planning a trip abroad", {"travel guide": 2}),
    S("teach myself to write software", {"programming book": 2}),
    S("learn to stop procrastinating", {"self-help book": 2}),
    S("a book about ancient empires", {"history book": 2}),
    S("protect my skin at the beach", {"sunscreen": 2}),
    S("dry my hair quickly after a shower", {"hair dryer": 2}),
    S("clean my teeth better than a manual brush", {"electric toothbrush": 2}),
    S("water the plants on the patio", {"watering can": 2, "garden hose": 2}),
    S("keep the grass short", {"lawn mower": 2}),
    S("shape the bushes in the front yard", {"hedge trimmer": 2, "pruning shears": 1}),
    S("clear autumn leaves off the driveway", {"leaf blower": 2}),
    S("feed the robins and sparrows in winter", {"bird feeder": 2}),
    S("do something useful with potato peelings", {"compost bin": 2}),
    S("grow my own salad and herbs from scratch", {"seed kit": 2, "raised garden bed": 1, "gardening book": 1}),
    S("put up shelves on a brick wall", {"cordless drill": 2, "spirit level": 1, "stud finder": 1}),
    S("avoid hitting pipes when drilling into a wall", {"stud finder": 2}),
    S("open cardboard boxes quickly", {"utility knife": 2}),
    S("reach the gutters safely", {"ladder": 2}),
    S("light up the garage while I fix the car", {"work light": 2}),
    S("whole beans for my morning brew", {"coffee beans": 2}),
    S("bubbly drink without sugar", {"sparkling water": 2}),
    S("I'm lactose intolerant, what can I put in my coffee", {"oat milk": 2}),
    S("something spicy for tacos", {"hot sauce": 2}),
    S("sweet spread for toast", {"honey": 2, "peanut butter": 2}),
    S("keep my dog busy while I'm at work", {"dog toy": 2}),
    S("take my cat on a plane", {"pet carrier": 2}),
    S("keep goldfish at home", {"aquarium": 2}),
    S("somewhere for my cat to climb", {"cat tree": 2}),
    S("my dog sheds hair all over the flat", {"grooming brush": 2}),
    S("where the cat does its business", {"litter box": 2, "cat litter": 2}),
    S("keep pens and cables tidy on my desk", {"desk organizer": 2}),
    S("destroy old bank statements", {"paper shredder": 2}),
    S("stop hunching over my laptop", {"monitor stand": 2, "standing desk": 1, "office chair": 1}),
    S("brainstorm in meetings with markers", {"whiteboard": 2}),
    S("take the baby out for a walk in the park", {"stroller": 2, "baby carrier": 1}),
    S("hear the baby from downstairs while she naps", {"baby monitor": 2}),
    S("seat for feeding a toddler at the table", {"high chair": 2}),
    S("where a newborn sleeps", {"crib": 2}),
    S("clean up messy little hands", {"baby wipes": 2}),
    S("work on my feet instead of sitting all day", {"standing desk": 2}),
    S("somewhere to hang my clothes in the bedroom", {"wardrobe": 2}),
    S("seats for the kitchen island", {"bar stool": 2}),
    S("furniture to put the tv on", {"tv stand": 2}),
    S("cosy seat for reading by the window", {"armchair": 2, "sofa": 1}),
    S("sit at the computer all day without back pain", {"office chair": 2}),
    S("look good on video calls", {"webcam": 2}),
    S("clicky keys for gaming", {"mechanical keyboard": 2}),
    S("film my mountain bike rides", {"action camera": 2}),
    S("music at a picnic in the park", {"bluetooth speaker": 2}),
    S("somewhere to put my paperbacks", {"bookcase": 2}),
]

SHOES = {
    k: 1
    for k in ("running shoes", "trail running shoes", "hiking boots", "sandals", "slippers", "loafers",
              "chelsea boots", "high heels", "kids' sneakers", "rain boots")
}  # fmt: skip
NOVELS = {k: 2 for k in ("mystery novel", "science fiction novel", "fantasy novel", "romance novel")}


def F(query: str, kinds: Mapping[str, int], **filters: Any) -> Spec:
    return Spec(query, kinds, filters=filters)


FILTERED = [
    F("running shoes", {"running shoes": 2, "trail running shoes": 1}, price={"lte": 100}),
    F("sofa", {"sofa": 2}, color="grey"),
    F("wireless earbuds", {"wireless earbuds": 2}, in_stock=True),
    F("coffee maker", {"drip coffee maker": 2}, brand="{top}"),
    F("blender", {"blender": 2}, price={"gte": 50, "lte": 150}),
    F("bottle", {"baby bottle": 2}, category="baby"),
    F("bottle", {"water bottle": 2}, category="sports"),
    F("bed", {"dog bed": 2}, category="pet"),
    F("bed", {"bed frame": 2}, category="furniture"),
    F("bed", {"raised garden bed": 2}, category="garden"),
    F("mat", {"yoga mat": 2}, category="sports"),
    F("mat", {"play mat": 2}, category="baby"),
    F("knife", {"utility knife": 2}, category="tools"),
    F("knife", {"chef's knife": 2}, category="kitchen", price={"lte": 80}),
    F("light", {"work light": 2}, category="tools"),
    F("lamp for reading at my desk", {"desk lamp": 2}, in_stock=True),
    F("stand", {"monitor stand": 2}, category="office"),
    F("stand", {"tv stand": 2}, category="furniture"),
    F("chair", {"high chair": 2}, category="baby"),
    F("chair", {"office chair": 2, "armchair": 2}, category="furniture", in_stock=True),
    F("carrier", {"pet carrier": 2}, category="pet"),
    F("carrier", {"baby carrier": 2}, category="baby"),
    F("brush", {"grooming brush": 2}, category="pet"),
    F("electric toothbrush", {"electric toothbrush": 2}, price={"lt": 50}),
    F("tent", {"tent": 2}, price={"lte": 200}, in_stock=True),
    F("sleeping bag", {"sleeping bag": 2}, rating={"gte": 4.5}),
    F("hiking boots", {"hiking boots": 2}, color="brown"),
    F("laptop", {"laptop": 2}, price={"lte": 800}),
    F("monitor", {"monitor": 2}, brand="{top}"),
    F("headphones", {"over-ear headphones": 2, "wireless earbuds": 1}, price={"lt": 100}, in_stock=True),
    F("smartwatch", {"smartwatch": 2}, color="black"),
    F("jeans", {"jeans": 2}, color="blue"),
    F("hoodie", {"hoodie": 2}, color=["black", "grey"]),
    F("rain jacket", {"rain jacket": 2}, price={"lt": 120}),
    F("sweater", {"sweater": 2}, brand="{top}", in_stock=True),
    F("dog food", {"dog food": 2}, price={"lte": 40}),
    F("cat food", {"cat food": 2}, brand="{top}"),
    F("cordless drill", {"cordless drill": 2}, rating={"gte": 4.3}),
    F("ladder", {"ladder": 2}, in_stock=True),
    F("olive oil", {"olive oil": 2}, price={"lte": 15}),
    F("coffee", {"coffee beans": 2}, category="grocery"),
    F("coffee machine", {"drip coffee maker": 2, "espresso machine": 2}, category="kitchen"),
    F("tea", {"green tea": 2}, category="grocery"),
    F("chocolate", {"dark chocolate": 2}, category="grocery", price={"lt": 6}),
    F("stroller", {"stroller": 2}, price={"lte": 400}),
    F("car seat", {"car seat": 2}, in_stock=True, rating={"gte": 4.0}),
    F("diapers", {"diapers": 2}, brand="{top}"),
    F("board game", {"board game": 2}, price={"lt": 30}),
    F("puzzle", {"jigsaw puzzle": 2}, in_stock=True),
    F("picture book", {"picture book": 2}, price={"lte": 20}),
    F("novel", NOVELS, brand="{top}"),
    F("sunscreen", {"sunscreen": 2}, price={"lt": 20}),
    F("shampoo", {"shampoo": 2}, in_stock=True, brand="{top}"),
    F("lipstick", {"lipstick": 2}, color="red"),
    F("garden hose", {"garden hose": 2}, price={"lte": 40}),
    F("lawn mower", {"lawn mower": 2}, in_stock=True),
    F("plant pot", {"plant pot": 2}, color="white"),
    F("desk", {"standing desk": 2}, price={"lte": 600}),
    F("table", {"coffee table": 2, "dining table": 2, "nightstand": 1}, category="furniture", price={"lt": 300}),
    F("shoes", SHOES, category="shoes", color="black", price={"lt": 100}),
    F("speaker", {"bluetooth speaker": 2}, price={"lt": 60}),
    F("camera", {"action camera": 2, "webcam": 1}, category="electronics", in_stock=True),
    F("keyboard", {"mechanical keyboard": 2}, brand="{top}"),
    F("air fryer", {"air fryer": 2}, rating={"gte": 4.5}, in_stock=True),
    F("gloves", {"garden gloves": 2}, category="garden"),
    F("thermos for coffee", {"travel mug": 2}, price={"lte": 25}),
    F("sneakers for kids", {"kids' sneakers": 2}, color=["red", "blue"]),
]


def _relevant(products: Sequence[Product], spec: Spec) -> dict[str, int]:
    conditions = {**spec.where, **spec.filters}
    return {
        p.id: spec.kinds[p.kind] for p in products if spec.kinds.get(p.kind, 0) > 0 and matches(p.metadata, conditions)
    }


def _resolve_brand(products: Sequence[Product], spec: Spec) -> Spec:
    """'{top}' -> the brand with the most items of the spec's types passing its other filters (ties: by name)."""
    if spec.filters.get("brand") != "{top}":
        return spec
    others = {k: v for k, v in spec.filters.items() if k != "brand"}
    counts = Counter(
        p.metadata["brand"] for p in products if spec.kinds.get(p.kind, 0) > 0 and matches(p.metadata, others)
    )
    brand = min(counts, key=lambda b: (-counts[b], b))
    return Spec(spec.query, spec.kinds, spec.where, {**spec.filters, "brand": brand})


def _unused_words(texts: Mapping[str, set[str]], query: str, relevant: Iterable[str]) -> str:
    """The query without its [brackets]; fails if a bracketed word appears in a relevant item's text."""
    marked = " ".join(re.findall(r"\[([^\]]+)\]", query))
    assert marked, f"synonym query without a [shopper word]: {query!r}"
    for item_id in relevant:
        clash = tokens(marked) & texts[item_id]
        assert not clash, f"{query!r}: {sorted(clash)} occurs in {item_id}"
    return query.replace("[", "").replace("]", "")


# -- typo queries -------------------------------------------------------------------------------------------

QWERTY = ("qwertyuiop", "asdfghjkl", "zxcvbnm")


def _neighbours(letter: str) -> str:
    for row_index, row in enumerate(QWERTY):
        col = row.find(letter)
        if col >= 0:
            near = row[max(0, col - 1) : col] + row[col + 1 : col + 2]
            for other in (row_index - 1, row_index + 1):
                if 0 <= other < len(QWERTY):
                    near += QWERTY[other][max(0, col - 1) : col + 1]
            return near
    return "aeiou"


def typo(word: str, rng: random.Random) -> str:
    """One slip, never on the first letter: a dropped, swapped, replaced (by a neighbouring key) or extra letter."""
    for _ in range(20):
        i = rng.randrange(1, len(word))
        op = rng.choice(("drop", "swap", "replace", "insert"))
        if op == "drop":
            out = word[:i] + word[i + 1 :]
        elif op == "swap" and i < len(word) - 1:
            out = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        elif op == "replace":
            out = word[:i] + rng.choice(_neighbours(word[i])) + word[i + 1 :]
        else:
            out = word[:i] + rng.choice(_neighbours(word[i - 1])) + word[i:]
        if out != word:
            return out
    return word[:-1]


TYPO_SHAPES = (("noun",), ("brand", "noun"), ("colour", "noun"), ("material", "noun"), ("brand", "line", "noun"))


def _typo_queries(products: Sequence[Product], rng: random.Random, count: int) -> list[dict[str, Any]]:
    """Phrases from item titles with one or two slips; relevant: items whose title has every word of the phrase (2),
    other items of the same type with the same attributes as the phrase names (1)."""
    titles = [(p.id, tokens(p.title)) for p in products]
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    while len(out) < count:
        shape = TYPO_SHAPES[len(out) % len(TYPO_SHAPES)]
        product = rng.choice(products)
        if not all(product.parts.get(p) for p in shape):
            continue
        phrase = " ".join(product.parts[p] for p in shape).lower().replace("'", "")
        words = phrase.split()
        candidates = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha()]
        if not candidates or phrase in seen:
            continue
        seen.add(phrase)
        for i in rng.sample(candidates, 2 if len(candidates) > 1 and rng.random() < 0.3 else 1):
            words[i] = typo(words[i], rng)
        wanted = tokens(phrase)
        exact = {item_id for item_id, words_of in titles if wanted <= words_of}
        attributes = {part: product.parts[part] for part in shape if part != "noun"}
        alike = {
            p.id for p in products if p.kind == product.kind and all(p.parts.get(a) == v for a, v in attributes.items())
        }
        relevant = {i: 2 if i in exact else 1 for i in sorted(exact | alike)}
        out.append({"query": " ".join(words), "kind": "typo", "relevant": relevant})
    return out


def make_queries(products: Sequence[Product], seed: int = SEED) -> list[dict[str, Any]]:
    rng = random.Random(seed * 1009 + 1)
    queries = _typo_queries(products, rng, TYPO_QUERIES)
    texts = {p.id: tokens(p.text) for p in products}
    for spec in SYNONYMS:
        relevant = _relevant(products, spec)
        text = _unused_words(texts, spec.query, relevant)
        queries.append({"query": text, "kind": "synonym", "relevant": relevant})
    for spec in PARAPHRASES:
        queries.append({"query": spec.query, "kind": "paraphrase", "relevant": _relevant(products, spec)})
    for spec in map(lambda s: _resolve_brand(products, s), FILTERED):
        record = {"query": spec.query, "kind": "filter", "filters": dict(spec.filters)}
        queries.append({**record, "relevant": _relevant(products, spec)})
    known = {kind.name for kind in _kinds()} | set(BOOK_GENRES)
    for spec in (*SYNONYMS, *PARAPHRASES, *FILTERED):
        unknown = set(spec.kinds) - known
        assert not unknown, f"{spec.query!r}: unknown product types {sorted(unknown)}"
    for query in queries:
        assert query["relevant"], f"no relevant items for {query['query']!r}"
    return queries


def _jsonl(records: Iterable[Mapping[str, Any]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n" for r in records)


def build(seed: int = SEED, count: int = ITEMS) -> tuple[str, str]:
    """The text of catalog.jsonl and of queries.jsonl."""
    products = make_products(seed, count)
    return _jsonl(p.record() for p in products), _jsonl(make_queries(products, seed))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--items", type=int, default=ITEMS)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    catalog, queries = build(args.seed, args.items)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "catalog.jsonl").write_text(catalog, encoding="utf-8")
    (args.out / "queries.jsonl").write_text(queries, encoding="utf-8")
    kinds = Counter(json.loads(line)["kind"] for line in queries.splitlines())
    print(
        f"wrote {catalog.count(chr(10))} items ({len(catalog.encode()) / 1e6:.2f} MB) and "
        f"{sum(kinds.values())} queries {dict(kinds)} to {args.out}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
