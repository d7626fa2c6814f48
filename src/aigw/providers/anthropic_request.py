"""An OpenAI chat request as an Anthropic Messages API request (`POST /v1/messages`).

The messages are walked by `chat_translation` (system and developer messages into the top-level
`system` blocks, same-role turns merged, a `tool` message as a `tool_result` block in a user turn,
tool calls' arguments decoded to `tool_use` inputs, the common refusals), which writes the Messages
API's blocks with `MessagesBlocks`. Decisions:
- Images: a `data:` URL becomes a base64 source, an http(s) URL a `url` source.
- `response_format` `json_schema` is sent as Anthropic's structured output
  (`output_config.format`), so the answer is constrained to the schema the same way. `json_object`
  (any JSON, no schema) has no Anthropic counterpart: it is refused with a clear 400 rather than
  emulated by a prompt, which could not guarantee JSON and would change the caller's messages.
- `temperature` above 1 is refused (Anthropic's range is 0 to 1, OpenAI's 0 to 2). Parameters
  with no effect on the answer (`seed`, `store`, `service_tier` ...) are left out.
- `max_tokens` is required by Anthropic: `max_completion_tokens`, else `max_tokens`, else the
  provider's `max_tokens_default`.
"""

from __future__ import annotations

from typing import Any

from aigw.providers.chat_translation import (
    TranslationRefusal,
    data_url,
    function_of,
    json_schema_of,
    max_tokens,
    refuse_unsupported,
    stop_sequences,
    turns,
)

FAMILY = "Anthropic"
_ALLOWED_IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
AnthropicRefusal = TranslationRefusal


class MessagesBlocks:
    """The Messages API's content blocks (tagged by `type`)."""

    family = FAMILY

    def text(self, text: str) -> dict[str, Any]:
        return {"type": "text", "text": text}

    def image(self, url: str, param: str) -> dict[str, Any]:
        found = data_url(url, _ALLOWED_IMAGE_TYPES, param)
        if found is not None:
            return {"type": "image", "source": {"type": "base64", "media_type": found[0], "data": found[1]}}
        if url.startswith(("https://", "http://")):
            return {"type": "image", "source": {"type": "url", "url": url}}
        raise AnthropicRefusal("an image URL must be an http(s) URL or a data URL", param)

    def tool_use(self, call_id: str, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        return {"type": "tool_use", "id": call_id, "name": name, "input": arguments}

    def tool_result(self, call_id: str, content: list[dict[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {"type": "tool_result", "tool_use_id": call_id}
        if content:
            result["content"] = content
        return result


_BLOCKS = MessagesBlocks()


def messages_body(
    model: str, messages: list[dict[str, Any]], params: dict[str, Any], max_tokens_default: int
) -> dict[str, Any]:
    """The Messages API body for an OpenAI chat request (`stream` is set by the caller)."""
    refuse_unsupported(params, FAMILY)
    system, conversation = turns(messages, _BLOCKS)
    limit = max_tokens(params)
    body: dict[str, Any] = {
        "model": model,
        "messages": conversation,
        "max_tokens": max_tokens_default if limit is None else limit,
    }
    if system:
        body["system"] = system
    _copy_sampling(params, body)
    tools = params.get("tools")
    if tools:
        if not isinstance(tools, list):
            raise AnthropicRefusal("'tools' must be a list", "tools")
        body["tools"] = [_tool(tool) for tool in tools]
    choice = _tool_choice(params.get("tool_choice"), params.get("parallel_tool_calls"))
    if choice is not None and (tools or choice["type"] == "none"):
        body["tool_choice"] = choice
    spec = json_schema_of(params.get("response_format"), FAMILY)
    if spec is not None:
        body["output_config"] = {"format": {"type": "json_schema", "schema": spec["schema"]}}
    user = params.get("user")
    if isinstance(user, str) and user:
        body["metadata"] = {"user_id": user}
    return body


def _copy_sampling(params: dict[str, Any], body: dict[str, Any]) -> None:
    temperature = params.get("temperature")
    if temperature is not None:
        if isinstance(temperature, (int, float)) and not isinstance(temperature, bool) and temperature > 1:
            raise AnthropicRefusal("Anthropic accepts a temperature between 0 and 1", "temperature")
        body["temperature"] = temperature
    if params.get("top_p") is not None:
        body["top_p"] = params["top_p"]
    stops = stop_sequences(params)
    if stops:
        body["stop_sequences"] = stops


def _tool(tool: Any) -> dict[str, Any]:
    function = function_of(tool, FAMILY)
    translated: dict[str, Any] = {"name": function["name"], "input_schema": function["parameters"]}
    if function.get("description"):
        translated["description"] = function["description"]
    if function.get("strict"):
        translated["strict"] = True
    return translated


def _tool_choice(choice: Any, parallel: Any) -> dict[str, Any] | None:
    translated: dict[str, Any] | None
    if choice is None:
        translated = {"type": "auto"} if parallel is False else None
    elif choice == "auto":
        translated = {"type": "auto"}
    elif choice == "none":
        return {"type": "none"}
    elif choice == "required":
        translated = {"type": "any"}
    elif isinstance(choice, dict) and isinstance((choice.get("function") or {}).get("name"), str):
        translated = {"type": "tool", "name": choice["function"]["name"]}
    else:
        raise AnthropicRefusal("tool_choice must be auto, none, required or a function", "tool_choice")
    if translated is not None and parallel is False:
        translated["disable_parallel_tool_use"] = True
    return translated
