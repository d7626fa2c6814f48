"""Settings from AI_* variables (and .env), with errors that name the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from aigw.settings import Settings, SettingsError, load_settings

pytestmark = pytest.mark.usefixtures("clean_env")


def test_defaults() -> None:
    s = load_settings()
    assert s.gateway_enabled is True
    assert (s.gateway_host, s.gateway_port) == ("127.0.0.1", 8080)
    assert s.openai_api_key is None and s.master_key is None
    assert s.openai_base_url == "https://api.openai.com/v1"
    assert s.openai_model == "gpt-4o-mini"
    assert s.openai_timeout == 30.0
    assert s.openai_max_retries == 3
    assert (s.retry_backoff_base, s.retry_max_delay) == (0.25, 8.0)
    assert s.circuit_breaker_enabled is True
    assert s.circuit_breaker_failure_rate == 0.5
    assert s.circuit_breaker_min_calls == 10
    assert (s.circuit_breaker_window, s.circuit_breaker_cooldown) == (30.0, 15.0)
    assert s.fallback_enabled is True
    assert s.fallback_order == ["openai", "local"]
    assert s.config_file is None and s.database_url is None and s.redis_url is None
    assert s.log_level == "INFO"
    assert s.binds_loopback_only is True


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AI_GATEWAY_ENABLED", "false")
    monkeypatch.setenv("AI_GATEWAY_PORT", "9090")
    monkeypatch.setenv("AI_OPENAI_TIMEOUT", "2.5")
    monkeypatch.setenv("AI_OPENAI_MAX_RETRIES", "0")
    monkeypatch.setenv("AI_OPENAI_API_KEY", "sk-env-key-123456")
    monkeypatch.setenv("AI_CIRCUIT_BREAKER_ENABLED", "0")
    monkeypatch.setenv("AI_LOG_LEVEL", "debug")
    monkeypatch.setenv("ai_openai_model", "gpt-4.1")  # names are case-insensitive
    s = load_settings()
    assert s.gateway_enabled is False
    assert s.gateway_port == 9090
    assert s.openai_timeout == 2.5
    assert s.openai_max_retries == 0
    assert s.openai_api_key is not None and s.openai_api_key.get_secret_value() == "sk-env-key-123456"
    assert "sk-env-key" not in repr(s)
    assert s.circuit_breaker_enabled is False
    assert s.log_level == "DEBUG"
    assert s.openai_model == "gpt-4.1"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("openai, local", ["openai", "local"]), ("local,openai,,", ["local", "openai"]), (" stub ", ["stub"]), ("", [])],
)
def test_fallback_order_is_split_on_commas(monkeypatch: pytest.MonkeyPatch, raw: str, expected: list[str]) -> None:
    monkeypatch.setenv("AI_FALLBACK_ORDER", raw)
    assert load_settings().fallback_order == expected


def test_bad_timeout_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AI_OPENAI_TIMEOUT", "fast")
    with pytest.raises(SettingsError) as info:
        load_settings()
    message = str(info.value)
    assert "AI_OPENAI_TIMEOUT" in message
    assert "fast" in message


def test_out_of_range_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AI_OPENAI_TIMEOUT", "0")
    with pytest.raises(SettingsError, match="AI_OPENAI_TIMEOUT"):
        load_settings()


def test_several_bad_values_are_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AI_GATEWAY_PORT", "99999")
    monkeypatch.setenv("AI_WORKERS", "0")
    with pytest.raises(SettingsError, match=r"\(and 1 more\)"):
        load_settings()


def test_bad_log_level_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AI_LOG_LEVEL", "chatty")
    with pytest.raises(SettingsError, match="AI_LOG_LEVEL"):
        load_settings()


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.53", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.10", False),
        ("gateway.internal", False),
    ],
)
def test_binds_loopback_only(monkeypatch: pytest.MonkeyPatch, host: str, loopback: bool) -> None:
    monkeypatch.setenv("AI_GATEWAY_HOST", host)
    assert load_settings().binds_loopback_only is loopback


def test_dotenv_in_the_working_directory_is_read(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (clean_env / ".env").write_text("AI_OPENAI_MODEL=from-dotenv\nAI_GATEWAY_PORT=7000\n", encoding="utf-8")
    monkeypatch.setenv("AI_GATEWAY_PORT", "7100")  # the environment wins over .env
    s = load_settings()
    assert s.openai_model == "from-dotenv"
    assert s.gateway_port == 7100


def test_overrides_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AI_OPENAI_MODEL", "from-env")
    assert load_settings(openai_model="explicit").openai_model == "explicit"


def test_effective_database_url_defaults_to_sqlite_in_the_state_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AI_STATE_DIR", "/var/lib/aigw")
    assert load_settings().effective_database_url == "sqlite+aiosqlite:////var/lib/aigw/aigw.db"
    monkeypatch.setenv("AI_DATABASE_URL", "postgresql://db/aigw")
    assert Settings().effective_database_url == "postgresql://db/aigw"
