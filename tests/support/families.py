"""Provider families for the conformance suite (tests/integration/conformance): one harness each.

A harness starts its family's mock server (a real HTTP server on a free port speaking the vendor's
wire format, see `mock_family.MockServer` for the faults every mock takes) and says how the gateway
is configured in front of it. The suite runs the same cases against every harness in `FAMILIES`;
`supports` names the optional cases the family serves (the others must be refused with a clear 400):
"tools", "json_mode", "json_schema", "images", "n", "stop".

To add a family: write its mock in `tests/support/mock_<family>.py` on `MockServer`, a harness
here, and append it to `FAMILIES`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from tests.support.mock_anthropic import MockAnthropic
from tests.support.mock_azure import API_KEY as AZURE_KEY
from tests.support.mock_azure import AzureFront
from tests.support.mock_family import MockServer
from tests.support.mock_gemini import MockGemini
from tests.support.mock_openai_family import MockOpenAI

KEY_ENV = "AI_PROVIDER_CONFORMANCE_KEY"  # the gateway reads the family's upstream key from here


class FamilyHarness(Protocol):
    name: str
    model: str  # the vendor's model the cases ask for
    api_key: str  # what the mock accepts; the gateway gets it through KEY_ENV
    supports: frozenset[str]

    def start(self) -> MockServer: ...

    def provider_config(self, server: MockServer) -> dict[str, Any]: ...

    def image_sent(self, body: dict[str, Any]) -> bool:
        """Whether a request the mock received carries the test's image in the vendor's format."""
        ...


@dataclass(frozen=True)
class OpenAIHarness:
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
class AnthropicHarness:
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
class GeminiHarness:
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
class AzureHarness:
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


FAMILIES: list[FamilyHarness] = [
    OpenAIHarness(),
    AnthropicHarness(),
    GeminiHarness(),
    GeminiHarness(name="gemini-vertex", api="vertex"),
    AzureHarness(),
]
