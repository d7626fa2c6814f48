"""The context stage: what a request becomes before it may leave for a provider.

    template (named in the request: its messages go first) -> PII policy (mask / restore / block / off)
    -> token budget (the model's context window and the key's `max_prompt_tokens`: reject or trim)

Masking comes before counting, so the budget judges the prompt exactly as it will be sent. Counting
is exact (OpenAI's encodings) only when it can matter: a prompt whose bound (`context.bounds`, its
UTF-8 size) is within the limit cannot pass it, so most requests never load a tokenizer.
The trace records what was done, never a value: the template's name, PII counts per type (the
orchestrator puts them in the trace's attributes), tokens.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import Any

from aigw.context.bounds import choice_output_cap, prompt_token_bound
from aigw.context.pii import Masker, PIIMode, apply_to_chat, apply_to_inputs, apply_to_params
from aigw.context.pii.policy import detector_for
from aigw.context.templates import TemplateError, TemplateStore
from aigw.context.tokens import Strategy, fit_messages, prompt_limit
from aigw.errors import InvalidRequestError
from aigw.observability.tracing import Trace
from aigw.settings import STRUCTURED_PII
from aigw.types import AIRequest, ChatRequest, EmbeddingRequest


@dataclass(frozen=True, slots=True)
class ContextPolicy:
    """How one request's context is built (from the key's settings, else the gateway's policy)."""

    pii_mode: PIIMode = PIIMode.MASK
    pii_entities: frozenset[str] = frozenset(STRUCTURED_PII)  # PII types looked for (PIIType values)
    max_prompt_tokens: int | None = None
    overflow: Strategy = "reject"


@dataclass(slots=True)
class PreparedRequest:
    """The request as it goes out, and what the answer needs from its preparation."""

    request: AIRequest
    masker: Masker | None = None  # `restore` mode: puts the original values back into the answer
    pii_counts: dict[str, int] = dataclasses.field(default_factory=dict)
    trimmed_messages: int = 0


class ContextBuilder:
    def __init__(self, templates: TemplateStore) -> None:
        self.templates = templates

    def prepare(self, request: AIRequest, policy: ContextPolicy, trace: Trace) -> PreparedRequest:
        """The request to send; raises 400 errors (`pii_detected`, `context_length_exceeded`, template errors)."""
        if isinstance(request, EmbeddingRequest):
            return self._embeddings(request, policy, trace)
        messages = self._with_template(request, trace)
        masker = Masker(detector_for(policy.pii_entities)) if policy.pii_mode is not PIIMode.OFF else None
        counts: dict[str, int] = {}
        if masker is not None:
            messages = apply_to_chat(messages, masker, policy.pii_mode)
            request.params = apply_to_params(request.params, masker, policy.pii_mode)
            counts = masker.counts()
        # The request is this call's own (read from its body): it is changed in place, not copied.
        request.messages, request.template, request.variables = messages, None, {}
        trimmed = self._fit(request, policy, trace)
        return PreparedRequest(request, masker if policy.pii_mode is PIIMode.RESTORE else None, counts, trimmed)

    def _with_template(self, request: ChatRequest, trace: Trace) -> list[dict[str, Any]]:
        if request.template is None:
            return request.messages
        with trace.span("template") as span:
            try:
                template = self.templates.get(request.template)
                rendered: list[dict[str, Any]] = list(template.render(request.variables))
            except TemplateError as exc:
                span.fail("template_error")
                raise InvalidRequestError(str(exc), param="template", code="invalid_template") from None
            span.set(template=template.ref)
        trace.attrs["template"] = template.ref
        return [*rendered, *request.messages]

    def _fit(self, request: ChatRequest, policy: ContextPolicy, trace: Trace) -> int:
        """Messages dropped to fit (0 when it fits as it is); the request is changed in place."""
        output = choice_output_cap(request) or 0
        limit = _prompt_limit(request.model, policy.max_prompt_tokens, output)
        if limit is None or prompt_token_bound(request) <= limit:
            return 0
        with trace.span("tokens", limit=limit) as span:
            fit = fit_messages(
                request.model,
                request.messages,
                max_prompt_tokens=policy.max_prompt_tokens,
                reserve_output=output,
                strategy=policy.overflow,
                tools=request.params.get("tools"),
            )
            span.set(prompt_tokens=fit.prompt_tokens, trimmed=fit.trimmed, estimated=fit.estimated)
        if fit.trimmed:
            request.messages = fit.messages
        return fit.trimmed

    @staticmethod
    def _embeddings(request: EmbeddingRequest, policy: ContextPolicy, trace: Trace) -> PreparedRequest:
        if policy.pii_mode is PIIMode.OFF:
            return PreparedRequest(request)
        masker = Masker(detector_for(policy.pii_entities))
        request.input = apply_to_inputs(request.input, masker, policy.pii_mode)
        request.params = apply_to_params(request.params, masker, policy.pii_mode)
        # An embedding is of the text sent: `restore` has nothing to put back, so it masks like `mask`.
        return PreparedRequest(request, None, masker.counts())


@functools.lru_cache(maxsize=1024)
def _prompt_limit(model: str, max_prompt_tokens: int | None, output: int) -> int | None:
    return prompt_limit(model, max_prompt_tokens=max_prompt_tokens, reserve_output=output)
