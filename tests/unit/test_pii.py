"""context/pii: detection (recall on Faker data, false positives on PII-free prompts), masking,
restoring (also streamed), policy modes and the OpenAI request shapes they apply to."""

from __future__ import annotations

import copy
import json
import random
from collections import Counter
from typing import Any

import pytest

import aigw.context.pii as pii
from aigw.context.pii import (
    Finding,
    Masker,
    PIIBlocked,
    PIIDetector,
    PIIMode,
    PIIType,
    apply_to_chat,
    apply_to_inputs,
    detect,
    mask_json_text,
)
from aigw.context.pii.findings import STRUCTURED_TYPES, resolve_overlaps
from aigw.context.pii.patterns import PATTERNS, SCANNER
from aigw.errors import InvalidRequestError

from .pii_corpus import LOCALES, Sample, clean_texts, phone_rejects, pii_samples, secret_value

RECALL_BOUND = 0.99
FPR_BOUND = 0.01
EXACT_SPAN_BOUND = 0.99


@pytest.fixture(scope="module")
def samples() -> list[Sample]:
    return pii_samples(per_type=60, seed=1234)


@pytest.fixture(scope="module")
def clean() -> list[str]:
    return clean_texts(count=1000, seed=4321)


def _spans(sample: Sample) -> list[tuple[PIIType, str, int, int]]:
    out = []
    for kind, value in sample.values:
        start = sample.text.index(value)
        out.append((kind, value, start, start + len(value)))
    return out


def _recall(samples: list[Sample]) -> tuple[Counter[PIIType], Counter[PIIType], Counter[PIIType], list[str]]:
    hits: Counter[PIIType] = Counter()
    exact: Counter[PIIType] = Counter()
    total: Counter[PIIType] = Counter()
    misses: list[str] = []
    for sample in samples:
        findings = detect(sample.text)
        for kind, value, start, end in _spans(sample):
            total[kind] += 1
            covering = [f for f in findings if f.type is kind and f.start <= start and f.end >= end]
            if covering:
                hits[kind] += 1
                exact[kind] += covering[0].start == start and covering[0].end == end
            else:
                misses.append(f"{kind.value} {sample.locale} {value!r} in {sample.text[:120]!r}")
    return hits, exact, total, misses


# --- recall and false positives -------------------------------------------------------------------


def test_recall_per_type_is_at_least_99_percent(samples: list[Sample]) -> None:
    hits, _, total, misses = _recall(samples)
    assert set(total) == set(STRUCTURED_TYPES), "every structured type is in the corpus"
    for kind in STRUCTURED_TYPES:
        assert total[kind] >= 500, f"{kind.value}: only {total[kind]} samples"
        recall = hits[kind] / total[kind]
        print(f"recall {kind.value}: {hits[kind]}/{total[kind]} = {recall:.4f}")
        assert recall >= RECALL_BOUND, (
            f"{kind.value} recall {recall:.4f} < {RECALL_BOUND} ({total[kind] - hits[kind]} missed): "
            + "; ".join(m for m in misses if m.startswith(kind.value))[:2000]
        )


def test_findings_cover_exactly_the_value(samples: list[Sample]) -> None:
    hits, exact, _, _ = _recall(samples)
    for kind in STRUCTURED_TYPES:
        share = exact[kind] / hits[kind]
        assert share >= EXACT_SPAN_BOUND, (
            f"{kind.value}: only {share:.4f} of findings are exact (bound {EXACT_SPAN_BOUND})"
        )


@pytest.mark.parametrize("locale", list(LOCALES))
def test_phone_recall_per_locale(samples: list[Sample], locale: str) -> None:
    hits, _, total, misses = _recall([s for s in samples if s.locale == locale])
    recall = hits[PIIType.PHONE] / total[PIIType.PHONE]
    assert recall >= RECALL_BOUND, f"{locale} phone recall {recall:.4f} < {RECALL_BOUND}: {misses[:5]}"


def test_false_positive_rate_on_pii_free_prompts_is_at_most_1_percent(clean: list[str]) -> None:
    assert len(clean) >= 500
    flagged = [(text, found) for text in clean if (found := detect(text))]
    rate = len(flagged) / len(clean)
    print(f"false-positive rate: {len(flagged)}/{len(clean)} = {rate:.4f}")
    examples = "; ".join(f"{[(f.type.value, f.value) for f in found]} in {text[:100]!r}" for text, found in flagged[:5])
    assert rate <= FPR_BOUND, f"false-positive rate {rate:.4f} > {FPR_BOUND}: {examples}"


def test_many_faker_numbers_libphonenumber_rejects_are_still_caught() -> None:
    """Not a requirement (they are left out of the recall corpus), a guard against regressions."""
    caught = total = 0
    for locale in ("en_US", "nl_NL", "de_DE"):
        for value in phone_rejects(locale, count=300):
            total += 1
            caught += any(f.type is PIIType.PHONE for f in detect(f"Call me on {value} today."))
    assert caught / total >= 0.7, f"{caught}/{total}"


def test_scanner_proposes_every_position_where_a_kind_matches(samples: list[Sample], clean: list[str]) -> None:
    """SCANNER must be a relaxation of the exact patterns, or detection would silently miss things."""
    texts = (
        [s.text for s in samples[::8]]
        + clean[::10]
        + [
            "x ::ffff:192.0.2.1 (+44) 20 7946 0958 ((212)) 555-0143 a@b.co sk_test_" + "a1" * 10,
        ]
    )
    for text in texts:
        padded = " " + text
        for position in range(1, len(padded)):
            if padded[position - 1].isascii() and (padded[position - 1].isalnum() or padded[position - 1] == "_"):
                continue
            for name, pattern in PATTERNS:
                if pattern.match(padded, position):
                    assert SCANNER.match(padded, position - 1), f"{name} at {position} in {text[:80]!r}"


# --- per type ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("mail alice.smith+billing@example.co.uk today", PIIType.EMAIL, "alice.smith+billing@example.co.uk"),
        ("Ruf an: +49 30 901820", PIIType.PHONE, "+49 30 901820"),
        ("call (212) 555-0143 ext. 12 now", PIIType.PHONE, "(212) 555-0143 ext. 12"),
        ("my number is 020 7946 0958", PIIType.PHONE, "020 7946 0958"),
        ("from abroad dial 0044 20 7946 0958", PIIType.PHONE, "0044 20 7946 0958"),
        ("mobile 3420837783", PIIType.PHONE, "3420837783"),
        ("Tel.: 06 12 34 56 78", PIIType.PHONE, "06 12 34 56 78"),
        ("電話080-1234-5678です", PIIType.PHONE, "080-1234-5678"),
        ("card 4111 1111 1111 1111 exp 12/26", PIIType.CARD, "4111 1111 1111 1111"),
        ("card 4111-1111-1111-1111", PIIType.CARD, "4111-1111-1111-1111"),
        ("amex 3782 822463 10005 please", PIIType.CARD, "3782 822463 10005"),
        ("paid with 5555555555554444.", PIIType.CARD, "5555555555554444"),
        ("IBAN DE89 3704 0044 0532 0130 00 NOW", PIIType.IBAN, "DE89 3704 0044 0532 0130 00"),
        ("to GB82WEST12345698765432", PIIType.IBAN, "GB82WEST12345698765432"),
        ("SSN 123-45-6789", PIIType.SSN, "123-45-6789"),
        ("ssn 123 45 6789", PIIType.SSN, "123 45 6789"),
        ("host 192.168.1.10:8080", PIIType.IPV4, "192.168.1.10"),
        ("see http://10.0.0.1/health", PIIType.IPV4, "10.0.0.1"),
        ("v6 2001:db8::8a2e:370:7334 up", PIIType.IPV6, "2001:db8::8a2e:370:7334"),
        ("link-local fe80::1 only", PIIType.IPV6, "fe80::1"),
        ("mapped ::ffff:192.0.2.128 here", PIIType.IPV6, "::ffff:192.0.2.128"),
    ],
)
def test_detects(text: str, kind: PIIType, value: str) -> None:
    assert [(f.type, f.value) for f in detect(text)] == [(kind, value)]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("key sk-abc123DEF456ghi789JKL012mno345PQR", "sk-abc123DEF456ghi789JKL012mno345PQR"),
        ("sk-proj-Ab3_dE-f6Gh9jK2lM5nP8qR1sT4uV7wX0yZ", "sk-proj-Ab3_dE-f6Gh9jK2lM5nP8qR1sT4uV7wX0yZ"),
        ("AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE"),
        ("aws secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY ok", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        ("token ghp_16C7e42F292c6912E7710c838347Ae178B4a", "ghp_16C7e42F292c6912E7710c838347Ae178B4a"),
        (
            "xoxb-123456789012-123456789012-AbCdEfGhIjKlMnOpQrStUvWx",
            "xoxb-123456789012-123456789012-AbCdEfGhIjKlMnOpQrStUvWx",
        ),
        ("AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW", "AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW"),
        ("stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc", "sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
        ("Authorization: Bearer abcDEF123456ghiJKL789", "abcDEF123456ghiJKL789"),
        ("password=hunter22", "hunter22"),
        ('{"api_key": "a1b2c3d4e5f6g7h8"}', "a1b2c3d4e5f6g7h8"),
        ("DB_PASSWORD: 'correct horse'", "correct horse"),
        ("login(password=s3cr3t!)", "s3cr3t!"),
    ],
)
def test_detects_secrets(text: str, value: str) -> None:
    assert [(f.type, f.value) for f in detect(text)] == [(PIIType.SECRET, value)]


def test_detects_jwt_and_pem_blocks_also_unterminated() -> None:
    rng = random.Random(5)
    jwt = secret_value("jwt", rng)
    pem = secret_value("pem", rng)
    assert [f.value for f in detect(f"token {jwt} expired")] == [jwt]
    assert [f.value for f in detect(f"key:\n{pem}\nthanks")] == [pem]
    truncated = pem.split("-----END")[0]
    assert [f.value for f in detect("key:\n" + truncated)] == [truncated]


@pytest.mark.parametrize(
    "text",
    [
        "Where is my order ORD-2024-118823?",
        "order #118823 and invoice INV-2024-00042",
        "due 2024-11-25, 25/11/2024 or 11.25.2024 at 14:30:59",
        "it costs $1,299.99 or 1.299,99 €",
        "upgrade to 1.2.3, v1.2.3.4 or version 1.2.3.4",
        "request 550e8400-e29b-41d4-a716-446655440000 failed",
        "commit 9f2c1e7a3b4d5e6f708192a3b4c5d6e7f8091a2b (9f2c1e7)",
        "colour #ff00aa and #1A2B3C",
        "ISBN 978-3-16-148410-0 and 0-306-40615-2",
        "tracking 1Z999AA10123456784, 9400 1000 0000 0000 0000 01 and 7489 0682 8836",
        "x = arr[1::2]; std::vector<int> v; t = 12:30:45",
        "SSN 000-12-3456, 666-12-3456, 912-12-3456, 123-00-4567 and 123-45-0000 are never issued",
        "card 4111 1111 1111 1112 fails Luhn",
        "256.1.1.1 and 01.02.03.04 are not addresses",
        "password = request.form['password']; api_key=os.environ['OPENAI_API_KEY']; token = get_token()",
        "def login(username: str, password: str) -> bool: ...",
        "password: ${DB_PASSWORD} and api_key: <your-api-key> and max_tokens=4096",
        "git clone git@github.com:acme/app.git",
        "Please reset my password: the old one expired",
        "id 1199284462912327680 and created_ms 1700000000000",
        "John Smith met Jane Doe in Berlin",  # names are not detected (documented)
        "sk-learn-pipeline-tutorial-for-beginners",
    ],
)
def test_no_false_positive(text: str) -> None:
    assert detect(text) == []


def test_dotted_quad_is_an_address_unless_called_a_version() -> None:
    assert [f.value for f in detect("server 1.2.3.4 is down")] == ["1.2.3.4"]
    assert detect("we ship version 1.2.3.4 today") == []
    assert detect("build 1.2.3.4") == []


def test_findings_do_not_start_inside_json_escapes() -> None:
    raw = json.dumps({"log": "user:\nbob@example.com\nkey\nAKIAIOSFODNN7EXAMPLE\tpassword=hunter22"})
    found = detect(raw)
    assert [(f.type, f.value) for f in found] == [
        (PIIType.EMAIL, "bob@example.com"),
        (PIIType.SECRET, "AKIAIOSFODNN7EXAMPLE"),
        (PIIType.SECRET, "hunter22"),
    ]
    masked = Masker().mask(raw)
    assert json.loads(masked)["log"].count("<") == 3


def test_detector_can_be_limited_to_types_and_regions() -> None:
    text = "mail bob@example.com, 512 345 678"  # no phone word: the numbering plan decides
    assert [f.type for f in PIIDetector(types=[PIIType.EMAIL]).detect(text)] == [PIIType.EMAIL]
    assert [f.type for f in PIIDetector(regions=["PL"]).detect(text)] == [PIIType.EMAIL, PIIType.PHONE]
    assert [f.type for f in PIIDetector(regions=["GB"]).detect(text)] == [PIIType.EMAIL]


def test_overlaps_resolve_by_type_then_length_then_position() -> None:
    card = Finding(PIIType.CARD, 0, 16, "x" * 16)
    phone = Finding(PIIType.PHONE, 0, 16, "x" * 16)
    longer_phone = Finding(PIIType.PHONE, 4, 30, "x" * 26)
    secret = Finding(PIIType.SECRET, 10, 12, "xx")
    email = Finding(PIIType.EMAIL, 40, 50, "x" * 10)
    ipv4 = Finding(PIIType.IPV4, 45, 60, "x" * 15)
    findings = [card, phone, longer_phone, secret, email, ipv4]
    for seed in range(20):
        random.Random(seed).shuffle(findings)
        assert resolve_overlaps(list(findings)) == [secret, email]
    assert resolve_overlaps([phone, longer_phone]) == [longer_phone]
    assert resolve_overlaps([card, email]) == [card, email]


def test_secret_wins_over_what_it_contains() -> None:
    assert [(f.type, f.value) for f in detect("password=bob@example.com")] == [(PIIType.SECRET, "bob@example.com")]


# --- masking and restoring -----------------------------------------------------------------------


def test_placeholders_are_stable_per_value_and_type_within_a_masker() -> None:
    masker = Masker()
    first = masker.mask("Mail bob@example.com or alice@example.com, call +44 20 7946 0958.")
    second = masker.mask("Again: bob@example.com; phone +44 20 7946 0958; card 4111 1111 1111 1111")
    assert first == "Mail <EMAIL_1> or <EMAIL_2>, call <PHONE_1>."
    assert second == "Again: <EMAIL_1>; phone <PHONE_1>; card <CARD_1>"
    assert masker.counts() == {"EMAIL": 3, "PHONE": 2, "CARD": 1}
    assert masker.mapping == {
        "<EMAIL_1>": "bob@example.com",
        "<EMAIL_2>": "alice@example.com",
        "<PHONE_1>": "+44 20 7946 0958",
        "<CARD_1>": "4111 1111 1111 1111",
    }
    assert Masker().mask("alice@example.com") == "<EMAIL_1>", "a new masker starts again"


def test_counts_never_hold_values() -> None:
    masker = Masker()
    masker.mask("bob@example.com 123-45-6789")
    assert "bob@example.com" not in repr(masker.counts())
    assert masker.counts() == {"EMAIL": 1, "SSN": 1}


def test_text_without_pii_is_returned_unchanged() -> None:
    text = "Nothing to see: order ORD-2024-118823 on 2024-11-25."
    masker = Masker()
    assert masker.mask(text) is text
    assert masker.counts() == {}
    assert masker.restore(text) is text


def test_restore_puts_originals_back_and_leaves_unknown_placeholders(samples: list[Sample]) -> None:
    masker = Masker()
    for sample in samples:
        masked = masker.mask(sample.text)
        for _, value in sample.values:
            assert value not in masked
        assert masker.restore(masked) == sample.text
    assert masker.restore("<EMAIL_99999> and <NAME_1>") == "<EMAIL_99999> and <NAME_1>"


def _masked_answer() -> tuple[Masker, str, str]:
    masker = Masker()
    original = (
        "Dear bob@example.com, we called +44 20 7946 0958 and alice@example.org about card "
        "4111 1111 1111 1111. Reply to bob@example.com <3 or write a < b > c; IBAN DE89 3704 0044 0532 0130 00."
    )
    masked = masker.mask(original)
    assert masked.count("<") == 8
    return masker, original, masked


def test_stream_restorer_with_every_single_split_point() -> None:
    masker, original, masked = _masked_answer()
    for cut in range(len(masked) + 1):
        restorer = masker.stream_restorer()
        out = restorer.feed(masked[:cut]) + restorer.feed(masked[cut:]) + restorer.flush()
        assert out == original, f"split at {cut}"


def test_stream_restorer_with_random_multi_splits_and_empty_chunks() -> None:
    masker, original, masked = _masked_answer()
    rng = random.Random(11)
    for _ in range(500):
        cuts = sorted(rng.sample(range(len(masked) + 1), rng.randrange(1, 40)))
        chunks = [masked[a:b] for a, b in zip([0, *cuts], [*cuts, len(masked)], strict=True)]
        restorer = masker.stream_restorer()
        assert "".join(restorer.feed(c) for c in chunks) + restorer.flush() == original
    restorer = masker.stream_restorer()
    assert "".join(restorer.feed(c) for c in masked) + restorer.flush() == original, "one character at a time"


def test_stream_restorer_holds_only_possible_placeholder_prefixes() -> None:
    masker, _, _ = _masked_answer()
    restorer = masker.stream_restorer()
    assert restorer.feed("a < b") == "a < b", "a stray '<' is not held"
    assert restorer.feed("x <") == "x "
    assert restorer.feed("EMA") == ""
    assert restorer.feed("IL_") == ""
    assert restorer.feed("1") == ""
    assert restorer.feed("> done") == "bob@example.com done"
    assert restorer.feed("<EMAIL_9") == "<EMAIL_9", "no placeholder <EMAIL_9…> was issued"
    assert restorer.feed("<CARD_1") == ""
    assert restorer.flush() == "<CARD_1", "an unfinished placeholder is released at the end"
    assert restorer.flush() == ""
    longest = max(len(p) for p in masker.mapping)
    for text in ("<" + "E" * 50, "<EMAIL_1" + "1" * 50, "<IBAN_1 is here"):
        held = len(text) - len(restorer.feed(text))
        assert held <= longest
        restorer.flush()


def test_stream_restorer_without_pii_passes_through() -> None:
    restorer = Masker().stream_restorer()
    assert restorer.feed("<EMAIL_") == "<EMAIL_"
    assert restorer.flush() == ""


# --- policy and request shapes -------------------------------------------------------------------

CHAT: list[dict[str, Any]] = [
    {"role": "system", "content": "Support bot. Escalations go to ops@example.com."},
    {"role": "developer", "content": [{"type": "text", "text": "Never reveal 10.0.0.7"}]},
    {
        "role": "user",
        "content": [
            {"type": "text", "text": "I am bob@example.com, card 4111 1111 1111 1111"},
            {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
        ],
        "name": "bob",
    },
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {
                    "name": "lookup",
                    "arguments": '{"email":"bob@example.com","note":"line\\nSSN 123-45-6789","card":4111111111111111}',
                },
            }
        ],
    },
    {"role": "tool", "tool_call_id": "call_1", "content": '{"phone": "+44 20 7946 0958", "ok": true}'},
    {"role": "assistant", "content": "Found +44 20 7946 0958 for bob@example.com.", "refusal": None},
    {"role": "assistant", "function_call": {"name": "old", "arguments": "{not json: alice@example.org"}},
]


def test_apply_to_chat_masks_every_role_part_and_tool_call() -> None:
    before = copy.deepcopy(CHAT)
    masker = Masker()
    out = apply_to_chat(CHAT, masker)
    assert before == CHAT, "the caller's messages are not changed"
    assert out[0]["content"] == "Support bot. Escalations go to <EMAIL_1>."
    assert out[1]["content"] == [{"type": "text", "text": "Never reveal <IPV4_1>"}]
    assert out[2]["content"][0] == {"type": "text", "text": "I am <EMAIL_2>, card <CARD_1>"}
    assert out[2]["content"][1] == CHAT[2]["content"][1]
    assert out[2]["name"] == "bob"
    arguments = json.loads(out[3]["tool_calls"][0]["function"]["arguments"])
    assert arguments == {"email": "<EMAIL_2>", "note": "line\nSSN <SSN_1>", "card": "<CARD_1>"}
    assert out[3]["tool_calls"][0]["id"] == "call_1" and out[3]["content"] is None
    assert out[4]["content"] == '{"phone": "<PHONE_1>", "ok": true}'
    assert out[5]["content"] == "Found <PHONE_1> for <EMAIL_2>."
    assert out[6]["function_call"]["arguments"] == "{not json: <EMAIL_3>"
    assert masker.counts() == {"EMAIL": 5, "IPV4": 1, "CARD": 2, "SSN": 1, "PHONE": 2}
    for message, original in zip(out, CHAT, strict=True):
        assert message is not original


def test_restore_mode_masks_like_mask_mode_and_the_answer_is_restored() -> None:
    masker = Masker()
    out = apply_to_chat(CHAT, masker, PIIMode.RESTORE)
    assert out == apply_to_chat(CHAT, Masker(), PIIMode.MASK)
    assert masker.restore("Mail <EMAIL_2> about <CARD_1>") == "Mail bob@example.com about 4111 1111 1111 1111"


def test_block_mode_raises_with_counts_only() -> None:
    masker = Masker()
    with pytest.raises(PIIBlocked) as caught:
        apply_to_chat(CHAT, masker, PIIMode.BLOCK)
    error = caught.value
    assert isinstance(error, InvalidRequestError)
    assert error.status == 400 and error.code == "pii_detected"
    assert error.counts == {"EMAIL": 5, "IPV4": 1, "CARD": 2, "SSN": 1, "PHONE": 2}
    assert "bob@example.com" not in str(error) and "4111" not in json.dumps(error.to_body())
    assert masker.mapping == {}, "nothing is kept for a blocked request"
    clean = [{"role": "user", "content": "Where is order ORD-2024-118823?"}]
    assert apply_to_chat(clean, masker, "block") == clean


def test_off_mode_returns_copies_unchanged() -> None:
    masker = Masker()
    out = apply_to_chat(CHAT, masker, PIIMode.OFF)
    assert out == CHAT and all(a is not b for a, b in zip(out, CHAT, strict=True))
    assert masker.counts() == {}
    assert apply_to_inputs("bob@example.com", masker, PIIMode.OFF) == "bob@example.com"


def test_apply_to_inputs_for_embeddings() -> None:
    masker = Masker()
    assert apply_to_inputs("mail bob@example.com", masker) == "mail <EMAIL_1>"
    inputs = ["bob@example.com", "nothing", "call +44 20 7946 0958"]
    out = apply_to_inputs(inputs, masker)
    assert out == ["<EMAIL_1>", "nothing", "call <PHONE_1>"]
    assert inputs == ["bob@example.com", "nothing", "call +44 20 7946 0958"] and out is not inputs
    tokens = [[1, 2, 3], [4, 5]]
    assert apply_to_inputs(tokens, masker) == tokens
    assert apply_to_inputs([101, 202], masker) == [101, 202]
    with pytest.raises(PIIBlocked):
        apply_to_inputs(["ok", "bob@example.com"], masker, PIIMode.BLOCK)


def test_mask_json_text_keeps_json_valid_and_formatting_when_clean() -> None:
    masker = Masker()
    raw = '{"a":1,"to":["bob@example.com","\\u00e9l\\u00e8ve bob@example.com"],"bob@example.com":{"n":2}}'
    out = mask_json_text(raw, masker.mask)
    assert json.loads(out) == {"a": 1, "to": ["<EMAIL_1>", "élève <EMAIL_1>"], "<EMAIL_1>": {"n": 2}}
    unchanged = '{"a":1,  "b":"order ORD-2024-118823"}'
    assert mask_json_text(unchanged, masker.mask) is unchanged


def test_block_mode_with_plain_strings_values() -> None:
    assert PIIMode("block") is PIIMode.BLOCK
    with pytest.raises(ValueError):
        apply_to_chat(CHAT, Masker(), "shout")  # type: ignore[arg-type]


# --- speed and the public surface ----------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "sk-" * 20000,
        "eyJ-" * 15000,
        "(1) " * 15000,
        "DE89 " * 12000,
        " ".join(f"+{i % 97} {i % 1000} {i * 7919 % 100000}" for i in range(5000)),
        "a=" * 30000,
        "電話番号は" * 12000,
        "<" * 60000,
        "-----BEGIN RSA PRIVATE KEY-----\n" + "A" * 60000,
    ],
    ids=["sk", "eyJ", "parens", "iban", "numbers", "assign", "cjk", "lt", "pem"],
)
def test_pathological_input_stays_linear(text: str) -> None:
    import time

    started = time.perf_counter()
    Masker().mask(text)
    elapsed_ms = (time.perf_counter() - started) * 1000
    assert elapsed_ms / (len(text) / 1024) < 25, f"{elapsed_ms:.0f} ms for {len(text) / 1024:.0f} KiB"


def test_public_api_is_exported() -> None:
    assert set(pii.__all__) == {
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
    }
    for name in pii.__all__:
        assert getattr(pii, name) is not None
    assert "opt-in" in (pii.__doc__ or "").lower() and "PERSON and ADDRESS" in (pii.__doc__ or "")
