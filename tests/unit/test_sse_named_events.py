"""EventSplitter.feed_named: Anthropic-style named events keep their names, whatever the chunking."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from aigw.providers.sse import EventSplitter

NAMES = st.sampled_from(["message_start", "content_block_delta", "ping", "message_stop", ""])


@given(st.lists(NAMES, max_size=8), st.lists(st.integers(min_value=1, max_value=40), max_size=30))
def test_each_payload_comes_with_its_events_name(names: list[str], cuts: list[int]) -> None:
    stream = b"".join(
        (f"event: {name}\n".encode() if name else b"") + f'data: {{"i": {i}}}\n\n'.encode()
        for i, name in enumerate(names)
    )
    splitter = EventSplitter(max_event_bytes=1024)
    found: list[tuple[str, bytes]] = []
    start = 0
    for size in [*cuts, len(stream)]:
        found.extend(splitter.feed_named(stream[start : start + size]))
        start += size
    found.extend(splitter.close_named())
    assert found == [(name or "message", f'{{"i": {i}}}'.encode()) for i, name in enumerate(names)]


def test_a_name_without_data_does_not_leak_into_the_next_event() -> None:
    splitter = EventSplitter(max_event_bytes=1024)
    assert list(splitter.feed_named(b"event: ping\n\ndata: x\n\n")) == [("message", b"x")]
