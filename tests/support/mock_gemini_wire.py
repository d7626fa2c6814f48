"""Gemini's wire format for the mock (tests/support/mock_gemini.py): requests read into the shared
`Prompt`, `Plan`s written as GenerateContentResponse bodies and SSE events, Google's refusals.

Field names: Google's JSON parser takes proto names in either spelling (`max_output_tokens` and
`maxOutputTokens`), so the checks here do too (the google-genai SDK sends some snake_case ones).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from tests.support.mock_family import Plan, Prompt, split_text

BLOCK_PROMPT = "BLOCK_PROMPT"  # answered with promptFeedback.blockReason SAFETY and no candidates
UNSAFE_ANSWER = "UNSAFE_ANSWER"  # answered with a candidate that ends with finishReason SAFETY
FINISH_REASONS = {"end": "STOP", "stop_sequence": "STOP", "max_tokens": "MAX_TOKENS", "tool": "STOP"}
STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
_TOP_LEVEL = {
    "contents",
    "systemInstruction",
    "tools",
    "toolConfig",
    "generationConfig",
    "safetySettings",
    "cachedContent",
}
_GENERATION = {
    "temperature", "topP", "topK", "candidateCount", "maxOutputTokens", "stopSequences", "responseMimeType",
    "responseSchema", "responseJsonSchema", "presencePenalty", "frequencyPenalty", "seed", "responseLogprobs",
    "logprobs", "thinkingConfig",
}  # fmt: skip
_PART_DATA = {"text", "inlineData", "fileData", "functionCall", "functionResponse"}


class GoogleError(Exception):
    def __init__(self, status: int, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.details = status, message, details or []

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.status, "message": self.message}
        error["status"] = STATUS_NAMES.get(self.status, "UNAVAILABLE" if self.status >= 500 else "UNKNOWN")
        if self.details:
            error["details"] = self.details
        return {"error": error}


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.title() for word in rest)


def _camelized(mapping: dict[str, Any]) -> dict[str, Any]:
    return {camel(key): value for key, value in mapping.items()}


def _known(mapping: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(key for key in mapping if camel(key) not in allowed)
    if unknown:
        raise GoogleError(400, f"Invalid JSON payload received. Unknown name \"{unknown[0]}\" at '{where}'")


def validate(body: dict[str, Any]) -> None:
    """Refuse what generateContent refuses (the cases a translation could get wrong)."""
    _known(body, _TOP_LEVEL, "")
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents:
        raise GoogleError(400, "* GenerateContentRequest.contents: contents is not specified")
    for index, content in enumerate(contents):
        if content.get("role") not in ("user", "model"):
            raise GoogleError(400, f"Please use a valid role: user, model. (contents[{index}])")
        parts = content.get("parts")
        if not isinstance(parts, list) or not parts:
            raise GoogleError(400, f"* GenerateContentRequest.contents[{index}].parts: must not be empty")
        for part in parts:
            if len(_PART_DATA & set(_camelized(part))) != 1:
                raise GoogleError(400, f"contents[{index}].parts: each part holds exactly one kind of data")
            _known(part, _PART_DATA | {"thought", "thoughtSignature"}, f"contents[{index}].parts")
    _known(body.get("generationConfig") or {}, _GENERATION, "generation_config")
    for tool in body.get("tools") or []:
        for declaration in tool.get("functionDeclarations") or []:
            declaration = _camelized(declaration)
            if "parameters" in declaration and "parametersJsonSchema" in declaration:
                raise GoogleError(400, "parameters and parameters_json_schema are mutually exclusive")
            if "additionalProperties" in json.dumps(declaration.get("parameters") or {}):
                raise GoogleError(400, 'Invalid JSON payload received. Unknown name "additionalProperties"')


def all_text(body: dict[str, Any]) -> str:
    texts = [p.get("text") for c in body.get("contents") or [] for p in c.get("parts") or []]
    texts += [p.get("text") for p in (body.get("systemInstruction") or {}).get("parts") or []]
    return " ".join(t for t in texts if isinstance(t, str))


def prompt_of(body: dict[str, Any]) -> Prompt:
    config = _camelized(body.get("generationConfig") or {})
    prompt = Prompt(max_tokens=config.get("maxOutputTokens"), stop=list(config.get("stopSequences") or []))
    parts = body["contents"][-1]["parts"]
    prompt.last_user_text = "".join(p["text"] for p in parts if isinstance(p.get("text"), str))
    prompt.images = sum(1 for p in parts if "inlineData" in p or "fileData" in p)
    results = [p["functionResponse"].get("response") for p in parts if "functionResponse" in p]
    if results:
        result = results[0]
        plain = isinstance(result, dict) and set(result) == {"result"} and isinstance(result["result"], str)
        prompt.tool_result = result["result"] if plain else json.dumps(result)
    for tool in body.get("tools") or []:
        for declaration in tool.get("functionDeclarations") or []:
            declaration = _camelized(declaration)
            schema = declaration.get("parametersJsonSchema") or declaration.get("parameters") or {}
            prompt.tools.append((declaration["name"], schema))
    calling = ((body.get("toolConfig") or {}).get("functionCallingConfig")) or {}
    if calling.get("mode") == "ANY":
        prompt.forced_tool = (calling.get("allowedFunctionNames") or [""])[0]
    if config.get("responseMimeType") == "application/json":
        schema = config.get("responseJsonSchema") or config.get("responseSchema")
        prompt.json_schema = schema if isinstance(schema, dict) else None
        prompt.json_object = schema is None
    return prompt


def _parts(plan: Plan) -> list[dict[str, Any]]:
    if plan.tool is not None:
        name, args = plan.tool
        return [{"functionCall": {"name": name, "args": args}, "thoughtSignature": "bW9jay1zaWduYXR1cmU="}]
    return [{"text": plan.text}]


def _usage(body: dict[str, Any], plan: Plan, candidates: int) -> dict[str, int]:
    prompt = max(1, len(all_text(body).split()))
    answered = max(1, len(plan.text.split())) * candidates
    return {"promptTokenCount": prompt, "candidatesTokenCount": answered, "totalTokenCount": prompt + answered}


def answer(body: dict[str, Any], plan: Plan, model: str) -> dict[str, Any]:
    """The generateContent answer: `candidateCount` candidates of the plan (or a safety block)."""
    text = all_text(body)
    if BLOCK_PROMPT in text:
        return {"promptFeedback": {"blockReason": "SAFETY"}, "usageMetadata": {"promptTokenCount": 1}}
    count = int(_camelized(body.get("generationConfig") or {}).get("candidateCount") or 1)
    if UNSAFE_ANSWER in text:
        candidates = [
            {"index": 0, "finishReason": "SAFETY", "safetyRatings": [{"category": "HARM_CATEGORY_HARASSMENT"}]}
        ]
    else:
        finish = FINISH_REASONS[plan.stop_reason]
        candidates = [
            {"index": i, "content": {"role": "model", "parts": _parts(plan)}, "finishReason": finish}
            for i in range(count)
        ]
    return {
        "candidates": candidates,
        "usageMetadata": _usage(body, plan, count),
        "modelVersion": model,
        "responseId": "mock",
    }


def stream_events(body: dict[str, Any], plan: Plan, model: str) -> list[dict[str, Any]]:
    """The answer as SSE events: text word by word, a function call whole, the finish reason in its
    own event; running usage on every event, the full usage on the last (as Google sends them)."""
    whole = answer(body, plan, model)
    if "candidates" not in whole:
        return [whole]
    events: list[dict[str, Any]] = []
    for candidate in whole["candidates"]:
        if candidate["finishReason"] == "SAFETY":
            pieces: list[dict[str, Any]] = [{"text": "Partial "}]
        elif plan.tool is not None:
            pieces = candidate["content"]["parts"]
        else:
            pieces = [{"text": w} for w in split_text(plan.text, max(1, len(plan.text.split())))]
        for piece in pieces:
            events.append(
                {"candidates": [{"index": candidate["index"], "content": {"role": "model", "parts": [piece]}}]}
            )
        events.append({"candidates": [{"index": candidate["index"], "finishReason": candidate["finishReason"]}]})
    for event in events:
        event["usageMetadata"] = {"promptTokenCount": whole["usageMetadata"]["promptTokenCount"]}
        event["modelVersion"] = model
    events[-1]["usageMetadata"] = whole["usageMetadata"]
    return events


def vector(text: str, dimensions: int) -> list[float]:
    digest = hashlib.sha256(text.encode()).digest()
    return [round(digest[i % len(digest)] / 255.0, 6) for i in range(dimensions)]


def studio_embeddings(body: dict[str, Any], model: str) -> dict[str, Any]:
    embeddings = []
    for index, item in enumerate(body.get("requests") or []):
        if item.get("model") != f"models/{model}":
            raise GoogleError(400, f"requests[{index}].model must be models/{model}")
        text = " ".join(p.get("text", "") for p in item["content"]["parts"])
        embeddings.append({"values": vector(text, int(item.get("outputDimensionality") or 8))})
    return {"embeddings": embeddings}


def vertex_embeddings(body: dict[str, Any]) -> dict[str, Any]:
    dimensions = int((body.get("parameters") or {}).get("outputDimensionality") or 8)
    predictions = [
        {
            "embeddings": {
                "values": vector(i["content"], dimensions),
                "statistics": {"token_count": len(i["content"].split()), "truncated": False},
            }
        }
        for i in body.get("instances") or []
    ]
    return {"predictions": predictions, "metadata": {"billableCharacterCount": 1}}
