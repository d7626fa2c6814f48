"""OpenAI chat and embeddings requests as Gemini `generateContent` / embeddings bodies (pure, no I/O).

Decisions:
- Roles: `assistant` is `model`, `tool` results are `user` turns of `functionResponse` parts; every
  `system`/`developer` message goes, in order, into the one `systemInstruction` Gemini has.
- A `functionResponse` needs the function's name, which OpenAI's tool message does not carry: it is
  looked up from the assistant's earlier call with that `tool_call_id`.
- Schemas go as JSON Schema through `parametersJsonSchema` / `responseJsonSchema`, which both AI
  Studio and Vertex AI take today; the older `parameters` / `responseSchema` fields take an OpenAPI
  subset and refuse `additionalProperties`, type lists, `$ref`. Only `$schema`, `$id` and `$comment`
  (meta-data the model has no use for, refused by some model versions) are dropped, at any depth.
- Gemini 3 refuses a replayed `functionCall` without its `thoughtSignature`. The answer hands it out
  the way Google's own OpenAI-compatible endpoint does (`extra_content.google.thought_signature` on
  the tool call); a call sent back without one gets Google's documented placeholder
  `skip_thought_signature_validator` (only the first call of a turn carries a signature).
- What Gemini cannot do and the client would notice is a 400 (`GeminiRefusal`), never dropped
  silently: token arrays as embedding input, unknown content part types, `logit_bias`, `logprobs`,
  audio output, an unknown tool_call_id. Parameters that change nothing in the answer's shape
  (`user`, `metadata`, `store`, `service_tier`, `parallel_tool_calls`, `stream_options`) are not sent.
  `reasoning_effort` is not mapped to `thinkingConfig` yet (the model's default thinking applies).
"""

from __future__ import annotations

import mimetypes
from typing import Any

import orjson

THOUGHT_SIGNATURE_PLACEHOLDER = "skip_thought_signature_validator"
_META_KEYWORDS = frozenset({"$schema", "$id", "$comment"})
_MAX_MIME_CHARS = 128
_UNSUPPORTED_PARAMS = ("logit_bias", "logprobs", "top_logprobs", "audio", "modalities", "prediction")


class GeminiRefusal(ValueError):
    """A request Gemini cannot serve; `param` names the OpenAI field at fault."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


def chat_body(messages: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
    """The `generateContent` body for an OpenAI chat request's messages and parameters."""
    for name in _UNSUPPORTED_PARAMS:
        if params.get(name) not in (None, False):
            raise GeminiRefusal(f"Gemini does not support '{name}'", param=name)
    system, contents = _contents(messages)
    body: dict[str, Any] = {"contents": contents}
    if system:
        body["systemInstruction"] = {"parts": system}
    tools = params.get("tools")
    if tools:
        body["tools"] = [{"functionDeclarations": [_declaration(tool, i) for i, tool in enumerate(tools)]}]
    if params.get("tool_choice") is not None:
        body["toolConfig"] = {"functionCallingConfig": _calling_config(params["tool_choice"])}
    config = generation_config(params)
    if config:
        body["generationConfig"] = config
    return body


def generation_config(params: dict[str, Any]) -> dict[str, Any]:
    """OpenAI sampling and output parameters as Gemini's `generationConfig`."""
    config: dict[str, Any] = {}
    for openai_name, gemini_name in (
        ("temperature", "temperature"),
        ("top_p", "topP"),
        ("n", "candidateCount"),
        ("presence_penalty", "presencePenalty"),
        ("frequency_penalty", "frequencyPenalty"),
        ("seed", "seed"),
    ):
        if params.get(openai_name) is not None:
            config[gemini_name] = params[openai_name]
    limit = params.get("max_completion_tokens", params.get("max_tokens"))
    if limit is not None:
        config["maxOutputTokens"] = limit
    stop = params.get("stop")
    if stop:
        config["stopSequences"] = [stop] if isinstance(stop, str) else list(stop)
    config.update(_response_format(params.get("response_format")))
    return config


def _response_format(response_format: Any) -> dict[str, Any]:
    if not isinstance(response_format, dict) or response_format.get("type") in (None, "text"):
        return {}
    kind = response_format.get("type")
    if kind == "json_object":
        return {"responseMimeType": "application/json"}
    if kind == "json_schema":
        spec = response_format.get("json_schema")
        schema = spec.get("schema") if isinstance(spec, dict) else None
        if not isinstance(schema, dict):
            raise GeminiRefusal("response_format.json_schema.schema must be an object", "response_format")
        return {"responseMimeType": "application/json", "responseJsonSchema": clean_schema(schema)}
    raise GeminiRefusal(f"Gemini does not support response_format type {str(kind)[:40]!r}", "response_format")


def clean_schema(schema: Any) -> Any:
    """The JSON Schema without the meta-data keywords (see the module docstring), at any depth."""
    if isinstance(schema, dict):
        return {k: clean_schema(v) for k, v in schema.items() if k not in _META_KEYWORDS}
    if isinstance(schema, list):
        return [clean_schema(item) for item in schema]
    return schema


def _declaration(tool: Any, index: int) -> dict[str, Any]:
    function = tool.get("function") if isinstance(tool, dict) and tool.get("type") == "function" else None
    if not isinstance(function, dict) or not isinstance(function.get("name"), str):
        raise GeminiRefusal("Gemini supports only tools of type 'function' with a name", f"tools.{index}")
    declaration: dict[str, Any] = {"name": function["name"]}
    if isinstance(function.get("description"), str):
        declaration["description"] = function["description"]
    parameters = function.get("parameters")
    if isinstance(parameters, dict) and parameters:
        declaration["parametersJsonSchema"] = clean_schema(parameters)
    return declaration


def _calling_config(choice: Any) -> dict[str, Any]:
    if choice in ("auto", "none", "required"):
        return {"mode": {"auto": "AUTO", "none": "NONE", "required": "ANY"}[choice]}
    function = choice.get("function") if isinstance(choice, dict) else None
    if isinstance(function, dict) and isinstance(function.get("name"), str):
        return {"mode": "ANY", "allowedFunctionNames": [function["name"]]}
    raise GeminiRefusal("tool_choice must be auto, none, required or a named function", "tool_choice")


def _contents(messages: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(systemInstruction parts, contents): consecutive tool results share one user turn."""
    system: list[dict[str, Any]] = []
    contents: list[dict[str, Any]] = []
    call_names: dict[str, str] = {}
    for index, message in enumerate(messages):
        role = message.get("role")
        if role in ("system", "developer"):
            system.extend(_parts(message.get("content"), index))
        elif role == "user":
            contents.append({"role": "user", "parts": _parts(message.get("content"), index)})
        elif role == "assistant":
            contents.append({"role": "model", "parts": _model_parts(message, index, call_names)})
        elif role == "tool":
            part = _function_response(message, index, call_names)
            if contents and contents[-1]["role"] == "user" and "functionResponse" in contents[-1]["parts"][0]:
                contents[-1]["parts"].append(part)
            else:
                contents.append({"role": "user", "parts": [part]})
        else:
            raise GeminiRefusal(f"Gemini does not support the role {str(role)[:40]!r}", f"messages.{index}.role")
    return system, contents


def _model_parts(message: dict[str, Any], index: int, call_names: dict[str, str]) -> list[dict[str, Any]]:
    parts = _parts(message.get("content"), index) if message.get("content") else []
    for position, call in enumerate(message.get("tool_calls") or ()):
        function = call.get("function") or {}
        try:
            args = orjson.loads(function.get("arguments") or "{}")
        except orjson.JSONDecodeError:
            raise GeminiRefusal("tool call arguments must be JSON", f"messages.{index}.tool_calls.{position}") from None
        name = str(function.get("name") or "")
        call_names[str(call.get("id"))] = name
        part: dict[str, Any] = {"functionCall": {"name": name, "args": args if isinstance(args, dict) else {}}}
        signature = _signature_of(call)
        if signature is not None or position == 0:
            part["thoughtSignature"] = signature or THOUGHT_SIGNATURE_PLACEHOLDER
        parts.append(part)
    return parts or [{"text": ""}]


def _signature_of(call: dict[str, Any]) -> str | None:
    extra = call.get("extra_content")
    google = extra.get("google") if isinstance(extra, dict) else None
    signature = google.get("thought_signature") if isinstance(google, dict) else None
    return signature if isinstance(signature, str) and signature else None


def _function_response(message: dict[str, Any], index: int, call_names: dict[str, str]) -> dict[str, Any]:
    call_id = str(message.get("tool_call_id"))
    name = call_names.get(call_id)
    if name is None:
        raise GeminiRefusal("tool_call_id names no earlier tool call", f"messages.{index}.tool_call_id")
    content = message.get("content")
    text = content if isinstance(content, str) else "".join(_text_of(p) for p in content or ())
    try:
        result = orjson.loads(text)
    except orjson.JSONDecodeError:
        result = text
    # Gemini's `response` is an object: a plain value goes under "result" (what Google's SDK does).
    return {"functionResponse": {"name": name, "response": result if isinstance(result, dict) else {"result": result}}}


def _text_of(part: Any) -> str:
    return str(part.get("text", "")) if isinstance(part, dict) and part.get("type") == "text" else ""


def _parts(content: Any, index: int) -> list[dict[str, Any]]:
    if content is None:
        return []
    if isinstance(content, str):
        return [{"text": content}]
    return [_part(part, f"messages.{index}.content.{i}") for i, part in enumerate(content)]


def _part(part: dict[str, Any], where: str) -> dict[str, Any]:
    kind = part.get("type")
    if kind == "text":
        return {"text": str(part.get("text", ""))}
    if kind == "image_url":
        image = part.get("image_url")
        url = image.get("url") if isinstance(image, dict) else image
        return media_part(str(url or ""), where)
    if kind == "input_audio":
        audio = part.get("input_audio") or {}
        return {"inlineData": {"mimeType": f"audio/{audio.get('format', 'wav')}", "data": str(audio.get("data", ""))}}
    if kind == "file" and isinstance(part.get("file"), dict) and part["file"].get("file_data"):
        return media_part(str(part["file"]["file_data"]), where)
    raise GeminiRefusal(f"Gemini does not support content parts of type {str(kind)[:40]!r}", where)


def media_part(url: str, where: str) -> dict[str, Any]:
    """A data: URL as `inlineData` (base64 kept as is), an http(s) URL as `fileData`."""
    if url.startswith("data:"):
        header, comma, data = url[5:].partition(",")
        mime, _, encoding = header.partition(";")
        if not comma or encoding != "base64" or not mime or len(mime) > _MAX_MIME_CHARS:
            raise GeminiRefusal("a data URL must be data:<type>;base64,<data>", where)
        return {"inlineData": {"mimeType": mime, "data": data}}
    if url.startswith(("https://", "http://", "gs://")):
        file_data = {"fileUri": url}
        guessed, _ = mimetypes.guess_type(url.split("?", 1)[0])
        if guessed:
            file_data["mimeType"] = guessed
        return {"fileData": file_data}
    raise GeminiRefusal("an image URL must be a data: URL or an http(s) URL", where)


def embedding_texts(raw_input: Any) -> list[str]:
    """An OpenAI embeddings `input` as the texts Gemini embeds (it takes no token arrays)."""
    texts = [raw_input] if isinstance(raw_input, str) else raw_input
    if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
        raise GeminiRefusal("Gemini embeds text only: input must be a string or a list of strings", "input")
    return texts


def studio_embeddings_body(model: str, texts: list[str], params: dict[str, Any]) -> dict[str, Any]:
    """AI Studio's `batchEmbedContents` body: one request per text, each naming the model."""
    extra = {"outputDimensionality": params["dimensions"]} if params.get("dimensions") else {}
    return {"requests": [{"model": f"models/{model}", "content": {"parts": [{"text": t}]}, **extra} for t in texts]}


def vertex_embeddings_body(texts: list[str], params: dict[str, Any]) -> dict[str, Any]:
    """Vertex AI's `predict` body for its embedding models (text-embedding-*, gemini-embedding-001)."""
    body: dict[str, Any] = {"instances": [{"content": t} for t in texts]}
    if params.get("dimensions"):
        body["parameters"] = {"outputDimensionality": params["dimensions"]}
    return body
