"""An OpenAI chat request as an Amazon Bedrock Converse request body (pure, no I/O).

The field names are those of botocore's shipped service model (`bedrock-runtime` 2023-09-30,
`ConverseRequest`). Decisions:
- `system` and `developer` messages, wherever they are, become the top-level `system` text blocks in
  order; consecutive messages of one role are merged into one turn (Converse wants user and
  assistant turns to alternate); a `tool` message is a `toolResult` block in a user turn.
- Assistant `tool_calls` become `toolUse` blocks whose JSON-string `arguments` must decode to an
  object (Converse's `input`), else the request is refused here rather than upstream.
- Images: a `data:` URL (PNG, JPEG, GIF, WebP) becomes `{"image": {"format", "source": {"bytes"}}}`
  (a blob, base64 in JSON). Converse takes image bytes or S3 locations, never a web URL, so an
  http(s) image URL is a 400: the gateway does not fetch URLs on a caller's behalf.
- `response_format` `json_schema` is Converse's structured output (`outputConfig.textFormat`, the
  schema as JSON text); `json_object` (JSON without a schema) has no counterpart: a 400.
- `tool_choice`: `auto`, `required` (Converse's `any`) and a named function (`tool`) map; `none` has
  no counterpart: without tool blocks in the conversation the tools are simply not sent, with them
  (Converse then requires `toolConfig`) it is a 400. `parallel_tool_calls` is not sent (no field).
- What Converse cannot do is a 400 naming the parameter (`n` > 1, `logprobs`, `logit_bias`, non-zero
  penalties, audio ...), never dropped silently; `temperature` and `top_p` must be within 0..1
  (the service model's range). Parameters with no effect on the answer (`seed`, `user`, `store`,
  `metadata`, `service_tier`) are left out.
"""

from __future__ import annotations

from typing import Any

import orjson

from aigw.json_nesting import MAX_JSON_DEPTH, text_exceeds_depth

IMAGE_FORMATS = {"image/png": "png", "image/jpeg": "jpeg", "image/gif": "gif", "image/webp": "webp"}
_REFUSED_WHEN_SET = ("logprobs", "top_logprobs", "logit_bias", "audio", "prediction", "functions", "function_call")
_REFUSED_WHEN_NON_ZERO = ("presence_penalty", "frequency_penalty")
_MAX_MEDIA_TYPE_CHARS = 64


class BedrockRefusal(ValueError):
    """A request Converse cannot serve; `param` names the OpenAI field at fault."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


def converse_body(messages: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
    """The Converse (and ConverseStream) body for an OpenAI chat request; the model goes in the URL."""
    _refuse_unsupported(params)
    system, turns = _turns(messages)
    body: dict[str, Any] = {"messages": turns}
    if system:
        body["system"] = system
    inference = _inference_config(params)
    if inference:
        body["inferenceConfig"] = inference
    tool_config = _tool_config(params.get("tools"), params.get("tool_choice"), turns)
    if tool_config is not None:
        body["toolConfig"] = tool_config
    text_format = _text_format(params.get("response_format"))
    if text_format is not None:
        body["outputConfig"] = {"textFormat": text_format}
    return body


def _refuse_unsupported(params: dict[str, Any]) -> None:
    for name in _REFUSED_WHEN_SET:
        if params.get(name) not in (None, False):
            raise BedrockRefusal(f"Bedrock's Converse API does not support '{name}'", name)
    for name in _REFUSED_WHEN_NON_ZERO:
        if params.get(name) not in (None, 0, 0.0):
            raise BedrockRefusal(f"Bedrock's Converse API does not support '{name}'", name)
    if params.get("modalities") not in (None, ["text"]):
        raise BedrockRefusal("Bedrock's Converse API answers with text only", "modalities")
    if params.get("n") not in (None, 1):
        raise BedrockRefusal("Bedrock gives one choice per request: 'n' must be 1", "n")


def _inference_config(params: dict[str, Any]) -> dict[str, Any]:
    config: dict[str, Any] = {}
    for name in ("max_completion_tokens", "max_tokens"):
        value = params.get(name)
        if value is not None:
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise BedrockRefusal(f"'{name}' must be a positive integer", name)
            config["maxTokens"] = value
            break
    for name, field in (("temperature", "temperature"), ("top_p", "topP")):
        value = params.get(name)
        if value is None:
            continue
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value <= 1:
            raise BedrockRefusal(f"Bedrock accepts a '{name}' between 0 and 1", name)
        config[field] = value
    stop = params.get("stop")
    stops = [stop] if isinstance(stop, str) else stop
    if stops:
        if not isinstance(stops, list) or not all(isinstance(s, str) and s for s in stops):
            raise BedrockRefusal("'stop' must be a non-empty string or a list of them", "stop")
        config["stopSequences"] = stops
    return config


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
            raise BedrockRefusal(f"Bedrock does not support the role {str(role)[:20]!r}", f"messages[{position}]")
        if not blocks:
            continue  # an empty turn says nothing; Converse refuses empty content
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    return system, turns


def _text_blocks(content: Any, param: str) -> list[dict[str, Any]]:
    """Text content (a string or text parts) as non-empty text blocks."""
    if isinstance(content, str):
        return [{"text": content}] if content else []
    if isinstance(content, list):
        blocks = []
        for part in content:
            if not isinstance(part, dict) or part.get("type") != "text" or not isinstance(part.get("text", ""), str):
                raise BedrockRefusal("only text parts are accepted here", param)
            if part.get("text"):
                blocks.append({"text": part["text"]})
        return blocks
    if content is None:
        return []
    raise BedrockRefusal("content must be a string or a list of parts", param)


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
            raise BedrockRefusal(f"Bedrock does not accept content parts of type {str(kind)[:20]!r}", param)
    return blocks


def _image(image_url: Any, param: str) -> dict[str, Any]:
    url = image_url.get("url") if isinstance(image_url, dict) else image_url
    if not isinstance(url, str):
        raise BedrockRefusal("image_url.url must be a string", param)
    if url.startswith(("https://", "http://")):
        raise BedrockRefusal("Bedrock takes images as bytes, not URLs: send the image as a base64 data URL", param)
    if not url.startswith("data:"):
        raise BedrockRefusal("an image URL must be a base64 data URL", param)
    header, comma, data = url[5:].partition(",")
    media_type, _, encoding = header[:_MAX_MEDIA_TYPE_CHARS].partition(";")
    image_format = IMAGE_FORMATS.get(media_type)
    if not comma or encoding != "base64" or image_format is None or not data:
        raise BedrockRefusal("an image data URL must be base64 PNG, JPEG, GIF or WebP", param)
    return {"image": {"format": image_format, "source": {"bytes": data}}}


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
        raise BedrockRefusal("tool_calls must be a list", param + ".tool_calls")
    blocks.extend(_tool_use(call, param + ".tool_calls") for call in tool_calls)
    return blocks


def _tool_use(call: Any, param: str) -> dict[str, Any]:
    function = call.get("function") if isinstance(call, dict) else None
    if (
        not isinstance(function, dict)
        or not isinstance(call.get("id"), str)
        or not isinstance(function.get("name"), str)
    ):
        raise BedrockRefusal("a tool call needs an id and a function with a name", param)
    arguments = function.get("arguments") or "{}"
    if isinstance(arguments, str) and text_exceeds_depth(arguments):
        raise BedrockRefusal(f"a tool call's arguments nest deeper than {MAX_JSON_DEPTH} levels", param)
    try:
        parsed = orjson.loads(arguments) if isinstance(arguments, str) else None
    except orjson.JSONDecodeError:
        parsed = None
    if not isinstance(parsed, dict):
        raise BedrockRefusal("a tool call's arguments must be a JSON object", param)
    return {"toolUse": {"toolUseId": call["id"], "name": function["name"], "input": parsed}}


def _tool_result(message: dict[str, Any], position: int) -> dict[str, Any]:
    param = f"messages[{position}]"
    call_id = message.get("tool_call_id")
    if not isinstance(call_id, str):
        raise BedrockRefusal("a tool message needs its tool_call_id", param + ".tool_call_id")
    return {"toolResult": {"toolUseId": call_id, "content": _text_blocks(message.get("content"), param + ".content")}}


def _tool_config(tools: Any, choice: Any, turns: list[dict[str, Any]]) -> dict[str, Any] | None:
    if not tools:
        if choice not in (None, "none", "auto"):
            raise BedrockRefusal("tool_choice needs tools", "tool_choice")
        return None
    if not isinstance(tools, list):
        raise BedrockRefusal("'tools' must be a list", "tools")
    if choice == "none":
        if any("toolUse" in block or "toolResult" in block for turn in turns for block in turn["content"]):
            raise BedrockRefusal(
                "Bedrock has no tool_choice 'none' for a conversation that already holds tool calls", "tool_choice"
            )
        return None
    config: dict[str, Any] = {"tools": [_tool(tool) for tool in tools]}
    if choice is None or choice == "auto":
        translated: dict[str, Any] | None = {"auto": {}} if choice else None
    elif choice == "required":
        translated = {"any": {}}
    elif isinstance(choice, dict) and isinstance((choice.get("function") or {}).get("name"), str):
        translated = {"tool": {"name": choice["function"]["name"]}}
    else:
        raise BedrockRefusal("tool_choice must be auto, none, required or a function", "tool_choice")
    if translated is not None:
        config["toolChoice"] = translated
    return config


def _tool(tool: Any) -> dict[str, Any]:
    function = tool.get("function") if isinstance(tool, dict) and tool.get("type") == "function" else None
    if not isinstance(function, dict) or not isinstance(function.get("name"), str):
        raise BedrockRefusal("Bedrock accepts function tools only, each with a name", "tools")
    schema = function.get("parameters") or {"type": "object", "properties": {}}
    if not isinstance(schema, dict):
        raise BedrockRefusal("a function's parameters must be a JSON schema object", "tools")
    spec: dict[str, Any] = {"name": function["name"], "inputSchema": {"json": schema}}
    if function.get("description"):
        spec["description"] = function["description"]
    if function.get("strict"):
        spec["strict"] = True
    return {"toolSpec": spec}


def _text_format(response_format: Any) -> dict[str, Any] | None:
    kind = response_format.get("type") if isinstance(response_format, dict) else None
    if response_format is None or kind == "text":
        return None
    if kind == "json_schema":
        spec = response_format.get("json_schema")
        schema = spec.get("schema") if isinstance(spec, dict) else None
        if not isinstance(schema, dict):
            raise BedrockRefusal("response_format.json_schema.schema must be an object", "response_format")
        definition: dict[str, Any] = {"schema": orjson.dumps(schema).decode()}
        for name in ("name", "description"):
            if isinstance(spec.get(name), str) and spec[name]:
                definition[name] = spec[name]
        return {"type": "json_schema", "structure": {"jsonSchema": definition}}
    if kind == "json_object":
        raise BedrockRefusal(
            "Bedrock has no JSON mode without a schema: use response_format json_schema", "response_format"
        )
    raise BedrockRefusal("response_format must be text or json_schema for Bedrock", "response_format")
