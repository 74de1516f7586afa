"""Parse and validate sensor messages. Pure functions: no I/O, never raises on input.

Topic: ``<prefix>/<machine>/telemetry``. Payload (UTF-8 JSON), either one reading::

    {"sensor": "temperature", "ts": "2026-11-23T10:00:00.250Z", "value": 71.3}

or several in one message (preferred: far cheaper per reading)::

    {"readings": [{"sensor": "temperature", "ts": 1795428000.25, "value": 71.3}, ...]}

``ts`` is ISO-8601 with a timezone, or Unix epoch seconds.

``parse_known`` is the fast path for the common case (every reading of a known sensor,
epoch seconds well inside the accepted range, a finite number): plain lists, no object
per reading. Anything else it hands back to ``parse_message``, which says why.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = [
    "PayloadLimits",
    "RawReading",
    "Rejection",
    "ParsedMessage",
    "parse_message",
    "parse_topic",
    "FastBounds",
    "KnownColumns",
    "fast_bounds",
    "parse_known",
    "topic_machine",
    "valid_sensor_name",
]

_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_SENSOR = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")


@dataclass(frozen=True, slots=True)
class PayloadLimits:
    max_bytes: int = 256 * 1024
    max_readings: int = 10_000
    max_future_skew: timedelta = timedelta(minutes=5)
    max_age: timedelta = timedelta(days=30)
    max_abs_value: float = 1e9


@dataclass(frozen=True, slots=True)
class RawReading:
    machine: str
    sensor: str
    ts: datetime
    value: float


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why (part of) a message was refused. ``index`` is the reading's place in a batch."""

    reason: str
    detail: str
    index: int | None = None
    fragment: bytes = b""


@dataclass(slots=True)
class ParsedMessage:
    readings: list[RawReading] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)


class _Reject(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason, self.detail = reason, detail


def parse_topic(topic: bytes, prefix: str) -> str:
    """The machine name from a telemetry topic, or raise ``_Reject``."""
    try:
        text = topic.decode("utf-8")
    except UnicodeDecodeError:
        raise _Reject("topic_not_utf8", "topic is not valid UTF-8") from None
    parts = text.split("/")
    if len(parts) != 3 or parts[0] != prefix or parts[2] != "telemetry":
        raise _Reject(
            "topic_malformed", f"expected {prefix}/<machine>/telemetry, got {text[:200]!r}"
        )
    if not _NAME.match(parts[1]):
        raise _Reject("topic_malformed", f"bad machine name {parts[1][:80]!r}")
    return parts[1]


def topic_machine(topic: bytes, prefix: str) -> str | None:
    """The machine name of a well-formed telemetry topic, else None."""
    try:
        return parse_topic(topic, prefix)
    except _Reject:
        return None


def valid_sensor_name(name: str) -> bool:
    return bool(_SENSOR.match(name))


_FAST_MARGIN_S = 0.001  # closer than this to a bound: parse_message decides exactly


@dataclass(frozen=True, slots=True)
class FastBounds:
    """What ``parse_known`` accepts without a second look: epoch seconds strictly inside
    the accepted range by ``_FAST_MARGIN_S``, and |value| within the limit."""

    lo: float
    hi: float
    max_abs: float


def fast_bounds(limits: PayloadLimits, now: datetime) -> FastBounds:
    return FastBounds(
        (now - limits.max_age).timestamp() + _FAST_MARGIN_S,
        (now + limits.max_future_skew).timestamp() - _FAST_MARGIN_S,
        limits.max_abs_value,
    )


# (sensor ids, epoch seconds, values), one entry per reading, in the message's order
KnownColumns = tuple[list[int], list[float], list[float]]


def parse_known(
    payload: bytes, sensor_ids: Mapping[str, int], limits: PayloadLimits, bounds: FastBounds
) -> KnownColumns | None:
    """The readings of a message whose every reading is valid, of a sensor in
    ``sensor_ids`` (the topic's machine's, names that pass ``valid_sensor_name``) and
    stamped in epoch seconds; None for anything else (even one doubtful reading): the
    caller then parses it with ``parse_message``, which accounts for every reading.
    Accepts exactly what ``parse_message`` accepts and stores the same values."""
    if len(payload) > limits.max_bytes:
        return None
    try:
        doc = json.loads(payload.decode("utf-8-sig"))
    except (ValueError, RecursionError):
        return None
    if type(doc) is not dict:
        return None
    items = doc.get("readings", [doc])
    if type(items) is not list or not 0 < len(items) <= limits.max_readings:
        return None
    lo, hi, top = bounds.lo, bounds.hi, bounds.max_abs
    sids: list[int] = []
    stamps: list[float] = []
    values: list[float] = []
    ts: Any
    value: Any
    for item in items:
        if type(item) is not dict:
            return None
        sensor, ts, value = item.get("sensor"), item.get("ts"), item.get("value")
        # a name not in the directory (or not a string: bool and int are not str) gives None
        sid = sensor_ids.get(sensor) if type(sensor) is str else None
        if sid is None:
            return None
        kind = type(ts)
        if (kind is not float and kind is not int) or not lo < ts < hi:  # NaN fails too
            return None
        kind = type(value)
        if (kind is not float and kind is not int) or not -top <= value <= top:
            return None
        sids.append(sid)
        stamps.append(ts)
        values.append(value)
    return sids, stamps, values


def parse_message(
    topic: bytes, payload: bytes, *, prefix: str, limits: PayloadLimits, now: datetime
) -> ParsedMessage:
    """Split a message into valid readings and rejections; never raises on bad input."""
    out = ParsedMessage()
    try:
        machine = parse_topic(topic, prefix)
        doc = _decode(payload, limits)
        items = _items(doc, limits)
    except _Reject as r:
        out.rejections.append(Rejection(r.reason, r.detail))
        return out
    batched = "readings" in doc
    for index, item in enumerate(items):
        try:
            out.readings.append(_reading(machine, item, limits, now))
        except _Reject as r:
            where = index if batched else None
            out.rejections.append(Rejection(r.reason, r.detail, where, _fragment(item)))
    return out


def _decode(payload: bytes, limits: PayloadLimits) -> Any:
    if len(payload) > limits.max_bytes:
        raise _Reject("payload_too_large", f"{len(payload)} bytes > limit {limits.max_bytes}")
    try:
        text = payload.decode("utf-8-sig")  # a byte-order mark some gateways put first
    except UnicodeDecodeError as e:
        raise _Reject("payload_not_utf8", f"invalid UTF-8 at byte {e.start}") from None
    try:
        return json.loads(text)
    except RecursionError:
        raise _Reject("payload_too_deep", "JSON nested too deeply") from None
    except ValueError as e:
        raise _Reject("invalid_json", str(e)[:200]) from None


def _items(doc: Any, limits: PayloadLimits) -> list[Any]:
    if not isinstance(doc, dict):
        raise _Reject("not_an_object", f"payload must be a JSON object, got {type(doc).__name__}")
    if "readings" not in doc:
        return [doc]
    items = doc["readings"]
    if not isinstance(items, list):
        raise _Reject("wrong_type", "'readings' must be a list")
    if not items:
        raise _Reject("empty_batch", "'readings' is empty")
    if len(items) > limits.max_readings:
        raise _Reject("too_many_readings", f"{len(items)} readings > limit {limits.max_readings}")
    return items


def _reading(machine: str, item: Any, limits: PayloadLimits, now: datetime) -> RawReading:
    if not isinstance(item, dict):
        raise _Reject("wrong_type", f"a reading must be an object, got {type(item).__name__}")
    for name in ("sensor", "ts", "value"):
        if name not in item:
            raise _Reject("missing_field", f"missing '{name}'")
    sensor = item["sensor"]
    if not isinstance(sensor, str) or not _SENSOR.match(sensor):
        raise _Reject("bad_sensor_name", f"sensor must be a short name, got {str(sensor)[:60]!r}")
    return RawReading(
        machine, sensor, _timestamp(item["ts"], limits, now), _value(item["value"], limits)
    )


def _value(raw: Any, limits: PayloadLimits) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise _Reject("wrong_type", f"value must be a number, got {type(raw).__name__}")
    try:
        value = float(raw)
    except OverflowError:
        raise _Reject("value_out_of_range", "value too large for a float") from None
    if not math.isfinite(value):
        raise _Reject("value_not_finite", f"value is {value}")
    if abs(value) > limits.max_abs_value:
        raise _Reject("value_out_of_range", f"|value| {value:.3g} > {limits.max_abs_value:.3g}")
    return value


def _timestamp(raw: Any, limits: PayloadLimits, now: datetime) -> datetime:
    ts = _to_datetime(raw)
    if ts > now + limits.max_future_skew:
        raise _Reject("timestamp_in_future", f"{ts.isoformat()} is ahead of the server clock")
    if ts < now - limits.max_age:
        raise _Reject("timestamp_too_old", f"{ts.isoformat()} is older than the accepted age")
    return ts


def _to_datetime(raw: Any) -> datetime:
    if isinstance(raw, bool):
        raise _Reject("wrong_type", "ts must be an ISO-8601 string or epoch seconds")
    if isinstance(raw, int | float):
        try:
            if not math.isfinite(raw):
                raise ValueError
            return datetime.fromtimestamp(raw, UTC)
        except (ValueError, OverflowError, OSError):
            raise _Reject(
                "timestamp_invalid", f"epoch seconds out of range: {raw!r}"[:120]
            ) from None
    if not isinstance(raw, str):
        raise _Reject("wrong_type", "ts must be an ISO-8601 string or epoch seconds")
    try:
        ts = datetime.fromisoformat(raw[:64])
    except ValueError:
        raise _Reject("timestamp_invalid", f"not ISO-8601: {raw[:60]!r}") from None
    if ts.tzinfo is None:
        raise _Reject("timestamp_invalid", "ISO-8601 timestamp needs a timezone (e.g. 'Z')")
    return ts.astimezone(UTC)


def _fragment(item: Any) -> bytes:
    try:
        return json.dumps(item, allow_nan=True)[:2048].encode()
    except (TypeError, ValueError, RecursionError):
        return repr(item)[:2048].encode()
