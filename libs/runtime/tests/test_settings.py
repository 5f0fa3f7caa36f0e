from __future__ import annotations

import pytest

from medic_runtime import ServiceSettings, SettingsError, load_settings


@pytest.mark.parametrize("value", ["not a host:port", "kafka", "host:99999", "a:1,,b:2", ""])
def test_bad_bootstrap_is_refused_naming_the_variable(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("MEDIC_KAFKA_BOOTSTRAP", value)
    with pytest.raises(SettingsError, match="MEDIC_KAFKA_BOOTSTRAP"):
        load_settings(ServiceSettings)


def test_every_bad_field_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDIC_HTTP_PORT", "-1")
    monkeypatch.setenv("MEDIC_STORE_URL", "mysql://nope")
    with pytest.raises(SettingsError) as err:
        load_settings(ServiceSettings)
    assert "MEDIC_HTTP_PORT" in str(err.value) and "MEDIC_STORE_URL" in str(err.value)


def test_good_settings_load_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDIC_KAFKA_BOOTSTRAP", "k1:9092, k2:9093")
    monkeypatch.setenv("MEDIC_TOPIC_PREFIX", "acme.")
    settings = load_settings(ServiceSettings, service_name="watcher")
    assert settings.kafka_bootstrap == "k1:9092,k2:9093"
    assert settings.topic_prefix == "acme."
    assert settings.resolved_store_url().endswith("/watcher.db")
