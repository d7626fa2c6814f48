"""LogRedactor: secrets and personal data are scrubbed; ordinary log noise is left alone."""

from __future__ import annotations

import pytest

from aigw.observability.redact import LogRedactor

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
