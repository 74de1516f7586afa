"""TimescaleDB detection: judged by what the server has *loaded*, never by what is merely
installed. A PostgreSQL with the package on disk but without ``timescaledb`` in
``shared_preload_libraries`` refuses ``CREATE EXTENSION timescaledb``; the platform then runs
on plain PostgreSQL (the same tables, the hand-made retention and rollups).

States, from best to worst:

- ``active``: preloaded, the extension exists in this database and ``readings`` is a
  hypertable, with its continuous aggregates (``AGGREGATES``: the ten-minute and hourly
  buckets, real-time) in place of the hand-made ``readings_10m`` rollups;
- ``preloaded-not-converted``: the extension exists but ``readings`` is still a plain table
  (too big to convert during a start; see docs/architecture.md, "Storage");
- ``preloaded-not-created``: preloaded, but the extension is not created in this database
  (a superuser must run ``CREATE EXTENSION timescaledb``);
- ``available-not-preloaded``: installed on the server, not loaded: plain PostgreSQL;
- ``created-not-preloaded``: the database uses TimescaleDB but the server no longer loads
  it: writes fail and compressed readings are invisible, so ``adopt_timescale`` refuses
  (``TimescaleNotLoaded``) until ``shared_preload_libraries`` has it again;
- ``absent``: not installed, or not PostgreSQL at all.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Literal, TypeVar

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

__all__ = [
    "AGGREGATES",
    "CONVERT_AT_START_MAX_BYTES",
    "TimescaleNotLoaded",
    "TimescaleState",
    "adopt_timescale",
    "aggregates_in_use",
    "failed_policies",
    "log_timescale_state",
    "run_failed_policies",
    "set_policies",
    "storage_detail",
    "timescale_state",
]

log = logging.getLogger(__name__)

TimescaleState = Literal[
    "active",
    "preloaded-not-converted",
    "preloaded-not-created",
    "available-not-preloaded",
    "created-not-preloaded",
    "absent",
]


class TimescaleNotLoaded(RuntimeError):
    """The database uses TimescaleDB, the server does not load it: nothing may start."""


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
# setting (default one day) and retention drops whole days. Measured (docs/benchmarks.md):
# a reading takes ~94 B uncompressed with both indexes, so a day of 1 Hz readings is ~24 MB
# per machine of 3 sensors, and one-day chunks stay within a quarter of a 16 GB server's
# memory (TimescaleDB's rule for the chunks being written) up to ~160 such machines. Bigger
# fleets: SELECT set_chunk_time_interval('readings', INTERVAL '6 hours').
_CONVERT = (
    "SELECT create_hypertable('readings', by_range('ts', INTERVAL '1 day'),"
    " if_not_exists => true, migrate_data => true)"
)
_HYPERTABLE = text(
    "SELECT compression_enabled FROM timescaledb_information.hypertables"
    " WHERE hypertable_schema = current_schema() AND hypertable_name = 'readings'"
)
# Converting copies every row into chunks under an exclusive lock (measured ~93 k rows/s
# here): a start converts up to 1 GiB of table (~11 M readings, about two minutes); a bigger
# one is left to an operator's maintenance window rather than holding every process's start.
CONVERT_AT_START_MAX_BYTES = 1 << 30


def timescale_state(bind: Engine | Connection) -> TimescaleState:
    """What TimescaleDB can do for this database right now (see the module docstring)."""
    if bind.dialect.name != "postgresql":
        return "absent"
    return _read(bind, _state)


_T = TypeVar("_T")


def _read(bind: Engine | Connection, read: Callable[[Connection], _T]) -> _T:
    """``read`` on ``bind``: a connection as it is, an engine through one of its own."""
    if isinstance(bind, Engine):
        with bind.connect() as conn:
            return read(conn)
    return read(bind)


def _state(conn: Connection) -> TimescaleState:
    if not conn.execute(_AVAILABLE).scalar():
        return "absent"
    created = bool(conn.execute(_CREATED).scalar())
    if not conn.execute(_PRELOADED).scalar():
        return "created-not-preloaded" if created else "available-not-preloaded"
    if not created:
        return "preloaded-not-created"
    if conn.execute(_HYPERTABLE).scalar() is None:
        return "preloaded-not-converted"
    return "active"


# What each state means for an operator: (log level, one line), logged at start and shown
# under /readyz's "storage"
STATE_NOTES: dict[TimescaleState, tuple[int, str]] = {
    "active": (
        logging.INFO,
        "TimescaleDB (readings hypertable, compression, retention, continuous aggregates)",
    ),
    "preloaded-not-converted": (
        logging.WARNING,
        "plain PostgreSQL; TimescaleDB is ready but readings is too big to convert during a "
        f"start: in a maintenance window run {_CONVERT}, then restart the app",
    ),
    "preloaded-not-created": (
        logging.WARNING,
        "plain PostgreSQL; TimescaleDB is preloaded but not created in this database: a "
        "superuser may run CREATE EXTENSION timescaledb, then restart the app",
    ),
    "available-not-preloaded": (
        logging.INFO,
        "plain PostgreSQL; TimescaleDB is installed but not in shared_preload_libraries, so "
        "it is not used",
    ),
    "created-not-preloaded": (
        logging.ERROR,
        "this database uses TimescaleDB but the server does not load it: add timescaledb to "
        "shared_preload_libraries and restart PostgreSQL",
    ),
    "absent": (logging.INFO, "plain PostgreSQL (TimescaleDB is not installed)"),
}


def log_timescale_state(state: TimescaleState) -> None:
    """One log line saying which storage the platform runs on, and what an operator may do."""
    level, note = STATE_NOTES[state]
    log.log(level, "storage: %s", note)


def storage_detail(bind: Engine | Connection) -> dict[str, str]:
    """What /readyz says of the storage: the backend in use, TimescaleDB's state, a note."""
    if bind.dialect.name != "postgresql":
        return {"backend": bind.dialect.name, "timescaledb": "absent", "note": "SQLite"}
    state = timescale_state(bind)
    backend = "timescaledb" if state == "active" else "postgresql"
    detail = {"backend": backend, "timescaledb": state, "note": STATE_NOTES[state][1]}
    if state == "active" and (failed := _read(bind, _failed)):
        detail["policies"] = (
            "TimescaleDB's job runner failed "
            + ", ".join(_policy(proc, table) for _, proc, table in failed)
            + ": the worker's policies job runs them"
        )
    return detail


def adopt_timescale(conn: Connection) -> TimescaleState:
    """When the server preloads TimescaleDB: create the extension if this role may, make
    ``readings`` a hypertable (moving its rows into chunks) unless it is too big to do during
    a start, and enable its compression. Idempotent; a no-op anywhere else. Returns the
    state afterwards."""
    state = timescale_state(conn)
    if state == "created-not-preloaded":
        raise TimescaleNotLoaded(
            "this database uses TimescaleDB but the server does not preload it (its writes "
            "would fail, compressed readings would be invisible): add timescaledb to "
            "shared_preload_libraries and restart PostgreSQL"
        )
    if state == "preloaded-not-created":
        state = _create_extension(conn)
    if state == "preloaded-not-converted":
        state = _convert(conn)
    if state == "active":
        _enable_compression(conn)
        _create_aggregates(conn)
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
    return "preloaded-not-converted"


def _convert(conn: Connection) -> TimescaleState:
    size = conn.execute(text("SELECT pg_total_relation_size('readings')")).scalar() or 0
    if size > CONVERT_AT_START_MAX_BYTES:
        return "preloaded-not-converted"
    log.info("readings becomes a hypertable (moving %d MB of readings into chunks)", size >> 20)
    # the primary key (sensor_id, ts) holds the time column, as a hypertable requires
    conn.execute(text(_CONVERT))
    return "active"


def _enable_compression(conn: Connection) -> None:
    if not conn.execute(_HYPERTABLE).scalar():
        # one segment per sensor, newest first: the machine page reads a sensor's latest span
        conn.execute(
            text(
                "ALTER TABLE readings SET (timescaledb.compress,"
                " timescaledb.compress_segmentby = 'sensor_id',"
                " timescaledb.compress_orderby = 'ts DESC')"
            )
        )


# The continuous aggregates, by name: their bucket in seconds, how far behind now their refresh
# stops (the real-time part reads the rest from raw readings) and how often it runs. The
# columns are the rollup table's (sensor_id, bucket, n, mean, min, max), so readers swap one
# for the other (data.rollup.rollup_source). A refresh recomputes the invalidated buckets of
# its window from raw readings, and dropping a raw chunk invalidates its span (measured
# here: a refresh over dropped chunks empties their buckets), so the window must start after
# what retention drops: ``set_policies`` starts it ``refresh_from`` back (the raw retention),
# and it starts at the beginning (NULL) only from creation to the worker's first
# ``set_policies``, so that a populated database converted later is materialized whole.
AGGREGATES: dict[str, tuple[int, timedelta, timedelta]] = {
    "readings_10m_agg": (600, timedelta(minutes=10), timedelta(minutes=1)),
    "readings_1h_agg": (3600, timedelta(hours=1), timedelta(minutes=10)),
}
_AGGREGATE = (
    "CREATE MATERIALIZED VIEW {name} WITH (timescaledb.continuous,"
    " timescaledb.materialized_only = false) AS"
    " SELECT sensor_id, time_bucket(INTERVAL '{seconds} seconds', ts) AS bucket,"
    " count(*)::integer AS n, avg(value) AS mean, min(value) AS min, max(value) AS max"
    " FROM readings GROUP BY sensor_id, bucket WITH NO DATA"
)


def _create_aggregates(conn: Connection) -> None:
    """The continuous aggregates and their refresh policies, where missing (no data yet:
    the policy's first run, at once, materializes them; until then they read raw)."""
    conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('pdm-timescale-aggregates'))"))
    for name, (seconds, _, _) in AGGREGATES.items():
        if conn.execute(text("SELECT to_regclass(:n)"), {"n": name}).scalar() is not None:
            continue
        log.info("TimescaleDB continuous aggregate %s (%d s buckets, real-time)", name, seconds)
        conn.execute(text(_AGGREGATE.format(name=name, seconds=seconds)))
        _add_refresh(conn, name, None)


def _add_refresh(conn: Connection, name: str, start: timedelta | None) -> None:
    # A run refreshes its window in batches of a day, each its own transaction, oldest first
    # and all of them: the watermark (where the real-time part starts) then only passes
    # materialized buckets. TimescaleDB's default (newest first, at most 10 batches of 10
    # buckets a run) moves it to the newest batch at once and leaves the older buckets out of
    # every read until later runs fill them: seen here, a converted database's series lost
    # days for minutes.
    # (start_offset takes "any": a NULL must be written out, a bound NULL has no type)
    seconds, end, every = AGGREGATES[name]
    conn.execute(
        text(
            "SELECT add_continuous_aggregate_policy(:n, start_offset => "
            + ("NULL" if start is None else "CAST(:start AS interval)")
            + ", end_offset => CAST(:end AS interval), schedule_interval => :every,"
            " buckets_per_batch => :batch, max_batches_per_execution => 0,"
            " refresh_newest_first => false)"
        ),
        {"n": name, "start": start, "end": end, "every": every, "batch": 86400 // seconds},
    )


def aggregates_in_use(bind: Engine | Connection) -> bool:
    """True where readers take buckets from the continuous aggregates (state ``active``, once
    ``adopt_timescale`` made them); elsewhere the rollup table and its job serve them. One
    catalogue look-up, cheap enough for every read."""
    if bind.dialect.name != "postgresql":
        return False
    probe = text("SELECT to_regclass(:n) IS NOT NULL")
    return _read(
        bind, lambda conn: bool(conn.execute(probe, {"n": next(iter(AGGREGATES))}).scalar())
    )


def set_policies(
    conn: Connection,
    *,
    compress_after: timedelta | None,
    drop_after: timedelta | None,
    refresh_from: timedelta | None = None,
) -> None:
    """Make the compression and retention policies on ``readings`` what is asked (None:
    none), and the aggregates' refresh windows start ``refresh_from`` back (None: from the
    beginning; it must not reach what retention drops). Only call when the state is
    ``active``. Workers starting together do it one after the other (each reads, then
    changes: two would add the same policy). The refresh windows first: a retention policy
    must never drop chunks that a refresh would then empty."""
    conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('pdm-timescale-policies'))"))
    for name in AGGREGATES:
        _set_refresh(conn, name, refresh_from)
    _set_policy(conn, "compression", "compress_after", compress_after)
    _set_policy(conn, "retention", "drop_after", drop_after)


def _set_refresh(conn: Connection, name: str, start: timedelta | None) -> None:
    found = conn.execute(
        text(
            "SELECT count(*), max((config->>'start_offset')::interval) FROM"
            " timescaledb_information.jobs WHERE proc_name = 'policy_refresh_continuous_aggregate'"
            " AND hypertable_name = :n"
        ),
        {"n": name},
    ).one()
    if found[0] and found[1] == start:
        return
    if found[0]:
        conn.execute(text("SELECT remove_continuous_aggregate_policy(:n)"), {"n": name})
    _add_refresh(conn, name, start)
    log.info("TimescaleDB refresh of %s from %s back", name, start or "the beginning")


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


# The project's policies: the aggregates' refreshes, and compression and retention on readings
_OURS = (
    "j.hypertable_schema = current_schema() AND j.hypertable_name IN ('readings', "
    + ", ".join(f"'{name}'" for name in AGGREGATES)
    + ") AND j.proc_name IN ('policy_refresh_continuous_aggregate', 'policy_compression',"
    " 'policy_retention')"
)
_FAILED = text(
    "SELECT j.job_id, j.proc_name, j.hypertable_name FROM timescaledb_information.jobs j"
    " JOIN timescaledb_information.job_stats s USING (job_id)"
    f" WHERE {_OURS} AND s.last_run_status = 'Failed' ORDER BY j.job_id"
)


def failed_policies(bind: Engine | Connection) -> list[tuple[int, str, str]]:
    """The project's policies whose last run by TimescaleDB's job runner failed: (job id,
    procedure, table). Empty while the runner does its work, and off TimescaleDB."""
    if bind.dialect.name != "postgresql":
        return []
    return _read(bind, lambda conn: _failed(conn) if _state(conn) == "active" else [])


def _failed(conn: Connection) -> list[tuple[int, str, str]]:
    return [(int(job), str(proc), str(table)) for job, proc, table in conn.execute(_FAILED)]


def _policy(proc: str, table: str) -> str:
    """A policy as people read it: "compression of readings"."""
    return f"{proc.removeprefix('policy_')} of {table}"


def run_failed_policies(engine: Engine) -> list[str]:
    """Run, in this process, each of the project's policies that TimescaleDB's job runner
    failed (``CALL run_job``, TimescaleDB's own way to run a job by hand); returns what ran.

    Some servers' runners fail every job, TimescaleDB's own included: Debian's PostgreSQL
    15.20 with TimescaleDB 2.28.3 built from source ends each background run with "cannot
    drop portal "" while it is being set up", while the same jobs run in a session succeed.
    There the aggregates would never be materialized and readings never compressed; the
    worker's ``policies`` job calls this every minute so that they are. A policy that fails
    here too raises its own error (the job records it). Where the runner works, nothing is
    run."""
    ran = []
    for job_id, proc, table in failed_policies(engine):
        # a policy commits as it goes (a batch, a chunk at a time): no enclosing transaction
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("CALL run_job(:id)"), {"id": job_id})
        ran.append(_policy(proc, table))
    return ran
