"""Offline token counting and prompt budgeting: exact for OpenAI's encodings, an estimate for other models.

Exact counts come from `bpe-openai` (GitHub's linear-time Rust BPE with OpenAI's `cl100k_base` and
`o200k_base` vocabularies shipped inside the wheel: nothing is downloaded). Its counts equal tiktoken's;
unlike tiktoken it stays linear on adversarial input such as one character repeated 100,000 times.

Chat counts follow OpenAI's published recipe: 3 tokens per message, +1 for a `name`, +3 priming the
reply, every string field of a message counted as text. Tool definitions follow OpenAI's cookbook
formula for function schemas. Image parts count a fixed allowance (see `IMAGE_TOKENS`) because the
image's size is not known without fetching it.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import itertools
import json
import math
import os
import sys
import threading
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from types import MappingProxyType
from typing import Any, Literal, NamedTuple, Protocol, cast

from aigw.errors import InvalidRequestError
from aigw.json_nesting import MAX_JSON_DEPTH, value_exceeds_depth

__all__ = [
    "CONTEXT_WINDOWS",
    "ENCODINGS",
    "IMAGE_TOKENS",
    "IMAGE_TOKENS_LOW",
    "ContextWindow",
    "FitResult",
    "PromptTooLong",
    "context_window",
    "count_chat",
    "count_message",
    "count_text",
    "count_tools",
    "encoding_for_model",
    "estimate_tokens",
    "fit_messages",
    "is_exact",
    "preload",
    "prompt_limit",
]

Message = Mapping[str, Any]
Strategy = Literal["reject", "trim_oldest"]
_Count = Callable[[str], int]

ENCODINGS = ("cl100k_base", "o200k_base")

TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
REPLY_PRIMING = 3
# An image part: OpenAI bills 85 tokens plus 170 per 512 px tile at high detail. Without the image's
# size we assume a 1024x1024 picture (4 tiles: 85 + 4 * 170) and the flat 85 at detail "low".
IMAGE_TOKENS = 765
IMAGE_TOKENS_LOW = 85
_IMAGE_PARTS = frozenset({"image_url", "input_image"})
_SYSTEM_ROLES = frozenset({"system", "developer"})

# Model name prefix -> encoding; the longest matching prefix wins ("gpt-4o" before "gpt-4").
_MODEL_PREFIXES: Mapping[str, str] = {
    "gpt-5": "o200k_base",
    "gpt-4.1": "o200k_base",
    "gpt-4.5": "o200k_base",
    "gpt-4o": "o200k_base",
    "chatgpt-4o": "o200k_base",
    "o1": "o200k_base",
    "o3": "o200k_base",
    "o4": "o200k_base",
    "gpt-4": "cl100k_base",
    "gpt-3.5-turbo": "cl100k_base",
    "gpt-35-turbo": "cl100k_base",  # Azure's spelling
    "text-embedding-3": "cl100k_base",
    "text-embedding-ada-002": "cl100k_base",
}


class ContextWindow(NamedTuple):
    """How many tokens a model reads (prompt and answer together) and how many it may write."""

    context: int
    max_output: int


# Model family (name prefix, longest match wins) -> context window, from OpenAI's model pages.
CONTEXT_WINDOWS: Mapping[str, ContextWindow] = MappingProxyType(
    {
        "gpt-5": ContextWindow(400_000, 128_000),
        "gpt-5-chat": ContextWindow(128_000, 16_384),
        "gpt-4.1": ContextWindow(1_047_576, 32_768),
        "gpt-4.5": ContextWindow(128_000, 16_384),
        "gpt-4o": ContextWindow(128_000, 16_384),
        "chatgpt-4o": ContextWindow(128_000, 16_384),
        "o1": ContextWindow(200_000, 100_000),
        "o1-mini": ContextWindow(128_000, 65_536),
        "o1-preview": ContextWindow(128_000, 32_768),
        "o3": ContextWindow(200_000, 100_000),
        "o4-mini": ContextWindow(200_000, 100_000),
        "gpt-4": ContextWindow(8_192, 8_192),
        "gpt-4-32k": ContextWindow(32_768, 32_768),
        "gpt-4-turbo": ContextWindow(128_000, 4_096),
        "gpt-4-1106-preview": ContextWindow(128_000, 4_096),
        "gpt-4-0125-preview": ContextWindow(128_000, 4_096),
        "gpt-3.5-turbo": ContextWindow(16_385, 4_096),
        "gpt-35-turbo": ContextWindow(16_385, 4_096),
        "text-embedding-3": ContextWindow(8_191, 0),
        "text-embedding-ada-002": ContextWindow(8_191, 0),
    }
)


class PromptTooLong(InvalidRequestError):
    """The prompt does not fit the model's context window (less the reserved output) or the configured cap."""

    default_code = "context_length_exceeded"

    def __init__(self, prompt_tokens: int, limit: int, *, trimmed_to: int | None = None) -> None:
        message = f"the prompt is {prompt_tokens} tokens, over the limit of {limit}"
        if trimmed_to is not None:
            message += f" (still {trimmed_to} after dropping every message that may be dropped)"
        super().__init__(message, param="messages")
        self.prompt_tokens = prompt_tokens
        self.limit = limit
        self.trimmed_to = trimmed_to


@dataclass(frozen=True, slots=True)
class FitResult:
    """Messages that fit the budget, their prompt token count and how many messages were dropped."""

    messages: list[dict[str, Any]]
    prompt_tokens: int
    trimmed: int
    limit: int | None = None
    estimated: bool = False  # True when the model has no known encoding: counts are `estimate_tokens`


class _Tokenizer(Protocol):
    def count(self, text: str) -> int: ...


_LOAD_LOCK = threading.Lock()
_BINDINGS = "bpe_openai._bindings"


def _load_bindings() -> Any:
    """bpe-openai's compiled core, loaded without running the package's `__init__`.

    Importing `bpe_openai` parses all three of its vocabularies into Python dicts it keeps cached
    (≈ 0.5 s, ≈ 68 MB per process, and a DeprecationWarning): we only need the Rust tokenizers, which
    carry their own tables. The module is registered under its own name, so a later ordinary
    `import bpe_openai` reuses it instead of initialising the extension twice.
    """
    with _LOAD_LOCK:
        loaded = sys.modules.get(_BINDINGS)
        if loaded is not None:
            return loaded
        package = importlib.util.find_spec("bpe_openai")  # locates the package, does not import it
        folders = list(package.submodule_search_locations or []) if package is not None else []
        for folder, suffix in itertools.product(folders, importlib.machinery.EXTENSION_SUFFIXES):
            path = os.path.join(folder, "_bindings" + suffix)
            spec = importlib.util.spec_from_file_location(_BINDINGS, path) if os.path.isfile(path) else None
            if spec is not None and spec.loader is not None:
                module = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(module)
                sys.modules[_BINDINGS] = module
                return module
    with warnings.catch_warnings():  # an unexpected layout: the ordinary (slower, bigger) import
        warnings.simplefilter("ignore", DeprecationWarning)
        return importlib.import_module(_BINDINGS)


@cache
def _tokenizer(encoding: str) -> _Tokenizer:
    # bpe-openai's public Encoding wraps this same Rust tokenizer but adds a Python rank table and
    # doubles the time per call; the compiled API used here is pinned by bpe-openai<0.2 (pyproject.toml).
    return cast(_Tokenizer, _load_bindings().tokenizer_for_encoding(encoding))


def preload(encodings: Iterable[str] = ENCODINGS) -> None:
    """Load the encoders now (≈ 20-50 ms each) instead of on the first request that counts."""
    for encoding in encodings:
        _tokenizer(encoding)


def _normalize(model: str) -> str:
    name = model.strip().lower()
    if name.startswith("ft:"):  # fine-tuned: ft:gpt-4o-mini-2024-07-18:org::id
        name = name[3:]
    return name.rsplit("/", 1)[-1]  # "openai/gpt-4o", "azure/gpt-4o"


def _longest_prefix(name: str, prefixes: Iterable[str]) -> str | None:
    best: str | None = None
    for prefix in prefixes:
        if name.startswith(prefix) and (best is None or len(prefix) > len(best)):
            best = prefix
    return best


@lru_cache(maxsize=4096)
def encoding_for_model(model: str) -> str | None:
    """The encoding OpenAI uses for `model`, or None when unknown (counts are then estimates)."""
    prefix = _longest_prefix(_normalize(model), _MODEL_PREFIXES)
    return _MODEL_PREFIXES[prefix] if prefix is not None else None


def is_exact(model: str) -> bool:
    """Whether counts for `model` are exact (a known OpenAI encoding) rather than estimates."""
    return encoding_for_model(model) is not None


def estimate_tokens(text: str) -> int:
    """A fast ESTIMATE for models without a known encoding: one token per 4 bytes of UTF-8, rounded up."""
    size = len(text) if text.isascii() else len(text.encode("utf-8", "replace"))
    return math.ceil(size / 4)


def _exact_counter(encoding: str) -> _Count:
    tokenizer = _tokenizer(encoding)

    def count(text: str) -> int:
        try:
            return tokenizer.count(text)
        except UnicodeEncodeError:  # lone surrogates: count them as U+FFFD, as tiktoken does
            return tokenizer.count(text.encode("utf-16", "surrogatepass").decode("utf-16", "replace"))

    return count


@lru_cache(maxsize=4096)
def _counter(model: str) -> _Count:
    encoding = encoding_for_model(model)
    return _exact_counter(encoding) if encoding is not None else estimate_tokens


def count_text(model: str, text: str) -> int:
    """Tokens in `text` for `model`: exact for OpenAI encodings, `estimate_tokens` otherwise."""
    return _counter(model)(text)


def _part_tokens(count: _Count, part: Any) -> int:
    if isinstance(part, str):
        return count(part)
    if not isinstance(part, Mapping):
        return 0
    kind = part.get("type")
    if kind in _IMAGE_PARTS:
        image = part.get("image_url")
        detail = image.get("detail") if isinstance(image, Mapping) else part.get("detail")
        return IMAGE_TOKENS_LOW if detail == "low" else IMAGE_TOKENS
    text = part.get("text", part.get("refusal"))
    # Audio and file parts have no size we can know here: they count nothing.
    return count(text) if isinstance(text, str) else 0


def _content_tokens(count: _Count, content: Any) -> int:
    if isinstance(content, str):
        return count(content)
    if isinstance(content, list):
        return sum(_part_tokens(count, part) for part in content)
    return 0


def _call_tokens(count: _Count, calls: Any) -> int:
    # Not in OpenAI's recipe: the function name and its JSON arguments are what the model wrote.
    total = 0
    for call in calls if isinstance(calls, list) else [calls]:
        function = call.get("function", call) if isinstance(call, Mapping) else None
        if isinstance(function, Mapping):
            total += sum(count(function[key]) for key in ("name", "arguments") if isinstance(function.get(key), str))
    return total


def _message_tokens(count: _Count, message: Message) -> int:
    total = TOKENS_PER_MESSAGE
    for key, value in message.items():
        if key == "content":
            total += _content_tokens(count, value)
        elif key in ("tool_calls", "function_call"):
            total += _call_tokens(count, value)
        elif isinstance(value, str):
            total += count(value)
            if key == "name":
                total += TOKENS_PER_NAME
    return total


def count_message(model: str, message: Message) -> int:
    """Tokens one chat message adds to the prompt, its 3-token frame included."""
    return _message_tokens(_counter(model), message)


class _ToolCosts(NamedTuple):
    function: int
    properties: int
    property: int
    enum: int
    enum_item: int
    end: int


# OpenAI cookbook ("How to count tokens with tiktoken", function calling): o200k models and older ones.
_TOOL_COSTS_O200K = _ToolCosts(function=7, properties=3, property=3, enum=-3, enum_item=3, end=12)
_TOOL_COSTS_CL100K = _ToolCosts(function=10, properties=3, property=3, enum=-3, enum_item=3, end=12)


def _property_tokens(count: _Count, costs: _ToolCosts, name: str, spec: Any) -> int:
    spec = spec if isinstance(spec, Mapping) else {}
    total = costs.property
    enum = spec.get("enum")
    if isinstance(enum, list):
        total += costs.enum + sum(costs.enum_item + count(str(item)) for item in enum)
    kind = spec.get("type", "")
    kind = "|".join(map(str, kind)) if isinstance(kind, list) else str(kind)
    total += count(f"{name}:{kind}:{str(spec.get('description', '')).removesuffix('.')}")
    nested = {key: spec[key] for key in ("properties", "items") if key in spec}
    if nested:  # the cookbook's formula ignores nested schemas: count their JSON text
        total += count(json.dumps(nested, separators=(",", ":"), ensure_ascii=False))
    return total


def _function_tokens(count: _Count, costs: _ToolCosts, tool: Any) -> int:
    function = tool.get("function", tool) if isinstance(tool, Mapping) else {}
    description = str(function.get("description", "")).removesuffix(".")
    total = costs.function + count(f"{function.get('name', '')}:{description}")
    parameters = function.get("parameters")
    properties = parameters.get("properties") if isinstance(parameters, Mapping) else None
    if isinstance(properties, Mapping) and properties:
        total += costs.properties
        total += sum(_property_tokens(count, costs, str(key), spec) for key, spec in properties.items())
    return total


def count_tools(model: str, tools: Sequence[Mapping[str, Any]] | None) -> int:
    """Tokens the tool (function) definitions add to the prompt, per OpenAI's cookbook formula."""
    if not tools:
        return 0
    if value_exceeds_depth(list(tools)):  # the walk below (str, json.dumps) recurses per level
        raise InvalidRequestError(f"tools are nested deeper than {MAX_JSON_DEPTH} levels", param="tools")
    count = _counter(model)
    costs = _TOOL_COSTS_CL100K if encoding_for_model(model) == "cl100k_base" else _TOOL_COSTS_O200K
    return sum(_function_tokens(count, costs, tool) for tool in tools) + costs.end


def count_chat(model: str, messages: Sequence[Message], tools: Sequence[Mapping[str, Any]] | None = None) -> int:
    """Prompt tokens of a chat request: every message, the reply priming and the tool definitions."""
    count = _counter(model)
    return sum(_message_tokens(count, message) for message in messages) + REPLY_PRIMING + count_tools(model, tools)


def context_window(model: str, overrides: Mapping[str, ContextWindow] | None = None) -> ContextWindow | None:
    """The context window of `model`'s family (longest name prefix; `overrides` win), None when unknown."""
    name = _normalize(model)
    if overrides:
        table: Mapping[str, ContextWindow] = {**CONTEXT_WINDOWS, **{_normalize(k): v for k, v in overrides.items()}}
    else:
        table = CONTEXT_WINDOWS
    prefix = _longest_prefix(name, table)
    return ContextWindow(*table[prefix]) if prefix is not None else None


def prompt_limit(
    model: str,
    *,
    max_prompt_tokens: int | None = None,
    reserve_output: int = 0,
    context_windows: Mapping[str, ContextWindow] | None = None,
) -> int | None:
    """The most prompt tokens allowed: context window less `reserve_output`, capped by `max_prompt_tokens`."""
    limits: list[int] = []
    window = context_window(model, context_windows)
    if window is not None:
        limits.append(window.context - reserve_output)
    if max_prompt_tokens is not None:
        limits.append(max_prompt_tokens)
    return min(limits) if limits else None


def _units(messages: Sequence[Message]) -> list[tuple[int, int]]:
    """Spans [start, end) dropped together: an assistant message with tool calls and the tool answers after it."""
    units: list[tuple[int, int]] = []
    start, size = 0, len(messages)
    while start < size:
        end = start + 1
        if messages[start].get("role") == "assistant" and messages[start].get("tool_calls"):
            while end < size and messages[end].get("role") == "tool":
                end += 1
        units.append((start, end))
        start = end
    return units


def _protected(messages: Sequence[Message]) -> set[int]:
    """System and developer messages, and the last user message (the last message when there is none)."""
    keep = {i for i, message in enumerate(messages) if message.get("role") in _SYSTEM_ROLES}
    users = [i for i, message in enumerate(messages) if message.get("role") == "user"]
    if users or messages:
        keep.add(users[-1] if users else len(messages) - 1)
    return keep


def _trim_oldest(messages: Sequence[Message], costs: list[int], total: int, limit: int) -> tuple[list[int], int]:
    """Indices of the messages kept and their total, dropping the oldest droppable spans until it fits."""
    protected = _protected(messages)
    dropped: set[int] = set()
    for start, end in _units(messages):
        if total <= limit:
            break
        if protected.intersection(range(start, end)):
            continue
        total -= sum(costs[start:end])
        dropped.update(range(start, end))
    return [i for i in range(len(messages)) if i not in dropped], total


def fit_messages(
    model: str,
    messages: Sequence[Message],
    *,
    max_prompt_tokens: int | None = None,
    reserve_output: int = 0,
    strategy: Strategy = "reject",
    tools: Sequence[Mapping[str, Any]] | None = None,
    context_windows: Mapping[str, ContextWindow] | None = None,
) -> FitResult:
    """Make the prompt fit `prompt_limit`: raise `PromptTooLong` ("reject") or drop the oldest messages.

    "trim_oldest" never drops system or developer messages nor the last user message, and drops an
    assistant message with tool calls together with the tool messages answering it. Each message is
    counted once; dropping subtracts, so the whole is linear in the size of the prompt.
    """
    if strategy not in ("reject", "trim_oldest"):
        raise ValueError(f"unknown strategy {strategy!r}: expected 'reject' or 'trim_oldest'")
    count = _counter(model)
    estimated = not is_exact(model)
    limit = prompt_limit(
        model, max_prompt_tokens=max_prompt_tokens, reserve_output=reserve_output, context_windows=context_windows
    )
    costs = [_message_tokens(count, message) for message in messages]
    total = sum(costs) + REPLY_PRIMING + count_tools(model, tools)
    if limit is None or total <= limit:
        return FitResult([dict(m) for m in messages], total, 0, limit, estimated)
    if strategy == "reject":
        raise PromptTooLong(total, limit)
    kept, trimmed_total = _trim_oldest(messages, costs, total, limit)
    if trimmed_total > limit:
        raise PromptTooLong(total, limit, trimmed_to=trimmed_total)
    return FitResult([dict(messages[i]) for i in kept], trimmed_total, len(messages) - len(kept), limit, estimated)
