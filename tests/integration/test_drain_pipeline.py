"""The drain's pipeline on each database: a message is acked only once its rows are
visible to another connection, the fast path stores exactly what the general parser would,
refused readings still become dead letters with their reasons, redeliveries store nothing."""

from __future__ import annotations

import json
import queue
import time
from datetime import UTC, datetime

from factories import fleet_with_sensors
from sqlalchemy import text

from data.db import Database
from data.readings import ReadingColumns, insert_reading_columns
from ingest.payload import PayloadLimits, parse_message
from ingest.writer import BatchWriter, Drainer, InboundMessage

NOW = time.time()


def _messages() -> list[InboundMessage]:
    """Message i carries values in [i, i + 1), so a message's rows can be counted."""

    def batch(machine: str, mid: int, items: list[dict]) -> InboundMessage:
        body = json.dumps({"readings": items}).encode()
        return InboundMessage(f"pdm/{machine}/telemetry".encode(), body, mid, 1, NOW)

    def clean(mid: int, sensor: str, n: int = 50) -> list[dict]:
        # epoch seconds with many decimals: the microsecond rounding must match the parser's
        base = NOW - 3600 * 7 + mid * 10.0
        return [
            {"sensor": sensor, "ts": base + k * 0.0123456789, "value": mid + k / 1000}
            for k in range(n)
        ]

    iso = datetime.fromtimestamp(NOW - 60, UTC).isoformat()
    return [
        batch("motor-01", 1, clean(1, "temperature")),
        batch("pump-01", 2, clean(2, "rpm")),
        batch(
            "motor-01", 3, clean(3, "vibration")[:3] + [{"sensor": "rpm", "ts": iso, "value": 3.9}]
        ),
        batch("pump-01", 4, clean(4, "rpm")[:5] + [{"sensor": "rpm", "ts": NOW, "value": "high"}]),
        batch(
            "pump-01",
            5,
            clean(5, "temperature")[:4] + [{"sensor": "humidity", "ts": NOW, "value": 5.5}],
        ),
        batch("ghost-99", 6, clean(6, "rpm")[:2]),
        InboundMessage(
            b"pdm/motor-01/telemetry",
            json.dumps({"sensor": "rpm", "ts": NOW - 1.5, "value": 7.25}).encode(),
            7,
            1,
            NOW,
        ),
        batch("motor-01", 8, clean(8, "rpm", n=200)),
    ]


def _stored(db: Database) -> set[tuple[int, datetime, float]]:
    with db.engine.connect() as conn:
        rows = conn.execute(text("SELECT sensor_id, ts, value FROM readings")).all()
    out = set()
    for sid, ts, value in rows:
        if isinstance(ts, str):  # SQLite hands back its text
            ts = datetime.fromisoformat(ts)
        out.add((sid, ts if ts.tzinfo else ts.replace(tzinfo=UTC), value))
    return out


def test_acks_follow_visible_rows_and_the_fast_path_stores_what_the_parser_would(db: Database):
    sensors = fleet_with_sensors(db, [("motor-01", "motor"), ("pump-01", "pump")])
    messages = _messages()
    limits, now = PayloadLimits(), datetime.now(UTC)
    expected: set[tuple[int, datetime, float]] = set()
    per_message: dict[int, int] = {}
    for m in messages:
        machine = m.topic.decode().split("/")[1]
        parsed = parse_message(m.topic, m.payload, prefix="pdm", limits=limits, now=now)
        rows = {
            (sensors[machine][r.sensor], r.ts, r.value)
            for r in parsed.readings
            if r.sensor in sensors.get(machine, {})
        }
        expected |= rows
        per_message[m.mid] = len(rows)

    acked: list[int] = []

    def ack(message: InboundMessage) -> None:  # what another connection sees at ack time
        with db.engine.connect() as conn:
            seen = conn.execute(
                text("SELECT count(*) FROM readings WHERE value >= :lo AND value < :hi"),
                {"lo": message.mid, "hi": message.mid + 1},
            ).scalar_one()
        assert seen == per_message[message.mid], f"message {message.mid} acked before commit"
        acked.append(message.mid)

    inbox: queue.Queue[InboundMessage] = queue.Queue()
    for m in messages:
        inbox.put(m)
    writer = BatchWriter(db, prefix="pdm", limits=limits)
    drainer = Drainer(inbox, writer, ack, batch_max=2)
    assert drainer.run(budget_s=60) == len(expected) == 50 + 50 + 4 + 5 + 4 + 1 + 200
    assert acked == [m.mid for m in messages]
    assert _stored(db) == expected  # same keys, to the microsecond, and same values
    with db.engine.connect() as conn:
        dead = conn.execute(text("SELECT reason, detail FROM dead_letters ORDER BY id")).all()
    assert [r for r, _ in dead] == [
        "wrong_type",
        "unknown_sensor",
        "unknown_machine",
        "unknown_machine",
    ]
    assert dead[0][1].startswith("reading 5: ")

    for m in messages:  # redelivered after a crash: nothing stored twice
        inbox.put(m)
    assert drainer.run(budget_s=60) == 0
    assert _stored(db) == expected and acked == [m.mid for m in messages] * 2


def test_a_batch_partly_stored_already_inserts_only_the_new_rows(db: Database):
    """On PostgreSQL a batch goes straight into ``readings`` unless one of its rows is
    there already; then the whole batch is merged, skipping those."""
    sensors = fleet_with_sensors(db, [("motor-01", "motor")])
    sid = sensors["motor-01"]["rpm"]
    stamps = [NOW - 1000 + k * 0.25 for k in range(100)]
    first = ReadingColumns.build([sid] * 50, stamps[::2], [float(k) for k in range(50)])
    both = ReadingColumns.build([sid] * 100, stamps, [float(k) for k in range(100)])
    with db.session() as s:
        assert insert_reading_columns(session=s, columns=first) == 50
    with db.session() as s:
        assert insert_reading_columns(session=s, columns=both) == 50  # the other half
    with db.session() as s:
        assert insert_reading_columns(session=s, columns=both) == 0
    stored = _stored(db)
    assert len(stored) == 100
    assert {v for _, _, v in stored} == {float(k) for k in range(50)} | {
        float(k) for k in range(1, 100, 2)
    }  # the first copy of a reading is the one kept


def test_values_are_stored_at_the_kinds_resolution_on_both_paths(db: Database):
    """With ``PDM_STORE_RESOLUTION``, the drain's pipeline (fast path and general parser)
    and the one-step write (HTTP ingest) store each value on its kind's binary step, within
    half a resolution of what was sent; kinds without a resolution are stored as sent."""
    sensors = fleet_with_sensors(db, [("motor-01", "motor"), ("pump-01", "pump")])
    messages = _messages()
    resolution = {"temperature": 0.01, "rpm": 0.1}
    step = {"temperature": 1 / 128, "rpm": 1 / 16}
    writer = BatchWriter(db, prefix="pdm", limits=PayloadLimits(), resolution=resolution)
    inbox: queue.Queue[InboundMessage] = queue.Queue()
    for m in messages[:4]:  # the pipeline
        inbox.put(m)
    Drainer(inbox, writer, lambda m: None, batch_max=2).run(budget_s=60)
    writer.write(messages[4:])  # one step, every message through the general parser
    kind_of = {sid: kind for by_kind in sensors.values() for kind, sid in by_kind.items()}
    sent = {}
    limits, now = PayloadLimits(), datetime.now(UTC)
    for m in messages:
        machine = m.topic.decode().split("/")[1]
        for r in parse_message(m.topic, m.payload, prefix="pdm", limits=limits, now=now).readings:
            if r.sensor in sensors.get(machine, {}):
                sent[(sensors[machine][r.sensor], r.ts)] = r.value
    stored = {(sid, ts): value for sid, ts, value in _stored(db)}
    assert stored.keys() == sent.keys()
    kinds = {kind_of[sid] for sid, _ in stored}
    assert kinds == {"temperature", "rpm", "vibration"}
    for key, value in stored.items():
        kind = kind_of[key[0]]
        if kind in step:
            assert value % step[kind] == 0, (kind, value)
            assert abs(value - sent[key]) <= step[kind] / 2
        else:
            assert value == sent[key]
    assert any(value != sent[key] for key, value in stored.items())
