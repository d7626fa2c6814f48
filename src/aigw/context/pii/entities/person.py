"""Person names by rule: the capitalised words after a title, a greeting, a sign-off, a form label or
an introduction, and runs of capitalised words that start with a known given name.

Each rule is one RE2 scan (`patterns`), then a check per match that costs a few set look-ups per
word: linear in the text. What no cue points at and no given name starts is left to the model.
"""

from __future__ import annotations

from typing import Any

from aigw.context.pii.entities import patterns
from aigw.context.pii.entities.lexicon import (
    BUSINESS_WORDS,
    FIRST_NAMES,
    GREETINGS,
    NOT_NAMES,
    PARTICLES,
    ROLES,
    SIGN_OFFS,
    TITLES,
)
from aigw.context.pii.entities.model import MODEL

Span = tuple[int, int]
_GREETING_WORDS = frozenset(GREETINGS)
_GREETING_LOOKBACK = 24  # characters before an introduction searched for a greeting
_SURNAME_LOOKBACK = 40  # characters before a model's name searched for "Surname, ": bounded, so linear
_PARTICLES = frozenset(PARTICLES)
# Words that are never a name's first or last word: cue words, and a title before the name.
_NOT_EDGES = (
    NOT_NAMES
    | frozenset(w for phrase in (*GREETINGS, *SIGN_OFFS) for w in phrase.split())
    | frozenset(w for phrase in ROLES for w in phrase.split() if len(w) > 2)  # not "la", "el": names start so
    | frozenset(TITLES)
)


def find_persons(text: str) -> list[Span]:
    """Spans of person names found by the rules, in no particular order (they may overlap)."""
    spans: list[Span] = []
    for match in patterns.TITLE.finditer(text):
        spans.extend((match.start(1), end) for _, end in _checked(match, 2, strong=True))
    for program in (patterns.GREETING, patterns.FIELD):
        spans.extend(_cued(program, text, strong=True))
    for match in patterns.SIGN_OFF.finditer(text):
        # After a comma on the same line ("Thanks, great work") the words must look like a name.
        same_line = "\n" not in text[match.start() : match.start(1)]
        spans.extend(_checked(match, 1, strong=not same_line))
    for match in patterns.INTRO.finditer(text):
        weak = " ".join(match.group(1).lower().split()) in patterns.WEAK_INTROS and not _after_greeting(
            text, match.start(1)
        )
        spans.extend(_checked(match, 2, strong=not weak))
    for match in patterns.ROLE.finditer(text):
        spans.extend(span for span in _checked(match, 1, strong=True) if " " in text[span[0] : span[1]])
    for match in patterns.CAPITALISED_RUN.finditer(text):
        spans.extend(_given_name_run(text, *match.span(1)))
    for match in patterns.SURNAME_FIRST.finditer(text):
        if match.group(2).split()[0].lower() in FIRST_NAMES and _may_be_a_surname(match.group(1)):
            spans.append((match.start(1), match.end(2)))
    return spans


def _after_greeting(text: str, start: int) -> bool:
    """Whether a greeting opens the sentence right before `start` ("Hola, soy …", "Hallo, hier ist …"):
    then "soy", "this is" introduce the writer, not any capitalised word."""
    before = text[max(0, start - _GREETING_LOOKBACK) : start].lower()
    words = before.replace(",", " ").replace("!", " ").split()
    return bool(words) and (words[-1] in _GREETING_WORDS or " ".join(words[-2:]) in _GREETING_WORDS)


def with_suffix(text: str, start: int, end: int) -> int:
    """Where the name at `start:end` ends, counting a degree or generational suffix written after it
    ("B.Sc.", "II"), also one the name's last word began ("Susan Liebelt B." of "B.A.")."""
    last_space = text.rfind(" ", start, end)
    for at in (end, last_space) if last_space > start else (end,):
        found = patterns.NAME_SUFFIX.search(text[at : at + 16])
        if found is not None:
            suffix_end = at + int(found.end(1))
            if suffix_end > end:
                return suffix_end
    return end


def model_persons(text: str) -> list[Span]:
    """The model's persons, less what is not a name in them: cue words ("Hola María" -> "María"), a
    possessive "'s", and spans without a capitalised word (the model reads lower-case chat too)."""
    spans: list[Span] = []
    for start, end in MODEL.persons(text):
        if text.endswith(("'s", "\u2019s"), start, end):
            end -= 2
        for span in _trimmed(text, start, end, strong=True):
            if _looks_like_a_name(text[span[0] : span[1]].split()):
                spans.append((_with_surname_before(text, span[0]), span[1]))
    return spans


def _with_surname_before(text: str, start: int) -> int:
    """Where a name the model found starts, counting a "Surname, " written before it ("Spence, Jean")."""
    before = text[max(0, start - _SURNAME_LOOKBACK) : start]
    match = patterns.SURNAME_BEFORE.search(before)
    if match is None or not _may_be_a_surname(match.group(1)):
        return start
    return start - len(before) + int(match.start(1))


def _may_be_a_surname(word: str) -> bool:
    lowered = word.lower()
    return lowered not in _NOT_EDGES and lowered not in BUSINESS_WORDS and lowered not in _PARTICLES


def _looks_like_a_name(words: list[str]) -> bool:
    """Two or more capitalised words, no acronym ("Download PDF") and no product word ("Apple Pay"); or
    one known given name. The small English model labels single capitalised words of other
    languages ("Lisboa", "Kvartalsrapporten") as persons."""
    if len(words) == 1:
        return words[0].lower() in FIRST_NAMES
    if any(w.isupper() and len(w) > 1 for w in words) or any(w.lower() in BUSINESS_WORDS for w in words):
        return False
    return all(w[:1].isupper() or w.lower() in PARTICLES for w in words)


def _cued(program: Any, text: str, *, strong: bool) -> list[Span]:
    return [span for match in program.finditer(text) for span in _checked(match, 1, strong=strong)]


def _checked(match: Any, group: int, *, strong: bool) -> list[Span]:
    """The name in `group`, less the words at its start that are not names ("Hi team", "Dear
    customer"), with a ", Given" that ends the field after a lone surname; a weak cue also needs a
    known given name first."""
    start, end = match.span(group)
    text = match.string
    spans = _trimmed(text, start, end, strong=strong)
    return [(s, e if " " in text[s:e] else _with_given_after(text, e)) for s, e in spans]


def _with_given_after(text: str, end: int) -> int:
    """Where a cued name ends, counting a ", Given" that closes its field ("Name: Burke, Katelyn")."""
    found = patterns.GIVEN_AFTER.search(text[end : end + _SURNAME_LOOKBACK])
    if found is None or not _may_be_a_surname(found.group(1)):
        return end
    return end + int(found.end(1))


def _trimmed(text: str, start: int, end: int, *, strong: bool) -> list[Span]:
    words = _words(text, start, end)
    while words and text[words[0][0] : words[0][1]].lower().rstrip(".,") in _NOT_EDGES:
        words.pop(0)
    while words and text[words[-1][0] : words[-1][1]].lower().rstrip(".,") in _NOT_EDGES | _PARTICLES:
        words.pop()
    if not words:
        return []
    first = text[words[0][0] : words[0][1]].lower()
    if not strong and first not in FIRST_NAMES:
        return []
    return [(words[0][0], words[-1][1])]


def _given_name_run(text: str, start: int, end: int) -> list[Span]:
    """From the first known given name in a run of capitalised words to the run's end, when at least
    one more name word follows it ("Please ask Anna Kowalska" -> "Anna Kowalska")."""
    words = _words(text, start, end)
    others = 0  # words before the given name that are not cue words: one ("Ask Anna Smith") at most
    for i, (w_start, w_end) in enumerate(words):
        word = text[w_start:w_end].lower()
        if word in FIRST_NAMES:
            rest = [w for w in words[i + 1 :] if text[w[0] : w[1]].lower() not in NOT_NAMES]
            if rest and text[rest[0][0] : rest[0][1]].lower() not in _PARTICLES:
                return [(w_start, rest[-1][1])]
            return []
        if word not in NOT_NAMES and word not in _PARTICLES:
            others += 1
            if others > 1:
                return []  # "Acme Cloud Anna Edition" is a title or a brand
    return []


def _words(text: str, start: int, end: int) -> list[Span]:
    """The space-separated words of `text[start:end]` as spans."""
    out: list[Span] = []
    pos = start
    for part in text[start:end].split():
        at = text.index(part, pos, end)
        out.append((at, at + len(part)))
        pos = at + len(part)
    return out
