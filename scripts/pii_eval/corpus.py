"""The labelled corpus: Faker values in templates, with exact character spans.

Seeds: `DEV_SEEDS` are the ones the detector was looked at and tuned on; `HELDOUT_SEEDS` are only
run for the report. A document is one filled template; every labelled value's span is known
because the text is built piece by piece, never searched for afterwards.
"""

from __future__ import annotations

import datetime
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml
from faker import Faker

from . import templates, values

# Fixed bounds, not "-2y": a rerun next year must draw the same corpus.
SINCE = datetime.datetime(2023, 1, 1)
UNTIL = datetime.datetime(2027, 1, 1)

LOCALES: tuple[str, ...] = tuple(values.COUNTRY_CODES)
DEV_SEEDS: tuple[int, ...] = (11, 12, 13)
HELDOUT_SEEDS: tuple[int, ...] = (2027, 2028, 2029)
STRUCTURED = ("EMAIL", "PHONE", "CARD", "IBAN", "SSN", "IPV4", "IPV6", "SECRET")
ENTITIES = ("PERSON", "ADDRESS")
# Bare digit runs with no phone word near them: out of the scope, reported apart.
OUT_OF_SCOPE = ("PHONE_BARE",)
HARD_CASES = Path(__file__).with_name("hard_cases.yaml")
_SLOT = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Span:
    """A labelled value: `text[start:end] == value`."""

    type: str
    start: int
    end: int
    value: str


@dataclass(frozen=True)
class Doc:
    """One text and every labelled value in it (none for a PII-free text)."""

    text: str
    spans: tuple[Span, ...]
    locale: str
    source: str  # "faker", "hard" or "clean"


def language(locale: str) -> str:
    return locale[:2]


class _Filler:
    """Draws the value of each slot: labelled ones from `values`, PII-free ones (dates, order numbers) here."""

    def __init__(self, fake: Faker, locale: str, rng: random.Random) -> None:
        self.fake, self.locale, self.rng = fake, locale, rng
        fake_rng = rng
        self.labelled: dict[str, Callable[[str], str]] = {
            "PHONE": lambda _: values.phone(fake, locale, fake_rng),
            "EMAIL": lambda _: values.email(fake, fake_rng),
            "CARD": lambda _: values.card(fake, fake_rng),
            "IBAN": lambda _: values.iban(fake, fake_rng),
            "SSN": lambda _: values.ssn(fake, fake_rng),
            "IPV4": lambda _: values.ipv4(fake, fake_rng),
            "IPV6": lambda _: values.ipv6(fake, fake_rng),
            "SECRET": lambda template: values.secret(fake_rng, assigned="password" in template),
            "PERSON": lambda _: values.person(fake, fake_rng),
            "ADDRESS": lambda template: values.address(fake, fake_rng, multiline="}\n{ADDRESS}\n" in template),
        }

    def plain(self, slot: str) -> str:
        rng, fake = self.rng, self.fake
        when = fake.date_time_between(start_date=SINCE, end_date=UNTIL)
        plain: dict[str, Callable[[], str]] = {
            "order": lambda: rng.choice((f"{rng.randrange(10**5, 10**8)}", f"#{rng.randrange(10**4, 10**6)}")),
            "small": lambda: str(rng.randrange(2, 40)),
            "date": lambda: rng.choice(
                (when.strftime("%d.%m.%Y"), when.strftime("%Y-%m-%d"), when.strftime("%d/%m/%Y"))
            ),
            "time": lambda: when.strftime("%H:%M"),
            "year": lambda: str(when.year),
            "d3": lambda: str(rng.randrange(100, 1000)),
            "d5": lambda: str(rng.randrange(10**4, 10**5)),
            "iso": lambda: when.isoformat(timespec="seconds") + "Z",
            "city": fake.city,
        }
        return plain[slot]()


def fill(template: str, filler: _Filler, locale: str, source: str = "faker") -> Doc:
    """`template` with each slot filled and each labelled value's span recorded."""
    parts: list[str] = []
    spans: list[Span] = []
    size = 0
    last = 0
    for match in _SLOT.finditer(template):
        literal = template[last : match.start()]
        parts.append(literal)
        size += len(literal)
        slot = match.group(1)
        if slot == "PHONE_NOWORD":
            value = filler.labelled["PHONE"](template)
            bare = value.isdigit() and not value.startswith("0")
            spans.append(Span("PHONE_BARE" if bare else "PHONE", size, size + len(value), value))
        elif slot in filler.labelled:
            value = filler.labelled[slot](template)
            spans.append(Span(slot, size, size + len(value), value))
        else:
            value = filler.plain(slot)
        parts.append(value)
        size += len(value)
        last = match.end()
    parts.append(template[last:])
    return Doc("".join(parts), tuple(spans), locale, source)


def faker_docs(seeds: tuple[int, ...], per_locale: int = 120) -> list[Doc]:
    """Per seed and locale: `per_locale` contact documents, a third as many payment and technical
    ones, and (en_US) SSN documents; every template of the locale's language is used in turn."""
    docs: list[Doc] = []
    for seed in seeds:
        for index, locale in enumerate(LOCALES):
            rng = random.Random(f"{seed}:{locale}")
            fake = Faker(locale)
            fake.seed_instance(seed * 100 + index)
            filler = _Filler(fake, locale, rng)
            lang = language(locale)
            own = templates.CONTACT[lang]
            docs += [fill(own[i % len(own)], filler, locale) for i in range(per_locale)]
            payment = templates.PAYMENT[lang] + templates.PAYMENT["en"]
            docs += [fill(rng.choice(payment), filler, locale) for _ in range(per_locale // 3)]
            docs += [fill(rng.choice(templates.TECHNICAL), filler, locale) for _ in range(per_locale // 3)]
            if locale == "en_US":
                docs += [fill(rng.choice(templates.SSN), filler, locale) for _ in range(per_locale // 2)]
    return docs


def hard_docs(path: Path = HARD_CASES) -> tuple[list[Doc], list[Doc]]:
    """The hand-written cases: (texts with labelled PII, PII-free texts). A case lists its values in
    order; each is located after the previous one, so a repeated value gets its own span."""
    cases = yaml.safe_load(path.read_text(encoding="utf-8"))
    labelled: list[Doc] = []
    clean: list[Doc] = []
    for case in cases["pii"]:
        text, spans, at = case["text"], [], 0
        for item in case["values"]:
            ((kind, value),) = item.items()
            start = text.index(value, at)
            spans.append(Span(kind, start, start + len(value), value))
            at = start + len(value)
        labelled.append(Doc(text, tuple(spans), case.get("locale", "en_US"), "hard"))
    for case in cases["clean"]:
        clean.append(Doc(case["text"], (), case.get("locale", "en_US"), "hard"))
    return labelled, clean
