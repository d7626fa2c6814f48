"""What every adapter that translates an OpenAI chat request into another family's format reads the
same way (Anthropic's Messages API, Bedrock's Converse ...), pure and without I/O. The family says
how it writes each kind of block (`BlockWriter`); the walk and the refusals are here, once.

Decisions:
- `system` and `developer` messages, wherever they are, become the family's top-level system text
  in their order: these APIs have no system role inside the conversation.
- Consecutive messages of one role are merged into one turn (user and assistant turns must
  alternate); a `tool` message is a tool-result block in a user turn, so a run of tool results and
  the user's next words are one user turn. A message with nothing in it (no text, no tool call) is
  left out: these APIs refuse empty turns and it says nothing.
- Assistant `tool_calls` carry their arguments as a JSON string, which must decode to an object
  (the families' tool input); JSON nesting deeper than `MAX_JSON_DEPTH` inside it is refused too (the
  body's own nesting bound did not see it, and orjson could not write it back out past 254 levels).
- What such a family cannot do is a 400 naming the parameter (`TranslationRefusal`): `n` > 1,
  `logprobs`, `logit_bias`, audio, non-zero penalties, the legacy `functions`; never dropped silently.
"""

from __future__ import annotations

from typing import Any, Protocol

import orjson

from aigw.json_nesting import MAX_JSON_DEPTH, text_exceeds_depth

_REFUSED_WHEN_SET = ("logprobs", "top_logprobs", "logit_bias", "audio", "prediction", "functions", "function_call")
_REFUSED_WHEN_NON_ZERO = ("presence_penalty", "frequency_penalty")
_MAX_MEDIA_TYPE_CHARS = 64


class TranslationRefusal(ValueError):
    """A request the family cannot serve; `param` names the OpenAI field at fault."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


class BlockWriter(Protocol):
    """How one family writes each kind of content block."""

    family: str  # named in refusals ("Anthropic does not support ...")

    def text(self, text: str) -> dict[str, Any]: ...

    def image(self, url: str, param: str) -> dict[str, Any]:
        """An `image_url` part's URL as the family's image block, or a TranslationRefusal."""
        ...

    def tool_use(self, call_id: str, name: str, arguments: dict[str, Any]) -> dict[str, Any]: ...

    def tool_result(self, call_id: str, content: list[dict[str, Any]]) -> dict[str, Any]:
        """`content`: the tool's answer as text blocks written by `text` (possibly none)."""
        ...


def refuse_unsupported(params: dict[str, Any], family: str) -> None:
    for name in _REFUSED_WHEN_SET:
        if params.get(name) not in (None, False):
            raise TranslationRefusal(f"{family} does not support '{name}'", name)
    for name in _REFUSED_WHEN_NON_ZERO:
        if params.get(name) not in (None, 0, 0.0):
            raise TranslationRefusal(f"{family} does not support '{name}'", name)
    if params.get("modalities") not in (None, ["text"]):
        raise TranslationRefusal(f"{family} answers with text only", "modalities")
    if params.get("n") not in (None, 1):
        raise TranslationRefusal(f"{family} gives one choice per request: 'n' must be 1", "n")


def max_tokens(params: dict[str, Any]) -> int | None:
    """`max_completion_tokens`, else `max_tokens`, when given; a positive integer or a refusal."""
    for name in ("max_completion_tokens", "max_tokens"):
        value = params.get(name)
        if value is not None:
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise TranslationRefusal(f"'{name}' must be a positive integer", name)
            return value
    return None


def stop_sequences(params: dict[str, Any]) -> list[str]:
    stop = params.get("stop")
    stops = [stop] if isinstance(stop, str) and stop else stop
    if not stops:
        return []
    if not isinstance(stops, list) or not all(isinstance(s, str) and s for s in stops):
        raise TranslationRefusal("'stop' must be a non-empty string or a list of them", "stop")
    return stops


def data_url(url: str, allowed: frozenset[str], param: str) -> tuple[str, str] | None:
    """(media type, base64 data) of a base64 `data:` URL of an allowed type; None for another URL."""
    if not url.startswith("data:"):
        return None
    header, comma, data = url[5:].partition(",")
    media_type, _, encoding = header[:_MAX_MEDIA_TYPE_CHARS].partition(";")
    if not comma or encoding != "base64" or media_type not in allowed or not data:
        raise TranslationRefusal("an image data URL must be base64 JPEG, PNG, GIF or WebP", param)
    return media_type, data


def function_of(tool: Any, family: str) -> dict[str, Any]:
    """The `function` of an OpenAI function tool, with a name and a schema object (`parameters`)."""
    function = tool.get("function") if isinstance(tool, dict) and tool.get("type") == "function" else None
    if not isinstance(function, dict) or not isinstance(function.get("name"), str):
        raise TranslationRefusal(f"{family} accepts function tools only, each with a name", "tools")
    schema = function.get("parameters") or {"type": "object", "properties": {}}
    if not isinstance(schema, dict):
        raise TranslationRefusal("a function's parameters must be a JSON schema object", "tools")
    return {**function, "parameters": schema}


def json_schema_of(response_format: Any, family: str) -> dict[str, Any] | None:
    """The `json_schema` spec of a `response_format` (with its `schema` object); None for text.
    `json_object` (any JSON, no schema) has no counterpart in these families: a refusal."""
    kind = response_format.get("type") if isinstance(response_format, dict) else None
    if response_format is None or kind == "text":
        return None
    if kind == "json_schema":
        spec = response_format.get("json_schema")
        if not isinstance(spec, dict) or not isinstance(spec.get("schema"), dict):
            raise TranslationRefusal("response_format.json_schema.schema must be an object", "response_format")
        return spec
    if kind == "json_object":
        raise TranslationRefusal(
            f"{family} has no JSON mode without a schema: use response_format json_schema", "response_format"
        )
    raise TranslationRefusal(f"response_format must be text or json_schema for {family}", "response_format")


def turns(messages: list[dict[str, Any]], writer: BlockWriter) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The system text blocks and the alternating `{"role", "content": [blocks]}` turns."""
    system: list[dict[str, Any]] = []
    result: list[dict[str, Any]] = []
    for position, message in enumerate(messages):
        role = message.get("role")
        if role in ("system", "developer"):
            system.extend(text_blocks(message.get("content"), f"messages[{position}].content", writer))
            continue
        if role == "user":
            blocks = _user_blocks(message.get("content"), position, writer)
        elif role == "assistant":
            blocks = _assistant_blocks(message, position, writer)
        elif role == "tool":
            blocks = [_tool_result(message, position, writer)]
            role = "user"
        else:
            raise TranslationRefusal(
                f"{writer.family} does not support the role {str(role)[:20]!r}", f"messages[{position}]"
            )
        if not blocks:
            continue
        if result and result[-1]["role"] == role:
            result[-1]["content"].extend(blocks)
        else:
            result.append({"role": role, "content": blocks})
    return system, result


def text_blocks(content: Any, param: str, writer: BlockWriter) -> list[dict[str, Any]]:
    """Text content (a string or text parts) as the family's non-empty text blocks."""
    if isinstance(content, str):
        return [writer.text(content)] if content else []
    if isinstance(content, list):
        blocks = []
        for part in content:
            if not isinstance(part, dict) or part.get("type") != "text" or not isinstance(part.get("text", ""), str):
                raise TranslationRefusal("only text parts are accepted here", param)
            if part.get("text"):
                blocks.append(writer.text(part["text"]))
        return blocks
    if content is None:
        return []
    raise TranslationRefusal("content must be a string or a list of parts", param)


def _user_blocks(content: Any, position: int, writer: BlockWriter) -> list[dict[str, Any]]:
    param = f"messages[{position}].content"
    if not isinstance(content, list):
        return text_blocks(content, param, writer)
    blocks: list[dict[str, Any]] = []
    for part in content:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text":
            blocks.extend(text_blocks([part], param, writer))
        elif kind == "image_url":
            image_url = part.get("image_url")
            url = image_url.get("url") if isinstance(image_url, dict) else image_url
            if not isinstance(url, str):
                raise TranslationRefusal("image_url.url must be a string", param)
            blocks.append(writer.image(url, param))
        else:
            raise TranslationRefusal(f"{writer.family} does not accept content parts of type {str(kind)[:20]!r}", param)
    return blocks


def _assistant_blocks(message: dict[str, Any], position: int, writer: BlockWriter) -> list[dict[str, Any]]:
    param = f"messages[{position}]"
    content = message.get("content")
    if isinstance(content, list):  # assistant parts may also be refusals: their text is what was said
        content = [
            {"type": "text", "text": p.get("text") or p.get("refusal") or ""} for p in content if isinstance(p, dict)
        ]
    blocks = text_blocks(content, param + ".content", writer)
    tool_calls = message.get("tool_calls") or []
    if not isinstance(tool_calls, list):
        raise TranslationRefusal("tool_calls must be a list", param + ".tool_calls")
    for call in tool_calls:
        blocks.append(writer.tool_use(*_tool_call(call, param + ".tool_calls")))
    return blocks


def _tool_call(call: Any, param: str) -> tuple[str, str, dict[str, Any]]:
    function = call.get("function") if isinstance(call, dict) else None
    if not isinstance(function, dict) or not isinstance(call.get("id"), str):
        raise TranslationRefusal("a tool call needs an id and a function", param)
    arguments = function.get("arguments") or "{}"
    if isinstance(arguments, str) and text_exceeds_depth(arguments):
        raise TranslationRefusal(f"a tool call's arguments nest deeper than {MAX_JSON_DEPTH} levels", param)
    try:
        parsed = orjson.loads(arguments) if isinstance(arguments, str) else None
    except orjson.JSONDecodeError:
        parsed = None
    if not isinstance(parsed, dict):
        raise TranslationRefusal("a tool call's arguments must be a JSON object", param)
    name = function.get("name")
    return call["id"], name if isinstance(name, str) else "", parsed


def _tool_result(message: dict[str, Any], position: int, writer: BlockWriter) -> dict[str, Any]:
    param = f"messages[{position}]"
    call_id = message.get("tool_call_id")
    if not isinstance(call_id, str):
        raise TranslationRefusal("a tool message needs its tool_call_id", param + ".tool_call_id")
    return writer.tool_result(call_id, text_blocks(message.get("content"), param + ".content", writer))
