"""API benchmark: ``/api/v1`` readings query and HTTP ingest on PostgreSQL.

    python -m bench.api            # 20 machines × 30 days at 10 s (15.5 M readings)
    python -m bench.api --quick    # 20 machines × 3 days

It starts a throwaway PostgreSQL (tests/services.py), backfills demo history as
``bench.dashboard`` does, and builds the API as ``app.py`` does (``web.server.api`` with
``ingest.http_ingest.HttpIngest``) with an admin token; a Flask test client calls it, so each
request's time covers the token check, the rate limit, validation, the queries and the JSON.

1. ``GET /machines/{id}/readings`` for 1 hour, 1 day and 30 days ending now, every sensor,
   ``max_points=1500`` (the machine page's reduction), machine after machine: p50 and p95.
2. HTTP ingest: ``--batches`` posts of 100 readings each to ``/telemetry/{machine}``, and in
   the same run the same messages through the MQTT drain's own writer (``BatchWriter``,
   without a broker): one message per commit as HTTP does, and the drain's batches of 50
   messages per commit. Readings per second of each.

It prints the table and one line of JSON; ``--docs`` appends the table with the command to a
file (docs/benchmarks.md). Targets are reported, never asserted.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shlex
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from config import load_settings
from data.db import Database
from data.models import Machine, User
from ingest.http_ingest import HttpIngest, payload_limits
from ingest.writer import BatchWriter, InboundMessage
from maintenance.people.api_tokens import create_token

from .dashboard_app import seed, vacuum_analyze
from .report import code_version
from .servers import REPO, PostgresServer

__all__ = ["main"]

log = logging.getLogger("bench.api")
SPANS = {"1h": timedelta(hours=1), "1d": timedelta(days=1), "30d": timedelta(days=30)}
TARGET_P95_MS = 300.0


@dataclass
class Results:
    readings: int = 0
    query_ms: dict[str, list[float]] = field(default_factory=dict)
    ingest_per_s: dict[str, float] = field(default_factory=dict)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.api", description=__doc__)
    p.add_argument("--quick", action="store_true", help="3 days of history instead of 30")
    p.add_argument("--machines", type=int, default=20)
    p.add_argument("--repeat", type=int, default=20, help="timed queries per range")
    p.add_argument("--batches", type=int, default=300, help="ingest posts of 100 readings")
    p.add_argument("--docs", type=Path, help="append the table to this file")
    return p.parse_args(argv)


def _p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


def measure_queries(client, headers: dict, ids: list[int], repeat: int, r: Results) -> None:  # noqa: ANN001
    end = datetime.now(UTC)
    for name, span in SPANS.items():
        window = {"start": (end - span).isoformat(), "end": end.isoformat(), "max_points": 1500}
        for i in range(repeat + 2):
            started = time.perf_counter()
            answer = client.get(
                f"/api/v1/machines/{ids[i % len(ids)]}/readings",
                query_string=window,
                headers=headers,
            )
            took = (time.perf_counter() - started) * 1000
            assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
            if i >= 2:  # two warm-ups
                r.query_ms.setdefault(name, []).append(took)


def _messages(machine: str, prefix: str, batches: int, start: datetime) -> list[bytes]:
    out = []
    for b in range(batches):
        readings = [
            {
                "sensor": ("temperature", "vibration", "rpm")[i % 3],
                "ts": (start + timedelta(seconds=b * 34 + i // 3)).isoformat(),
                "value": 60.0 + i % 7,
            }
            for i in range(100)
        ]
        out.append(json.dumps({"readings": readings}).encode())
    return out


def measure_ingest(client, headers: dict, db: Database, settings, batches: int, r: Results) -> None:  # noqa: ANN001
    with db.session() as s:
        names = list(s.scalars(select(Machine.name).order_by(Machine.id).limit(3)))
    prefix = settings.mqtt_topic_prefix
    start = datetime.now(UTC) - timedelta(days=2)
    http = _messages(names[0], prefix, batches, start)
    started = time.perf_counter()
    for body in http:
        answer = client.post(f"/api/v1/telemetry/{names[0]}", data=body, headers=headers)
        assert answer.status_code == 202 and answer.get_json()["stored"] == 100
    r.ingest_per_s["HTTP POST, 100 readings a request"] = (
        100 * batches / (time.perf_counter() - started)
    )
    writer = BatchWriter(db, prefix=prefix, limits=payload_limits(settings))
    for label, machine, per_commit in (
        ("drain's writer, 1 message a commit", names[1], 1),
        ("drain's writer, 50 messages a commit", names[2], 50),
    ):
        topic = f"{prefix}/{machine}/telemetry".encode()
        messages = [
            InboundMessage(topic, m, 0, 1, time.time())
            for m in _messages(machine, prefix, batches, start)
        ]
        started = time.perf_counter()
        for i in range(0, len(messages), per_commit):
            result = writer.write(messages[i : i + per_commit])
            assert result.inserted == 100 * len(messages[i : i + per_commit])
        r.ingest_per_s[label] = 100 * batches / (time.perf_counter() - started)


def render(r: Results, command: str) -> str:
    lines = [
        f"`{command}` ({code_version(REPO)}; {r.readings:,} readings on PostgreSQL; "
        f"load average at the end {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)",
        "",
        "| readings query (all sensors, max_points 1500) | p50 ms | p95 ms | p95 ≤ 300 ms |",
        "| --- | ---: | ---: | --- |",
    ]
    for name, values in r.query_ms.items():
        p95 = _p(values, 95)
        ok = "met" if p95 <= TARGET_P95_MS else "missed"
        lines.append(f"| {name} | {_p(values, 50):.0f} | {p95:.0f} | {ok} |")
    lines += ["", "| ingest (batches of 100 readings) | readings/s |", "| --- | ---: |"]
    lines += [f"| {name} | {rate:,.0f} |" for name, rate in r.ingest_per_s.items()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> Results:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    command = "python -m bench.api " + shlex.join(argv if argv is not None else sys.argv[1:])
    from web.server.api import api_server, install_api  # Flask only when measuring

    r = Results()
    pg = PostgresServer()
    try:
        pg.start()
        url = pg.new_database()
        seeded = seed(url, machines=args.machines, days=3 if args.quick else 30, progress=False)
        r.readings = seeded.readings
        vacuum_analyze(url)
        db = Database(url)
        with tempfile.TemporaryDirectory() as var:
            settings = load_settings(
                var_dir=Path(var), database_url=url, api_rate_per_minute=10**9, simulator=False
            )
            server = api_server(__name__)
            install_api(server, db, settings, HttpIngest(settings, db))
            with db.session() as s:
                admin = s.scalar(select(User.id).where(User.username == "admin"))
                secret = create_token(
                    session=s,
                    name="bench",
                    role="admin",
                    expires_at=None,
                    created_by=int(admin or 0),
                ).secret
                ids = list(s.scalars(select(Machine.id).order_by(Machine.id).limit(args.machines)))
            client, headers = server.test_client(), {"Authorization": f"Bearer {secret}"}
            measure_queries(client, headers, ids, args.repeat, r)
            measure_ingest(client, headers, db, settings, args.batches, r)
        db.dispose()
    finally:
        pg.stop()
    table = render(r, command)
    print(table)
    if args.docs:
        with args.docs.open("a", encoding="utf-8") as out:
            out.write("\n" + table)
    summary = {k: round(_p(v, 95), 1) for k, v in r.query_ms.items()}
    print(
        json.dumps(
            {"p95_ms": summary, "ingest_per_s": {k: round(v) for k, v in r.ingest_per_s.items()}}
        )
    )
    return r


if __name__ == "__main__":
    main()
