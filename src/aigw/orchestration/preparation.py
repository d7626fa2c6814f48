"""The context stage of a call: the request as it will leave (template, PII policy, token budget;
see `context.builder`), with the key's settings over the gateway's policy. Templates follow the
configuration: a changed set is swapped in on the next call (an invalid one keeps the previous).

`costly_to_prepare` says which requests the orchestrator admits against their rate limits before
this stage. Measured on the 2-core VM: preparing prose costs ~50 ns a byte (PII scan), 23 us for
300 B, ~200 us for 4 KiB, 50 ms for 1 MiB, and seconds for PII-dense or over-long prompts (token
counting); a Redis admission costs ~150 us of CPU. Up to 4 KiB, preparing first (and admitting in
one round trip) costs a refused caller about what a second round trip would cost everyone.

Names and addresses (`pii_entities` with PERSON or ADDRESS, from the key or the policy) may need a
named-entity model: it is loaded in a thread as soon as the policy at start-up asks, or by the first
request that wants it (`ready`); a request arriving while it loads awaits it off the event loop
rather than letting names through, and the worker's other requests go on meanwhile.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Iterable
from typing import Any

from aigw.context.bounds import prompt_token_bound
from aigw.context.builder import ContextBuilder, ContextPolicy, PreparedRequest
from aigw.context.pii import PIIMode
from aigw.context.pii.policy import wants_entities
from aigw.context.templates import TemplateError
from aigw.observability.metrics import GatewayMetrics
from aigw.observability.tracing import Trace
from aigw.policy.caller import Caller
from aigw.policy.config import PolicyConfig
from aigw.types import AIRequest, CallInfo, ChatRequest

log = logging.getLogger("aigw")
TRIMMED_HEADER = "x-aigw-trimmed-messages"
PREPARE_FIRST_BYTES = 4096
_PII_MODES = {mode.value: mode for mode in PIIMode}


def costly_to_prepare(request: AIRequest) -> bool:
    """A template to render, or a prompt past `PREPARE_FIRST_BYTES` (its UTF-8 bound, images counted)."""
    if isinstance(request, ChatRequest) and request.template is not None:
        return True
    return prompt_token_bound(request) > PREPARE_FIRST_BYTES


class Preparation:
    def __init__(self, context: ContextBuilder, policy: Callable[[], PolicyConfig], metrics: GatewayMetrics) -> None:
        self.context = context
        self._policy = policy
        self.metrics = metrics
        self._templates_from: tuple[Any, Any] = ({}, {})  # the configuration the templates were built from
        self._entities_ready = False
        if wants_entities(_types(tuple(policy().pii_entities))):
            from aigw.context.pii.entities import warm_up  # only where names are asked for

            warm_up()

    async def ready(self, caller: Caller) -> None:
        """Returns once what this caller's PII policy needs is loaded: the named-entity model, loaded in a
        thread the first time names are asked for (never on the event loop)."""
        if self._entities_ready:
            return
        if wants_entities(self._entity_types(caller.key.settings if caller.key is not None else {}, self._policy())):
            await asyncio.to_thread(_load_entities)
            self._entities_ready = True

    def prepare(self, request: AIRequest, caller: Caller, trace: Trace, info: CallInfo) -> PreparedRequest:
        """Template, PII policy and token budget, as the key or the policy says."""
        policy = self._policy()
        if (
            policy.prompt_templates is not self._templates_from[0]
            or policy.template_versions is not self._templates_from[1]
        ):
            self._reload_templates(policy)
        settings = caller.key.settings if caller.key is not None else {}
        prepared = self.context.prepare(
            request,
            ContextPolicy(
                pii_mode=_PII_MODES[settings.get("pii_mode") or policy.pii_mode],
                pii_entities=self._entity_types(settings, policy),
                max_prompt_tokens=settings.get("max_prompt_tokens") or policy.max_prompt_tokens,
                overflow=settings.get("prompt_overflow") or policy.prompt_overflow,
            ),
            trace,
        )
        if prepared.pii_counts:
            trace.attrs["pii"] = prepared.pii_counts  # types and counts, never values
            self.metrics.observe_pii(prepared.pii_counts)
        if prepared.trimmed_messages:
            info.headers[TRIMMED_HEADER] = str(prepared.trimmed_messages)
        return prepared

    @staticmethod
    def _entity_types(settings: dict[str, Any], policy: PolicyConfig) -> frozenset[str]:
        names: Iterable[str] = settings.get("pii_entities") or policy.pii_entities
        return _types(tuple(names))

    def _reload_templates(self, policy: PolicyConfig) -> None:
        self._templates_from = (policy.prompt_templates, policy.template_versions)
        try:
            self.context.templates.replace(policy.prompt_templates, policy.template_versions)
        except TemplateError as exc:
            log.error("prompt templates in the configuration are invalid; keeping the previous ones: %s", exc)


def _load_entities() -> None:
    from aigw.context.pii.entities import MODEL

    MODEL.load()


@functools.lru_cache(maxsize=256)
def _types(names: tuple[str, ...]) -> frozenset[str]:
    return frozenset(names)
