"""A gateway whose alias `gpt-4o` lists deployments of two families: OpenAI (the shared mock
upstream) first, then Anthropic (`tests/support/mock_anthropic.py`), as in the README's example."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import MASTER_KEY, UPSTREAM_KEY

ANTHROPIC_KEY = "sk-ant-mock-cross-family"
CLAUDE_MODEL = "claude-sonnet-4-5"


def cross_family_env(tmp_path: Path, openai_url: str, anthropic_url: str, **extra: str) -> dict[str, str]:
    """The gateway's environment: `openai_url` ends in /v1, `anthropic_url` is the API's root."""
    config = tmp_path / "cross-family.yaml"
    config.write_text(
        "providers:\n"
        f"  - {{name: openai, type: openai, base_url: '{openai_url}', api_key_env: AI_OPENAI_API_KEY,"
        " timeout: 5, retry: {max_retries: 0}}\n"
        f"  - {{name: claude, type: anthropic, base_url: '{anthropic_url}', api_key_env: AI_PROVIDER_CLAUDE_KEY,"
        " timeout: 5, retry: {max_retries: 0}}\n"
        "models:\n"
        "  gpt-4o:\n"
        "    - {provider: openai, model: gpt-4o}\n"
        f"    - {{provider: claude, model: {CLAUDE_MODEL}}}\n"
        "  claude:\n"
        f"    - {{provider: claude, model: {CLAUDE_MODEL}}}\n"
    )
    return {
        "AI_MASTER_KEY": MASTER_KEY,
        "AI_OPENAI_API_KEY": UPSTREAM_KEY,
        "AI_PROVIDER_CLAUDE_KEY": ANTHROPIC_KEY,
        "AI_CONFIG_FILE": str(config),
        **extra,
    }
