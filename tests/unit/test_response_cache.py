"""The response cache's rules: what is cacheable, under which key, LRU and expiry in process."""

from __future__ import annotations

import asyncio

import pytest

from aigw.cache import CacheControl, MemoryCache, ResponseCache
from aigw.cache.response_cache import CacheSettings
from aigw.observability.metrics import GatewayMetrics
from aigw.types import ChatRequest, EmbeddingRequest

MESSAGES = [{"role": "user", "content": "hi"}]


def cache(**settings: object) -> ResponseCache:
    return ResponseCache(MemoryCache(), GatewayMetrics(enabled=False), lambda: CacheSettings(**settings))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("params", "stream", "cacheable"),
    [
        ({"temperature": 0}, False, True),
        ({"temperature": 0.0, "n": 1}, False, True),
        ({"temperature": 0}, True, False),
        ({"temperature": 0, "n": 2}, False, False),
        ({"temperature": 0.2}, False, False),
        ({}, False, False),
        ({"temperature": False}, False, False),
    ],
)
def test_only_deterministic_chat_is_cacheable(params: dict[str, object], stream: bool, cacheable: bool) -> None:
    request = ChatRequest("m", MESSAGES, dict(params), stream=stream)
    assert (cache().request_key(request, "k1") is not None) is cacheable


def test_keys_depend_on_what_changes_the_answer_only() -> None:
    c = cache()
    base = c.request_key(ChatRequest("m", MESSAGES, {"temperature": 0, "max_tokens": 5}), "k1")
    assert base == c.request_key(ChatRequest("m", MESSAGES, {"max_tokens": 5, "temperature": 0, "user": "u"}), "k1")
    assert base != c.request_key(ChatRequest("m", MESSAGES, {"temperature": 0, "max_tokens": 6}), "k1")
    assert base != c.request_key(ChatRequest("m2", MESSAGES, {"temperature": 0, "max_tokens": 5}), "k1")
    assert base != c.request_key(ChatRequest("m", MESSAGES, {"temperature": 0, "max_tokens": 5}), "k2")
    shared = cache(scope="global")
    one = shared.request_key(EmbeddingRequest("e", ["a"]), "k1")
    assert (
        one
        == shared.request_key(EmbeddingRequest("e", ["a"]), "k2")
        != shared.request_key(EmbeddingRequest("e", ["b"]), "k1")
    )
    assert cache(enabled=False).request_key(EmbeddingRequest("e", ["a"]), "k1") is None


def test_cache_control_directives() -> None:
    assert CacheControl.from_header(None) == CacheControl(True, True)
    assert CacheControl.from_header("no-cache") == CacheControl(False, True)
    assert CacheControl.from_header("max-age=0, No-Store") == CacheControl(False, False)


async def test_memory_cache_evicts_the_least_recently_used_and_expires() -> None:
    memory = MemoryCache(max_entries=2)
    await memory.set("a", b"1", 60)
    await memory.set("b", b"2", 60)
    assert await memory.get("a") == b"1"  # a is now the most recent
    await memory.set("c", b"3", 60)
    assert await memory.get("b") is None and await memory.get("a") == b"1" and len(memory) == 2
    await memory.set("short", b"x", 0.01)
    await asyncio.sleep(0.03)
    assert await memory.get("short") is None


async def test_memory_cache_keeps_to_its_byte_bound() -> None:
    memory = MemoryCache(max_entries=100, max_bytes=10)
    await memory.set("a", b"12345", 60)
    await memory.set("b", b"12345", 60)
    await memory.set("c", b"12345", 60)
    assert await memory.get("a") is None and await memory.get("c") == b"12345"
    await memory.set("huge", b"x" * 11, 60)
    assert await memory.get("huge") is None


async def test_stored_answers_come_back_with_their_age() -> None:
    c = cache()
    key = c.request_key(EmbeddingRequest("e", ["a"]), "k1")
    assert key is not None and await c.lookup(key, "embeddings") is None
    c.store(key, {"data": [1]}, {"provider": "p"})
    await c.close()
    hit = await c.lookup(key, "embeddings")
    assert hit is not None and hit.body == {"data": [1]} and hit.meta == {"provider": "p"} and hit.age_s < 5
