"""The edge's settings: a long master key, parsed proxies, who reads /metrics, and no keyless app
built for a non-loopback address."""

from __future__ import annotations

from pathlib import Path

import pytest

from aigw.api.app import app_from_environment
from aigw.settings import MIN_MASTER_KEY_CHARS, SettingsError, load_settings

pytestmark = pytest.mark.usefixtures("clean_env")
LONG_KEY = "sk-" + "k" * (MIN_MASTER_KEY_CHARS - 3)


@pytest.mark.parametrize("key", ["", "sk-short", "x" * (MIN_MASTER_KEY_CHARS - 1)])
def test_a_short_master_key_is_refused_at_start(monkeypatch: pytest.MonkeyPatch, key: str) -> None:
    monkeypatch.setenv("AI_MASTER_KEY", key)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert "AI_MASTER_KEY" in message and f"at least {MIN_MASTER_KEY_CHARS} characters" in message
    if key:
        assert key not in message


def test_a_long_master_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AI_MASTER_KEY", LONG_KEY)
    settings = load_settings()
    assert settings.master_key is not None and settings.master_key.get_secret_value() == LONG_KEY


def test_metrics_access_defaults_to_the_master_key_when_there_is_one(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().effective_metrics_access == "open"  # keyless: loopback only
    monkeypatch.setenv("AI_MASTER_KEY", LONG_KEY)
    assert load_settings().effective_metrics_access == "master_key"
    monkeypatch.setenv("AI_METRICS_ACCESS", "open")
    assert load_settings().effective_metrics_access == "open"
    monkeypatch.setenv("AI_METRICS_ACCESS", "public")
    with pytest.raises(SettingsError, match="AI_METRICS_ACCESS"):
        load_settings()


def test_trusted_proxies_and_allowed_hosts_are_comma_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AI_TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1,,fd00::/8")
    monkeypatch.setenv("AI_ALLOWED_HOSTS", "Gateway.Internal, gw.local")
    settings = load_settings()
    assert settings.trusted_proxies == ["10.0.0.0/8", "127.0.0.1", "fd00::/8"]
    assert settings.allowed_hosts == ["gateway.internal", "gw.local"]
    monkeypatch.setenv("AI_TRUSTED_PROXIES", "10.0.0.0/8, proxy.internal")
    with pytest.raises(SettingsError, match="AI_TRUSTED_PROXIES"):
        load_settings()


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "gateway.example"])
def test_no_keyless_app_for_a_non_loopback_host(monkeypatch: pytest.MonkeyPatch, clean_env: Path, host: str) -> None:
    monkeypatch.setenv("AI_GATEWAY_HOST", host)
    monkeypatch.setenv("AI_STATE_DIR", str(clean_env / "state"))
    with pytest.raises(SettingsError) as caught:
        app_from_environment()
    assert "AI_GATEWAY_HOST" in str(caught.value) and "AI_MASTER_KEY" in str(caught.value)
