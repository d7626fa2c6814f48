"""RE2 programs of the rule-based detector, built once from `lexicon`: linear in the text for any input.

RE2 (google-re2) never backtracks, so the bounded repetitions below (a name of up to four words, a
street of up to six) cost time linear in the text whatever it holds. Cue words match in any case;
the names and street names after them must be capitalised.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import re2  # type: ignore[import-untyped]

from aigw.context.pii.entities import lexicon

_MAX_MEM = 8 << 20  # bytes per program: the word lists make large alternations


def _options() -> Any:
    options = re2.Options()
    options.log_errors = False
    options.max_mem = _MAX_MEM
    return options


_OPTIONS = _options()


def compile_re2(pattern: str) -> Any:
    """The RE2 program for `pattern` (Python syntax subset RE2 accepts)."""
    return re2.compile(pattern, _OPTIONS)


def words(items: Iterable[str]) -> str:
    """An alternation of `items` (longest first, so "best regards" wins over "best"), escaped; inner
    spaces match any run of spaces or tabs."""
    ordered = sorted(set(items), key=lambda w: (-len(w), w))
    return "|".join(re.escape(item).replace(r"\ ", r"[ \t]+") for item in ordered)


# A word of a name: "Anna", "Müller-Lüdenscheidt", "O'Brien", "McDonald"; an initial "J." between words.
NAME_WORD = r"(?:\p{Lu}['\x{2019}])?\p{Lu}\p{Ll}[\p{L}'\x{2019}]{0,23}(?:-\p{Lu}\p{Ll}\p{L}{0,23})?"
_PARTICLE = r"(?:" + words(p for p in lexicon.PARTICLES if p != "e") + r")"
NAME = (
    rf"{NAME_WORD}(?:[ \t]+(?:(?:{_PARTICLE})[ \t]+){{0,2}}{NAME_WORD}|[ \t]+\p{{Lu}}\.(?:[ \t]*{NAME_WORD})?){{0,3}}"
)
_BEFORE = r"(?:^|[^\p{L}\p{N}_@.])"  # a cue starts a word (and is not inside an e-mail address)

_DOTTED_TITLES = frozenset({"m", "ing", "avv", "sig", "dott", "eng", "exmo", "exma", "fr", "hr"})
_TITLES = (
    r"(?:(?i:" + words(t for t in lexicon.TITLES if t not in _DOTTED_TITLES) + r")\.?"
    r"|(?i:" + words(_DOTTED_TITLES) + r")\.)"
)

# The title is masked with the name ("Mrs Katherine Murray" -> one PERSON): it is written as part of it.
TITLE = compile_re2(rf"{_BEFORE}({_TITLES}[ \t]+(?:{_TITLES}[ \t]+)?)({NAME})")
GREETING = compile_re2(rf"{_BEFORE}(?i:{words(lexicon.GREETINGS)})[ \t]*,?[ \t]+(?:{_TITLES}[ \t]+)?({NAME})")
# The sender's name after a sign-off: on the next line, or after a comma on the same one.
SIGN_OFF = compile_re2(
    rf"{_BEFORE}(?i:{words(lexicon.SIGN_OFFS)})"
    rf"(?:[ \t]*[,.!]?[ \t]*\r?\n(?:[ \t]*-{{1,2}})?[ \t]*|[ \t]*,[ \t]*)({NAME})"
)
FIELD = compile_re2(
    rf"(?:^|[\n|;(\t]|  )[ \t]*(?i:{words(lexicon.FIELD_LABELS)})[ \t]*[:=][ \t]*(?:{_TITLES}[ \t]+)?({NAME})"
)
# Introductions that are also ordinary phrases ("this is", "I am") need the name to start with a
# known given name; the others ("my name is") take any capitalised words.
_WEAK_INTROS = frozenset(
    {"this is", "i am", "i'm", "ich bin", "hier ist", "je suis", "sono", "soy", "ik ben", "met", "jestem", "jag är"}
    | {"sou", "spoke to", "spoke with", "talked to"}
)
ROLE = compile_re2(rf"{_BEFORE}(?i:{words(lexicon.ROLES)})[ \t]+({NAME}(?:,[ \t]+{NAME_WORD})?)")
INTRO = compile_re2(rf"{_BEFORE}(?i:({words(lexicon.INTRODUCTIONS)}))[ \t]+({NAME})")
WEAK_INTROS = frozenset(_WEAK_INTROS)
# A degree or generational suffix right after a name: "MBA.", "B.Sc.", ", Jr.", "II".
NAME_SUFFIX = compile_re2(rf"^(?:,?[ \t]+)((?i:{words(lexicon.NAME_SUFFIXES)})\.?)(?:$|[^\p{{L}}\p{{N}}])")
# "Surname, Given" as CRM exports, forms and tables write it: a name when the word after the comma is
# a known given name (or the model's), the surname not a cue or business word.
SURNAME_FIRST = compile_re2(rf"{_BEFORE}({NAME_WORD}),[ \t]+({NAME_WORD}(?:[ \t]+{NAME_WORD})?)")
# After a cued surname: ", Given" that ends the field ("Name: Burke, Katelyn", "| Hill, Sarah |").
GIVEN_AFTER = compile_re2(rf"^,[ \t]+({NAME_WORD})[ \t]*(?:$|[\r\n|,;(<])")
SURNAME_BEFORE = compile_re2(rf"(?:^|[^\p{{L}}\p{{N}}_@.])({NAME_WORD}),[ \t]+$")
# Runs of capitalised words anywhere: a name when one of them is a known given name and one follows it.
CAPITALISED_RUN = compile_re2(rf"{_BEFORE}({NAME})")
