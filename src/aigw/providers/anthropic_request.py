"""An OpenAI chat request as an Anthropic Messages API request (`POST /v1/messages`).

Decisions:
- `system` and `developer` messages, wherever they are, become the top-level `system` blocks in
  their order: the Messages API has no system role inside `messages`.
- Consecutive messages of one role are merged into one turn (the API wants user and assistant
  turns to alternate); a `tool` message is a `tool_result` block in a user turn, so a run of tool
  results and the user's next words become one user turn, as Anthropic documents it.
- Assistant `tool_calls` become `tool_use` blocks; their JSON-string `arguments` must decode to an
  object (Anthropic's `input`), otherwise the request is refused here rather than upstream.
- Images: a `data:` URL becomes a base64 source, an http(s) URL a `url` source.
- `response_format` `json_schema` is sent as Anthropic's structured output
  (`output_config.format`), so the answer is constrained to the schema the same way. `json_object`
  (any JSON, no schema) has no Anthropic counterpart: it is refused with a clear 400 rather than
  emulated by a prompt, which could not guarantee JSON and would change the caller's messages.
- What Anthropic cannot do is refused with a 400 naming the parameter (`n` > 1, `logprobs`,
  `logit_bias`, non-zero penalties, audio ...), never dropped silently; `temperature` above 1 is
  refused too (Anthropic's range is 0 to 1, OpenAI's 0 to 2). Parameters with no effect on the
  answer (`seed`, `store`, `service_tier` ...) are left out.
- `max_tokens` is required by Anthropic: `max_completion_tokens`, else `max_tokens`, else the
  provider's `max_tokens_default`.
"""

from __future__ import annotations

from typing import Any

import orjson

from aigw.json_nesting import MAX_JSON_DEPTH, text_exceeds_depth

_ALLOWED_IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
_REFUSED_WHEN_SET = ("logprobs", "top_logprobs", "logit_bias", "audio", "prediction", "functions", "function_call")
_REFUSED_WHEN_NON_ZERO = ("presence_penalty", "frequency_penalty")
_MAX_MEDIA_TYPE_CHARS = 64


class AnthropicRefusal(ValueError):
    """A request Anthropic cannot serve; `param` names the OpenAI field at fault."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


def messages_body(
    model: str, messages: list[dict[str, Any]], params: dict[str, Any], max_tokens: int
) -> dict[str, Any]:
    """The Messages API body for an OpenAI chat request (`stream` is set by the caller)."""
    _refuse_unsupported(params)
    system, turns = _turns(messages)
    body: dict[str, Any] = {"model": model, "messages": turns, "max_tokens": _max_tokens(params, max_tokens)}
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
    output_format = _output_format(params.get("response_format"))
    if output_format is not None:
        body["output_config"] = {"format": output_format}
    user = params.get("user")
    if isinstance(user, str) and user:
        body["metadata"] = {"user_id": user}
    return body


def _refuse_unsupported(params: dict[str, Any]) -> None:
    for name in _REFUSED_WHEN_SET:
        if params.get(name) not in (None, False):
            raise AnthropicRefusal(f"Anthropic does not support '{name}'", name)
    for name in _REFUSED_WHEN_NON_ZERO:
        if params.get(name) not in (None, 0, 0.0):
            raise AnthropicRefusal(f"Anthropic does not support '{name}'", name)
    modalities = params.get("modalities")
    if modalities not in (None, ["text"]):
        raise AnthropicRefusal("Anthropic answers with text only", "modalities")
    n = params.get("n")
    if n not in (None, 1):
        raise AnthropicRefusal("Anthropic gives one choice per request: 'n' must be 1", "n")


def _max_tokens(params: dict[str, Any], default: int) -> int:
    for name in ("max_completion_tokens", "max_tokens"):
        value = params.get(name)
        if value is not None:
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise AnthropicRefusal(f"'{name}' must be a positive integer", name)
            return value
    return default


def _copy_sampling(params: dict[str, Any], body: dict[str, Any]) -> None:
    temperature = params.get("temperature")
    if temperature is not None:
        if isinstance(temperature, (int, float)) and not isinstance(temperature, bool) and temperature > 1:
            raise AnthropicRefusal("Anthropic accepts a temperature between 0 and 1", "temperature")
        body["temperature"] = temperature
    if params.get("top_p") is not None:
        body["top_p"] = params["top_p"]
    stop = params.get("stop")
    if isinstance(stop, str):
        body["stop_sequences"] = [stop]
    elif isinstance(stop, list) and stop:
        body["stop_sequences"] = stop


def _turns(messages: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The system blocks and the alternating user/assistant turns."""
    system: list[dict[str, Any]] = []
    turns: list[dict[str, Any]] = []
    for position, message in enumerate(messages):
        role = message.get("role")
        if role in ("system", "developer"):
            system.extend(_text_blocks(message.get("content"), f"messages[{position}].content"))
            continue
        if role == "user":
            blocks = _user_blocks(message.get("content"), position)
        elif role == "assistant":
            blocks = _assistant_blocks(message, position)
        elif role == "tool":
            blocks = [_tool_result(message, position)]
            role = "user"
        else:
            raise AnthropicRefusal(f"Anthropic does not support the role {str(role)[:20]!r}", f"messages[{position}]")
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    return system, turns


def _text_blocks(content: Any, param: str) -> list[dict[str, Any]]:
    """Text content (a string or text parts) as non-empty text blocks."""
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    if isinstance(content, list):
        blocks = []
        for part in content:
            if not isinstance(part, dict) or part.get("type") != "text":
                raise AnthropicRefusal("only text parts are accepted here", param)
            if part.get("text"):
                blocks.append({"type": "text", "text": part["text"]})
        return blocks
    if content is None:
        return []
    raise AnthropicRefusal("content must be a string or a list of parts", param)


def _user_blocks(content: Any, position: int) -> list[dict[str, Any]]:
    param = f"messages[{position}].content"
    if not isinstance(content, list):
        return _text_blocks(content, param)
    blocks: list[dict[str, Any]] = []
    for part in content:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text":
            blocks.extend(_text_blocks([part], param))
        elif kind == "image_url":
            blocks.append(_image(part.get("image_url"), param))
        else:
            raise AnthropicRefusal(f"Anthropic does not accept content parts of type {str(kind)[:20]!r}", param)
    return blocks


def _image(image_url: Any, param: str) -> dict[str, Any]:
    url = image_url.get("url") if isinstance(image_url, dict) else image_url
    if not isinstance(url, str):
        raise AnthropicRefusal("image_url.url must be a string", param)
    if url.startswith("data:"):
        header, comma, data = url[5:].partition(",")
        media_type, _, encoding = header[:_MAX_MEDIA_TYPE_CHARS].partition(";")
        if not comma or encoding != "base64" or media_type not in _ALLOWED_IMAGE_TYPES:
            raise AnthropicRefusal("an image data URL must be base64 JPEG, PNG, GIF or WebP", param)
        return {"type": "image", "source": {"type": "base64", "media_type": media_type, "data": data}}
    if url.startswith(("https://", "http://")):
        return {"type": "image", "source": {"type": "url", "url": url}}
    raise AnthropicRefusal("an image URL must be an http(s) URL or a data URL", param)


def _assistant_blocks(message: dict[str, Any], position: int) -> list[dict[str, Any]]:
    param = f"messages[{position}]"
    content = message.get("content")
    if isinstance(content, list):  # assistant parts may also be refusals: their text is what was said
        content = [
            {"type": "text", "text": p.get("text") or p.get("refusal") or ""} for p in content if isinstance(p, dict)
        ]
    blocks = _text_blocks(content, param + ".content")
    tool_calls = message.get("tool_calls") or []
    if not isinstance(tool_calls, list):
        raise AnthropicRefusal("tool_calls must be a list", param + ".tool_calls")
    for call in tool_calls:
        blocks.append(_tool_use(call, param + ".tool_calls"))
    return blocks


def _tool_use(call: Any, param: str) -> dict[str, Any]:
    function = call.get("function") if isinstance(call, dict) else None
    if not isinstance(function, dict) or not isinstance(call.get("id"), str):
        raise AnthropicRefusal("a tool call needs an id and a function", param)
    arguments = function.get("arguments") or "{}"
    if isinstance(arguments, str) and text_exceeds_depth(arguments):
        # JSON inside a string: the body's nesting bound did not see it, and orjson could not
        # write it back out past 254 levels.
        raise AnthropicRefusal(f"a tool call's arguments nest deeper than {MAX_JSON_DEPTH} levels", param)
    try:
        parsed = orjson.loads(arguments) if isinstance(arguments, str) else None
    except orjson.JSONDecodeError:
        parsed = None
    if not isinstance(parsed, dict):
        raise AnthropicRefusal("a tool call's arguments must be a JSON object", param)
    return {"type": "tool_use", "id": call["id"], "name": function.get("name"), "input": parsed}


def _tool_result(message: dict[str, Any], position: int) -> dict[str, Any]:
    param = f"messages[{position}]"
    call_id = message.get("tool_call_id")
    if not isinstance(call_id, str):
        raise AnthropicRefusal("a tool message needs its tool_call_id", param + ".tool_call_id")
    result: dict[str, Any] = {"type": "tool_result", "tool_use_id": call_id}
    content = _text_blocks(message.get("content"), param + ".content")
    if content:
        result["content"] = content
    return result


def _tool(tool: Any) -> dict[str, Any]:
    function = tool.get("function") if isinstance(tool, dict) and tool.get("type") == "function" else None
    if not isinstance(function, dict) or not isinstance(function.get("name"), str):
        raise AnthropicRefusal("Anthropic accepts function tools only, each with a name", "tools")
    schema = function.get("parameters") or {"type": "object", "properties": {}}
    translated: dict[str, Any] = {"name": function["name"], "input_schema": schema}
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


def _output_format(response_format: Any) -> dict[str, Any] | None:
    kind = response_format.get("type") if isinstance(response_format, dict) else None
    if response_format is None or kind == "text":
        return None
    if kind == "json_schema":
        spec = response_format.get("json_schema")
        schema = spec.get("schema") if isinstance(spec, dict) else None
        if not isinstance(schema, dict):
            raise AnthropicRefusal("response_format.json_schema.schema must be an object", "response_format")
        return {"type": "json_schema", "schema": schema}
    if kind == "json_object":
        raise AnthropicRefusal(
            "Anthropic has no JSON mode without a schema: use response_format json_schema", "response_format"
        )
    raise AnthropicRefusal("response_format must be text or json_schema for Anthropic", "response_format")
