"""context/pii worst case: adversarial text costs at most a small factor of ordinary text per KiB.

Every shape below was (or could have been) a way to make the detector do far more work per KiB
than on a prompt: runs of digits and separators that were split into dozens of windows and parsed
by libphonenumber for every region ("1.5 " cost ~19 ms/KiB, 150 times ordinary text), and dense
punctuation that made a candidate of every character. CPU time is measured with
`time.thread_time` (the best of three, so a busy machine's preemptions count less), against the
ordinary-text cost measured in the same process. The fail-safe that bounds the work (the
`WorkBudget`) must mask more, never less: planted PII is still found inside adversarial filler.
"""

from __future__ import annotations

import contextlib
import gc
import random
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import phonenumbers
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

from benchlib.pii_scan import prompt_text

from aigw.context.pii import Masker, PIIDetector, PIIType, detect
from aigw.context.pii.budget import WorkBudget
from aigw.context.pii.phone_metadata import digits_of, may_be_valid_international, may_be_valid_national
from aigw.context.pii.phones import DEFAULT_REGIONS

from .pii_corpus import pii_samples

# (id, repeated unit): the review's shapes, then long digit runs with every separator, phone and card
# prefixes, IBAN-like, e-mail-like, IP-like and secret-like prefixes, assignments and punctuation.
SHAPES: list[tuple[str, str]] = [
    ("decimals", "1.5 "),
    ("iban-prefix", "DE12 "),
    ("sk-prefix", "sk-"),
    ("digit-pairs", "12 34 "),
    ("single-digits", "1 "),
    ("zeros-spaced", "0  "),
    ("zero-space", "0 "),
    ("digits-dash", "1-"),
    ("digits-dot", "1."),
    ("digits-slash", "1/"),
    ("digits-paren-open", "1("),
    ("digits-paren-close", "1) "),
    ("digits-nbsp", "12\u00a0"),
    ("pairs-dashed", "12-34 "),
    ("seven-digit-runs", "1234567 "),
    ("ten-digit-runs", "9876543210 "),
    ("mixed-separators", "1 2-3.4/5(6)7 "),
    ("plus-44", "+44 "),
    ("plus-1", "+1 "),
    ("paren-zero", "(0"),
    ("double-zero", "00 "),
    ("paren-one", "(1) "),
    ("card-groups", "4111 "),
    ("card-like-run", "4111-1111-1111-"),
    ("ssn-like", "123-45-"),
    ("extensions", "555 x1 "),
    ("email-like", "a@"),
    ("email-dots", "a.b@c."),
    ("ipv4-like", "1.1.1."),
    ("ipv6-colons", "::"),
    ("ipv6-plus", "::+"),
    ("ipv6-groups", "ff:"),
    ("aws-prefix", "AKIA "),
    ("github-prefix", "ghp_ "),
    ("jwt-prefix", "eyJ "),
    ("pem-prefix", "-----BEGIN "),
    ("password-assign", "password="),
    ("key-colon", "a: "),
    ("assign-eq", "a=b "),
    ("bearer", "Bearer "),
    ("plus-runs", "++"),
    ("dot-runs", ".."),
    ("apostrophes", "a'"),
    ("json-escapes", "\\n1 "),
]
BOUND_FACTOR = 10  # times ordinary text, per KiB
BOUND_MS_PER_KIB = 2.0
GROWTH_BOUND = 6  # 64 KiB may cost at most this many times 16 KiB (4 would be exactly linear)


def _text(unit: str, kib: int) -> str:
    size = kib * 1024
    return (unit * (size // len(unit) + 1))[:size]


def _ms_per_kib(text: str, detector: PIIDetector) -> float:
    """CPU of this thread only (`thread_time`): other tests leave threads working in this process (a
    model loading, writers flushing), and process time would charge their work to the scan."""
    best = float("inf")
    with _no_collections():
        for _ in range(3):
            started = time.thread_time()
            detector.detect(text)
            best = min(best, time.thread_time() - started)
    return best * 1000 / (len(text) / 1024)


@contextlib.contextmanager
def _no_collections() -> Iterator[None]:
    """Neither garbage collection nor a line tracer while timing: a full collection walks what earlier
    tests left in the process (a loaded spaCy model is millions of objects), and coverage's tracer
    (make test) slows Python lines several times while regexes run untraced, so it inflates the
    adversarial shapes (Python-heavy) against ordinary text (regex-heavy). Neither is the scan's cost."""
    tracer = sys.gettrace()
    gc.disable()
    sys.settrace(None)
    try:
        yield
    finally:
        sys.settrace(tracer)
        gc.enable()


@pytest.fixture(scope="module")
def detector() -> PIIDetector:
    warm = PIIDetector()
    for _, unit in SHAPES:  # lazy imports, libphonenumber metadata and compiled patterns are one-off costs
        warm.detect(_text(unit, 1))
    warm.detect(prompt_text(8))
    return warm


@pytest.fixture(scope="module")
def ordinary_ms_per_kib(detector: PIIDetector) -> float:
    """`bench.prompt_text` (prose with about two PII items per KiB): the median of three texts."""
    return statistics.median(_ms_per_kib(prompt_text(16, seed=seed), detector) for seed in (1, 2, 3))


def test_shapes_are_many_and_distinct() -> None:
    assert len(SHAPES) >= 20
    assert len({unit for _, unit in SHAPES}) == len(SHAPES)


@pytest.mark.parametrize(("unit"), [unit for _, unit in SHAPES], ids=[name for name, _ in SHAPES])
def test_adversarial_text_costs_a_small_factor_of_ordinary_text(
    unit: str, detector: PIIDetector, ordinary_ms_per_kib: float
) -> None:
    small = _ms_per_kib(_text(unit, 16), detector)
    large = _ms_per_kib(_text(unit, 64), detector)
    print(f"{unit!r}: 16 KiB {small:.3f} ms/KiB, 64 KiB {large:.3f} ms/KiB, ordinary {ordinary_ms_per_kib:.3f}")
    bound = min(BOUND_FACTOR * ordinary_ms_per_kib, BOUND_MS_PER_KIB)
    assert small <= bound, f"16 KiB: {small:.3f} ms/KiB, bound {bound:.3f}"
    assert large <= bound, f"64 KiB: {large:.3f} ms/KiB, bound {bound:.3f}"
    assert large * 64 <= GROWTH_BOUND * small * 16, f"not linear: {small:.3f} then {large:.3f} ms/KiB"


def test_many_short_texts_of_one_request_share_one_budget(ordinary_ms_per_kib: float) -> None:
    """A request made of thousands of short adversarial strings (JSON array input) gets one base
    budget, not one per string."""
    texts = [f"0{i % 10} 3{i % 7} 0 1 2 3 4 5 6 7 8 9 1 2 3" for i in range(4000)]
    masker = Masker()
    with _no_collections():
        started = time.thread_time()
        for text in texts:
            masker.mask(text)
    per_kib = (time.thread_time() - started) * 1000 / (sum(map(len, texts)) / 1024)
    assert per_kib <= min(BOUND_FACTOR * ordinary_ms_per_kib, BOUND_MS_PER_KIB) * 1.5, f"{per_kib:.3f} ms/KiB"


# --- the fail-safe masks more, never less ---------------------------------------------------------

_PLANTED: list[tuple[PIIType, str]] = [
    (PIIType.EMAIL, "anna.schmidt@example.de"),
    (PIIType.PHONE, "+44 20 7946 0958"),
    (PIIType.PHONE, "(212) 555-0143"),
    (PIIType.PHONE, "020 7946 0958"),
    (PIIType.PHONE, "+49 30 901820"),
    (PIIType.CARD, "4111 1111 1111 1111"),
    (PIIType.CARD, "5500-0000-0000-0004"),
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    unit=st.sampled_from([unit for _, unit in SHAPES]),
    kib=st.integers(min_value=1, max_value=24),
    where=st.floats(min_value=0, max_value=1),
    planted=st.sampled_from(_PLANTED),
)
def test_planted_pii_is_found_inside_adversarial_filler(
    unit: str, kib: int, where: float, planted: tuple[PIIType, str]
) -> None:
    kind, value = planted
    filler = _text(unit, kib)
    cut = int(len(filler) * where)
    text = f"{filler[:cut]}\nContact: {value} thanks.\n{filler[cut:]}"
    start = text.index(f"Contact: {value}") + len("Contact: ")
    findings = detect(text)
    assert any(f.type is kind and f.start <= start and f.end >= start + len(value) for f in findings), (
        f"{kind.value} {value!r} not found after {cut} characters of {unit!r}"
    )


def test_a_spent_budget_covers_every_finding_of_the_full_rules() -> None:
    """With no budget at all, every finding the full rules make is still covered (masked)."""
    detector = PIIDetector()
    for sample in pii_samples(per_type=20, seed=99):
        full = detector.detect(sample.text)
        spent = detector.detect(sample.text, WorkBudget(base=0, per_kib=0))
        for finding in full:
            assert any(g.start <= finding.start and g.end >= finding.end for g in spent), (finding, spent)


def test_budget_takes_units_until_spent_and_earns_per_character() -> None:
    budget = WorkBudget(base=10, per_kib=1024)
    assert budget.spend(6) and budget.spend(4)
    assert not budget.spend(1)
    assert budget.refused == 1 and budget.spent == 10
    budget.earn(3)
    assert budget.spend(3) and not budget.spend(1)


def test_a_phone_is_still_found_once_the_budget_is_spent() -> None:
    text = "call me on 020 7946 0958 or +49 30 901820"
    findings = PIIDetector().detect(text, WorkBudget(base=0, per_kib=0))
    assert [(f.type, f.value) for f in findings] == [
        (PIIType.PHONE, "020 7946 0958"),
        (PIIType.PHONE, "+49 30 901820"),
    ]


# --- the cheap test before libphonenumber never rejects a valid number ----------------------------


def test_may_be_valid_accepts_every_valid_number_of_every_region() -> None:
    """The cheap test stands before parsing: it must never say no to a number libphonenumber calls
    valid. Example numbers of every type and region, with their last digits varied, written as
    international numbers and as national numbers parsed with their region's rules."""
    rng = random.Random(7)
    checked = 0
    types = [t for t in vars(phonenumbers.PhoneNumberType).values() if isinstance(t, int)]
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for number_type in types:
            example = phonenumbers.example_number_for_type(region, number_type)
            if example is None:
                continue
            national = phonenumbers.national_significant_number(example)
            for _ in range(8):
                varied = national[:-3] + "".join(rng.choice("0123456789") for _ in range(3))
                parsed = phonenumbers.parse("+" + str(example.country_code) + varied, None)
                if not phonenumbers.is_valid_number(parsed):
                    continue
                checked += 1
                assert may_be_valid_international(str(example.country_code) + varied), (region, varied)
                written = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
                national_parse = phonenumbers.parse(written, region)
                if national_parse.country_code == example.country_code and phonenumbers.is_valid_number(national_parse):
                    assert may_be_valid_national(digits_of(written), (region,)), (region, written)
    assert checked > 1000


@pytest.mark.parametrize("region", DEFAULT_REGIONS)
def test_may_be_valid_agrees_with_parsing_in_the_default_regions(region: str) -> None:
    rng = random.Random(region)
    country_code = phonenumbers.country_code_for_region(region)
    valid = 0
    for _ in range(3000):
        digits = rng.choice(["0", "", "00", "1"]) + "".join(rng.choice("0123456789") for _ in range(rng.randint(6, 13)))
        try:
            parsed = phonenumbers.parse(digits, region)
        except phonenumbers.NumberParseException:
            continue
        if parsed.country_code == country_code and phonenumbers.is_valid_number(parsed):
            valid += 1
            assert may_be_valid_national(digits, (region,)), digits
    assert valid >= 10
