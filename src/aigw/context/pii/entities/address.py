"""Postal addresses by rule: street lines, postcodes with their city, units, joined into one span.

An address is found as parts, each one RE2 scan (linear in the text): a street with its house
number in the order each language writes it ("12 Baker Street", "709, rue Lambert", "Via Roma 12",
"Hauptstraße 5", "ul. Długa 12/4", "Storgatan 5"), a postcode with its city ("10115 Berlin",
"1234 AB Amsterdam", "00-950 Warszawa", "123 45 Stockholm", "1234-567 Lisboa", "Springfield, IL
62704", "SW1A 1AA"), a unit ("Apt. 4", "Flat 79D"). Parts separated by no more than a comma or a
line break (or one line of capitalised words between two parts: a UK town) become one address, and
the whole of it is masked: a street left next to a masked postcode still says where someone lives.

A part is strong (a street with a house number, a postcode and city at the start of a line or after
a comma, a US "City, ST 12345") or weak (a street without number, a street whose word is also a
common English word such as "3 Key Points", a bare postcode, a unit). An address needs a strong
part, or two parts of which one is a street, so that "Main Street" or "Project Plan 2" alone stay.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aigw.context.pii.entities import lexicon
from aigw.context.pii.entities.patterns import compile_re2, words

_HOUSE = r"(?:[Ss]/[Nn]|\d{1,5}[a-zA-Z]?(?:[ \t]?[-/][ \t]?\d{1,5}[a-zA-Z]?)?(?:[ \t]?(?i:bis|ter))?)"
_UNIT = (
    rf"(?:,?[ \t]*(?i:{words(lexicon.UNITS)})[ \t]?\d{{1,5}}[a-zA-Z]?"
    r"|,?[ \t]*\d{1,2}[ºª°][ \t]?[A-Za-z0-9]?[ºª]?)"
)
_STREET_WORD = r"(?:\p{Lu}[\p{L}'\x{2019}.-]{0,30}|\d{1,3}(?:st|nd|rd|th))"
_LINKS = (
    r"(?i:de|del|de[ \t]+la|des|du|la|le|les|d['\x{2019}]|della|delle|dei|degli|di|da|das|dos|do|of|the|el|los|las|e|y)"
)
_CITY_WORD = r"\p{Lu}[\p{L}'\x{2019}-]{0,30}"
_CITY_LINK = r"(?i:de|di|del|sur|sous|am|an|der|im|in|la|le|les|en|upon|on|ob|bei|aan|den|op|y|d['\x{2019}]\p{L}+)"
_CITY = rf"{_CITY_WORD}(?:[ \t-]+(?:{_CITY_LINK}[ \t-]+)?{_CITY_WORD}){{0,4}}(?:[ \t]+\(\p{{Lu}}{{2}}\))?"

# Number first, street word last (English): "1234 Mary Circles Suite 567", "8 O'Brien Junctions".
_EN_STREET = compile_re2(
    rf"\b({_HOUSE}),?[ \t]+(?:{_STREET_WORD}[ \t]+){{1,4}}(?i:({words(lexicon.STREET_SUFFIXES)}))\b\.?(?:{_UNIT})?"
)
_EN_STREET_BARE = compile_re2(
    rf"(?:{_STREET_WORD}[ \t]+){{1,3}}(?i:({words(lexicon.STREET_SUFFIXES)}))\b\.?(?:{_UNIT})?"
)
# Street word first (Romance languages, Polish, Portuguese), the number before or after the name.
_DISTINCTIVE_PREFIXES = frozenset(
    {"rue", "boulevard", "chemin", "impasse", "allée", "quai", "calle", "avenida", "rua", "travessa", "ul.", "ulica"}
    | {"aleja", "viale", "piazza", "corso", "vicolo", "paseo", "alameda", "praça", "plac", "c/", "avda."}
)
_PREFIX_STREET = compile_re2(
    rf"(?:\b({_HOUSE}),?[ \t]+)?(?:^|\b|[ \t(])(?i:({words(lexicon.STREET_PREFIXES)}))\.?[ \t]+"
    rf"(?:(?:{_STREET_WORD}|{_LINKS})[ \t]+){{0,5}}{_STREET_WORD}"
    rf"(?:,?[ \t]*(?i:n[º°o]\.?[ \t]*)?({_HOUSE}))?(?:{_UNIT}){{0,2}}"
)
# One word ending in a street word (German, Dutch, Swedish), or that word after a name: "Hauptstraße 5",
# "Brigitte-Eimer-Ring 3-9", "Berliner Straße 10", "Kerkstraat 12", "Storgatan 5".
_COMPOUND_STREET = compile_re2(
    rf"(?:\p{{Lu}}[\p{{L}}'\x{2019}.-]{{0,30}}[ \t]+)?(?:\p{{Lu}}[\p{{L}}'\x{2019}-]{{0,40}})?"
    rf"(?i:({words(s for s in lexicon.COMPOUND_SUFFIXES if s != 'str.')})\b|(str\.))"
    rf"(?:[ \t]*,?[ \t]*({_HOUSE}))?(?:{_UNIT})?"
)
_POSTCODE = r"(?:[A-Z]{1,2}-)?(?:\d{5}|\d{3}[ \t]\d{2}|\d{4}[ \t]?[A-Z]{2}|\d{2}-\d{3}|\d{4}-\d{3})"
_POSTCODE_CITY = compile_re2(rf"\b{_POSTCODE},?[ \t]+{_CITY}")
# A street named without a street word, told by the postcode and city right after it: "Am Sandtorkai 41,
# 20457 Hamburg", "Herengracht 182\n1016 BR Amsterdam", "Drottninggatan 5, 111 51 Stockholm".
_NAMED_STREET_POSTCODE = compile_re2(
    rf"(?:(?:{_STREET_WORD}|{_LINKS})[ \t]+){{0,4}}{_STREET_WORD}[ \t]+{_HOUSE}(?:{_UNIT})?"
    rf"(?:[ \t]*,[ \t]*|[ \t]+|[ \t]*\r?\n[ \t]*)\b{_POSTCODE},?[ \t]+{_CITY}"
)
_CITY_POSTCODE = compile_re2(rf"{_CITY},?[ \t]+\d{{5}}\b")
_US_CITY_STATE_ZIP = compile_re2(rf"{_CITY},[ \t]+[A-Z]{{2}}[ \t]+\d{{5}}(?:-\d{{4}})?\b")
_MILITARY = compile_re2(r"\b(?:APO|FPO|DPO)[ \t]+A[AEP][ \t]+\d{5}\b")
_MILITARY_UNIT = compile_re2(
    r"\b(?:(?:USNS|USS|USNV|USCGC)[ \t]+\p{Lu}\p{L}+|(?:PSC|Unit)[ \t]+\d{4},?[ \t]+Box[ \t]+\d{4})"
)
_UK = r"[A-Z]{1,2}[0-9][A-Z0-9]?[ \t]?[0-9][A-Z]{2}\b"
_UK_POSTCODE = compile_re2(rf"(?:{_CITY},?[ \t]+)?\b{_UK}(?:[ \t]+{_CITY})?")
_BARE_POSTCODE = compile_re2(r"\b\d{4}[ \t]?[A-Z]{2}\b")
_UNIT_LINE = compile_re2(r"(?i:flat|apt\.?|apartment|suite|studio|unit|appartement|wohnung)[ \t]+\d{1,5}[A-Z]?\b")
_CITY_LINE = compile_re2(rf"^[ \t]*{_CITY}[ \t]*$")
_GAP = compile_re2(r"^[ \t]*[,;]?[ \t]*(?:\r?\n[ \t]*)?$")
_MAX_GAP = 8


@dataclass(slots=True)
class Part:
    start: int
    end: int
    strong: bool
    street: bool


def find_addresses(text: str) -> list[tuple[int, int]]:
    """Spans of whole addresses, in text order, not overlapping."""
    parts = sorted(_parts(text), key=lambda p: (p.start, -p.end))
    return [(c[0].start, _with_town(text, c[-1])) for c in _clusters(text, _union(parts)) if _is_address(c)]


def _with_town(text: str, last: Part) -> int:
    """Where the address ends: after the town on the next line when it ends with a bare postcode
    ("2860 OO\nZuidlaarderveen")."""
    if last.street or text[last.end : last.end + 1] != "\n":
        return last.end
    line_end = text.find("\n", last.end + 1, last.end + 64)
    line_end = line_end if line_end >= 0 else min(len(text), last.end + 64)
    line = text[last.end + 1 : line_end]
    if line.strip() and _CITY_LINE.search(line) is not None:
        return last.end + 1 + len(line.rstrip())
    return last.end


def _parts(text: str) -> list[Part]:
    parts: list[Part] = []
    for m in _EN_STREET.finditer(text):
        parts.append(_part(m.span(), strong=m.group(2).lower() not in lexicon.WEAK_STREET_SUFFIXES, street=True))
    parts += [_part(m.span(), strong=False, street=True) for m in _EN_STREET_BARE.finditer(text)]
    for m in _PREFIX_STREET.finditer(text):
        if m.group(1) is not None and m.start(1) > 0 and text[m.start(1) - 1] in ":.,":
            continue  # "14:30 via DHL": the number is a time or a decimal, not a house
        word = m.group(2).lower()
        numbered = m.group(3) is not None or (m.group(1) is not None and word != "via")
        distinctive = word in _DISTINCTIVE_PREFIXES
        parts.append(_part(_span_from_number_or_word(m), strong=numbered or distinctive, street=True))
    for m in _COMPOUND_STREET.finditer(text):
        suffix = (m.group(1) or m.group(2)).lower()
        strong = m.group(3) is not None and (suffix not in lexicon.WEAK_COMPOUND_SUFFIXES or "-" in m.group(0))
        parts.append(_part(m.span(), strong=strong, street=True))
    parts += [_part(m.span(), strong=True, street=True) for m in _NAMED_STREET_POSTCODE.finditer(text)]
    for m in _POSTCODE_CITY.finditer(text):
        parts.append(_part(m.span(), strong=_starts_line_or_item(text, m.start()), street=False))
    parts += [_part(m.span(), strong=True, street=False) for m in _US_CITY_STATE_ZIP.finditer(text)]
    parts += [_part(m.span(), strong=True, street=False) for m in _MILITARY.finditer(text)]
    parts += [_part(m.span(), strong=True, street=False) for m in _UK_POSTCODE.finditer(text)]
    for weak in (_CITY_POSTCODE, _MILITARY_UNIT, _BARE_POSTCODE, _UNIT_LINE):
        parts += [_part(m.span(), strong=False, street=weak is _MILITARY_UNIT) for m in weak.finditer(text)]
    return parts


def _part(span: tuple[int, int], *, strong: bool, street: bool) -> Part:
    return Part(span[0], span[1], strong, street)


def _span_from_number_or_word(match: Any) -> tuple[int, int]:
    """The prefix pattern may consume the character before the street word: start at the number or word."""
    start = match.start(1) if match.group(1) is not None else match.start(2)
    return start, match.end()


def _starts_line_or_item(text: str, start: int) -> bool:
    before = text[max(0, start - 3) : start].rstrip(" \t")
    return not before or before[-1] in "\n,;:"


def _union(parts: list[Part]) -> list[Part]:
    """Overlapping parts joined (strong if either is; a street if either is), in text order."""
    out: list[Part] = []
    for part in parts:
        if out and part.start < out[-1].end:
            last = out[-1]
            last.end = max(last.end, part.end)
            last.strong = last.strong or part.strong
            last.street = last.street or part.street
        else:
            out.append(Part(part.start, part.end, part.strong, part.street))
    return out


def _clusters(text: str, parts: list[Part]) -> list[list[Part]]:
    clusters: list[list[Part]] = []
    for part in parts:
        if clusters and _joins(text, clusters[-1][-1].end, part.start):
            clusters[-1].append(part)
        else:
            clusters.append([part])
    return clusters


def _joins(text: str, end: int, start: int) -> bool:
    """Only a comma or one line break between two parts, or one line of capitalised words (a town)."""
    gap = text[end:start]
    if len(gap) <= _MAX_GAP and _GAP.search(gap) is not None:
        return True
    lines = gap.split("\n")
    return len(lines) == 3 and len(gap) <= 64 and _CITY_LINE.search(lines[1]) is not None and not lines[2].strip()


def _is_address(cluster: list[Part]) -> bool:
    return any(p.strong for p in cluster) or (len(cluster) >= 2 and any(p.street for p in cluster))
