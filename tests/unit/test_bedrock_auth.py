"""Bedrock credentials and signing: where credentials come from (the `*_env` fields, botocore's
chain with a profile, instance metadata off), that refreshing never blocks a call that still has
valid credentials, and what a call gets when there are none."""

from __future__ import annotations

import asyncio
import datetime
import os
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.credentials import ReadOnlyCredentials, RefreshableCredentials

from aigw.configfile import ConfigError, config_from_mapping
from aigw.errors import ProviderConnectionError, ProviderStatusError
from aigw.providers import bedrock_auth
from aigw.providers.bedrock import BedrockProviderConfig
from aigw.providers.bedrock_auth import CredentialCache, CredentialSource, sign
from aigw.settings import load_settings

pytestmark = pytest.mark.usefixtures("clean_env")


@pytest.fixture
def no_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No AWS credentials anywhere: not in the environment, not in (an empty) home."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    return tmp_path


def test_static_keys_come_from_the_env_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AI_PROVIDER_AWS_ID", "AKIAEXAMPLE")
    monkeypatch.setenv("AI_PROVIDER_AWS_SECRET", "secret")
    source = CredentialSource("AI_PROVIDER_AWS_ID", "AI_PROVIDER_AWS_SECRET", "AI_PROVIDER_AWS_TOKEN")
    frozen = source.resolve().get_frozen_credentials()
    assert (frozen.access_key, frozen.secret_key, frozen.token) == ("AKIAEXAMPLE", "secret", None)
    monkeypatch.delenv("AI_PROVIDER_AWS_SECRET")
    assert source.resolve() is None


def test_the_default_chain_reads_the_environment_then_a_profile(no_aws: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (no_aws / "credentials").write_text(
        "[team]\naws_access_key_id = AKIAPROFILE\naws_secret_access_key = profile-secret\n"
    )
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAENV")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "env-secret")
    assert CredentialSource(instance_metadata=False).resolve().access_key == "AKIAENV"
    assert CredentialSource(profile="team", instance_metadata=False).resolve().access_key == "AKIAPROFILE"


def test_without_instance_metadata_an_empty_chain_answers_at_once(no_aws: Path) -> None:
    started = time.monotonic()
    assert CredentialSource(instance_metadata=False).resolve() is None
    assert time.monotonic() - started < 1.0  # no instance-metadata call, which would wait for its timeout


def test_sign_adds_a_sigv4_authorization_scoped_to_bedrock() -> None:
    headers = sign(
        ReadOnlyCredentials("AKIAEXAMPLE", "secret", "token"),
        "eu-west-3",
        "https://bedrock-runtime.eu-west-3.amazonaws.com/model/arn%3Aaws%3Abedrock%3Aeu-west-3%3A1%3Ax%2Fy/converse",
        b"{}",
        {"content-type": "application/json"},
    )
    assert headers["X-Amz-Security-Token"] == "token"
    assert headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/")
    assert (
        "/eu-west-3/bedrock/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token"
        in (headers["Authorization"])
    )


def expiring(seconds: float, refresh: Any, key: str = "OLD") -> RefreshableCredentials:
    expiry = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=seconds)
    metadata = {"access_key": key, "secret_key": "s", "token": "t", "expiry_time": expiry.isoformat()}
    return RefreshableCredentials.create_from_metadata(metadata, refresh_using=refresh, method="test")


def scripted(*answers: tuple[str, float] | Exception, delay: float = 0.0) -> Any:
    """A credential endpoint answering (key, seconds to expiry) or failing, in turn; slow by `delay`."""
    pending = list(answers)

    def refresh() -> dict[str, str]:
        time.sleep(delay)
        answer = pending.pop(0)
        if isinstance(answer, Exception):
            raise answer
        expiry = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=answer[1])
        return {"access_key": answer[0], "secret_key": "s", "token": "t", "expiry_time": expiry.isoformat()}

    return refresh


def fresh() -> Any:
    return scripted(("NEW", 3600))


async def test_credentials_near_expiry_are_refreshed_in_the_background() -> None:
    # At start botocore refreshes the first ones (inside its window); the next still expire in 12
    # minutes: calls sign with them at once while a slow refresh runs in a thread.
    refresh = scripted(("MID", 720), ("NEW", 3600), delay=0.3)
    cache = CredentialCache(lambda: expiring(700, refresh), "b")
    await cache.start()
    started = time.monotonic()
    assert (await cache.current()).access_key == "MID"
    assert (await cache.current()).access_key == "MID"
    assert time.monotonic() - started < 0.1
    await asyncio.sleep(0.8)
    assert (await cache.current()).access_key == "NEW"
    await cache.close()


async def test_credentials_about_to_expire_are_waited_for() -> None:
    refresh = scripted(("SOON", 30), ("NEW", 3600))
    cache = CredentialCache(lambda: expiring(30, refresh), "b")
    await cache.start()  # refreshed at start, but only for 30 seconds more
    assert (await cache.current()).access_key == "NEW"


async def test_a_failed_refresh_of_expired_credentials_is_a_connection_error() -> None:
    refresh = scripted(("SHORT", 1.0), OSError("the credential endpoint is down"))
    cache = CredentialCache(lambda: expiring(30, refresh), "b")
    await cache.start()  # refreshed at start, for one more second
    await asyncio.sleep(1.1)
    with pytest.raises(ProviderConnectionError, match="could not refresh"):
        await cache.current()


async def test_no_credentials_is_an_auth_failure_and_the_chain_is_tried_again(monkeypatch: pytest.MonkeyPatch) -> None:
    found: list[Any] = [None]
    cache = CredentialCache(lambda: found[0], "b")
    await cache.start()
    with pytest.raises(ProviderStatusError) as caught:
        await cache.current()
    assert caught.value.status == 401 and not caught.value.retryable and caught.value.counts_against_health
    monkeypatch.setattr(bedrock_auth, "RETRY_SECONDS", 0.0)
    found[0] = expiring(3600, fresh(), key="LATER")
    with pytest.raises(ProviderStatusError):
        await cache.current()  # starts the new attempt in the background
    await asyncio.sleep(0.2)
    assert (await cache.current()).access_key == "LATER"


async def test_an_expired_token_answer_reloads_the_chain() -> None:
    keys = iter(["FIRST", "SECOND"])
    cache = CredentialCache(lambda: expiring(3600, fresh(), key=next(keys)), "b")
    await cache.start()
    assert (await cache.current()).access_key == "FIRST"
    cache.expired()
    assert (await cache.current()).access_key == "SECOND"


def test_config_region_endpoint_and_env_allow_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-central-1")
    config = BedrockProviderConfig(name="b")
    assert config.region == "eu-central-1"
    assert config.endpoint() == "https://bedrock-runtime.eu-central-1.amazonaws.com"
    assert BedrockProviderConfig(name="b", region="cn-north-1").endpoint().endswith(".cn-north-1.amazonaws.com.cn")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    with pytest.raises(ValueError, match="needs `region`"):
        BedrockProviderConfig(name="b")
    with pytest.raises(ValueError, match="go together"):
        BedrockProviderConfig(name="b", region="us-east-1", access_key_id_env="AI_PROVIDER_ID")
    with pytest.raises(ValueError):
        BedrockProviderConfig(name="b", region="us-east-1/../x")
    routing = {
        "providers": [
            {
                "name": "b",
                "type": "bedrock",
                "region": "us-west-2",
                "access_key_id_env": "AWS_ACCESS_KEY_ID",
                "secret_access_key_env": "AWS_SECRET_ACCESS_KEY",
            }
        ]
    }
    with pytest.raises(ConfigError, match="access_key_id_env: AWS_ACCESS_KEY_ID is not allowed"):
        config_from_mapping(routing, load_settings(), "routing")
    monkeypatch.setenv("AI_PROVIDER_ENV_PREFIXES", "AI_PROVIDER_,AWS_")
    assert config_from_mapping(routing, load_settings(), "routing").providers[0].type == "bedrock"
