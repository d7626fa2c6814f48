"""`AI_PII_ENTITIES`, the policy's and a key's `pii_entities`: parsing, groups and clear errors."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from aigw.context.pii.findings import PIIType
from aigw.control.service import KeySettings
from aigw.policy.config import PolicyConfigError, build_policy, validate_entry
from aigw.settings import ENTITY_PII, STRUCTURED_PII, Settings, SettingsError, load_settings, parse_pii_entities


def test_names_match_the_detector_types() -> None:
    assert set(STRUCTURED_PII) | set(ENTITY_PII) == {t.value for t in PIIType}


def test_groups_lists_and_case() -> None:
    assert parse_pii_entities("all") == tuple(sorted(STRUCTURED_PII + ENTITY_PII))
    assert parse_pii_entities("default") == tuple(sorted(STRUCTURED_PII))
    assert parse_pii_entities(" email , person ") == ("EMAIL", "PERSON")
    assert parse_pii_entities(["default", "ADDRESS"]) == tuple(sorted((*STRUCTURED_PII, "ADDRESS")))


@pytest.mark.parametrize(("value", "message"), [("names", "unknown PII type 'names'"), ("", "names no PII type")])
def test_bad_values_are_refused(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_pii_entities(value)


def test_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().pii_entities == tuple(sorted(STRUCTURED_PII))
    monkeypatch.setenv("AI_PII_ENTITIES", "all")
    assert "PERSON" in Settings().pii_entities and "ADDRESS" in Settings().pii_entities
    monkeypatch.setenv("AI_PII_ENTITIES", "EMAIL,NAMES")
    with pytest.raises(SettingsError, match=r"AI_PII_ENTITIES.*unknown PII type 'NAMES'"):
        load_settings()


def test_policy_and_key_settings() -> None:
    validate_entry("pii_entities", "all")
    validate_entry("pii_entities", ["EMAIL", "PERSON"])
    with pytest.raises(PolicyConfigError, match="unknown PII type"):
        validate_entry("pii_entities", "everything")
    policy = build_policy(Settings(), {"pii_entities": "default,PERSON"})
    assert "PERSON" in policy.pii_entities and "ADDRESS" not in policy.pii_entities
    assert KeySettings(pii_entities="all").model_dump(exclude_none=True)["pii_entities"][0] == "ADDRESS"
    with pytest.raises(ValidationError):
        KeySettings(pii_entities="names")
