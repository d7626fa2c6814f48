"""PII in the parameters that go upstream with the messages: tool and schema descriptions, enum
values, metadata, prediction, stop sequences, `user`. Masked like message text, with names, types
and patterns (the contract with the caller's code) left alone; blocked and restored like it too."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from aigw.context.builder import ContextBuilder, ContextPolicy
from aigw.context.pii import Masker, PIIBlocked, PIIMode, apply_to_params
from aigw.context.pii.restore import restore_answer
from aigw.context.templates import TemplateStore
from aigw.observability.tracing import Trace
from aigw.types import ChatRequest, EmbeddingRequest

EMAIL = "jane.doe@example.com"
PHONE = "+49 30 901820"
CARD = "4111 1111 1111 1111"

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "send_mail",
            "description": f"Send a mail on behalf of {EMAIL}",
            "parameters": {
                "type": "object",
                "title": f"Mail from {EMAIL}",
                "properties": {
                    "to": {"type": "string", "format": "email", "enum": [EMAIL, "team@corp.example"]},
                    "phone": {"type": "string", "description": f"call back on {PHONE}", "pattern": "^[+0-9 ]+$"},
                    "card": {"type": "string", "examples": [CARD], "default": CARD},
                },
                "required": ["to"],
            },
        },
    }
]
RESPONSE_FORMAT = {
    "type": "json_schema",
    "json_schema": {
        "name": "contact",
        "description": f"the contact of {EMAIL}",
        "schema": {"type": "object", "properties": {"email": {"type": "string", "const": EMAIL}}},
    },
}
PARAMS: dict[str, Any] = {
    "temperature": 0,
    "tool_choice": {"type": "function", "function": {"name": "send_mail"}},
    "tools": TOOLS,
    "response_format": RESPONSE_FORMAT,
    "metadata": {"customer": EMAIL, "ticket": "T-1"},
    "prediction": {"type": "content", "content": [{"type": "text", "text": f"Dear {EMAIL},"}]},
    "stop": [f"END {PHONE}"],
    "user": EMAIL,
    "safety_identifier": "u-4711",
}
PLANTED = (EMAIL, PHONE, CARD)


def leaked(value: Any) -> list[str]:
    text = repr(value)
    return [planted for planted in PLANTED if planted in text]


def test_every_text_carrying_parameter_is_masked() -> None:
    original = copy.deepcopy(PARAMS)
    masked = apply_to_params(PARAMS, Masker(), PIIMode.MASK)
    assert leaked(masked) == []
    assert original == PARAMS  # the caller's objects are not changed


def test_names_types_patterns_and_other_parameters_are_left_alone() -> None:
    masked = apply_to_params(PARAMS, Masker(), PIIMode.MASK)
    function = masked["tools"][0]["function"]
    assert function["name"] == "send_mail"
    schema = function["parameters"]
    assert list(schema["properties"]) == ["to", "phone", "card"]
    assert schema["properties"]["to"]["format"] == "email"
    assert schema["properties"]["phone"]["pattern"] == "^[+0-9 ]+$"
    assert schema["required"] == ["to"]
    assert schema["properties"]["to"]["enum"] == ["<EMAIL_1>", "<EMAIL_2>"]
    assert function["description"] == "Send a mail on behalf of <EMAIL_1>"  # the same value, the same placeholder
    assert masked["metadata"] == {"customer": "<EMAIL_1>", "ticket": "T-1"}
    assert masked["safety_identifier"] == "u-4711"  # an opaque identifier passes unchanged
    assert masked["user"] == "<EMAIL_1>"  # but an e-mail address as user id does not
    for name in ("temperature", "tool_choice"):
        assert masked[name] == PARAMS[name]


def test_off_mode_sends_the_parameters_as_they_are() -> None:
    assert apply_to_params(PARAMS, Masker(), PIIMode.OFF) == PARAMS


@pytest.mark.parametrize("name", ["tools", "response_format", "metadata", "prediction", "stop", "user"])
def test_block_mode_refuses_pii_in_any_text_carrying_parameter(name: str) -> None:
    with pytest.raises(PIIBlocked):
        apply_to_params({name: PARAMS[name]}, Masker(), PIIMode.BLOCK)


def test_block_mode_lets_clean_parameters_through() -> None:
    clean = {"tools": [{"type": "function", "function": {"name": "f", "description": "Look up the weather"}}]}
    assert apply_to_params(clean, Masker(), PIIMode.BLOCK) == clean


def test_restore_mode_puts_a_masked_enum_value_back_into_the_tool_call() -> None:
    masker = Masker()
    apply_to_params({"tools": TOOLS}, masker, PIIMode.RESTORE)
    call = {"id": "c", "type": "function", "function": {"name": "send_mail", "arguments": '{"to": "<EMAIL_1>"}'}}
    body = {"choices": [{"index": 0, "message": {"role": "assistant", "tool_calls": [call]}}]}
    restored = restore_answer(body, masker)
    assert restored["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"] == f'{{"to": "{EMAIL}"}}'


def test_the_context_stage_masks_chat_and_embeddings_parameters() -> None:
    builder = ContextBuilder(TemplateStore())
    chat = ChatRequest("gpt-4o-mini", [{"role": "user", "content": "hi"}], copy.deepcopy(PARAMS))
    prepared = builder.prepare(chat, ContextPolicy(pii_mode=PIIMode.MASK), Trace("r"))
    assert leaked(prepared.request.params) == []
    assert prepared.pii_counts["EMAIL"] >= 1
    embeddings = EmbeddingRequest("text-embedding-3-small", "hello", {"user": EMAIL})
    prepared = builder.prepare(embeddings, ContextPolicy(pii_mode=PIIMode.MASK), Trace("r"))
    assert prepared.request.params == {"user": "<EMAIL_1>"}
