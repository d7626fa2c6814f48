"""Provider families for the conformance suite (tests/integration/conformance): one harness each.

A harness starts its family's mock server (a real HTTP server on a free port speaking the vendor's
wire format, see `mock_family.MockServer` for the faults every mock takes) and says how the gateway
is configured in front of it. The suite runs the same cases against every harness in `FAMILIES`;
`supports` names the optional cases the family serves (the others must be refused with a clear 400):
"tools", "json_mode", "json_schema", "images", "n", "stop". `extra_env` holds more environment the
gateway needs (beyond the key in `KEY_ENV`); `wire_statuses` says how the family's upstream answers a
fault status where it differs (AWS has no 401 or 529: Bedrock answers 403 and 503).

To add a family: write its mock in `tests/support/mock_<family>.py` on `MockServer`, a harness
here, and append it to `FAMILIES`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from tests.support.mock_anthropic import MockAnthropic
from tests.support.mock_azure import API_KEY as AZURE_KEY
from tests.support.mock_azure import AzureFront
from tests.support.mock_bedrock import MockBedrock
from tests.support.mock_bedrock_wire import ACCESS_KEY, REGION, SECRET_KEY, SESSION_TOKEN, WIRE_ERRORS
from tests.support.mock_family import MockServer
from tests.support.mock_gemini import MockGemini
from tests.support.mock_openai_family import MockOpenAI

KEY_ENV = "AI_PROVIDER_CONFORMANCE_KEY"  # the gateway reads the family's upstream key from here
AWS_KEY_ID_ENV = "AI_PROVIDER_CONFORMANCE_AWS_KEY_ID"
AWS_TOKEN_ENV = "AI_PROVIDER_CONFORMANCE_AWS_TOKEN"


class FamilyHarness(Protocol):
    name: str
    model: str  # the vendor's model the cases ask for
    api_key: str  # what the mock accepts; the gateway gets it through KEY_ENV
    supports: frozenset[str]
    extra_env: tuple[tuple[str, str], ...]
    wire_statuses: tuple[tuple[int, int], ...]

    def start(self) -> MockServer: ...

    def provider_config(self, server: MockServer) -> dict[str, Any]: ...

    def image_sent(self, body: dict[str, Any]) -> bool:
        """Whether a request the mock received carries the test's image in the vendor's format."""
        ...


@dataclass(frozen=True)
class HarnessDefaults:
    extra_env: tuple[tuple[str, str], ...] = ()
    wire_statuses: tuple[tuple[int, int], ...] = ()


def gateway_env(harness: FamilyHarness) -> dict[str, str]:
    """The environment the gateway needs to reach the harness's mock."""
    return {KEY_ENV: harness.api_key, **dict(harness.extra_env)}


def wire_status(harness: FamilyHarness, status: int) -> int:
    """The status the family's mock answers a fault of `status` with."""
    mapping: Mapping[int, int] = dict(harness.wire_statuses)
    return mapping.get(status, status)


@dataclass(frozen=True)
class OpenAIHarness(HarnessDefaults):
    name: str = "openai"
    model: str = "gpt-4o-mini"
    api_key: str = "sk-conformance-openai"
    supports: frozenset[str] = frozenset({"tools", "json_mode", "json_schema", "images", "n", "stop"})

    def start(self) -> MockServer:
        return MockOpenAI(self.api_key).start()

    def provider_config(self, server: MockServer) -> dict[str, Any]:
        return {"type": "openai", "base_url": f"{server.url}/v1", "api_key_env": KEY_ENV}

    def image_sent(self, body: dict[str, Any]) -> bool:
        parts = body["messages"][-1]["content"]
        return any(p.get("type") == "image_url" and p["image_url"]["url"].startswith("data:image/png") for p in parts)


@dataclass(frozen=True)
class AnthropicHarness(HarnessDefaults):
    name: str = "anthropic"
    model: str = "claude-sonnet-4-5"
    api_key: str = "sk-ant-conformance"
    supports: frozenset[str] = frozenset({"tools", "json_schema", "images", "stop"})

    def start(self) -> MockServer:
        return MockAnthropic(self.api_key).start()

    def provider_config(self, server: MockServer) -> dict[str, Any]:
        return {"type": "anthropic", "base_url": server.url, "api_key_env": KEY_ENV}

    def image_sent(self, body: dict[str, Any]) -> bool:
        blocks = body["messages"][-1]["content"]
        return any(
            b.get("type") == "image"
            and b["source"] == {"type": "base64", "media_type": "image/png", "data": PNG_BASE64}
            for b in blocks
        )


# A 1x1 transparent PNG: the image the image case sends.
PNG_BASE64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="


@dataclass(frozen=True)
class GeminiHarness(HarnessDefaults):
    """Google Gemini through AI Studio (`api: studio`) or Vertex AI (`api: vertex`)."""

    name: str = "gemini"
    model: str = "gemini-2.5-flash"
    api_key: str = "gemini-conformance-key"
    supports: frozenset[str] = frozenset({"tools", "json_mode", "json_schema", "images", "n", "stop"})
    api: str = "studio"

    def start(self) -> MockServer:
        return MockGemini(api_key=self.api_key, access_token=self.api_key).start()

    def provider_config(self, server: MockServer) -> dict[str, Any]:
        if self.api == "studio":
            return {"type": "gemini", "base_url": f"{server.url}/v1beta", "api_key_env": KEY_ENV}
        return {
            "type": "gemini",
            "api": "vertex",
            "project": "conformance-1",
            "location": "europe-west4",
            "base_url": f"{server.url}/v1",
            "access_token_env": KEY_ENV,
        }

    def image_sent(self, body: dict[str, Any]) -> bool:
        parts = body["contents"][-1]["parts"]
        return {"inlineData": {"mimeType": "image/png", "data": PNG_BASE64}} in parts


@dataclass(frozen=True)
class AzureHarness(HarnessDefaults):
    """Azure OpenAI: `tests/support/mock_azure.py` (Azure's paths, api-version and api-key) in front of
    the OpenAI family mock, which answers."""

    name: str = "azure"
    model: str = "gpt-4o"
    api_key: str = AZURE_KEY
    supports: frozenset[str] = frozenset({"tools", "json_mode", "json_schema", "images", "n", "stop"})

    def start(self) -> MockServer:
        return AzureFront(MockOpenAI("sk-inner"), deployments=frozenset({"gpt-4o-prod"})).start()

    def provider_config(self, server: MockServer) -> dict[str, Any]:
        return {
            "type": "azure",
            "endpoint": server.url,
            "deployments": {self.model: "gpt-4o-prod"},
            "api_key_env": KEY_ENV,
        }

    def image_sent(self, body: dict[str, Any]) -> bool:
        return OpenAIHarness().image_sent(body)


@dataclass(frozen=True)
class BedrockHarness(HarnessDefaults):
    """Amazon Bedrock's Converse API, SigV4-signed with the mock's test credentials (static keys
    read from the environment through the `*_env` fields)."""

    name: str = "bedrock"
    model: str = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"  # an inference profile: ':' in the path
    api_key: str = SECRET_KEY
    supports: frozenset[str] = frozenset({"tools", "json_schema", "images", "stop"})
    extra_env: tuple[tuple[str, str], ...] = ((AWS_KEY_ID_ENV, ACCESS_KEY), (AWS_TOKEN_ENV, SESSION_TOKEN))
    wire_statuses: tuple[tuple[int, int], ...] = tuple((fault, wire[0]) for fault, wire in WIRE_ERRORS.items())

    def start(self) -> MockServer:
        return MockBedrock().start()

    def provider_config(self, server: MockServer) -> dict[str, Any]:
        return {
            "type": "bedrock",
            "region": REGION,
            "base_url": server.url,
            "access_key_id_env": AWS_KEY_ID_ENV,
            "secret_access_key_env": KEY_ENV,
            "session_token_env": AWS_TOKEN_ENV,
            "instance_metadata": False,
        }

    def image_sent(self, body: dict[str, Any]) -> bool:
        return {"image": {"format": "png", "source": {"bytes": PNG_BASE64}}} in body["messages"][-1]["content"]


FAMILIES: list[FamilyHarness] = [
    OpenAIHarness(),
    AnthropicHarness(),
    GeminiHarness(),
    GeminiHarness(name="gemini-vertex", api="vertex"),
    AzureHarness(),
    BedrockHarness(),
]
