"""One settings object from the environment; production refuses weak secrets."""

from __future__ import annotations

import secrets

import pytest
from pydantic import ValidationError

from config import Settings, secret_bits


def test_defaults_are_the_embedded_demo(monkeypatch: pytest.MonkeyPatch, tmp_path):
    for key in ("PDM_DATABASE_URL", "PDM_MQTT_URL", "PDM_ENV", "PDM_SECRET_KEY"):
        monkeypatch.delenv(key, raising=False)
    s = Settings(var_dir=tmp_path)
    assert s.effective_database_url == f"sqlite:///{tmp_path.as_posix()}/pdm.sqlite3"
    assert s.embedded_broker and not s.mqtt_v5  # amqtt speaks MQTT 3.1.1 only
    assert (s.mqtt.host, s.mqtt.port) == ("127.0.0.1", s.embedded_mqtt_port)


def test_environment_switches_to_real_services(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PDM_DATABASE_URL", "postgresql+psycopg://pdm:x@db:5432/pdm")
    monkeypatch.setenv("PDM_MQTT_URL", "mqtt://ingest:s3cret@broker:1884")
    s = Settings()
    assert s.effective_database_url.startswith("postgresql+psycopg://")
    assert not s.embedded_broker and s.mqtt_v5
    target = s.mqtt
    assert (target.host, target.port, target.username, target.password) == (
        "broker",
        1884,
        "ingest",
        "s3cret",
    )
    assert "s3cret" not in repr(target)


def test_production_refuses_to_start_without_a_real_secret(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PDM_ENV", "production")
    monkeypatch.delenv("PDM_SECRET_KEY", raising=False)
    with pytest.raises(ValidationError, match="PDM_SECRET_KEY"):
        Settings()
    monkeypatch.setenv("PDM_SECRET_KEY", "short")
    with pytest.raises(ValidationError, match="PDM_SECRET_KEY"):
        Settings()
    monkeypatch.setenv("PDM_SECRET_KEY", secrets.token_urlsafe(48))
    assert Settings().env == "production"


@pytest.mark.parametrize(
    "weak",
    [
        "a" * 32,  # long enough, one character
        "ab" * 20,  # few distinct characters
        "Password1Password1Password1Pass",
        "0123456789" * 4,
    ],
)
def test_production_refuses_a_long_but_guessable_secret_and_never_echoes_it(
    monkeypatch: pytest.MonkeyPatch, weak: str
):
    monkeypatch.setenv("PDM_ENV", "production")
    monkeypatch.setenv("PDM_SECRET_KEY", weak)
    with pytest.raises(ValidationError, match="too weak") as refused:
        Settings()
    said = str(refused.value) + repr(refused.value)  # what a traceback or a log line shows
    assert weak[:4] not in said


def test_random_keys_pass_the_strength_check():
    for _ in range(200):  # a 128-bit hex key is the weakest kind the check must let through
        assert secret_bits(secrets.token_hex(16)) >= 91
    assert secret_bits("a" * 32) == 0


def test_no_refused_setting_echoes_any_value(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PDM_SMTP_PASSWORD", "smtp-pass-9876")
    monkeypatch.setenv("PDM_PORT", "not-a-port-9876")
    with pytest.raises(ValidationError) as refused:
        Settings()
    assert "9876" not in str(refused.value)
    with pytest.raises(ValidationError) as refused:
        Settings(mqtt_url="http://user:mqtt-pass-9876@broker:1883")
    assert "9876" not in str(refused.value)


def test_development_secret_is_generated_once_and_kept(tmp_path):
    s = Settings(var_dir=tmp_path)
    first = s.resolved_secret_key()
    assert len(first) >= 32 and Settings(var_dir=tmp_path).resolved_secret_key() == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_bad_mqtt_url_is_refused():
    with pytest.raises(ValidationError, match="mqtt://"):
        Settings(mqtt_url="http://broker:1883")


def test_readme_documents_every_setting():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    undocumented = [
        f"PDM_{n.upper()}" for n in Settings.model_fields if f"`PDM_{n.upper()}`" not in readme
    ]
    assert undocumented == []
