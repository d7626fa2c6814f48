"""A mock Amazon Bedrock runtime (Converse and ConverseStream) on a free port, as botocore's service
model (`bedrock-runtime` 2023-09-30) and the API reference describe it:

- `POST /model/{modelId}/converse` and `/converse-stream`, the model id percent-encoded in the path
  (ARNs and inference profiles hold `:` and `/`); every request must carry a valid SigV4 signature
  for the test credentials (`mock_bedrock_wire.check_signature`), else 403 as AWS answers;
- the body is refused (400 ValidationException) as Converse refuses it: unknown top-level fields, no
  messages, a first turn that is not the user's, two turns of one role in a row, a content block that
  is not exactly one known member, blank text, an image whose format is not png/jpeg/gif/webp or whose
  bytes are not base64, `toolUse` outside assistant turns, a `toolResult` for no earlier `toolUse`,
  tool blocks without `toolConfig`, inference settings out of range, a structured-output schema that
  is not JSON text;
- answers: a `ConverseResponse` (`output.message`, `stopReason`, `usage`, `metrics`) with text or a
  `toolUse` block (when tools are given and the prompt asks for one, or `toolChoice` forces it);
  stop sequences, `maxTokens` and `outputConfig.textFormat` are honoured;
- streams: event-stream frames `messageStart`, `contentBlockStart` (tool use only),
  `contentBlockDelta` (`text` / `toolUse.input`), `contentBlockStop`, `messageStop`, `metadata`
  (usage), each payload padded with `p` as Bedrock does; a fault's error event is a
  `modelStreamErrorException` frame.
Faults (`MockServer`'s) map to Bedrock's errors by `mock_bedrock_wire.WIRE_ERRORS`.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from tests.support import mock_bedrock_wire as wire
from tests.support.mock_family import Fault, MockServer, Plan, Prompt, cut, plan_answer, split_text

STOP_REASONS = {"end": "end_turn", "stop_sequence": "stop_sequence", "max_tokens": "max_tokens", "tool": "tool_use"}
TOP_LEVEL = {
    "messages",
    "system",
    "inferenceConfig",
    "toolConfig",
    "guardrailConfig",
    "additionalModelRequestFields",
    "additionalModelResponseFieldPaths",
    "promptVariables",
    "requestMetadata",
    "performanceConfig",
    "serviceTier",
    "outputConfig",
}
BLOCKS = {"text", "image", "document", "video", "audio", "toolUse", "toolResult", "guardContent", "cachePoint"}
INFERENCE = {"maxTokens", "temperature", "topP", "stopSequences"}


def _invalid(message: str) -> wire.Refused:
    return wire.Refused(400, "ValidationException", message)


class MockBedrock(MockServer):
    def __init__(self, session_token: str | None = wire.SESSION_TOKEN) -> None:
        super().__init__()
        self.session_token = session_token
        self.models: list[str] = []  # the model ids asked for, decoded
        self._ids = 0

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/model/{tail:.+}", self._invoke)

    async def _invoke(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        fault = await self.take_fault(request, body)
        if fault is not None and fault.kind == "status":
            status, name = wire.WIRE_ERRORS.get(fault.status, (fault.status, "InternalServerException"))
            return wire.error_response(status, name, f"mock {fault.status}", fault.headers)
        try:
            model, operation = _route(request.raw_path)
            wire.check_signature(request, raw, self.session_token)
            prompt = _prompt(body)
        except wire.Refused as exc:
            return wire.error_response(exc.status, exc.name, exc.message)
        self.models.append(model)
        self._ids += 1
        plan = plan_answer(prompt)
        answer = _answer(plan, f"tooluse_mock{self._ids:06d}", max(1, len(raw) // 16))
        if operation == "converse-stream":
            return await self._stream(request, answer, fault)
        return web.json_response(answer, headers={"x-amzn-RequestId": f"mock-{self._ids:06d}"})

    async def _stream(self, request: web.Request, answer: dict[str, Any], fault: Fault | None) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"content-type": "application/vnd.amazon.eventstream", "x-amzn-RequestId": f"mock-{self._ids:06d}"}
        )
        await response.prepare(request)
        for count, message in enumerate(_frames(answer)):
            if fault is not None and count == fault.after_events:
                if fault.kind == "cut":
                    return await cut(request, response)
                if fault.kind == "error_event":
                    await response.write(wire.exception_frame("modelStreamErrorException", "mock stream error"))
                    await response.write_eof()
                    return response
            middle = len(message) // 2  # frames split across writes, as TCP may deliver them
            await response.write(message[:middle])
            await response.write(message[middle:])
        await response.write_eof()
        return response


def _route(raw_path: str) -> tuple[str, str]:
    path = raw_path.split("?", 1)[0]
    encoded, _, operation = path.removeprefix("/model/").rpartition("/")
    if operation not in ("converse", "converse-stream") or not encoded or "/" in encoded:
        raise wire.Refused(404, "UnknownOperationException", f"no operation at {path[:100]}")
    return unquote(encoded), operation


def _prompt(body: Any) -> Prompt:
    if not isinstance(body, dict):
        raise wire.Refused(400, "SerializationException", "the body must be a JSON object")
    unknown = set(body) - TOP_LEVEL
    if unknown:
        raise _invalid(f"Unexpected field(s): {sorted(unknown)}")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise _invalid(
            "A conversation must start with a user message."
            " Try again with a conversation that starts with a user message."
        )
    prompt = Prompt()
    for block in body.get("system") or []:
        if not isinstance(block, dict) or not isinstance(block.get("text"), str) or not block["text"]:
            raise _invalid("The text field in the SystemContentBlock object is blank.")
    tool_ids: set[str] = set()
    uses_tools = False
    for position, message in enumerate(messages):
        role = message.get("role") if isinstance(message, dict) else None
        expected = "user" if position % 2 == 0 else "assistant"
        if role != expected:
            raise _invalid(
                "A conversation must alternate between user and assistant roles, starting with a user message."
            )
        content = message.get("content")
        if not isinstance(content, list) or not content:
            raise _invalid(f"The content field in the Message object at messages.{position} is empty.")
        if role == "user":
            prompt.images, prompt.tool_result, prompt.last_user_text = 0, None, ""
        for index, block in enumerate(content):
            uses_tools |= _read_block(block, role, f"messages.{position}.content.{index}", tool_ids, prompt)
    _read_inference(body.get("inferenceConfig"), prompt)
    _read_tools(body.get("toolConfig"), uses_tools, prompt)
    _read_output(body.get("outputConfig"), prompt)
    return prompt


def _read_block(block: Any, role: str, where: str, tool_ids: set[str], prompt: Prompt) -> bool:
    """Checks one content block into `prompt`; whether it is a tool block."""
    if not isinstance(block, dict) or len(block) != 1 or next(iter(block)) not in BLOCKS:
        raise _invalid(f"{where}: a content block must set exactly one of {sorted(BLOCKS)}")
    kind, value = next(iter(block.items()))
    if kind == "text":
        if not isinstance(value, str) or not value.strip():
            raise _invalid(f"The text field in the ContentBlock object at {where} is blank.")
        if role == "user":
            prompt.last_user_text += value
    elif kind == "image":
        _check_image(value, where)
        prompt.images += 1
    elif kind == "toolUse":
        if role != "assistant" or not isinstance(value.get("input"), dict) or not value.get("toolUseId"):
            raise _invalid(f"{where}: toolUse blocks belong to assistant turns, with an id and an object input")
        tool_ids.add(value["toolUseId"])
    elif kind == "toolResult":
        if role != "user" or value.get("toolUseId") not in tool_ids or not isinstance(value.get("content"), list):
            raise _invalid(f"{where}: the toolResult blocks exceed the number of toolUse blocks of the previous turn.")
        prompt.tool_result = "".join(part.get("text", "") for part in value["content"] if isinstance(part, dict))
    return kind in ("toolUse", "toolResult")


def _check_image(image: Any, where: str) -> None:
    source = image.get("source") if isinstance(image, dict) else None
    if not isinstance(source, dict) or image.get("format") not in ("png", "jpeg", "gif", "webp"):
        raise _invalid(f"{where}.image: format must be png, jpeg, gif or webp, with a source")
    try:
        base64.b64decode(source.get("bytes") or "", validate=True)
    except (binascii.Error, TypeError, ValueError):
        raise _invalid(f"{where}.image.source.bytes: Invalid base64") from None
    if not source.get("bytes"):
        raise _invalid(f"{where}.image.source: bytes are required")


def _read_inference(config: Any, prompt: Prompt) -> None:
    if config is None:
        return
    if not isinstance(config, dict) or set(config) - INFERENCE:
        raise _invalid(f"inferenceConfig: unexpected fields {sorted(set(config) - INFERENCE)}")
    max_tokens = config.get("maxTokens")
    if max_tokens is not None and (not isinstance(max_tokens, int) or max_tokens < 1):
        raise _invalid("inferenceConfig.maxTokens: must be at least 1")
    for name in ("temperature", "topP"):
        if config.get(name) is not None and not 0 <= config[name] <= 1:
            raise _invalid(f"inferenceConfig.{name}: must be between 0 and 1")
    stops = config.get("stopSequences") or []
    if not all(isinstance(s, str) and s for s in stops):
        raise _invalid("inferenceConfig.stopSequences: members must be non-empty strings")
    prompt.max_tokens, prompt.stop = max_tokens, list(stops)


def _read_tools(config: Any, uses_tools: bool, prompt: Prompt) -> None:
    if config is None:
        if uses_tools:
            raise _invalid("The toolConfig field must be defined when using toolUse and toolResult content blocks.")
        return
    tools = config.get("tools") if isinstance(config, dict) else None
    if not isinstance(tools, list) or not tools:
        raise _invalid("toolConfig.tools: at least one tool is required")
    for tool in tools:
        spec = tool.get("toolSpec") if isinstance(tool, dict) else None
        schema = (spec.get("inputSchema") or {}).get("json") if isinstance(spec, dict) else None
        if not isinstance(spec.get("name") if spec else None, str) or not isinstance(schema, dict):
            raise _invalid("toolConfig.tools: each toolSpec needs a name and inputSchema.json")
        prompt.tools.append((spec["name"], schema))  # type: ignore[index]
    choice = config.get("toolChoice") or {}
    if len(choice) > 1 or set(choice) - {"auto", "any", "tool"}:
        raise _invalid("toolConfig.toolChoice: set exactly one of auto, any, tool")
    if "any" in choice:
        prompt.forced_tool = ""
    elif "tool" in choice:
        prompt.forced_tool = choice["tool"].get("name")


def _read_output(config: Any, prompt: Prompt) -> None:
    text_format = config.get("textFormat") if isinstance(config, dict) else None
    if text_format is None:
        return
    definition = ((text_format.get("structure") or {}).get("jsonSchema") or {}) if isinstance(text_format, dict) else {}
    try:
        schema = json.loads(definition.get("schema"))
    except (TypeError, ValueError):
        raise _invalid("outputConfig.textFormat.structure.jsonSchema.schema: must be a JSON schema as text") from None
    if text_format.get("type") != "json_schema" or not isinstance(schema, dict):
        raise _invalid("outputConfig.textFormat: type must be json_schema with a schema object")
    prompt.json_schema = schema


def _answer(plan: Plan, tool_id: str, input_tokens: int) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    if plan.text:
        content.append({"text": plan.text})
    if plan.tool is not None:
        content.append({"toolUse": {"toolUseId": tool_id, "name": plan.tool[0], "input": plan.tool[1]}})
    output_tokens = max(1, len(plan.text.split()) + (5 if plan.tool else 0))
    return {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": STOP_REASONS[plan.stop_reason],
        "usage": {
            "inputTokens": input_tokens,
            "outputTokens": output_tokens,
            "totalTokens": input_tokens + output_tokens,
        },
        "metrics": {"latencyMs": 12},
    }


def _frames(answer: dict[str, Any]) -> list[bytes]:
    frames = [wire.event_frame("messageStart", {"role": "assistant"})]
    for index, block in enumerate(answer["output"]["message"]["content"]):
        if "text" in block:
            deltas = [{"text": piece} for piece in split_text(block["text"])]
        else:
            use = block["toolUse"]
            start = {"toolUse": {"toolUseId": use["toolUseId"], "name": use["name"]}}
            frames.append(wire.event_frame("contentBlockStart", {"contentBlockIndex": index, "start": start}))
            deltas = [{"toolUse": {"input": piece}} for piece in split_text(json.dumps(use["input"]))]
        frames.extend(wire.event_frame("contentBlockDelta", {"contentBlockIndex": index, "delta": d}) for d in deltas)
        frames.append(wire.event_frame("contentBlockStop", {"contentBlockIndex": index}))
    frames.append(wire.event_frame("messageStop", {"stopReason": answer["stopReason"]}))
    frames.append(wire.event_frame("metadata", {"usage": answer["usage"], "metrics": {"latencyMs": 12}}))
    return frames
