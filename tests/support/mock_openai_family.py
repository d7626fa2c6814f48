"""A mock OpenAI Chat Completions API (`POST /v1/chat/completions`) for the conformance suite.

The shared bench mock and the scripted upstream answer plain text only; this one answers the way
OpenAI does for the cases every family is checked on: tool calls (when tools are given and the
prompt asks for one, or `tool_choice` forces it), tool results, `response_format` json_object and
json_schema, image parts, `n` choices, `stop`, `max_tokens`, streams with `stream_options.
include_usage`, and errors in OpenAI's shape (`{"error": {"message", "type", "param", "code"}}`),
also as a `data:` event mid-stream. The bearer key is checked (401 otherwise).
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from tests.support.mock_family import Fault, MockServer, Plan, Prompt, cut, plan_answer, split_text

FINISH_REASONS = {"end": "stop", "stop_sequence": "stop", "max_tokens": "length", "tool": "tool_calls"}


def error_body(status: int, message: str) -> dict[str, Any]:
    kind = {400: "invalid_request_error", 401: "authentication_error", 429: "rate_limit_error"}.get(
        status, "server_error"
    )
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


class MockOpenAI(MockServer):
    def __init__(self, api_key: str = "sk-mock") -> None:
        super().__init__()
        self.api_key = api_key
        self._ids = 0

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/chat/completions", self._chat)

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await request.json()
        except ValueError:
            body = None
        fault = await self.take_fault(request, body)
        if fault is not None and fault.kind == "status":
            return web.json_response(
                error_body(fault.status, f"mock {fault.status}"), status=fault.status, headers=fault.headers
            )
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return web.json_response(error_body(401, "Incorrect API key provided"), status=401)
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list) or not body["messages"]:
            return web.json_response(error_body(400, "messages is required"), status=400)
        self._ids += 1
        plan = plan_answer(_prompt(body))
        choices = [_choice(i, plan, f"call_mock{self._ids:06d}") for i in range(int(body.get("n") or 1))]
        usage = {"prompt_tokens": max(1, len(json.dumps(body["messages"])) // 4), "completion_tokens": 5}
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        answer = {
            "id": f"chatcmpl-mock{self._ids:06d}",
            "object": "chat.completion",
            "created": 1,
            "model": body.get("model"),
        }
        if body.get("stream"):
            return await self._stream(request, body, answer, choices, usage, fault)
        return web.json_response({**answer, "choices": choices, "usage": usage})

    async def _stream(
        self,
        request: web.Request,
        body: dict[str, Any],
        answer: dict[str, Any],
        choices: list[dict[str, Any]],
        usage: dict[str, Any],
        fault: Fault | None,
    ) -> web.StreamResponse:
        envelope = {**answer, "object": "chat.completion.chunk"}
        events = [{**envelope, "choices": [delta]} for choice in choices for delta in _deltas(choice)]
        if (body.get("stream_options") or {}).get("include_usage"):
            events.append({**envelope, "choices": [], "usage": usage})
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        for count, event in enumerate(events):
            if fault is not None and count == fault.after_events:
                if fault.kind == "cut":
                    return await cut(request, response)
                if fault.kind == "error_event":
                    await response.write(
                        b"data: " + json.dumps(error_body(500, "mock stream error")).encode() + b"\n\n"
                    )
                    await response.write_eof()
                    return response
            await response.write(b"data: " + json.dumps(event).encode() + b"\n\n")
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response


def _prompt(body: dict[str, Any]) -> Prompt:
    prompt = Prompt(max_tokens=body.get("max_completion_tokens") or body.get("max_tokens"))
    stop = body.get("stop")
    prompt.stop = [stop] if isinstance(stop, str) else list(stop or [])
    last = body["messages"][-1]
    if last.get("role") == "tool":
        content = last.get("content")
        prompt.tool_result = content if isinstance(content, str) else "".join(p.get("text", "") for p in content or [])
    content = last.get("content")
    if isinstance(content, str):
        prompt.last_user_text = content
    elif isinstance(content, list):
        prompt.last_user_text = "".join(p.get("text", "") for p in content if p.get("type") == "text")
        prompt.images = sum(1 for p in content if p.get("type") == "image_url")
    for tool in body.get("tools") or []:
        function = tool.get("function") or {}
        prompt.tools.append((function.get("name"), function.get("parameters") or {}))
    choice = body.get("tool_choice")
    if choice == "required":
        prompt.forced_tool = ""
    elif isinstance(choice, dict):
        prompt.forced_tool = (choice.get("function") or {}).get("name")
    response_format = body.get("response_format") or {}
    if response_format.get("type") == "json_schema":
        prompt.json_schema = (response_format.get("json_schema") or {}).get("schema") or {}
    prompt.json_object = response_format.get("type") == "json_object"
    return prompt


def _choice(index: int, plan: Plan, call_id: str) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": plan.text or None}
    if plan.tool is not None:
        name, arguments = plan.tool
        message["tool_calls"] = [
            {"id": call_id, "type": "function", "function": {"name": name, "arguments": json.dumps(arguments)}}
        ]
    return {"index": index, "message": message, "finish_reason": FINISH_REASONS[plan.stop_reason]}


def _deltas(choice: dict[str, Any]) -> list[dict[str, Any]]:
    index, message = choice["index"], choice["message"]
    deltas: list[dict[str, Any]] = [
        {"index": index, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}
    ]
    for piece in split_text(message["content"]) if message["content"] else []:
        deltas.append({"index": index, "delta": {"content": piece}, "finish_reason": None})
    for position, call in enumerate(message.get("tool_calls") or []):
        head = {
            "index": position,
            "id": call["id"],
            "type": "function",
            "function": {"name": call["function"]["name"], "arguments": ""},
        }
        deltas.append({"index": index, "delta": {"tool_calls": [head]}, "finish_reason": None})
        for piece in split_text(call["function"]["arguments"]):
            fragment = {"index": position, "function": {"arguments": piece}}
            deltas.append({"index": index, "delta": {"tool_calls": [fragment]}, "finish_reason": None})
    deltas.append({"index": index, "delta": {}, "finish_reason": choice["finish_reason"]})
    return deltas
