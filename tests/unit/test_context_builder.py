"""The context stage: a named template goes first, then the PII policy, then the token budget; the
trace tells what was done, never a value."""

from __future__ import annotations

import pytest

from aigw.context.builder import ContextBuilder, ContextPolicy
from aigw.context.pii import PIIBlocked, PIIMode
from aigw.context.templates import TemplateStore
from aigw.context.tokens import PromptTooLong
from aigw.errors import InvalidRequestError
from aigw.observability.tracing import Trace
from aigw.types import ChatRequest, EmbeddingRequest

EMAIL = "maria.garcia@example.com"
CARD = "4111 1111 1111 1111"


def builder() -> ContextBuilder:
    return ContextBuilder(TemplateStore())


def chat(*texts: str, model: str = "gpt-4o-mini", **kw: object) -> ChatRequest:
    roles = ["user", "assistant"]
    messages = [{"role": roles[i % 2], "content": t} for i, t in enumerate(texts)]
    return ChatRequest(model=model, messages=messages, **kw)  # type: ignore[arg-type]


def test_mask_is_the_default_and_the_trace_counts_types_only() -> None:
    trace = Trace("req-1")
    prepared = builder().prepare(chat(f"mail {EMAIL}, card {CARD}", f"again {EMAIL}"), ContextPolicy(), trace)
    sent = str(prepared.request.messages)
    assert EMAIL not in sent and "4111" not in sent
    assert prepared.request.messages[0]["content"] == "mail <EMAIL_1>, card <CARD_1>"
    assert prepared.request.messages[1]["content"] == "again <EMAIL_1>"  # the same value, the same placeholder
    assert prepared.pii_counts == {"EMAIL": 2, "CARD": 1}
    assert prepared.masker is None  # mask mode: nothing is put back
    assert EMAIL not in str(trace.to_dict()) and "4111" not in str(trace.to_dict())


def test_restore_keeps_the_masker_for_the_answer() -> None:
    prepared = builder().prepare(chat(f"mail {EMAIL}"), ContextPolicy(pii_mode=PIIMode.RESTORE), Trace("r"))
    assert prepared.masker is not None and prepared.masker.mapping == {"<EMAIL_1>": EMAIL}


def test_block_refuses_with_counts_and_off_sends_as_is() -> None:
    with pytest.raises(PIIBlocked) as blocked:
        builder().prepare(chat(f"mail {EMAIL}"), ContextPolicy(pii_mode=PIIMode.BLOCK), Trace("r"))
    assert blocked.value.code == "pii_detected" and blocked.value.status == 400
    assert EMAIL not in str(blocked.value)
    prepared = builder().prepare(chat(f"mail {EMAIL}"), ContextPolicy(pii_mode=PIIMode.OFF), Trace("r"))
    assert prepared.request.messages[0]["content"] == f"mail {EMAIL}"


def test_a_named_template_goes_first_and_is_masked_too() -> None:
    request = chat("Thanks!", template="summarize@1", variables={"text": f"Write to {EMAIL}.", "max_words": 50})
    trace = Trace("r")
    prepared = builder().prepare(request, ContextPolicy(), trace)
    roles = [m["role"] for m in prepared.request.messages]
    assert roles == ["system", "user", "user"]
    assert "at most 50 words" in prepared.request.messages[0]["content"]
    assert prepared.request.messages[1]["content"] == "Write to <EMAIL_1>."
    assert prepared.request.template is None and prepared.request.variables == {}
    assert trace.attrs["template"] == "summarize@1"


@pytest.mark.parametrize(
    ("template", "variables", "fragment"),
    [
        ("nope", {}, "unknown template"),
        ("summarize@9", {"text": "x"}, "no version"),
        ("summarize", {}, "text"),  # a required variable is missing
        ("summarize", {"text": "x", "max_words": "many"}, "max_words"),
    ],
)
def test_template_errors_are_400_invalid_template(template: str, variables: dict[str, object], fragment: str) -> None:
    with pytest.raises(InvalidRequestError) as refused:
        builder().prepare(chat("hi", template=template, variables=variables), ContextPolicy(), Trace("r"))
    assert refused.value.code == "invalid_template" and refused.value.param == "template"
    assert fragment in str(refused.value)


def test_a_prompt_over_max_prompt_tokens_is_rejected_or_trimmed() -> None:
    long = ["word " * 400, "reply " * 400, "last question"]  # user, assistant, user
    with pytest.raises(PromptTooLong) as refused:
        builder().prepare(chat(*long), ContextPolicy(max_prompt_tokens=500), Trace("r"))
    assert refused.value.code == "context_length_exceeded"
    trace = Trace("r")
    prepared = builder().prepare(chat(*long), ContextPolicy(max_prompt_tokens=500, overflow="trim_oldest"), trace)
    assert prepared.trimmed_messages == 1  # the oldest goes; then ~400 + 2 tokens fit in 500
    assert [m["content"] for m in prepared.request.messages] == long[1:]
    (span,) = [s for s in trace.spans if s.name == "tokens"]
    assert span.attrs["trimmed"] == 1 and 400 < span.attrs["prompt_tokens"] <= 500


def test_a_small_prompt_is_not_counted() -> None:
    trace = Trace("r")
    builder().prepare(chat("short"), ContextPolicy(max_prompt_tokens=100), trace)
    assert "tokens" not in [s.name for s in trace.spans]  # 5 bytes cannot be more than 100 tokens


def test_embeddings_inputs_are_masked() -> None:
    request = EmbeddingRequest(model="text-embedding-3-small", input=[f"id {EMAIL}", "plain"])
    prepared = builder().prepare(request, ContextPolicy(pii_mode=PIIMode.RESTORE), Trace("r"))
    assert isinstance(prepared.request, EmbeddingRequest)
    assert prepared.request.input == ["id <EMAIL_1>", "plain"]
    assert prepared.masker is None and prepared.pii_counts == {"EMAIL": 1}
