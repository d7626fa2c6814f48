"""An OpenAI chat request as an Amazon Bedrock Converse request body (pure, no I/O).

The field names are those of botocore's shipped service model (`bedrock-runtime` 2023-09-30,
`ConverseRequest`). The messages are walked by `chat_translation` (system text, merged turns, tool
calls and results, the common refusals), which writes Converse's blocks with `ConverseBlocks`.
Decisions:
- Images: a `data:` URL (PNG, JPEG, GIF, WebP) becomes `{"image": {"format", "source": {"bytes"}}}`
  (a blob, base64 in JSON). Converse takes image bytes or S3 locations, never a web URL, so an
  http(s) image URL is a 400: the gateway does not fetch URLs on a caller's behalf.
- `response_format` `json_schema` is Converse's structured output (`outputConfig.textFormat`, the
  schema as JSON text); `json_object` (JSON without a schema) has no counterpart: a 400.
- `tool_choice`: `auto`, `required` (Converse's `any`) and a named function (`tool`) map; `none` has
  no counterpart: without tool blocks in the conversation the tools are simply not sent, with them
  (Converse then requires `toolConfig`) it is a 400. `parallel_tool_calls` is not sent (no field).
- `temperature` and `top_p` must be within 0..1 (the service model's range), else a 400.
  Parameters with no effect on the answer (`seed`, `user`, `store`, `metadata`, `service_tier`) are
  left out.
"""

from __future__ import annotations

from typing import Any

import orjson

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

FAMILY = "Bedrock"
IMAGE_FORMATS = {"image/png": "png", "image/jpeg": "jpeg", "image/gif": "gif", "image/webp": "webp"}
BedrockRefusal = TranslationRefusal


class ConverseBlocks:
    """Converse's content blocks (`ContentBlock` is a union: one member per block)."""

    family = FAMILY

    def text(self, text: str) -> dict[str, Any]:
        return {"text": text}

    def image(self, url: str, param: str) -> dict[str, Any]:
        if url.startswith(("https://", "http://")):
            raise BedrockRefusal("Bedrock takes images as bytes, not URLs: send the image as a base64 data URL", param)
        found = data_url(url, frozenset(IMAGE_FORMATS), param)
        if found is None:
            raise BedrockRefusal("an image URL must be a base64 data URL", param)
        media_type, data = found
        return {"image": {"format": IMAGE_FORMATS[media_type], "source": {"bytes": data}}}

    def tool_use(self, call_id: str, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        return {"toolUse": {"toolUseId": call_id, "name": name, "input": arguments}}

    def tool_result(self, call_id: str, content: list[dict[str, Any]]) -> dict[str, Any]:
        return {"toolResult": {"toolUseId": call_id, "content": content}}


_BLOCKS = ConverseBlocks()


def converse_body(messages: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
    """The Converse (and ConverseStream) body for an OpenAI chat request; the model goes in the URL."""
    refuse_unsupported(params, FAMILY)
    system, conversation = turns(messages, _BLOCKS)
    body: dict[str, Any] = {"messages": conversation}
    if system:
        body["system"] = system
    inference = _inference_config(params)
    if inference:
        body["inferenceConfig"] = inference
    tool_config = _tool_config(params.get("tools"), params.get("tool_choice"), conversation)
    if tool_config is not None:
        body["toolConfig"] = tool_config
    text_format = _text_format(params.get("response_format"))
    if text_format is not None:
        body["outputConfig"] = {"textFormat": text_format}
    return body


def _inference_config(params: dict[str, Any]) -> dict[str, Any]:
    config: dict[str, Any] = {}
    limit = max_tokens(params)
    if limit is not None:
        config["maxTokens"] = limit
    for name, field in (("temperature", "temperature"), ("top_p", "topP")):
        value = params.get(name)
        if value is None:
            continue
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value <= 1:
            raise BedrockRefusal(f"Bedrock accepts a '{name}' between 0 and 1", name)
        config[field] = value
    stops = stop_sequences(params)
    if stops:
        config["stopSequences"] = stops
    return config


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
    function = function_of(tool, FAMILY)
    spec: dict[str, Any] = {"name": function["name"], "inputSchema": {"json": function["parameters"]}}
    if function.get("description"):
        spec["description"] = function["description"]
    if function.get("strict"):
        spec["strict"] = True
    return {"toolSpec": spec}


def _text_format(response_format: Any) -> dict[str, Any] | None:
    spec = json_schema_of(response_format, FAMILY)
    if spec is None:
        return None
    definition: dict[str, Any] = {"schema": orjson.dumps(spec["schema"]).decode()}
    for name in ("name", "description"):
        if isinstance(spec.get(name), str) and spec[name]:
            definition[name] = spec[name]
    return {"type": "json_schema", "structure": {"jsonSchema": definition}}
