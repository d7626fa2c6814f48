"""Text normalisation for the local fuzzy search: Unicode folding, word splitting, stop words, plural folding."""

from __future__ import annotations

import re
import unicodedata

# Words that carry no product meaning in a search box; never indexed, dropped from queries.
_STOPWORDS = frozenset(
    {
        *("a", "an", "the", "and", "or", "of", "for", "with", "in", "on", "at", "to", "by", "from", "as"),
        *("is", "are", "be", "it", "its", "this", "that", "these", "those", "my", "me", "i", "we", "you"),
        *("your", "our", "some", "any", "need", "want", "looking", "look", "find", "show", "buy", "get"),
        *("please", "something", "anything"),
    }
)
_FOLD = str.maketrans({"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "\u0131": "i"})
_APOSTROPHES = str.maketrans("", "", "'\u2019`")  # "men's" -> "mens", one word
_WORD = re.compile(r"[^\W_]+(?:-[^\W_]+)*")  # hyphenated words whole, split by `_unhyphen`


def normalize(text: str) -> str:
    """Casefolded, accents stripped (NFKD), ligature-like letters spelled out, apostrophes removed."""
    if not text.isascii():
        text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return text.casefold().translate(_FOLD).translate(_APOSTROPHES)


def words(text: str) -> list[str]:
    """The normalised words of `text`, in order, stop words included."""
    found: list[str] = _WORD.findall(normalize(text))
    if "-" not in text:
        return found
    return [part for token in found for part in (_unhyphen(token) if "-" in token else (token,))]


def _unhyphen(token: str) -> list[str]:
    """One word when a side has one or two letters ("t-shirt", "e-bike", "wi-fi"), else its parts ("slim-fit")."""
    parts = token.split("-")
    if len(parts) == 2 and all(p.isalpha() for p in parts) and min(len(parts[0]), len(parts[1])) <= 2:
        return ["".join(parts)]
    return parts


def _stem(word: str) -> str:
    """Fold English plurals only: enough for "sofas"/"sofa", "boxes"/"box", "batteries"/"battery"."""
    if len(word) <= 3 or not word.endswith("s") or word.endswith(("ss", "us", "is")) or word[-2].isdigit():
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "ches", "shes", "xes", "zes")):
        return word[:-2]
    return word[:-1]


def keep_word(word: str) -> bool:
    return word not in _STOPWORDS and (len(word) > 1 or word.isdigit())


def extract_terms(text: str) -> list[str]:
    """What is indexed and searched: stems of the words that are not stop words or single letters."""
    return [_stem(w) for w in words(text) if keep_word(w)]
