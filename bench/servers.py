"""PostgreSQL and Mosquitto for the benchmark, and one fresh, seeded database per phase.

The servers are the throwaway ones of the test suite (``tests/services.py``): loopback
ports, a temporary directory, Mosquitto with its queue limits lifted. PostgreSQL
additionally records commit timestamps, so every stored reading tells when it was
committed (``pg_xact_commit_timestamp(xmin)``).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

from data.db import Database, upgrade_schema
from data.fleet_queries import MachineSpec, ensure_fleet, sensor_directory
from simulator.fleet_physics import MachineDef

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from services import MosquittoServer, PostgresServer, _pg_bin, free_port  # noqa: E402

__all__ = [
    "REPO",
    "MosquittoServer",
    "PostgresServer",
    "DurablePostgresServer",
    "PhaseDatabase",
    "free_port",
    "running_servers",
    "phase_database",
]

log = logging.getLogger(__name__)


class DurablePostgresServer(PostgresServer):
    """The test cluster with production durability: fsync and full-page writes on.

    ``PostgresServer`` turns them off on its command line (which outranks ALTER SYSTEM),
    so this one replaces that command line and leaves every durability setting at its
    default.
    """

    def ctl(self, action: str, *extra: str) -> None:
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1"
        args = [_pg_bin("pg_ctl"), "-D", str(self.data), "-w", "-t", "60", action, *extra]
        if action in ("start", "restart"):
            args += ["-o", opts, "-l", str(self.dir / "log")]
        self._run(*args)


@contextmanager
def running_servers(*, durable: bool = False) -> Iterator[tuple[PostgresServer, MosquittoServer]]:
    """Start PostgreSQL (with commit timestamps) and Mosquitto; always stop both.

    PostgreSQL is the test suite's (fsync off) unless ``durable`` (PostgreSQL's defaults).
    """
    pg = DurablePostgresServer() if durable else PostgresServer()
    mq = MosquittoServer()
    try:
        pg.start()
        with psycopg.connect(pg.admin_url(), autocommit=True) as conn:
            conn.execute("ALTER SYSTEM SET track_commit_timestamp = on")
        pg.ctl("restart")
        mq.start()
        log.info(
            "PostgreSQL on port %d (%s), Mosquitto on port %d",
            pg.port,
            "durable" if durable else "fsync off",
            mq.port,
        )
        yield pg, mq
    finally:
        mq.cleanup()
        pg.stop()
        log.info("servers stopped")


@dataclass(frozen=True, slots=True)
class PhaseDatabase:
    """A migrated database holding the benchmark's fleet."""

    url: str  # SQLAlchemy URL (postgresql+psycopg://…), what PDM_DATABASE_URL takes
    sensors: dict[tuple[str, str], int]  # (machine, sensor key) -> sensor id

    @property
    def dsn(self) -> str:
        """The same database as a plain libpq URL for psycopg."""
        return self.url.replace("postgresql+psycopg://", "postgresql://", 1)

    def committed(self) -> tuple[int, float | None]:
        """How many readings are stored, and the epoch time of the last commit among them."""
        with psycopg.connect(self.dsn) as conn:
            row = conn.execute(
                "SELECT count(*), extract(epoch FROM max(pg_xact_commit_timestamp(xmin)))"
                " FROM readings"
            ).fetchone()
        assert row is not None
        return int(row[0]), None if row[1] is None else float(row[1])


@contextmanager
def phase_database(pg: PostgresServer, machines: list[MachineDef]) -> Iterator[PhaseDatabase]:
    """A new database with the schema (Alembic) and the fleet; dropped afterwards."""
    url = pg.new_database()
    db = Database(url)
    try:
        upgrade_schema(db.engine)
        with db.session() as session:
            ensure_fleet(session=session, machines=[MachineSpec.like(m) for m in machines])
        with db.session() as session:
            sensors = sensor_directory(session=session)
    finally:
        db.dispose()
    try:
        yield PhaseDatabase(url, sensors)
    finally:
        name = url.rsplit("/", 1)[1]
        with psycopg.connect(pg.admin_url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
