"""`restore` mode on the way back: originals put back into plain answers and streams, whatever the
chunk boundaries, with tool-call arguments kept valid JSON."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from aigw.context.pii import Masker
from aigw.context.pii.restore import restore_answer, restore_stream

EMAIL = "jane.o'hara@example.org"
SECRET = 'pass"word\\with-quote'


def masked(text: str) -> tuple[Masker, str]:
    masker = Masker()
    return masker, masker.mask(text)


def chunk(content: str | None = None, *, finish: str | None = None, index: int = 0, **delta: Any) -> dict[str, Any]:
    if content is not None:
        delta["content"] = content
    return {
        "id": "c",
        "object": "chat.completion.chunk",
        "choices": [{"index": index, "delta": delta, "finish_reason": finish}],
    }


async def relay(chunks: list[dict[str, Any]]) -> AsyncIterator[dict[str, Any]]:
    for c in chunks:
        yield c


async def collect(chunks: list[dict[str, Any]], masker: Masker) -> list[dict[str, Any]]:
    return [c async for c in restore_stream(relay(chunks), masker)]


def text_of(chunks: list[dict[str, Any]], index: int = 0) -> str:
    return "".join(
        choice["delta"].get("content") or ""
        for c in chunks
        for choice in c.get("choices", [])
        if choice.get("index") == index
    )


def test_a_plain_answer_gets_its_originals_back() -> None:
    masker, text = masked(f"Write to {EMAIL} or call +1 415 555 2671")
    assert EMAIL not in text and "<EMAIL_1>" in text
    body = {"choices": [{"index": 0, "message": {"role": "assistant", "content": f"Sure: {text}"}}], "usage": {}}
    restored = restore_answer(body, masker)
    assert restored["choices"][0]["message"]["content"] == f"Sure: Write to {EMAIL} or call +1 415 555 2671"
    assert "<EMAIL_1>" in body["choices"][0]["message"]["content"]  # the original body is left alone


def test_tool_call_arguments_stay_valid_json_with_quotes_in_the_value() -> None:
    masker = Masker()
    masker.mask(f"password={SECRET}")  # a secret with a quote and a backslash
    placeholder = next(iter(masker.mapping))
    arguments = json.dumps({"login": placeholder})
    body = {"choices": [{"message": {"tool_calls": [{"id": "t", "function": {"name": "f", "arguments": arguments}}]}}]}
    restored = restore_answer(body, masker)
    assert json.loads(restored["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"]) == {
        "login": masker.mapping[placeholder]
    }


async def test_a_placeholder_cut_at_every_position_of_a_stream_is_restored() -> None:
    masker, text = masked(f"Mail {EMAIL} today")
    answer = f"Noted: {text}."
    for cut in range(1, len(answer)):
        chunks = [chunk(answer[:cut]), chunk(answer[cut:]), chunk(finish="stop")]
        assert text_of(await collect(chunks, masker)) == f"Noted: Mail {EMAIL} today.", cut


async def test_one_character_per_chunk_and_a_tail_flushed_with_the_finishing_chunk() -> None:
    masker, text = masked(f"{EMAIL}")
    chunks = [chunk(ch) for ch in f"to {text}"]
    chunks.append(chunk("", finish="stop"))
    out = await collect(chunks, masker)
    assert text_of(out) == f"to {EMAIL}"
    assert out[-1]["choices"][0]["finish_reason"] == "stop"


async def test_a_stream_that_ends_without_finishing_still_sends_what_was_held() -> None:
    masker, _text = masked(EMAIL)
    out = await collect([chunk("see <EMA")], masker)
    assert text_of(out) == "see <EMA"  # not a placeholder in the end: given back as it was
    assert len(out) == 2


async def test_choices_and_tool_calls_are_restored_separately() -> None:
    masker, _text = masked(f"{EMAIL} and 4111 1111 1111 1111")
    email, card = sorted(masker.mapping)[1], sorted(masker.mapping)[0]
    arguments = json.dumps({"to": email})
    chunks = [
        chunk(card[:4], index=1),
        chunk(email[:3], index=0),
        {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": arguments[:9]}}]}}]},
        chunk(card[4:], index=1, finish="stop"),
        {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": arguments[9:]}}]}}]},
        chunk(email[3:], index=0, finish="stop"),
    ]
    out = await collect(chunks, masker)
    assert text_of(out, 1) == masker.mapping[card]
    assert text_of(out, 0) == EMAIL
    args = "".join(
        call["function"]["arguments"]
        for c in out
        for choice in c["choices"]
        for call in choice["delta"].get("tool_calls", [])
    )
    assert json.loads(args) == {"to": EMAIL}


async def test_usage_chunks_pass_untouched() -> None:
    masker, _ = masked(EMAIL)
    usage = {"choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
    assert await collect([usage], masker) == [usage]
