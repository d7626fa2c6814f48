"""EventSplitter: the same events however the stream is cut into chunks, and a bound on one event."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aigw.providers.sse import EventSplitter, EventTooLarge

PAYLOADS = st.lists(
    st.binary(max_size=300).map(lambda b: b.replace(b"\n", b"").replace(b"\r", b"") or b"x"), max_size=8
)


def stream_of(payloads: list[bytes], newline: bytes) -> bytes:
    return b"".join(b": keep-alive" + newline + b"data: " + p + newline + newline for p in payloads)


@given(PAYLOADS, st.sampled_from([b"\n", b"\r\n"]), st.lists(st.integers(min_value=1, max_value=50), max_size=40))
def test_events_are_the_same_whatever_the_chunking(payloads: list[bytes], newline: bytes, cuts: list[int]) -> None:
    data = stream_of(payloads, newline)
    splitter = EventSplitter(max_event_bytes=1024)
    found: list[bytes] = []
    start = 0
    for size in [*cuts, len(data)]:
        found.extend(splitter.feed(data[start : start + size]))
        start += size
    found.extend(splitter.close())
    assert found == [p.lstrip(b" ") for p in payloads]


def test_multi_line_data_is_joined_and_a_last_event_without_blank_line_is_kept() -> None:
    splitter = EventSplitter(max_event_bytes=1024)
    assert list(splitter.feed(b"data: a\ndata: b\n\ndata: c")) == [b"a\nb"]
    assert list(splitter.close()) == [b"c"]


@pytest.mark.parametrize("chunk", [b"data: " + b"x" * 2000 + b"\n\n", b"data: " + b"x" * 2000, b"y" * 2000])
def test_an_event_or_line_over_the_bound_is_refused(chunk: bytes) -> None:
    splitter = EventSplitter(max_event_bytes=1024)
    with pytest.raises(EventTooLarge):
        list(splitter.feed(chunk))


def test_a_long_event_arriving_in_small_chunks_costs_linear_time() -> None:
    """The unfinished line is appended to, never copied again per chunk (8 MiB in 512-byte reads
    would copy some 64 GB if it were)."""
    payload = b"x" * (8 << 20)
    data = b"data: " + payload + b"\n\n"
    splitter = EventSplitter(max_event_bytes=9 << 20)
    found: list[bytes] = []
    started = time.perf_counter()
    for start in range(0, len(data), 512):
        found.extend(splitter.feed(data[start : start + 512]))
    assert found == [payload]
    assert time.perf_counter() - started < 5


def test_several_events_of_one_read_and_a_line_cut_between_cr_and_lf() -> None:
    splitter = EventSplitter(max_event_bytes=1024)
    assert list(splitter.feed_named(b"data: a\r\n\r\nevent: ping\r\ndata: b\r")) == [("message", b"a")]
    assert list(splitter.feed_named(b"\n\r\ndata: c\n\n")) == [("ping", b"b"), ("message", b"c")]
    assert list(splitter.close()) == []
