"""The payload parser: every kind of bad input gets its own reason, good input survives."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from data.readings import epoch_microseconds
from ingest.payload import PayloadLimits, fast_bounds, parse_known, parse_message

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
LIMITS = PayloadLimits(max_bytes=16384, max_readings=100)
TOPIC = b"pdm/motor-01/telemetry"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def parse(payload: bytes | str | dict, topic: bytes = TOPIC):
    if isinstance(payload, dict):
        payload = json.dumps(payload)
    if isinstance(payload, str):
        payload = payload.encode()
    return parse_message(topic, payload, prefix="pdm", limits=LIMITS, now=NOW)


def one(**fields):
    return {"sensor": "temperature", "ts": NOW.isoformat(), "value": 61.5} | fields


def test_single_reading_is_parsed_with_timezone_and_float():
    result = parse(one())
    assert result.rejections == []
    [r] = result.readings
    assert (r.machine, r.sensor, r.ts, r.value) == ("motor-01", "temperature", NOW, 61.5)


def test_batch_keeps_good_readings_and_rejects_the_bad_one_with_its_index():
    batch = {"readings": [one(), one(sensor="vibration", value="high"), one(sensor="rpm")]}
    result = parse(batch)
    assert [r.sensor for r in result.readings] == ["temperature", "rpm"]
    [bad] = result.rejections
    assert (bad.reason, bad.index) == ("wrong_type", 1)
    assert b"vibration" in bad.fragment


def test_epoch_seconds_and_offsets_are_normalised_to_utc():
    local = (NOW + timedelta(hours=2)).replace(tzinfo=None).isoformat() + "+02:00"
    result = parse({"readings": [one(ts=NOW.timestamp()), one(sensor="rpm", ts=local)]})
    assert [r.ts for r in result.readings] == [NOW, NOW]


def test_a_byte_order_mark_before_the_json_is_accepted():
    bom = b"\xef\xbb\xbf"
    result = parse(bom + json.dumps(one()).encode())
    assert result.rejections == [] and [r.value for r in result.readings] == [61.5]
    # only a leading one: inside the document it is not JSON
    assert parse(b" " + bom + json.dumps(one()).encode()).rejections[0].reason == "invalid_json"


BAD = [
    ("invalid_json", b"{not json"),
    ("invalid_json", b""),
    ("payload_not_utf8", b'{"sensor": "t\xff\xfe"}'),
    ("payload_too_large", b'{"x": "' + b"a" * 20000 + b'"}'),
    ("payload_too_deep", b"[" * 3000 + b"]" * 3000),
    ("not_an_object", b"[1, 2, 3]"),
    ("not_an_object", b"42"),
    ("wrong_type", json.dumps({"readings": "many"}).encode()),
    ("empty_batch", json.dumps({"readings": []}).encode()),
    ("too_many_readings", json.dumps({"readings": [one()] * 101}).encode()),
    ("missing_field", json.dumps({"sensor": "temperature", "value": 1}).encode()),
    ("missing_field", json.dumps({"ts": NOW.isoformat(), "value": 1}).encode()),
    ("missing_field", json.dumps({"sensor": "temperature", "ts": NOW.isoformat()}).encode()),
    ("wrong_type", json.dumps(one(value="61.5")).encode()),
    ("wrong_type", json.dumps(one(value=True)).encode()),
    ("wrong_type", json.dumps(one(value=None)).encode()),
    ("wrong_type", json.dumps(one(value={"deep": [[[1]]]})).encode()),
    ("wrong_type", json.dumps(one(ts=None)).encode()),
    ("bad_sensor_name", json.dumps(one(sensor="")).encode()),
    ("bad_sensor_name", json.dumps(one(sensor=7)).encode()),
    ("value_not_finite", b'{"sensor": "temperature", "ts": 1795435200, "value": NaN}'),
    ("value_not_finite", b'{"sensor": "temperature", "ts": 1795435200, "value": Infinity}'),
    ("value_not_finite", b'{"sensor": "temperature", "ts": 1795435200, "value": 1e999}'),
    ("value_out_of_range", json.dumps(one(value=1e300)).encode()),
    ("value_out_of_range", json.dumps(one(value=10**400)).encode()),
    ("timestamp_invalid", json.dumps(one(ts="yesterday")).encode()),
    ("timestamp_invalid", json.dumps(one(ts="2026-11-23T12:00:00")).encode()),
    ("timestamp_invalid", json.dumps(one(ts=1e20)).encode()),
    ("timestamp_in_future", json.dumps(one(ts=(NOW + timedelta(days=1)).isoformat())).encode()),
    ("timestamp_too_old", json.dumps(one(ts="1999-01-01T00:00:00Z")).encode()),
]


@pytest.mark.parametrize(
    ("reason", "payload"), BAD, ids=[f"{r}-{i}" for i, (r, _) in enumerate(BAD)]
)
def test_each_malformed_payload_gets_its_specific_reason(reason: str, payload: bytes):
    result = parse(payload)
    assert result.readings == []
    assert [r.reason for r in result.rejections] == [reason]
    assert result.rejections[0].detail


@pytest.mark.parametrize(
    ("topic", "reason"),
    [
        (b"pdm/mot\xffor/telemetry", "topic_not_utf8"),
        (b"pdm/motor-01/status", "topic_malformed"),
        (b"other/motor-01/telemetry", "topic_malformed"),
        (b"pdm/motor 01/telemetry", "topic_malformed"),
        (b"pdm/a/b/telemetry", "topic_malformed"),
    ],
)
def test_bad_topics_are_refused(topic: bytes, reason: str):
    result = parse(one(), topic=topic)
    assert [r.reason for r in result.rejections] == [reason]


@given(st.binary(max_size=600))
def test_parser_never_raises_on_arbitrary_bytes(payload: bytes):
    result = parse_message(TOPIC, payload, prefix="pdm", limits=LIMITS, now=NOW)
    assert len(result.readings) + len(result.rejections) >= 1


json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=True) | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=12,
)


@given(st.dictionaries(st.sampled_from(["sensor", "ts", "value", "readings", "x"]), json_values))
def test_parser_accounts_for_every_item_of_any_json_object(doc: dict):
    payload = json.dumps(doc, allow_nan=True).encode()
    result = parse_message(TOPIC, payload, prefix="pdm", limits=LIMITS, now=NOW)
    items = doc.get("readings")
    if isinstance(items, list) and 0 < len(items) <= LIMITS.max_readings:
        assert len(result.readings) + len(result.rejections) == len(items)
    for r in result.readings:  # whatever gets through is clean
        assert math.isfinite(r.value) and abs(r.value) <= LIMITS.max_abs_value
        assert r.ts.tzinfo is not None


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["temperature", "vibration", "rpm"]),
            st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
            st.integers(min_value=0, max_value=86_400 * 29),
        ),
        min_size=1,
        max_size=50,
    )
)
def test_valid_batches_round_trip_exactly(items: list[tuple[str, float, int]]):
    batch = {
        "readings": [{"sensor": s, "value": v, "ts": NOW.timestamp() - age} for s, v, age in items]
    }
    result = parse(batch)
    assert result.rejections == []
    assert [(r.sensor, r.value) for r in result.readings] == [(s, v) for s, v, _ in items]
    assert [r.ts for r in result.readings] == [NOW - timedelta(seconds=a) for _, _, a in items]


# ``parse_known``: the fast path takes what it is sure of and hands back anything else
SENSOR_IDS = {"temperature": 1, "vibration": 2, "rpm": 3}


def _known(payload: bytes):
    return parse_known(payload, SENSOR_IDS, LIMITS, fast_bounds(LIMITS, NOW))


def _same_as_the_general_parser(payload: bytes) -> None:
    known = _known(payload)
    general = parse_message(TOPIC, payload, prefix="pdm", limits=LIMITS, now=NOW)
    if known is None:
        return
    assert general.rejections == []  # the fast path never accepts what the parser refuses
    sids, stamps, values = known
    assert [SENSOR_IDS[r.sensor] for r in general.readings] == sids
    assert [r.value for r in general.readings] == [float(v) for v in values]
    expected = [round((r.ts - EPOCH) / timedelta(microseconds=1)) for r in general.readings]
    assert epoch_microseconds(np.array(stamps, dtype=np.float64)).tolist() == expected


def test_the_fast_path_takes_the_documented_batch_and_refers_anything_else():
    good = {"readings": [one(ts=NOW.timestamp() - i, value=i) for i in range(5)]}
    assert _known(json.dumps(good).encode()) == (
        [1] * 5,
        [NOW.timestamp() - i for i in range(5)],
        [0, 1, 2, 3, 4],
    )
    assert _known(json.dumps(one(ts=NOW.timestamp())).encode()) == ([1], [NOW.timestamp()], [61.5])
    for payload in [p for _, p in BAD] + [
        json.dumps(one()).encode(),  # ISO-8601: the general parser's
        json.dumps(one(sensor="humidity", ts=NOW.timestamp())).encode(),  # not this machine's
        json.dumps(one(ts=(NOW + LIMITS.max_future_skew).timestamp())).encode(),  # at a bound
        json.dumps(one(ts=(NOW - LIMITS.max_age).timestamp() + 0.0005)).encode(),
    ]:
        assert _known(payload) is None, payload[:80]
        _same_as_the_general_parser(payload)


@given(st.dictionaries(st.sampled_from(["sensor", "ts", "value", "readings", "x"]), json_values))
def test_the_fast_path_agrees_with_the_general_parser_on_any_object(doc: dict):
    _same_as_the_general_parser(json.dumps(doc, allow_nan=True).encode())


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["temperature", "vibration", "rpm", "humidity"]),
            st.floats(allow_nan=True, allow_infinity=True) | st.integers(),
            st.floats(min_value=-40 * 86_400, max_value=86_400, allow_nan=False)
            | st.integers(min_value=-40 * 86_400, max_value=86_400),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_the_fast_path_agrees_with_the_general_parser_on_batches(items: list) -> None:
    batch = {
        "readings": [{"sensor": s, "value": v, "ts": NOW.timestamp() + d} for s, v, d in items]
    }
    _same_as_the_general_parser(json.dumps(batch, allow_nan=True).encode())


@given(st.floats(min_value=0, max_value=4e9, allow_nan=False))
def test_epoch_microseconds_round_as_the_datetime_parser_does(seconds: float):
    expected = (datetime.fromtimestamp(seconds, UTC) - EPOCH) // timedelta(microseconds=1)
    assert epoch_microseconds(np.array([seconds])).tolist() == [expected]
