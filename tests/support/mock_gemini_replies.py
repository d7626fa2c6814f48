"""What the Gemini mock answers: GenerateContentResponse bodies made from the request, deterministic.

Replies follow the request so the conformance cases can check the whole translation: the last user
text is echoed, images are counted, declared tools are called (arguments made from the schema's
required properties), a function result is quoted back, JSON mode answers JSON (an instance of
`responseJsonSchema` when given), `candidateCount`, `stopSequences` and `maxOutputTokens` are
honoured. Trigger words: BLOCK_PROMPT (promptFeedback.blockReason SAFETY, no candidates) and
UNSAFE_ANSWER (a candidate that ends with finishReason SAFETY).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

BLOCK_PROMPT = "BLOCK_PROMPT"
UNSAFE_ANSWER = "UNSAFE_ANSWER"


def words(text: str) -> int:
    return len(text.split())


def all_text(body: dict[str, Any]) -> str:
    texts = [p.get("text", "") for c in body.get("contents", []) for p in c.get("parts", [])]
    texts += [p.get("text", "") for p in (body.get("systemInstruction") or {}).get("parts", [])]
    return " ".join(t for t in texts if isinstance(t, str))


def _example(schema: Any) -> Any:
    """A value of `schema` (the subset the cases use: object, array, string, integer, number, boolean)."""
    if not isinstance(schema, dict):
        return "x"
    kind = schema.get("type")
    if "enum" in schema:
        return schema["enum"][0]
    if kind == "object":
        properties = schema.get("properties") or {}
        return {name: _example(properties.get(name)) for name in schema.get("required") or list(properties)}
    if kind == "array":
        return [_example(schema.get("items"))]
    return {"integer": 7, "number": 1.5, "boolean": True}.get(str(kind), "Paris")


def _reply_parts(body: dict[str, Any]) -> list[dict[str, Any]]:
    last = body["contents"][-1]
    responses = [p["functionResponse"] for p in last["parts"] if "functionResponse" in p]
    config = body.get("generationConfig") or {}
    if responses:
        text = "The tool said: " + json.dumps(responses[0].get("response"), sort_keys=True)
    elif config.get("responseMimeType") == "application/json":
        schema = config.get("responseJsonSchema") or config.get("responseSchema")
        text = json.dumps(_example(schema) if schema else {"answer": "mock"})
    else:
        declarations = [d for t in body.get("tools") or [] for d in t.get("functionDeclarations") or []]
        mode = ((body.get("toolConfig") or {}).get("functionCallingConfig") or {}).get("mode", "AUTO")
        if declarations and mode != "NONE":
            chosen = declarations[0]
            schema = (
                chosen.get("parametersJsonSchema") or chosen.get("parameters_json_schema") or chosen.get("parameters")
            )
            args = _example(schema or {"type": "object"})
            return [
                {"functionCall": {"name": chosen["name"], "args": args}, "thoughtSignature": "bW9jay1zaWduYXR1cmU="}
            ]
        user_text = " ".join(p["text"] for p in last["parts"] if isinstance(p.get("text"), str))
        media = [
            p.get("inlineData") or p.get("fileData") for p in last["parts"] if "inlineData" in p or "fileData" in p
        ]
        text = f"Echo: {user_text}"
        if media:
            text += f" [saw {len(media)} image(s): {', '.join(m.get('mimeType', '?') for m in media)}]"
    return [{"text": text}]


def _limit(text: str, config: dict[str, Any]) -> tuple[str, str]:
    for stop in config.get("stopSequences") or ():
        if stop in text:
            return text[: text.index(stop)], "STOP"
    limit = config.get("maxOutputTokens")
    if isinstance(limit, int) and words(text) > limit:
        return " ".join(text.split()[:limit]), "MAX_TOKENS"
    return text, "STOP"


def candidates(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The answer's candidates (finishReason SAFETY for the UNSAFE_ANSWER trigger)."""
    config = body.get("generationConfig") or {}
    if UNSAFE_ANSWER in all_text(body):
        return [{"index": 0, "finishReason": "SAFETY", "safetyRatings": [{"category": "HARM_CATEGORY_HARASSMENT"}]}]
    result = []
    for index in range(int(config.get("candidateCount") or 1)):
        parts = _reply_parts(body)
        finish = "STOP"
        if "text" in parts[0]:
            json_mode = config.get("responseMimeType") == "application/json"
            text, finish = _limit(parts[0]["text"] + ("" if index == 0 or json_mode else f" #{index}"), config)
            parts = [{"text": text}]
        result.append({"index": index, "content": {"role": "model", "parts": parts}, "finishReason": finish})
    return result


def usage(body: dict[str, Any], found: list[dict[str, Any]]) -> dict[str, int]:
    prompt = words(all_text(body))
    answered = sum(words(p.get("text", "")) or 1 for c in found for p in (c.get("content") or {}).get("parts", []))
    return {"promptTokenCount": prompt, "candidatesTokenCount": answered, "totalTokenCount": prompt + answered}


def generate(body: dict[str, Any], model: str) -> dict[str, Any]:
    if BLOCK_PROMPT in all_text(body):
        return {
            "promptFeedback": {"blockReason": "SAFETY"},
            "usageMetadata": {"promptTokenCount": 1, "totalTokenCount": 1},
        }
    found = candidates(body)
    return {"candidates": found, "usageMetadata": usage(body, found), "modelVersion": model, "responseId": "mock-1"}


def stream_events(body: dict[str, Any], model: str) -> list[dict[str, Any]]:
    """The answer as SSE events: text cut word by word, usage on every event, finishReason last."""
    answer = generate(body, model)
    if "candidates" not in answer:
        return [answer]
    events: list[dict[str, Any]] = []
    for candidate in answer["candidates"]:
        parts = (candidate.get("content") or {}).get("parts") or []
        pieces: list[dict[str, Any]] = []
        for part in parts:
            if "text" in part:
                pieces += [{"text": w} for w in _split_keep_spaces(part["text"])]
            else:
                pieces.append(part)
        if candidate.get("finishReason") == "SAFETY":
            pieces = [{"text": "Partial "}]
        for piece in pieces:
            events.append(
                {"candidates": [{"index": candidate["index"], "content": {"role": "model", "parts": [piece]}}]}
            )
        events.append({"candidates": [{"index": candidate["index"], "finishReason": candidate["finishReason"]}]})
    partial = {k: v for k, v in answer["usageMetadata"].items() if k == "promptTokenCount"}
    for event in events[:-1]:
        event["usageMetadata"] = partial
        event["modelVersion"] = model
    events[-1]["usageMetadata"] = answer["usageMetadata"]
    events[-1]["modelVersion"] = model
    return events


def _split_keep_spaces(text: str) -> list[str]:
    pieces = [w + " " for w in text.split(" ")]
    pieces[-1] = pieces[-1][:-1]
    return [p for p in pieces if p]


def vector(text: str, dimensions: int) -> list[float]:
    digest = hashlib.sha256(text.encode()).digest()
    return [round(digest[i % len(digest)] / 255.0, 6) for i in range(dimensions)]
