"""Readings posted over HTTP (``POST /api/v1/telemetry/<machine>``) take the MQTT path's
own road: the message is the documented payload, as if published to
``<prefix>/<machine>/telemetry``, and ``BatchWriter`` parses it with ``ingest.payload``,
inserts it idempotently, stores its rejections as dead letters and commits; the counts are
returned only after the commit, so a 202 means stored."""

from __future__ import annotations

import time
from datetime import timedelta

from config import Settings
from data.db import Database
from ingest import metrics
from ingest.payload import PayloadLimits
from ingest.writer import BatchWriter, InboundMessage, WriteResult

__all__ = ["HttpIngest", "payload_limits"]


def payload_limits(settings: Settings) -> PayloadLimits:
    """The payload limits the settings ask for: the same for MQTT and HTTP."""
    return PayloadLimits(
        max_bytes=settings.max_payload_bytes,
        max_future_skew=timedelta(seconds=settings.max_future_skew_s),
        max_age=timedelta(days=settings.max_reading_age_days),
    )


class HttpIngest:
    """Callable: machine name and message bytes in, committed counts out. Raises
    SQLAlchemyError when the database fails (nothing is stored then; the caller retries)."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self._prefix = settings.mqtt_topic_prefix
        self._writer = BatchWriter(
            db,
            prefix=self._prefix,
            limits=payload_limits(settings),
            resolution=settings.store_resolution,
        )

    def __call__(self, machine: str, payload: bytes) -> WriteResult:
        topic = f"{self._prefix}/{machine}/telemetry".encode()
        message = InboundMessage(topic, payload, mid=0, qos=1, received=time.time())
        result = self._writer.write([message])
        metrics.READINGS_INGESTED.inc(result.inserted)
        metrics.READINGS_DUPLICATE.inc(result.duplicates)
        return result
