"""A mock Anthropic Messages API (`POST /v1/messages`) on a free port, as the public API reference
describes it:

- headers: `x-api-key` must be the key given (else 401 `authentication_error`),
  `anthropic-version` must be present (else 400);
- the body is refused (400 `invalid_request_error`) as the real API refuses it: no `max_tokens`,
  a role other than user/assistant inside `messages` (`system` is a top-level field), two turns
  of one role in a row, empty text blocks, a `tool_result` for no earlier `tool_use`, unknown
  block types, a temperature outside 0..1;
- answers: a `message` with text or, when tools are given and the prompt asks for one (or
  `tool_choice` forces it), a `tool_use` block; `stop_sequences`, `max_tokens` and
  `output_config.format` (structured output) are honoured; usage has input, output and cache
  tokens (cache reads when a system block carries `cache_control`);
- streams: `event:` + `data:` SSE in the documented order (`message_start`, `content_block_start`,
  `ping`, `content_block_delta` with `text_delta` / `input_json_delta`, `content_block_stop`,
  `message_delta` with stop reason and usage, `message_stop`); errors as
  `{"type": "error", "error": {"type", "message"}}` with the status (529 `overloaded_error`),
  and as an `error` event mid-stream.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from tests.support.mock_family import Fault, MockServer, Plan, Prompt, cut, plan_answer, split_text

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}
STOP_REASONS = {"end": "end_turn", "stop_sequence": "stop_sequence", "max_tokens": "max_tokens", "tool": "tool_use"}
BLOCK_TYPES = {"text", "image", "tool_use", "tool_result", "document", "thinking"}


class Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def error_body(status: int, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": ERROR_TYPES.get(status, "api_error"), "message": message}}


class MockAnthropic(MockServer):
    def __init__(self, api_key: str = "sk-ant-mock") -> None:
        super().__init__()
        self.api_key = api_key
        self._ids = 0

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/messages", self._messages)

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await request.json()
        except ValueError:
            body = None
        fault = await self.take_fault(request, body)
        if fault is not None and fault.kind == "status":
            return web.json_response(
                error_body(fault.status, f"mock {fault.status}"), status=fault.status, headers=fault.headers
            )
        try:
            _check_headers(request, self.api_key)
            prompt = _prompt(body)
        except Refused as exc:
            return web.json_response(error_body(exc.status, exc.message), status=exc.status)
        self._ids += 1
        plan = plan_answer(prompt)
        message = _message(f"msg_mock{self._ids:06d}", body, plan, _input_tokens(body))
        if body.get("stream"):
            return await self._stream(request, message, plan, fault)
        return web.json_response(message, headers={"request-id": f"req_mock{self._ids:06d}"})

    async def _stream(
        self, request: web.Request, message: dict[str, Any], plan: Plan, fault: Fault | None
    ) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache"}
        )
        await response.prepare(request)
        for count, (name, data) in enumerate(_events(message, plan)):
            if fault is not None and count == fault.after_events:
                if fault.kind == "cut":
                    return await cut(request, response)
                if fault.kind == "error_event":
                    await _write(response, "error", error_body(529, "Overloaded"))
                    await response.write_eof()
                    return response
            await _write(response, name, data)
        await response.write_eof()
        return response


async def _write(response: web.StreamResponse, name: str, data: dict[str, Any]) -> None:
    await response.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())


def _check_headers(request: web.Request, api_key: str) -> None:
    if request.headers.get("x-api-key") != api_key:
        raise Refused(401, "invalid x-api-key")
    if not request.headers.get("anthropic-version"):
        raise Refused(400, "anthropic-version: header is required")


def _prompt(body: Any) -> Prompt:
    if not isinstance(body, dict):
        raise Refused(400, "the body must be a JSON object")
    if not isinstance(body.get("model"), str):
        raise Refused(400, "model: Field required")
    max_tokens = body.get("max_tokens")
    if not isinstance(max_tokens, int) or max_tokens < 1:
        raise Refused(400, "max_tokens: Field required")
    temperature = body.get("temperature")
    if temperature is not None and not 0 <= temperature <= 1:
        raise Refused(400, "temperature: range: 0..1")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise Refused(400, "messages: at least one message is required")
    prompt = Prompt(max_tokens=max_tokens, stop=list(body.get("stop_sequences") or []))
    tool_ids: set[str] = set()
    previous = None
    for position, message in enumerate(messages):
        role = message.get("role") if isinstance(message, dict) else None
        if role not in ("user", "assistant"):
            raise Refused(
                400,
                f'messages.{position}.role: Unexpected role "{role}". '
                "The Messages API accepts a top-level `system` parameter",
            )
        if role == previous:
            raise Refused(400, 'messages: roles must alternate between "user" and "assistant"')
        previous = role
        blocks = _blocks(message.get("content"), position)
        if role == "user":
            prompt.images = 0
            prompt.tool_result = None
            prompt.last_user_text = ""
        for block in blocks:
            _read_block(block, role, position, tool_ids, prompt)
    _read_options(body, prompt)
    return prompt


def _read_options(body: dict[str, Any], prompt: Prompt) -> None:
    for tool in body.get("tools") or []:
        if not isinstance(tool.get("name"), str) or not isinstance(tool.get("input_schema"), dict):
            raise Refused(400, "tools: each tool needs a name and an input_schema")
        prompt.tools.append((tool["name"], tool["input_schema"]))
    choice = body.get("tool_choice") or {}
    if choice.get("type") == "any":
        prompt.forced_tool = ""
    elif choice.get("type") == "tool":
        prompt.forced_tool = choice.get("name")
    output_format = (body.get("output_config") or {}).get("format")
    if isinstance(output_format, dict) and output_format.get("type") == "json_schema":
        prompt.json_schema = output_format.get("schema") or {}


def _blocks(content: Any, position: int) -> list[dict[str, Any]]:
    if isinstance(content, str):
        content = [{"type": "text", "text": content}]
    if not isinstance(content, list) or not content:
        raise Refused(400, f"messages.{position}.content: must be a string or a non-empty list of blocks")
    return content


def _read_block(block: Any, role: str, position: int, tool_ids: set[str], prompt: Prompt) -> None:
    kind = block.get("type") if isinstance(block, dict) else None
    where = f"messages.{position}.content"
    if kind not in BLOCK_TYPES:
        raise Refused(400, f"{where}: unknown block type {kind!r}")
    if kind == "text":
        if not block.get("text"):
            raise Refused(400, f"{where}: text content blocks must be non-empty")
        if role == "user":
            prompt.last_user_text += block["text"]
    elif kind == "image":
        source = block.get("source") or {}
        if source.get("type") not in ("base64", "url") or (source.get("type") == "base64" and not source.get("data")):
            raise Refused(400, f"{where}: an image needs a base64 or url source")
        prompt.images += 1
    elif kind == "tool_use":
        if role != "assistant" or not isinstance(block.get("input"), dict):
            raise Refused(400, f"{where}: tool_use blocks belong to assistant turns, with an object input")
        tool_ids.add(block.get("id"))
    elif kind == "tool_result":
        if role != "user" or block.get("tool_use_id") not in tool_ids:
            raise Refused(400, f"{where}: tool_result block(s) provided for no tool_use")
        content = block.get("content")
        parts = content if isinstance(content, list) else [{"type": "text", "text": content or ""}]
        prompt.tool_result = "".join(p.get("text", "") for p in parts if isinstance(p, dict))


def _input_tokens(body: dict[str, Any]) -> int:
    return max(1, len(json.dumps(body.get("messages"))) // 4)


def _cache_reads(body: dict[str, Any]) -> int:
    system = body.get("system")
    cached = isinstance(system, list) and any(isinstance(b, dict) and b.get("cache_control") for b in system)
    return 7 if cached else 0


def _message(message_id: str, body: dict[str, Any], plan: Plan, input_tokens: int) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    if plan.text:
        content.append({"type": "text", "text": plan.text})
    if plan.tool is not None:
        content.append(
            {"type": "tool_use", "id": f"toolu_{message_id[4:]}", "name": plan.tool[0], "input": plan.tool[1]}
        )
    output_tokens = max(1, len(plan.text.split()) + (5 if plan.tool else 0))
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": body["model"],
        "content": content,
        "stop_reason": STOP_REASONS[plan.stop_reason],
        "stop_sequence": plan.stop_sequence,
        "usage": {
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": _cache_reads(body),
        },
    }


def _events(message: dict[str, Any], plan: Plan) -> list[tuple[str, dict[str, Any]]]:
    start = {**message, "content": [], "stop_reason": None, "stop_sequence": None}
    start["usage"] = {**message["usage"], "output_tokens": 1}
    events: list[tuple[str, dict[str, Any]]] = [("message_start", {"type": "message_start", "message": start})]
    for index, block in enumerate(message["content"]):
        if block["type"] == "text":
            opened = {"type": "text", "text": ""}
            deltas = [{"type": "text_delta", "text": piece} for piece in split_text(block["text"])]
        else:
            opened = {**block, "input": {}}
            deltas = [
                {"type": "input_json_delta", "partial_json": piece} for piece in split_text(json.dumps(block["input"]))
            ]
        events.append(("content_block_start", {"type": "content_block_start", "index": index, "content_block": opened}))
        if index == 0:
            events.append(("ping", {"type": "ping"}))
        events.extend(
            ("content_block_delta", {"type": "content_block_delta", "index": index, "delta": d}) for d in deltas
        )
        events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
    delta = {"stop_reason": message["stop_reason"], "stop_sequence": message["stop_sequence"]}
    usage = {"output_tokens": message["usage"]["output_tokens"]}
    events.append(("message_delta", {"type": "message_delta", "delta": delta, "usage": usage}))
    events.append(("message_stop", {"type": "message_stop"}))
    return events
