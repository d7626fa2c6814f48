"""Metric labels that callers choose or multiply are bounded in length and in number of values."""

from __future__ import annotations

from aigw.observability.metrics import MAX_LABEL_LENGTH, MAX_LABEL_VALUES, OTHER_LABEL, GatewayMetrics


def test_a_long_model_name_is_cut() -> None:
    metrics = GatewayMetrics()
    metrics.observe_tokens("openai", "m" * 1_000_000, 10, 5)
    metrics.observe_cost("openai", "m" * 1_000_000, 0.5)
    text = metrics.exposition().decode()
    assert f'model="{"m" * MAX_LABEL_LENGTH}"' in text
    assert "m" * (MAX_LABEL_LENGTH + 1) not in text
    assert len(text) < 20_000


def test_models_past_the_bound_count_as_other() -> None:
    metrics = GatewayMetrics()
    for i in range(MAX_LABEL_VALUES + 500):
        metrics.observe_tokens("openai", f"model-{i}", 1, 0)
    metrics.observe_tokens("openai", "model-0", 1, 0)  # a known one keeps its label
    text = metrics.exposition().decode()
    assert (
        f'model="{OTHER_LABEL}"' in text
        and 'aigw_tokens_total{kind="prompt",model="other",provider="openai"} 500.0' in text
    )
    assert 'aigw_tokens_total{kind="prompt",model="model-0",provider="openai"} 2.0' in text
    assert f'model="model-{MAX_LABEL_VALUES}"' not in text


def test_names_differing_only_past_the_cut_share_one_label() -> None:
    metrics = GatewayMetrics()
    for i in range(MAX_LABEL_VALUES + 10):
        metrics.observe_tokens("openai", "p" * MAX_LABEL_LENGTH + str(i), 1, 0)
    text = metrics.exposition().decode()
    assert f'model="{"p" * MAX_LABEL_LENGTH}"' in text and OTHER_LABEL not in text


def test_scope_and_pii_labels_are_bounded_too() -> None:
    metrics = GatewayMetrics()
    for i in range(MAX_LABEL_VALUES + 50):
        metrics.observe_budget_refusal(f"key:{i}:day")
        metrics.observe_budget_alert(f"key:{i}" + "k" * 500, 0.8)
        metrics.observe_pii({f"T{i}": 1})
    text = metrics.exposition().decode()
    assert text.count("aigw_budget_refusals_total{") == MAX_LABEL_VALUES + 1
    assert text.count("aigw_budget_alerts_total{") == MAX_LABEL_VALUES + 1
    assert text.count("aigw_pii_findings_total{") == MAX_LABEL_VALUES + 1
    assert "k" * (MAX_LABEL_LENGTH + 1) not in text
