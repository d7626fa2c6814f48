"""LogRedactor: secrets and personal data are scrubbed; ordinary log noise is left alone."""

from __future__ import annotations

import string
import time
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aigw.observability.redact import MAX_LOG_VALUE, LogRedactor

redact = LogRedactor()


@pytest.mark.parametrize(
    ("text", "leak"),
    [
        ("contact alice.smith+billing@example.co.uk today", "alice.smith+billing@example.co.uk"),
        ("user bob_99@mail.example.com signed in", "bob_99@mail.example.com"),
    ],
)
def test_emails_are_scrubbed(text: str, leak: str) -> None:
    out = redact(text)
    assert leak not in out
    assert "[EMAIL]" in out


@pytest.mark.parametrize(
    "phone",
    [
        "+44 20 7946 0958",
        "(555) 123-4567",
        "+1-202-555-0143",
        "+1 (202) 555-0143",
        "202.555.0143",
        "+33 1 23 45 67 89",
        "+4915112345678",
    ],
)
def test_phone_numbers_are_scrubbed(phone: str) -> None:
    out = redact(f"call me on {phone}, thanks")
    assert out == "call me on [NUMBER], thanks"


@pytest.mark.parametrize(
    "card", ["4111 1111 1111 1111", "4111-1111-1111-1111", "5500000000000004", "3782 822463 10005"]
)
def test_card_numbers_are_scrubbed(card: str) -> None:
    out = redact(f"card={card}.")
    assert out == "card=[NUMBER]."


@pytest.mark.parametrize(
    ("secret", "label"),
    [
        ("sk-proj-AbCdEf1234567890abcdef", "[API_KEY]"),
        ("sk-ant-api03-abcdefghijklmnop", "[API_KEY]"),
        ("AKIAIOSFODNN7EXAMPLE", "[API_KEY]"),
        ("ghp_abcdefghijklmnopqrstuvwxyz0123456789", "[API_KEY]"),
        ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "[JWT]"),
    ],
)
def test_key_shaped_strings_are_scrubbed(secret: str, label: str) -> None:
    out = redact(f"using key {secret} for the call")
    assert secret not in out
    assert out == f"using key {label} for the call"


def test_bearer_tokens_are_scrubbed_whatever_their_shape() -> None:
    assert redact("Authorization: Bearer xyz") == "Authorization: [BEARER]"
    assert redact("authorization: bearer opaque.token_value~1") == "authorization: [BEARER]"


@pytest.mark.parametrize("kind", ["RSA ", "EC ", "OPENSSH ", "ENCRYPTED ", ""])
def test_pem_private_key_blocks_are_scrubbed(kind: str) -> None:
    pem = (
        f"-----BEGIN {kind}PRIVATE KEY-----\n"
        "MIIEowIBAAKCAQEAx7tL2wVpQmZ4cGvU\nq1Zr0abcdefGHIJ\n"
        f"-----END {kind}PRIVATE KEY-----"
    )
    out = redact(f"loaded key:\n{pem}\nnext line")
    assert "MIIEow" not in out and "q1Zr0" not in out
    assert out == "loaded key:\n[PRIVATE_KEY]\nnext line"


def test_truncated_pem_block_is_scrubbed_to_the_end() -> None:
    out = redact("key -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0B")
    assert out == "key [PRIVATE_KEY]"


def test_registered_secrets_are_scrubbed_verbatim() -> None:
    r = LogRedactor(["hunter2-password", "tok"])  # too-short secrets are ignored
    r.add_secret("Zx9!correct-horse")
    out = r("login with hunter2-password and Zx9!correct-horse, tok stays")
    assert out == "login with [SECRET] and [SECRET], tok stays"


def test_longer_secret_wins_over_its_prefix() -> None:
    r = LogRedactor(["abcd", "abcdefgh"])
    assert r("x abcdefgh y") == "x [SECRET] y"


def test_registered_secret_without_digits_or_markers_is_still_scrubbed() -> None:
    assert LogRedactor(["plainwordsecret"])("the plainwordsecret leaked") == "the [SECRET] leaked"


@pytest.mark.parametrize(
    "text",
    [
        "started at 2024-05-01T12:30:45.123Z",
        "started at 2024-05-01T12:30:45+00:00",
        "at 2024-05-01 12:30:45",
        "listening on 127.0.0.1:8080",
        "peer 192.168.100.200 connected",
        "took 12.345 ms",
        "ratio 12345.678901",
        "upstream answered HTTP 500",
        "version 1.2.3 (build 42)",
        "retrying in 3 s, attempt 2 of 4",
        "plain words without any numbers at all",
        "provider openai/gpt-4o-mini answered",
    ],
)
def test_ordinary_log_text_is_left_alone(text: str) -> None:
    assert redact(text) == text


def test_mixed_line_scrubs_only_the_sensitive_parts() -> None:
    line = "2024-05-01T12:30:45Z 127.0.0.1 HTTP 500 user=alice@example.com phone=+44 20 7946 0958 took 12.345 ms"
    assert redact(line) == "2024-05-01T12:30:45Z 127.0.0.1 HTTP 500 user=[EMAIL] phone=[NUMBER] took 12.345 ms"


@pytest.mark.parametrize("sensitive", ["4111 1111 1111 1111", "555 123 4567"])
def test_number_after_a_date_is_still_scrubbed(sensitive: str) -> None:
    out = redact(f"charged on 2024-05-01 {sensitive}")
    assert sensitive not in out


# --- Bounded work: every pattern linear, every string cut before any pattern runs -------------

KIB = 1024


def _repeat(unit: str, length: int) -> str:
    return unit * (length // len(unit))


# Inputs that make a backtracking pattern retry a failed match from every position of one run.
ADVERSARIAL = {
    "letters (e-mail local part)": lambda n: "a" * n,
    "letters then @": lambda n: "a" * n + "@",
    "a@ (e-mail)": lambda n: _repeat("a@", n),
    "a. (e-mail)": lambda n: _repeat("a.", n),
    "dotted domain": lambda n: "a@" + _repeat("a.", n),
    "local part blocks": lambda n: _repeat("a" * 64 + "@" + "a." * 100, n),
    "percent then @": lambda n: "%" * n + "@",
    "1 (number)": lambda n: _repeat("1 ", n),
    "1 then letter": lambda n: _repeat("1 ", n) + "x",
    "dates (number prefix)": lambda n: _repeat("2024-01-01 ", n),
    "addresses (number prefix)": lambda n: _repeat("1.1.1.1 ", n),
    "decimals (number prefix)": lambda n: _repeat("1.5 ", n),
    "pem headers": lambda n: _repeat("-----BEGIN PRIVATE KEY-----", n),
    "pem header letters": lambda n: "-----BEGIN " + _repeat("A ", n),
    "pem end markers": lambda n: "-----BEGIN PRIVATE KEY-----" + _repeat("-----END ", n),
    "bearer words": lambda n: _repeat("bearer ", n),
    "bearer spaces": lambda n: "bearer" + " " * n + "!",
    "jwt starts": lambda n: _repeat("eyJ-", n),
    "jwt segment": lambda n: "eyJ" + _repeat("a-", n),
    "key prefixes": lambda n: _repeat("sk-", n) + _repeat("xoxb-", n) + _repeat("ghp_", n),
    "mixed": lambda n: _repeat("x@y.z 1-2 eyJa.b bearer sk- ", n),
}


def _seconds(redactor: LogRedactor, *texts: str, repeat: int = 3) -> list[float]:
    """The best CPU time of `repeat` runs for each text, the texts taking turns. CPU time, not wall
    time: on a busy machine a long run is preempted more often than a short one, which would look
    like super-linear growth."""
    best = [float("inf")] * len(texts)
    for _ in range(repeat):
        for i, text in enumerate(texts):
            started = time.thread_time()
            redactor(text)
            best[i] = min(best[i], time.thread_time() - started)
    return best


@pytest.mark.parametrize("make", ADVERSARIAL.values(), ids=ADVERSARIAL.keys())
def test_every_pattern_is_linear_on_adversarial_input(make: Callable[[int], str]) -> None:
    """Unbounded, the e-mail pattern took 0.4 s for 16 KiB of letters and 15 s for 100 KiB; a run
    of dates overflowed the stack. Here the cut is off, so the patterns alone are measured."""
    unbounded = LogRedactor(["registered-secret-value"], max_length=10**7)
    small, large, largest = _seconds(unbounded, make(16 * KIB), make(64 * KIB), make(100 * KIB), repeat=5)
    assert large < 8 * small + 0.005, (small, large)  # 4x the input: about 4x the time (quadratic: 16x)
    assert largest < 0.25


@pytest.mark.parametrize("make", ADVERSARIAL.values(), ids=ADVERSARIAL.keys())
def test_a_long_string_costs_no_more_than_the_bound(make: Callable[[int], str]) -> None:
    out = redact(make(100 * KIB))
    assert len(out) < 2 * MAX_LOG_VALUE and out.endswith(" more chars]")
    assert _seconds(redact, make(100 * KIB))[0] < 0.05


def test_a_run_of_dates_is_kept_and_the_number_after_it_scrubbed() -> None:
    dates = "2024-05-01 " * 1400  # one recursion per date overflowed the stack here
    assert redact(dates + "4111 1111 1111 1111") == dates + "[NUMBER]"


def test_the_cut_never_keeps_half_an_email_or_key() -> None:
    short = LogRedactor(max_length=200)
    for start in range(150, 201):
        for sensitive in ("alice.smith@example.com", "sk-proj-AbCdEf1234567890abcdef"):
            text = "x" * start + " " + sensitive + " and more text after it" * 10
            out = short(text)
            assert out.endswith(" more chars]")
            for piece in ("alice", "smith", "example", "AbCdEf", "1234567890"):
                assert piece not in out, (start, out)


def test_the_cut_never_keeps_half_a_registered_secret() -> None:
    short = LogRedactor(["Zx9!correct horse battery"], max_length=100)
    for start in range(70, 101):
        out = short("y" * start + "Zx9!correct horse battery" + " z" * 100)
        assert "Zx9" not in out and "correct" not in out and "horse" not in out, (start, out)


def test_a_long_token_is_cut_where_the_bound_is() -> None:
    out = LogRedactor(max_length=1000)("/v1/" + "a" * 5000)
    assert out == "/v1/" + "a" * 996 + "…[4004 more chars]"


def test_a_string_at_the_bound_is_not_cut() -> None:
    text = "word " * (MAX_LOG_VALUE // 5)
    assert redact(text) == text


def test_clipped_cuts_to_the_given_limit() -> None:
    assert redact.clipped("/v1/chat/completions", 256) == "/v1/chat/completions"
    assert redact.clipped("abc def ghi", 5) == "abc …[7 more chars]"
    assert redact.clipped("mail bob@example.org " + "p" * 300, 256).startswith("mail [EMAIL] ")


# --- What redaction must still do, for any e-mail, key or number -----------------------------

_WORDS = st.lists(st.sampled_from(["user", "signed", "in", "contact", "today", "the", "x"]), max_size=4).map(" ".join)
_LOCAL = st.text(alphabet=string.ascii_letters + string.digits + "._%+-", min_size=1, max_size=64)
_LABEL = st.text(alphabet=string.ascii_lowercase + string.digits + "-", min_size=1, max_size=20)
_EMAILS = st.builds(
    lambda local, labels, tld: f"{local}@{'.'.join(labels)}.{tld}",
    _LOCAL,
    st.lists(_LABEL, min_size=1, max_size=3),
    st.text(alphabet=string.ascii_lowercase, min_size=2, max_size=6),
)
_ALNUM = string.ascii_letters + string.digits
_KEYS = st.one_of(
    st.builds("{}-{}".format, st.sampled_from(["sk", "pk", "rk"]), st.text(alphabet=_ALNUM, min_size=8, max_size=60)),
    st.builds("ghp_{}".format, st.text(alphabet=_ALNUM, min_size=20, max_size=40)),
    st.builds("AKIA{}".format, st.text(alphabet=string.ascii_uppercase + string.digits, min_size=16, max_size=16)),
)
# 3- and 4-digit groups: never shaped like a date, an address or a decimal, which are kept.
_NUMBERS = st.builds(
    lambda groups, sep: sep.join(groups),
    st.lists(st.text(alphabet=string.digits, min_size=3, max_size=4), min_size=3, max_size=5),
    st.sampled_from([" ", "-"]),
)


@settings(max_examples=300, deadline=None)
@given(before=_WORDS, email=_EMAILS, after=_WORDS)
def test_any_email_is_scrubbed(before: str, email: str, after: str) -> None:
    out = redact(f"{before} {email} {after}")
    assert email not in out
    assert out == f"{before} [EMAIL] {after}"


@settings(max_examples=300, deadline=None)
@given(before=_WORDS, key=_KEYS, after=_WORDS)
def test_any_key_is_scrubbed(before: str, key: str, after: str) -> None:
    assert redact(f"{before} {key} {after}") == f"{before} [API_KEY] {after}"


@settings(max_examples=300, deadline=None)
@given(before=_WORDS, number=_NUMBERS, after=_WORDS)
def test_any_long_number_is_scrubbed(before: str, number: str, after: str) -> None:
    assert redact(f"{before} {number} {after}") == f"{before} [NUMBER] {after}"


@settings(max_examples=200, deadline=None)
@given(email=_EMAILS, filler=st.text(alphabet=string.ascii_letters + " /?=&", max_size=400))
def test_an_email_anywhere_in_a_long_string_never_leaks(email: str, filler: str) -> None:
    out = LogRedactor(max_length=256)(filler + " " + email + " " + filler)
    assert email not in out
    assert email.split("@")[0] + "@" not in out
