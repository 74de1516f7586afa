"""All configuration, read once from the environment (prefix ``PDM_``).

This is the only module that reads ``os.environ``; everything else receives a
``Settings`` object.
"""

from __future__ import annotations

import math
import os
import secrets
import socket
from collections import Counter
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "MqttTarget", "load_settings", "secret_bits"]

_MIN_SECRET_CHARS = 32
# a random 32-character hex key (128 random bits) scores at least 95 by ``secret_bits``;
# 32 x "a" scores 0, "Password1" three times and a bit 28
_MIN_SECRET_BITS = 91
_WEAK_SECRET = (
    "PDM_SECRET_KEY is missing or too weak for PDM_ENV=production: give at least "
    f"{_MIN_SECRET_CHARS} random characters, e.g. the output of "
    "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
)


class MqttTarget:
    """A parsed ``mqtt://user:pass@host:port`` URL."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "tcp"):  # the URL is not echoed: it holds a password
            raise ValueError("PDM_MQTT_URL must start with mqtt:// (or tcp://)")
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 1883
        self.username = parts.username
        self.password = parts.password

    def __repr__(self) -> str:  # never print the password
        return f"MqttTarget({self.host}:{self.port}, user={self.username!r})"


class Settings(BaseSettings):
    """Every setting of the platform, with its default for the embedded demo."""

    # a refused value is never echoed: settings hold passwords and keys
    model_config = SettingsConfigDict(env_prefix="PDM_", extra="ignore", hide_input_in_errors=True)

    env: Literal["development", "production"] = "development"
    var_dir: Path = Path("var")
    database_url: str = ""  # default: sqlite file under var_dir
    mqtt_url: str = ""  # default: embedded amqtt broker on loopback
    embedded_mqtt_port: int = 11883
    mqtt_protocol: Literal["auto", "3.1.1", "5"] = "auto"
    mqtt_client_id: str = "pdm-ingest"  # "{host}" in it stands for the host name
    mqtt_topic_prefix: str = "pdm"
    mqtt_shared_group: str = ""  # e.g. "pdm" -> $share/pdm/<topic> for several workers
    mqtt_receive_maximum: int = Field(default=2000, ge=1, le=65535)
    mqtt_session_expiry_s: int = 7 * 24 * 3600

    secret_key: str = ""
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    metrics_token: str = ""
    # failed sign-ins allowed per account and per address in the window, then refused
    login_failures_per_account: int = Field(default=5, ge=1)
    login_failures_per_address: int = Field(default=20, ge=1)
    login_window_minutes: int = Field(default=15, ge=1)
    # an account failing from many addresses is slowed, never locked: past this many failures
    # in the window, each further try waits 1 s, 2 s, 4 s … after the last, at most the maximum
    login_delay_after: int = Field(default=10, ge=1)
    login_delay_max_seconds: int = Field(default=30, ge=1, le=3600)
    # sessions live on the server (user_sessions): they end after this long without a
    # request, and this long after signing in, whatever happens
    session_idle_minutes: int = Field(default=8 * 60, ge=1)
    session_max_hours: int = Field(default=7 * 24, ge=1)
    # /api/v1: requests a minute per API token (counted in the database: every web process
    # shares the count), then 429 with Retry-After
    api_rate_per_minute: int = Field(default=600, ge=1)
    host: str = "127.0.0.1"
    port: int = 8050
    # web role: processes serving the web app (1: one waitress process; more: gunicorn,
    # one master and this many forked workers of 8 threads each, PostgreSQL only)
    web_processes: int = Field(default=1, ge=1, le=64)
    # reverse proxies in front of the web role that append X-Forwarded-For (0: none; the
    # client's address is then the connection's). Sign-in throttling and the sessions'
    # addresses need the real client address: behind a proxy, set this to its hop count
    proxy_hops: int = Field(default=0, ge=0, le=5)
    worker_metrics_port: int = 0  # worker role: serve /metrics and readiness here when > 0
    worker_metrics_host: str = "127.0.0.1"  # where that port listens (0.0.0.0: any address)
    # several workers: how each is named in job_runs, leases and claims ("{host}" stands
    # for the host name; empty: host:pid), and how long a fleet job's lease lasts unrenewed
    # (its holder renews it every third of that; a dead holder's leases pass on after it)
    worker_name: str = ""
    lease_ttl_s: float = Field(default=9.0, ge=0.5, le=600)

    # password reset by email: links point at public_url (else the request's host); with
    # no smtp_host the link is written to the log instead of sent
    public_url: str = ""
    password_reset_minutes: int = Field(default=30, ge=1, le=24 * 60)
    smtp_host: str = ""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_from: str = "pdm@localhost"
    smtp_starttls: bool = True

    # demo accounts: generated on first start unless given here
    admin_password: str = ""
    manager_password: str = ""
    engineer_password: str = ""
    technician_password: str = ""
    viewer_password: str = ""

    # demo fleet and simulator
    demo_machines: int = Field(default=6, ge=0, le=5000)
    simulator: bool = True
    simulator_speed: float = Field(default=60.0, gt=0)
    simulator_interval_s: float = Field(default=1.0, gt=0)
    simulator_seed: int = 7
    simulator_first_fault_s: float = 30.0  # wall seconds until the demo's early fault begins

    # ingest
    drain_interval_s: float = 0.5
    drain_batch_max: int = 20000  # messages per committed batch, at most…
    drain_batch_bytes: int = 4 * 1024 * 1024  # …and at most this many payload bytes
    # parse the next batch while the previous one commits (false: one after the other,
    # the drain before the pipeline; kept as the ingest benchmark's baseline)
    drain_pipeline: bool = True
    ingest_queue_max: int = 100_000
    # received but not yet committed and acked: 8 batches of PDM_DRAIN_BATCH_BYTES (32 MiB
    # kept the drain's throughput and took the worker's peak from 406 to 367 MiB; bench.ingest)
    ingest_queue_bytes: int = 32 * 1024 * 1024
    # the one size limit of a message: the worker dead-letters larger payloads, and the
    # shipped Mosquitto's max_packet_size is this plus ingest.broker_log.PACKET_OVERHEAD
    # (compose.yaml derives it), so the broker refuses anything larger and says so in its
    # log, which the worker counts from PDM_MQTT_BROKER_LOG_TOPIC (docs/reliability.md)
    max_payload_bytes: int = 256 * 1024
    # sensor kind -> the resolution its values are stored at, on the power-of-two step at or
    # below it (data.value_steps): a stored value is within half a resolution of the one sent,
    # and compresses to about 2 bytes on TimescaleDB instead of 8. JSON, e.g.
    # {"temperature": 0.01, "vibration": 0.001, "rpm": 0.1}; kinds left out are stored as sent
    store_resolution: dict[str, float] = {}
    mqtt_broker_log_topic: str = ""  # e.g. "$SYS/broker/log/N": Mosquitto's notices
    max_future_skew_s: float = 300.0
    max_reading_age_days: float = 30.0

    # machine learning
    models_dir: Path = Path("")  # default: var_dir / "models"
    ml_autotrain: bool = True  # role "all": train demo models on first start if none is active
    ml_step_s: float = 60.0  # physics seconds per model step (the models' time resolution)
    ml_time_scale: float = 0.0  # physics seconds per wall second of live data; 0: auto
    score_interval_s: float = 5.0
    failure_threshold: float = Field(default=0.8, gt=0, le=1)
    failure_clear_below: float = Field(default=0.6, gt=0, le=1)
    anomaly_threshold: float = Field(default=0.7, gt=0, le=1)
    lab_retrain_weekly: bool = True  # the worker retrains on Mondays and backtests a candidate
    lab_auto_promote: bool = False  # ... and promotes it only if this allows and it wins
    # drift (the drift job, docs/ml.md "Model health and drift"); periods in model hours
    drift_interval_s: float = Field(default=300.0, gt=0)
    drift_period_h: float = Field(default=24.0, gt=0)  # live windows compared with the reference
    drift_psi_threshold: float = Field(default=1.0, gt=0)  # a feature's PSI that counts as drift
    # one machine's level features against its type's reference (docs/ml.md)
    drift_machine_psi_threshold: float = Field(default=2.0, gt=0)
    drift_alarm_checks: int = Field(default=3, ge=1)  # checks in a row over it raise the alarm
    drift_min_windows: int = Field(default=100, ge=2)  # fewer live windows per type: "too few"
    quality_min_labels: int = Field(default=5, ge=1)  # fewer verdicts: no precision is shown

    # rules
    rules_interval_s: float = 2.0
    rules_window_s: float = 20.0
    alarm_clear_after_s: float = 60.0

    # retention (the retention job): raw readings, then their ten-minute rollups
    retention_raw_days: int = Field(default=365, ge=1)
    retention_rollup_days: int = Field(default=0, ge=0)  # 0: keep for ever
    # TimescaleDB only: compress readings' chunks older than this (0: never)
    timescale_compress_after_days: int = Field(default=1, ge=0)

    # ticket attachments (photos, PDFs): largest file accepted, checked on the server
    attachment_max_mb: float = Field(default=10.0, gt=0, le=100)

    # escalation: an open ticket nobody started within its priority's limit goes to managers
    escalate_critical_min: int = Field(default=15, ge=1)
    escalate_high_min: int = Field(default=120, ge=1)
    escalate_low_min: int = Field(default=1440, ge=1)

    @field_validator("store_resolution")
    @classmethod
    def _resolutions(cls, value: dict[str, float]) -> dict[str, float]:
        bad = {k: r for k, r in value.items() if not (math.isfinite(r) and r > 0)}
        if bad:
            raise ValueError(f"PDM_STORE_RESOLUTION: a resolution is a positive number: {bad}")
        return value

    @field_validator("mqtt_url")
    @classmethod
    def _mqtt_url_parses(cls, url: str) -> str:
        if url:
            MqttTarget(url)
        return url

    @model_validator(mode="after")
    def _production_needs_secrets(self) -> Settings:
        key = self.secret_key
        weak = len(key) < _MIN_SECRET_CHARS or secret_bits(key) < _MIN_SECRET_BITS
        if self.env == "production" and weak:
            raise ValueError(_WEAK_SECRET)  # never any part of the key itself
        return self

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.var_dir / 'pdm.sqlite3').as_posix()}"

    @property
    def attachment_max_bytes(self) -> int:
        return int(self.attachment_max_mb * 1024 * 1024)

    @property
    def effective_models_dir(self) -> Path:
        return self.models_dir if str(self.models_dir) not in ("", ".") else self.var_dir / "models"

    @property
    def live_time_scale(self) -> float:
        """Physics (model) seconds per wall second of live data: the demo's simulator speed,
        else 1. Model hours divided by it are the hours people live through."""
        return self.ml_time_scale or (
            self.simulator_speed if self.simulator and self.embedded_broker else 1.0
        )

    @property
    def live_step_s(self) -> float:
        """Wall seconds per model step: the demo simulator runs physics faster than time."""
        return self.ml_step_s / self.live_time_scale

    @property
    def worker_id(self) -> str:
        """This worker's name in job_runs, leases and claims."""
        host = socket.gethostname()
        return self.worker_name.replace("{host}", host) or f"{host}:{os.getpid()}"

    @property
    def effective_mqtt_client_id(self) -> str:
        """The MQTT client id, "{host}" replaced: one per container when scaled out."""
        return self.mqtt_client_id.replace("{host}", socket.gethostname())

    @property
    def embedded_broker(self) -> bool:
        return not self.mqtt_url

    @property
    def mqtt(self) -> MqttTarget:
        return MqttTarget(self.mqtt_url or f"mqtt://127.0.0.1:{self.embedded_mqtt_port}")

    @property
    def mqtt_v5(self) -> bool:
        if self.mqtt_protocol == "auto":
            return not self.embedded_broker  # amqtt speaks MQTT 3.1.1 only
        return self.mqtt_protocol == "5"

    def resolved_secret_key(self) -> str:
        """The session signing key; in development one is generated once and kept in var/."""
        if self.secret_key:
            return self.secret_key
        path = self.var_dir / "secret_key"
        if not path.exists():
            self.var_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()


def secret_bits(secret: str) -> float:
    """How many bits a secret's own characters suggest: its length times the Shannon entropy
    of their frequencies (few distinct characters, or a few repeated often, score low); a
    secret that repeats a shorter one ("0123456789" four times) scores only that one."""
    n = len(secret)
    period = next((p for p in range(1, n // 2 + 1) if secret[p:] == secret[:-p]), n)
    counts = Counter(secret[:period]).values()
    return -period * sum(c / period * math.log2(c / period) for c in counts)


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with explicit overrides (used by tests and the CLI)."""
    # overrides are fields by name, checked by pydantic at run time; mypy sees one type for all
    return Settings(**overrides)  # type: ignore[arg-type]
