"""Token counting and prompt budgeting: exact OpenAI counts offline, estimates, context windows, trimming."""

from __future__ import annotations

import sys
import time
import warnings
from typing import Any

import pytest

from aigw.context import tokens
from aigw.context.tokens import (
    IMAGE_TOKENS,
    IMAGE_TOKENS_LOW,
    ContextWindow,
    PromptTooLong,
    context_window,
    count_chat,
    count_message,
    count_text,
    count_tools,
    encoding_for_model,
    estimate_tokens,
    fit_messages,
    is_exact,
    prompt_limit,
)
from aigw.errors import InvalidRequestError

TEXTS = ["hello world", "tiktoken is great!", "Grüße aus München, 東京タワー 🙂", "def f(x):\n    return x**2\n"]
# Counted with tiktoken 0.14 on OpenAI's published encoding files (same sha256 as the files bpe-openai ships).
CL100K_COUNTS = [2, 6, 14, 10]
O200K_COUNTS = [2, 6, 11, 10]

# OpenAI cookbook "How to count tokens with tiktoken": counts the API itself reported for these prompts.
COOKBOOK_MESSAGES = [
    {
        "role": "system",
        "content": "You are a helpful, pattern-following assistant that translates corporate jargon into plain "
        "English.",
    },
    {"role": "system", "name": "example_user", "content": "New synergies will help drive top-line growth."},
    {"role": "system", "name": "example_assistant", "content": "Things working well together will increase revenue."},
    {
        "role": "system",
        "name": "example_user",
        "content": "Let's circle back when we have more bandwidth to touch base on opportunities for increased "
        "leverage.",
    },
    {
        "role": "system",
        "name": "example_assistant",
        "content": "Let's talk later when we're less busy about how to do better.",
    },
    {
        "role": "user",
        "content": "This late pivot means we don't have time to boil the ocean for the client deliverable.",
    },
]
WEATHER_TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_current_weather",
            "description": "Get the current weather in a given location",
            "parameters": {
                "type": "object",
                "properties": {
                    "location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"},
                    "unit": {
                        "type": "string",
                        "description": "The unit of temperature to return",
                        "enum": ["celsius", "fahrenheit"],
                    },
                },
                "required": ["location"],
            },
        },
    }
]
WEATHER_MESSAGES = [
    {"role": "system", "content": "You are a helpful assistant that can answer to questions about the weather."},
    {"role": "user", "content": "What's the weather like in San Francisco?"},
]


@pytest.mark.parametrize(
    ("model", "encoding"),
    [
        ("gpt-4o", "o200k_base"),
        ("gpt-4o-mini-2024-07-18", "o200k_base"),
        ("chatgpt-4o-latest", "o200k_base"),
        ("gpt-4.1-nano", "o200k_base"),
        ("gpt-4.5-preview", "o200k_base"),
        ("gpt-5", "o200k_base"),
        ("gpt-5-mini", "o200k_base"),
        ("o1", "o200k_base"),
        ("o1-mini", "o200k_base"),
        ("o3-mini", "o200k_base"),
        ("o4-mini", "o200k_base"),
        ("gpt-4", "cl100k_base"),
        ("gpt-4-0613", "cl100k_base"),
        ("gpt-4-turbo", "cl100k_base"),
        ("gpt-3.5-turbo", "cl100k_base"),
        ("gpt-35-turbo", "cl100k_base"),
        ("text-embedding-3-small", "cl100k_base"),
        ("text-embedding-ada-002", "cl100k_base"),
        ("openai/GPT-4o", "o200k_base"),
        ("ft:gpt-4o-mini-2024-07-18:acme::abc123", "o200k_base"),
        ("claude-3-5-sonnet", None),
        ("llama3", None),
        ("stub", None),
    ],
)
def test_model_encodings(model: str, encoding: str | None) -> None:
    assert encoding_for_model(model) == encoding
    assert is_exact(model) is (encoding is not None)


@pytest.mark.parametrize(("model", "expected"), [("gpt-4", CL100K_COUNTS), ("gpt-4o", O200K_COUNTS)])
def test_exact_counts_match_tiktoken(model: str, expected: list[int]) -> None:
    assert [count_text(model, text) for text in TEXTS] == expected
    assert count_text(model, "") == 0


def test_special_token_text_counts_as_ordinary_text() -> None:
    assert count_text("gpt-4o", "<|endoftext|>") == 7


def test_lone_surrogates_are_counted_not_raised() -> None:
    assert count_text("gpt-4o", "ab\ud800cd") >= 2


def test_unknown_models_get_a_four_bytes_per_token_estimate() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("abcd") == 1
    assert estimate_tokens("abcde") == 2
    assert estimate_tokens("日本") == 2  # 6 bytes of UTF-8
    assert count_text("my-local-llm", "x" * 400) == 100


def test_chat_counts_match_what_the_openai_api_reported() -> None:
    assert count_chat("gpt-4", COOKBOOK_MESSAGES) == 129
    assert count_chat("gpt-3.5-turbo", COOKBOOK_MESSAGES) == 129
    assert count_chat("gpt-4o", COOKBOOK_MESSAGES) == 124
    assert count_chat("gpt-4o-mini", COOKBOOK_MESSAGES) == 124


def test_tool_definitions_match_what_the_openai_api_reported() -> None:
    assert count_chat("gpt-3.5-turbo", WEATHER_MESSAGES, WEATHER_TOOLS) == 105
    assert count_chat("gpt-4o-mini", WEATHER_MESSAGES, WEATHER_TOOLS) == 101
    assert count_tools("gpt-4o", None) == 0
    assert count_tools("gpt-4o", []) == 0


def test_tools_without_descriptions_or_with_nested_schemas_are_counted() -> None:
    flat = [{"type": "function", "function": {"name": "f", "parameters": {"properties": {"a": {"type": "string"}}}}}]
    nested = [
        {
            "type": "function",
            "function": {
                "name": "f",
                "parameters": {"properties": {"a": {"type": "object", "properties": {"b": {"type": "integer"}}}}},
            },
        }
    ]
    assert 0 < count_tools("gpt-4o", flat) < count_tools("gpt-4o", nested)
    assert count_tools("unknown-model", flat) > 0


def test_message_overheads() -> None:
    text = "hello world"
    plain = count_message("gpt-4o", {"role": "user", "content": text})
    assert plain == 3 + count_text("gpt-4o", "user") + 2
    named = count_message("gpt-4o", {"role": "user", "name": "bob", "content": text})
    assert named == plain + count_text("gpt-4o", "bob") + 1
    assert count_chat("gpt-4o", [{"role": "user", "content": text}]) == plain + 3
    assert count_chat("gpt-4o", []) == 3


def test_list_contents_count_text_parts_and_a_fixed_image_allowance() -> None:
    text_only = count_message("gpt-4o", {"role": "user", "content": "look at this"})
    parts: list[dict[str, Any]] = [
        {"type": "text", "text": "look"},
        {"type": "text", "text": " at this"},
        {"type": "image_url", "image_url": {"url": "https://example.invalid/cat.png"}},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA", "detail": "low"}},
        {"type": "input_audio", "input_audio": {"data": "AAAA" * 1000, "format": "wav"}},
    ]
    with_images = count_message("gpt-4o", {"role": "user", "content": parts})
    assert with_images == text_only - 3 + count_text("gpt-4o", "look") + count_text("gpt-4o", " at this") + (
        IMAGE_TOKENS + IMAGE_TOKENS_LOW
    )
    assert count_message("gpt-4o", {"role": "assistant", "content": None}) == 3 + count_text("gpt-4o", "assistant")


def test_tool_calls_and_tool_results_are_counted() -> None:
    call = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": '{"sku": "A-1"}'}}
        ],
    }
    bare = count_message("gpt-4o", {"role": "assistant", "content": None})
    arguments = count_text("gpt-4o", "lookup") + count_text("gpt-4o", '{"sku": "A-1"}')
    assert count_message("gpt-4o", call) == bare + arguments
    answer = {"role": "tool", "tool_call_id": "call_1", "content": "in stock"}
    assert count_message("gpt-4o", answer) > count_text("gpt-4o", "in stock")


def test_counting_a_4kib_prompt_takes_well_under_a_millisecond() -> None:
    prompt = (
        ("The quick brown fox jumps over the lazy dog; Grüße, 東京 42. " * 80).encode()[:4096].decode(errors="ignore")
    )
    for model in ("gpt-4o", "gpt-4"):
        count_text(model, prompt)  # the encoder is loaded once and cached
        runs = 200
        start = time.perf_counter()
        for _ in range(runs):
            count_text(model, prompt)
        assert (time.perf_counter() - start) / runs < 0.001


def test_counting_stays_linear_on_adversarial_repetition() -> None:
    start = time.perf_counter()
    assert count_text("gpt-4o", "A" * 200_000) == 25_000
    assert time.perf_counter() - start < 0.5


def test_context_windows_table_prefixes_and_overrides() -> None:
    assert context_window("gpt-4o-mini") == ContextWindow(128_000, 16_384)
    assert context_window("gpt-4") == ContextWindow(8_192, 8_192)
    assert context_window("gpt-4-turbo-2024-04-09") == ContextWindow(128_000, 4_096)
    assert context_window("o1-mini") == ContextWindow(128_000, 65_536)
    assert context_window("o1-2024-12-17") == ContextWindow(200_000, 100_000)
    assert context_window("gpt-4.1") == ContextWindow(1_047_576, 32_768)
    assert context_window("my-local-llm") is None
    overrides = {"my-local-llm": ContextWindow(4_096, 1_024), "gpt-4o": ContextWindow(1_000, 100)}
    assert context_window("my-local-llm-q4", overrides) == ContextWindow(4_096, 1_024)
    assert context_window("gpt-4o-mini", overrides) == ContextWindow(1_000, 100)
    assert context_window("gpt-4o-mini") == ContextWindow(128_000, 16_384)  # the shipped table is untouched
    assert context_window("x", {"x": (10, 5)}) == ContextWindow(10, 5)  # type: ignore[dict-item]


def test_prompt_limit() -> None:
    assert prompt_limit("gpt-4", reserve_output=1_000) == 7_192
    assert prompt_limit("gpt-4", reserve_output=1_000, max_prompt_tokens=500) == 500
    assert prompt_limit("gpt-4", max_prompt_tokens=10_000) == 8_192
    assert prompt_limit("my-local-llm") is None
    assert prompt_limit("my-local-llm", max_prompt_tokens=50) == 50


def _chat(*pairs: tuple[str, str]) -> list[dict[str, Any]]:
    return [{"role": role, "content": content} for role, content in pairs]


def test_a_prompt_that_fits_is_returned_unchanged() -> None:
    messages = _chat(("system", "be brief"), ("user", "hi"))
    result = fit_messages("gpt-4o", messages, reserve_output=1_000)
    assert result.messages == messages
    assert result.prompt_tokens == count_chat("gpt-4o", messages)
    assert result.trimmed == 0
    assert result.limit == 127_000
    assert result.estimated is False
    unlimited = fit_messages("my-local-llm", messages)
    assert unlimited.limit is None and unlimited.estimated is True


def test_reject_raises_prompt_too_long_as_a_400() -> None:
    messages = _chat(("user", "word " * 100))
    total = count_chat("gpt-4o", messages)
    with pytest.raises(PromptTooLong) as caught:
        fit_messages("gpt-4o", messages, max_prompt_tokens=50, strategy="reject")
    error = caught.value
    assert (error.prompt_tokens, error.limit) == (total, 50)
    assert isinstance(error, InvalidRequestError)
    assert error.status == 400
    assert error.to_body()["error"]["code"] == "context_length_exceeded"
    assert str(total) in error.message and "50" in error.message


def test_reserve_output_counts_against_the_context_window() -> None:
    messages = _chat(("user", "hello"))
    with pytest.raises(PromptTooLong):
        fit_messages("gpt-4", messages, reserve_output=8_190)
    windows = {"tiny": ContextWindow(100, 50)}
    assert fit_messages("tiny", messages, reserve_output=50, context_windows=windows).limit == 50


def test_trim_oldest_keeps_system_messages_and_the_last_user_message() -> None:
    messages = _chat(
        ("system", "rules"),
        ("user", "old question " * 20),
        ("assistant", "old answer " * 20),
        ("developer", "more rules"),
        ("user", "recent question " * 5),
        ("assistant", "recent answer"),
        ("user", "now?"),
    )
    costs = [count_message("gpt-4o", m) for m in messages]
    limit = sum(costs) + 3 - costs[1] - costs[2]  # room once the two oldest are gone
    result = fit_messages("gpt-4o", messages, max_prompt_tokens=limit, strategy="trim_oldest")
    assert result.messages == [messages[0], messages[3], messages[4], messages[5], messages[6]]
    assert result.trimmed == 2
    assert result.prompt_tokens == count_chat("gpt-4o", result.messages) <= limit


def test_trim_drops_an_assistant_tool_call_together_with_its_tool_answers() -> None:
    call = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "a", "type": "function", "function": {"name": "f", "arguments": "{}"}},
            {"id": "b", "type": "function", "function": {"name": "g", "arguments": "{}"}},
        ],
    }
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": "rules"},
        {"role": "user", "content": "first"},
        call,
        {"role": "tool", "tool_call_id": "a", "content": "result a " * 30},
        {"role": "tool", "tool_call_id": "b", "content": "result b"},
        {"role": "assistant", "content": "done"},
        {"role": "user", "content": "next"},
    ]
    costs = [count_message("gpt-4o", m) for m in messages]
    # Dropping "first" is not enough; the whole tool exchange (call and both answers) must go.
    limit = sum(costs) + 3 - costs[1] - costs[2]
    result = fit_messages("gpt-4o", messages, max_prompt_tokens=limit, strategy="trim_oldest")
    assert result.messages == [messages[0], messages[5], messages[6]]
    assert result.trimmed == 4
    assert not any(m["role"] == "tool" for m in result.messages)


def test_trim_raises_when_even_the_protected_messages_do_not_fit() -> None:
    messages = _chat(("system", "rules " * 50), ("user", "old"), ("user", "now " * 50))
    with pytest.raises(PromptTooLong) as caught:
        fit_messages("gpt-4o", messages, max_prompt_tokens=60, strategy="trim_oldest")
    assert caught.value.trimmed_to is not None
    assert caught.value.trimmed_to < caught.value.prompt_tokens
    assert "after dropping" in caught.value.message


def test_without_a_user_message_the_last_message_is_kept() -> None:
    messages = _chat(("system", "s"), ("assistant", "a " * 50), ("assistant", "b"))
    result = fit_messages("gpt-4o", messages, max_prompt_tokens=30, strategy="trim_oldest")
    assert result.messages == [messages[0], messages[2]]


def test_each_message_is_counted_once_while_trimming(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = 0
    original = tokens._message_tokens

    def counting(count: Any, message: Any) -> int:
        nonlocal calls
        calls += 1
        return original(count, message)

    monkeypatch.setattr(tokens, "_message_tokens", counting)
    messages = [{"role": "user" if i % 2 else "assistant", "content": f"message {i} " * 10} for i in range(2_000)]
    result = fit_messages("gpt-4o", messages, max_prompt_tokens=500, strategy="trim_oldest")
    assert calls == len(messages)
    assert result.messages[-1] == messages[-1]
    assert result.trimmed == len(messages) - len(result.messages)


def test_trimming_estimates_for_unknown_models() -> None:
    messages = _chat(("user", "x" * 400), ("assistant", "y" * 400), ("user", "z" * 40))
    result = fit_messages("my-local-llm", messages, max_prompt_tokens=60, strategy="trim_oldest")
    assert result.estimated is True
    assert result.messages == [messages[2]]


def test_unknown_strategy_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown strategy"):
        fit_messages("gpt-4o", _chat(("user", "hi")), strategy="drop_newest")  # type: ignore[arg-type]


def test_the_compiled_tokenizer_loads_without_the_package_and_agrees_with_its_public_api(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    count_text("gpt-4o", "warm")
    assert "bpe_openai._bindings" in sys.modules
    # An unexpected package layout: the ordinary import is the fallback, with its DeprecationWarning silenced.
    monkeypatch.delitem(sys.modules, "bpe_openai._bindings")
    monkeypatch.setattr(tokens.importlib.util, "find_spec", lambda name: None)
    bindings = tokens._load_bindings()
    assert bindings.tokenizer_for_encoding("cl100k_base").count("hello world") == 2
    monkeypatch.undo()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import bpe_openai
    for encoding, expected in (("cl100k_base", CL100K_COUNTS), ("o200k_base", O200K_COUNTS)):
        public = bpe_openai.get_encoding(encoding)
        assert [len(public.encode_ordinary(text)) for text in TEXTS] == expected
