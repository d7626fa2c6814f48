"""PII detection and masking for outgoing requests: pure Python, no I/O.

Speed: about 0.11 ms per KiB of prompt text (p50; p95 about 0.16-0.17 at 4 KiB,
`scripts/benchlib/pii_scan.py`, 0.14-0.15 before the phone shapes and words); plain prose
without numbers about 0.04; contact data dense in
numbers (`make eval-pii`) about 0.37 (p95 0.6). The cost per KiB is bounded for any input, not just typical
text: every pattern is bounded and linear, the scanner proposes a candidate only where a kind can
match, and judging runs of digits (windows, libphonenumber) is paid from a per-request
`WorkBudget` (`budget`). The adversarial shapes of `tests/unit/test_pii_worst_case.py` (`1.5 1.5 …`,
`sk-sk-…`, `DE12 DE12 …`, `::+::+…` and 40 more) cost 0.1-1.0 ms per KiB, at most ~8 times prose.
Past the budget, a run of 8+ digits that would have needed parsing is masked as a PHONE: the
fail-safe masks more, never less.

Detected (structured data, validated, not just pattern-matched):

* EMAIL — addresses (`git@host` SSH remotes excepted);
* PHONE — by shape, valid by the numbering plan or not (`+` and 7-15 digits, `00…` with separators,
  an area code in parentheses, a trunk `0` with separators or 9-12 digits, digit groups a phone has),
  by a phone word nearby in ten languages or a table column headed "Phone" (then any 7-15 digit
  run), else valid in one of `DEFAULT_REGIONS` (libphonenumber). An identifier's word right before
  ("order", "Rechnung", "pedido" …), a currency after, a date or time inside veto it (`phones`,
  `phone_shapes`, `phone_context`). Bare digit runs with no `0`, `+`, separator or phone word are
  left alone: they are order and account numbers as often;
* CARD — 13-19 digits (12 for Maestro), spaces or dashes allowed, card-network first digit, Luhn;
* IBAN — country format and mod-97 checksum (python-stdnum);
* SSN — US, `123-45-6789` or `123 45 6789`, area not 000/666/9xx, group not 00, serial not 0000;
* IPV4 / IPV6 — valid addresses (`ipaddress`). Decision: a dotted quad with every octet ≤ 255
  *is* an IPv4 address even when it could be a four-part version, unless the word "version",
  "ver", "release", "build" or "v" stands right before it; three-part versions are never addresses.
  IPv6 needs some substance (`fe80::1` yes; `::1` and `1::2`, a slice in code, no);
* SECRET — OpenAI `sk-…`/`sk-proj-…`, AWS access key ids `AKIA…`/`ASIA…` and 40-character secret
  keys near "aws"/"secret", GitHub `ghp_/gho_/ghs_/ghu_/ghr_/github_pat_`, Slack `xox[abprs]-`,
  Google `AIza…`, Stripe `sk_/rk_live_/test_`, JWTs, `Bearer …` tokens, PEM private-key blocks and
  literal values of `password=…` / `api_key: …` style assignments (code, types and templates
  such as `password=get_password()`, `api_key: str`, `${API_KEY}` are left alone).

Opt-in (`AI_PII_ENTITIES=all`, a key's or the policy's `pii_entities`): PERSON and ADDRESS, found by
`entities` (spaCy's small English NER where the `pii-names` extra is installed, RE2 rules in nine
languages everywhere), merged below every structured type. Off by default: they cost ~2 ms per KiB
with the rules alone and ~15-20 more with the model (provisional, busy 2-core VM), 20-200 times the
structured scan, and recall is ~0.9, not ~0.99 (see `entities`).

Overlaps are resolved deterministically: SECRET > CARD > IBAN > SSN > EMAIL > PHONE > IPV6 > IPV4,
then the longer finding, then the earlier one.

Use: one `Masker` per request; `apply_to_chat` / `apply_to_inputs` / `apply_to_params` apply a
`PIIMode` to the request's messages, embeddings input and text-carrying parameters;
`Masker.restore` or `Masker.stream_restorer()` put the originals back into the answer.
"""

from aigw.context.pii.detector import DEFAULT_DETECTOR, PIIDetector, detect
from aigw.context.pii.findings import Finding, PIIType
from aigw.context.pii.masker import PLACEHOLDER, Masker, StreamRestorer
from aigw.context.pii.phones import DEFAULT_REGIONS
from aigw.context.pii.policy import (
    PIIBlocked,
    PIIMode,
    apply_to_chat,
    apply_to_inputs,
    apply_to_params,
    mask_json_text,
)

__all__ = [
    "DEFAULT_DETECTOR",
    "DEFAULT_REGIONS",
    "PLACEHOLDER",
    "Finding",
    "Masker",
    "PIIBlocked",
    "PIIDetector",
    "PIIMode",
    "PIIType",
    "StreamRestorer",
    "apply_to_chat",
    "apply_to_inputs",
    "apply_to_params",
    "detect",
    "mask_json_text",
]
