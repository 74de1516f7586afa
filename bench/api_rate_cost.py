"""What the shared rate limit costs each API request: the token check alone (the baseline,
as before the count moved to the database) against the token check plus the per-token count
(``count_request``: one upsert) in the same transaction, on SQLite and a throwaway
PostgreSQL, in the same run.

    python -m bench.api_rate_cost              # 2,000 checks of each kind per database
    python -m bench.api_rate_cost --docs docs/benchmarks.md

Each check is one unit of work (``db.session()``: begin, queries, commit), as the guard runs
it. p50 and p95 in milliseconds; nothing is asserted.
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path

from data.db import Database, upgrade_schema
from data.models import Role, User
from maintenance.people.api_tokens import authenticate_token, count_request, create_token

from .servers import PostgresServer


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.api_rate_cost", description=__doc__)
    p.add_argument("--repeat", type=int, default=2000, help="checks of each kind")
    p.add_argument("--docs", type=Path, help="append the table to this file")
    return p.parse_args(argv)


def _token(db: Database) -> str:
    with db.session() as s:
        admin = User(username="admin", password_hash="!bench", role=Role.ADMIN)
        s.add(admin)
        s.flush()
        return create_token(
            session=s, name="bench", role="admin", expires_at=None, created_by=admin.id
        ).secret


def _times(db: Database, secret: str, repeat: int, counted: bool) -> list[float]:
    spent = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        with db.session() as s:
            found = authenticate_token(session=s, secret=secret)
            if counted and found is not None:
                count_request(session=s, token_id=found.token_id)
        spent.append((time.perf_counter() - t0) * 1000)
    return spent


def measure(url: str, repeat: int) -> dict[str, list[float]]:
    db = Database(url)
    upgrade_schema(db.engine)
    secret = _token(db)
    _times(db, secret, 50, True)  # warm-up: pool, statement caches, the counter's row
    out = {}
    for kind in ("check", "check + count", "check", "check + count"):  # interleaved
        out.setdefault(kind, []).extend(_times(db, secret, repeat // 2, kind != "check"))
    db.dispose()
    return out


def _p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1]


def render(results: dict[str, dict[str, list[float]]], command: str) -> str:
    lines = [
        f"`{command}`",
        "",
        "| database | token check (baseline) p50 / p95 | check + shared count p50 / p95 "
        "| added p50 |",
        "| --- | --- | --- | --- |",
    ]
    for name, kinds in results.items():
        base, counted = kinds["check"], kinds["check + count"]
        lines.append(
            f"| {name} | {_p(base, 50):.2f} / {_p(base, 95):.2f} ms "
            f"| {_p(counted, 50):.2f} / {_p(counted, 95):.2f} ms "
            f"| {_p(counted, 50) - _p(base, 50):+.2f} ms |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    given = argv if argv is not None else sys.argv[1:]
    command = "python -m bench.api_rate_cost " + shlex.join(given)
    results: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["SQLite (file, WAL)"] = measure(f"sqlite:///{tmp}/bench.sqlite3", args.repeat)
    pg = PostgresServer()
    try:
        pg.start()
        results["PostgreSQL (loopback)"] = measure(pg.new_database(), args.repeat)
    finally:
        pg.stop()
    table = render(results, command.strip())
    print(table)
    if args.docs:
        with args.docs.open("a", encoding="utf-8") as out:
            out.write("\n" + table)


if __name__ == "__main__":
    main()
