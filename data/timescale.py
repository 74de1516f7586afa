"""TimescaleDB detection: judged by what the server has *loaded*, never by what is merely
installed. A PostgreSQL with the package on disk but without ``timescaledb`` in
``shared_preload_libraries`` refuses ``CREATE EXTENSION timescaledb``; the platform then runs
on plain PostgreSQL (the same tables, the hand-made retention and rollups).

States, from best to worst:

- ``active``: preloaded, and the extension exists in this database;
- ``preloaded-not-created``: preloaded, but the extension is not created in this database
  (a superuser must run ``CREATE EXTENSION timescaledb``; see docs/architecture.md);
- ``available-not-preloaded``: installed on the server, not loaded: plain PostgreSQL;
- ``absent``: not installed, or not PostgreSQL at all.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Literal

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

__all__ = [
    "CHUNK_INTERVAL",
    "TimescaleState",
    "adopt_timescale",
    "log_timescale_state",
    "set_policies",
    "timescale_state",
]

log = logging.getLogger(__name__)

TimescaleState = Literal["active", "preloaded-not-created", "available-not-preloaded", "absent"]

# pg_settings hides superuser-only settings such as shared_preload_libraries from ordinary
# roles (no error, just no row); the loader's own setting shows whenever it is loaded.
# (the vartype test skips a placeholder left by that name in postgresql.conf without the loader)
_PRELOADED = text(
    "SELECT count(*) FROM pg_settings WHERE (name = 'timescaledb.disable_load'"
    " AND vartype = 'bool' AND setting = 'off')"
    " OR (name = 'shared_preload_libraries' AND 'timescaledb' = ANY("
    "string_to_array(translate(setting, ' \"', ''), ',')))"
)
_AVAILABLE = text("SELECT count(*) FROM pg_available_extensions WHERE name = 'timescaledb'")
_CREATED = text("SELECT count(*) FROM pg_extension WHERE extname = 'timescaledb'")

# One day: a chunk is compressed as a whole once it is entirely older than the compression
# setting (default one day), retention drops whole days, and a day of 1 Hz readings from 100
# machines of 5 sensors (~43 M rows, ~3.6 GB with both indexes, measured in
# docs/benchmarks.md) stays within a quarter of a 16 GB server's memory, TimescaleDB's rule
# for the chunks being written. Bigger fleets: SELECT set_chunk_time_interval('readings', ...).
CHUNK_INTERVAL = timedelta(days=1)
_HYPERTABLE = text(
    "SELECT compression_enabled FROM timescaledb_information.hypertables"
    " WHERE hypertable_schema = current_schema() AND hypertable_name = 'readings'"
)


def timescale_state(bind: Engine | Connection) -> TimescaleState:
    """What TimescaleDB can do for this database right now (see the module docstring)."""
    if bind.dialect.name != "postgresql":
        return "absent"
    if isinstance(bind, Engine):
        with bind.connect() as conn:
            return _state(conn)
    return _state(bind)


def _state(conn: Connection) -> TimescaleState:
    if not conn.execute(_AVAILABLE).scalar():
        return "absent"
    if not conn.execute(_PRELOADED).scalar():
        return "available-not-preloaded"
    if not conn.execute(_CREATED).scalar():
        return "preloaded-not-created"
    return "active"


def log_timescale_state(state: TimescaleState) -> None:
    """One log line saying which storage the platform runs on, and what an operator may do."""
    if state == "active":
        log.info("storage: TimescaleDB (readings hypertable, compression and retention)")
    elif state == "preloaded-not-created":
        log.warning(
            "storage: plain PostgreSQL; TimescaleDB is preloaded but not created in this "
            "database: a superuser may run CREATE EXTENSION timescaledb, then restart the app"
        )
    elif state == "available-not-preloaded":
        log.info(
            "storage: plain PostgreSQL; TimescaleDB is installed but not in "
            "shared_preload_libraries, so it is not used"
        )
    else:
        log.info("storage: plain PostgreSQL (TimescaleDB is not installed)")


def adopt_timescale(conn: Connection) -> TimescaleState:
    """When the server preloads TimescaleDB: create the extension if this role may, make
    ``readings`` a compressible hypertable (moving its rows into chunks). Idempotent; a
    no-op anywhere else. Returns the state afterwards."""
    state = timescale_state(conn)
    if state == "preloaded-not-created":
        state = _create_extension(conn)
    if state == "active":
        _make_hypertable(conn)
    return state


def _create_extension(conn: Connection) -> TimescaleState:
    try:  # a savepoint: a refused CREATE must not abort the migration's transaction
        with conn.begin_nested():
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS timescaledb"))
    except DBAPIError as err:
        log.warning(
            "TimescaleDB is preloaded but this role may not create it (%s): a superuser "
            "should run CREATE EXTENSION timescaledb in this database, then restart the app",
            str(err.orig).strip().splitlines()[0],
        )
        return "preloaded-not-created"
    return "active"


def _make_hypertable(conn: Connection) -> None:
    compression = conn.execute(_HYPERTABLE).scalar()
    if compression is None:
        rows = conn.execute(text("SELECT count(*) FROM readings")).scalar()
        log.info("readings becomes a hypertable (moving %d rows into chunks)", rows)
        # the primary key (sensor_id, ts) holds the time column, as a hypertable requires
        conn.execute(
            text(
                "SELECT create_hypertable('readings', by_range('ts', :chunk),"
                " if_not_exists => true, migrate_data => true)"
            ),
            {"chunk": CHUNK_INTERVAL},
        )
    if not compression:
        # one segment per sensor, newest first: the machine page reads a sensor's latest span
        conn.execute(
            text(
                "ALTER TABLE readings SET (timescaledb.compress,"
                " timescaledb.compress_segmentby = 'sensor_id',"
                " timescaledb.compress_orderby = 'ts DESC')"
            )
        )


def set_policies(
    conn: Connection, *, compress_after: timedelta | None, drop_after: timedelta | None
) -> None:
    """Make the compression and retention policies on ``readings`` what is asked (None:
    none). Only call when the state is ``active``."""
    _set_policy(conn, "compression", "compress_after", compress_after)
    _set_policy(conn, "retention", "drop_after", drop_after)


def _set_policy(conn: Connection, kind: str, key: str, after: timedelta | None) -> None:
    current = conn.execute(
        text(
            f"SELECT (config->>'{key}')::interval FROM timescaledb_information.jobs"
            f" WHERE proc_name = 'policy_{kind}' AND hypertable_name = 'readings'"
            " AND hypertable_schema = current_schema()"
        )
    ).scalar()
    if current == after:
        return
    if current is not None:
        conn.execute(text(f"SELECT remove_{kind}_policy('readings')"))
    if after is not None:
        conn.execute(text(f"SELECT add_{kind}_policy('readings', :after)"), {"after": after})
    log.info("TimescaleDB %s policy on readings: %s", kind, after or "none")
