"""Stub provider: deterministic answers computed locally, no network. For tests, demos and keyless starts.

Chat answers are fixed sentences that depend only on the request; embeddings are hashed
bags of words, so texts sharing words get similar vectors (useful for search demos).
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
import struct
import time
from collections.abc import AsyncIterator
from typing import Any, ClassVar, Literal

from pydantic import Field

from aigw.config import ProviderConfigBase
from aigw.providers.base import AIProvider
from aigw.types import (
    AIRequest,
    AIResponse,
    Capabilities,
    ChatRequest,
    ChatStream,
    EmbeddingRequest,
    TaskKind,
    Usage,
)

_WORD = re.compile(r"\w+", re.UNICODE)
_MODELS = ("stub-chat", "stub-embedding")


class StubProviderConfig(ProviderConfigBase):
    type: Literal["stub"] = "stub"
    embedding_dim: int = Field(256, ge=1, le=8192)


class StubProvider(AIProvider):
    type_name: ClassVar[str] = "stub"
    config_class: ClassVar[type[ProviderConfigBase]] = StubProviderConfig
    config: StubProviderConfig

    def get_capabilities(self) -> Capabilities:
        return Capabilities(
            billable=False,
            meaningful=False,
            tasks=frozenset({TaskKind.CHAT, TaskKind.EMBEDDINGS}),
            streaming=True,
            models=self.config.models,
        )

    async def list_models(self) -> list[str]:
        return list(self.config.models or _MODELS)

    async def execute_task(self, request: AIRequest) -> AIResponse | ChatStream:
        if isinstance(request, EmbeddingRequest):
            return self._embed(request)
        if request.stream:
            return ChatStream(self._stream(request))
        text = stub_answer(request.messages)
        usage = Usage(_estimate_tokens(request.messages), _count_words(text), 0)
        usage.total_tokens = usage.prompt_tokens + usage.completion_tokens
        body = {
            "id": _completion_id(request),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": request.model,
            "system_fingerprint": "fp_aigw_stub",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text, "refusal": None},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": usage.prompt_tokens,
                "completion_tokens": usage.completion_tokens,
                "total_tokens": usage.total_tokens,
            },
        }
        return AIResponse(body=body, usage=usage, model=request.model)

    async def _stream(self, request: ChatRequest) -> AsyncIterator[dict[str, Any]]:
        text = stub_answer(request.messages)
        base = {
            "id": _completion_id(request),
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": request.model,
            "system_fingerprint": "fp_aigw_stub",
        }
        yield {
            **base,
            "choices": [
                {"index": 0, "delta": {"role": "assistant", "content": ""}, "logprobs": None, "finish_reason": None}
            ],
        }
        words = text.split(" ")
        for i, word in enumerate(words):
            piece = word if i == len(words) - 1 else word + " "
            yield {
                **base,
                "choices": [{"index": 0, "delta": {"content": piece}, "logprobs": None, "finish_reason": None}],
            }
        yield {**base, "choices": [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}]}
        prompt = _estimate_tokens(request.messages)
        yield {
            **base,
            "choices": [],
            "usage": {"prompt_tokens": prompt, "completion_tokens": len(words), "total_tokens": prompt + len(words)},
        }

    def _embed(self, request: EmbeddingRequest) -> AIResponse:
        inputs = request.input if isinstance(request.input, list) else [request.input]
        dim = request.params.get("dimensions") or self.config.embedding_dim
        as_base64 = request.params.get("encoding_format") == "base64"
        data = [
            {
                "object": "embedding",
                "index": i,
                "embedding": _encode(hashed_embedding(_as_text(item), int(dim)), as_base64),
            }
            for i, item in enumerate(inputs)
        ]
        tokens = sum(max(1, len(_as_text(item)) // 4) for item in inputs)
        return AIResponse(
            body={
                "object": "list",
                "model": request.model,
                "data": data,
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            },
            usage=Usage(tokens, 0, tokens),
            model=request.model,
        )


def stub_answer(messages: list[dict[str, Any]]) -> str:
    """A fixed sentence that depends only on the conversation (its length, not its content)."""
    last = next((m for m in reversed(messages) if m.get("role") == "user"), None)
    words = _count_words(_message_text(last)) if last else 0
    return (
        f"This is the aigw stub provider: no model was called. Your last message had {words} "
        f"words across {len(messages)} messages."
    )


def hashed_embedding(text: str, dim: int) -> list[float]:
    """A unit vector: each lower-cased word adds +-1 at a position picked by its hash."""
    vec = [0.0] * dim
    for word in _WORD.findall(text.lower()) or [text]:
        digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
        index = int.from_bytes(digest[:4], "little") % dim
        vec[index] += 1.0 if digest[4] & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vec)) or 1.0
    return [v / norm for v in vec]


def _encode(vector: list[float], as_base64: bool) -> list[float] | str:
    """OpenAI's `encoding_format=base64`: little-endian float32, base64-encoded."""
    if not as_base64:
        return vector
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()


def _completion_id(request: ChatRequest) -> str:
    digest = hashlib.blake2b(repr(request.messages).encode(), digest_size=12).hexdigest()
    return f"chatcmpl-stub{digest}"


def _message_text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    return ""


def _estimate_tokens(messages: list[dict[str, Any]]) -> int:
    return sum(len(_message_text(m)) // 4 + 4 for m in messages) or 1


def _count_words(text: str) -> int:
    return len(_WORD.findall(text))


def _as_text(item: Any) -> str:
    return item if isinstance(item, str) else " ".join(str(x) for x in item) if isinstance(item, list) else str(item)
