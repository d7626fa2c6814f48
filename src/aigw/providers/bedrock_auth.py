"""AWS credentials for Bedrock, and SigV4 signing with botocore (imported here, when a Bedrock
provider starts: a gateway without one never loads botocore).

Decisions:
- Where credentials come from: the provider's `*_env` fields when set (static keys read from those
  variables at start), else botocore's standard chain: environment (`AWS_ACCESS_KEY_ID` ...), the
  shared credentials and config files with `profile` (or `AWS_PROFILE`), SSO, assume-role, the
  container endpoint, instance metadata.
- Resolving may read files and call endpoints with network timeouts, so it never runs on the event
  loop: once at start and for each refresh, in a worker thread. Instance metadata (IMDS) is bounded
  to one attempt of 1 s, and `instance_metadata: false` takes it out of the chain.
- Temporary credentials (assume-role, SSO, container, IMDS) are refreshed in the background from 15
  minutes before they expire (botocore's advisory window), while calls keep signing with the
  current ones; only credentials within a minute of expiry make a call wait for the refresh.
- No credentials found: each call fails as the upstream would fail it (401: not retried, counted
  against the provider's health, the client gets a 502), and the chain is tried again in the
  background at most once a minute. An `ExpiredTokenException` from AWS forces a refresh.
- Signing: `botocore.auth.SigV4Auth` (service `bedrock`) over the exact bytes sent. SigV4 never
  sends the secret key: a request signed for one host is worthless at another.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aigw.errors import ProviderConnectionError, ProviderStatusError

SERVICE = "bedrock"
ADVISORY_REFRESH_SECONDS = 15 * 60
MANDATORY_REFRESH_SECONDS = 60
RETRY_SECONDS = 60.0
IMDS_TIMEOUT_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class CredentialSource:
    """Where a provider's credentials come from (see the module docstring)."""

    access_key_id_env: str | None = None
    secret_access_key_env: str | None = None
    session_token_env: str | None = None
    profile: str | None = None
    instance_metadata: bool = True

    def resolve(self) -> Any:
        """botocore credentials, or None. Blocking: call it in a thread."""
        from botocore.credentials import Credentials  # type: ignore[import-untyped]
        from botocore.session import Session  # type: ignore[import-untyped]

        if self.access_key_id_env and self.secret_access_key_env:
            access_key = os.environ.get(self.access_key_id_env)
            secret_key = os.environ.get(self.secret_access_key_env)
            token = os.environ.get(self.session_token_env) if self.session_token_env else None
            return Credentials(access_key, secret_key, token or None) if access_key and secret_key else None
        session = Session(profile=self.profile)
        session.set_config_variable("metadata_service_timeout", IMDS_TIMEOUT_SECONDS)
        session.set_config_variable("metadata_service_num_attempts", 1)
        resolver = session.get_component("credential_provider")
        if not self.instance_metadata:
            resolver.remove("iam-role")
        return resolver.load_credentials()


class CredentialCache:
    """The current credentials of one provider, resolved and refreshed off the event loop."""

    def __init__(self, resolve: Callable[[], Any], provider: str) -> None:
        self._resolve = resolve
        self._provider = provider
        self._credentials: Any = None  # botocore Credentials or RefreshableCredentials
        self._frozen: Any = None  # their ReadOnlyCredentials, what is signed with
        self._task: asyncio.Task[None] | None = None
        self._failed_at = 0.0
        self._force = False

    async def start(self) -> None:
        await self._load()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def current(self) -> Any:
        """The ReadOnlyCredentials to sign a call with (see the module docstring)."""
        credentials = self._credentials
        if credentials is None:
            if time.monotonic() - self._failed_at >= RETRY_SECONDS:
                self._background(self._load)
            raise ProviderStatusError(401, _no_credentials(), provider=self._provider)
        if self._force or _refresh_needed(credentials, MANDATORY_REFRESH_SECONDS):
            self._background(self._refresh)
            assert self._task is not None
            await asyncio.shield(self._task)
            if _refresh_needed(self._credentials, 0):
                raise ProviderConnectionError("could not refresh the AWS credentials", provider=self._provider)
        elif _refresh_needed(credentials, ADVISORY_REFRESH_SECONDS):
            self._background(self._refresh)
        return self._frozen

    def expired(self) -> None:
        """AWS said the token expired: the next call waits for fresh credentials."""
        self._force = True

    def _background(self, job: Callable[[], Any]) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(job())

    async def _load(self) -> None:
        try:
            credentials = await asyncio.to_thread(self._resolve)
            frozen = await asyncio.to_thread(credentials.get_frozen_credentials) if credentials else None
        except Exception:  # botocore's chain raises many kinds (bad profile, SSO expired ...)
            credentials = frozen = None
        if frozen is None or not frozen.access_key or not frozen.secret_key:
            self._failed_at = time.monotonic()
            return
        self._credentials, self._frozen = credentials, frozen

    async def _refresh(self) -> None:
        forced = self._force
        try:
            if forced:
                await self._load()  # the whole chain again: the source itself may have changed
            elif self._credentials is not None:
                self._frozen = await asyncio.to_thread(self._credentials.get_frozen_credentials)
        except Exception:  # the current credentials stay; `current` decides if they still serve
            pass
        finally:
            if forced:
                self._force = False


def _refresh_needed(credentials: Any, within: float) -> bool:
    check = getattr(credentials, "refresh_needed", None)  # static credentials never expire
    return bool(check(refresh_in=within)) if check is not None else False


def _no_credentials() -> dict[str, Any]:
    message = "no AWS credentials found for Bedrock (environment, profile, container or instance role)"
    return {"error": {"message": message, "type": "authentication_error", "param": None, "code": "no_credentials"}}


def sign(credentials: Any, region: str, url: str, body: bytes, headers: dict[str, str]) -> dict[str, str]:
    """The headers of a SigV4-signed POST of `body` to `url`: `headers` (all signed, with the host
    taken from the URL), `X-Amz-Date`, `X-Amz-Security-Token` when there is a session token, and
    `Authorization`."""
    from botocore.auth import SigV4Auth  # type: ignore[import-untyped]
    from botocore.awsrequest import AWSRequest  # type: ignore[import-untyped]

    request = AWSRequest(method="POST", url=url, data=body, headers=headers)
    SigV4Auth(credentials, SERVICE, region).add_auth(request)
    return dict(request.headers.items())
