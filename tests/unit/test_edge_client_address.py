"""api/client_address: X-Forwarded-For is believed only from AI_TRUSTED_PROXIES, read from the right."""

from __future__ import annotations

from typing import Any

import pytest

from aigw.api.client_address import ClientAddress


def scope(peer: str | None, *forwarded: str) -> dict[str, Any]:
    return {
        "client": (peer, 50000) if peer else None,
        "headers": [(b"x-forwarded-for", value.encode()) for value in forwarded],
    }


def test_without_trusted_proxies_the_header_is_ignored() -> None:
    assert ClientAddress().of(scope("198.51.100.7", "1.2.3.4")) == "198.51.100.7"


def test_an_untrusted_peer_cannot_choose_its_address() -> None:
    addresses = ClientAddress(["10.0.0.0/8"])
    assert addresses.of(scope("198.51.100.7", "1.2.3.4")) == "198.51.100.7"


def test_the_right_most_untrusted_hop_is_the_client() -> None:
    addresses = ClientAddress(["10.0.0.0/8", "127.0.0.1"])
    # the client forged "6.6.6.6"; the first proxy appended the real client; a second proxy appended the first
    assert addresses.of(scope("127.0.0.1", "6.6.6.6, 203.0.113.9, 10.1.1.1")) == "203.0.113.9"


def test_several_headers_are_one_list() -> None:
    addresses = ClientAddress(["10.0.0.0/8"])
    assert addresses.of(scope("10.0.0.2", "6.6.6.6", "203.0.113.9")) == "203.0.113.9"


def test_only_trusted_hops_give_the_first_one() -> None:
    addresses = ClientAddress(["10.0.0.0/8"])
    assert addresses.of(scope("10.0.0.2", "10.9.9.9, 10.0.0.3")) == "10.9.9.9"


@pytest.mark.parametrize("forwarded", [None, "", "not-an-ip", "10.0.0.3, garbage"])
def test_no_usable_header_falls_back_to_the_peer(forwarded: str | None) -> None:
    addresses = ClientAddress(["10.0.0.0/8"])
    headers = () if forwarded is None else (forwarded,)
    assert addresses.of(scope("10.0.0.2", *headers)) == "10.0.0.2"


def test_ipv6_hops() -> None:
    addresses = ClientAddress(["::1", "fd00::/8"])
    assert addresses.of(scope("::1", "2001:db8::5, fd00::1")) == "2001:db8::5"
    assert addresses.of(scope("::1", "[2001:db8::6]")) == "2001:db8::6"


def test_a_huge_header_is_cut_before_it_is_split() -> None:
    addresses = ClientAddress(["10.0.0.0/8"])
    huge = ", ".join(["10.0.0.9"] * 100_000)  # only trusted hops, far past the bounds
    assert addresses.of(scope("10.0.0.2", huge)) == "10.0.0.9"
    assert addresses.of(scope("10.0.0.2", "203.0.113.1, " + huge)) == "10.0.0.9"  # beyond the bound: not read


def test_no_peer() -> None:
    assert ClientAddress(["10.0.0.0/8"]).of(scope(None, "1.2.3.4")) is None
