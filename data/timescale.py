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
from typing import Literal

from sqlalchemy import Connection, Engine, text

__all__ = ["TimescaleState", "timescale_state", "log_timescale_state"]

log = logging.getLogger(__name__)

TimescaleState = Literal["active", "preloaded-not-created", "available-not-preloaded", "absent"]

# pg_settings hides superuser-only settings such as shared_preload_libraries from ordinary
# roles (no error, just no row); the loader's own setting shows whenever it is loaded.
_PRELOADED = text(
    "SELECT count(*) FROM pg_settings WHERE name = 'timescaledb.disable_load'"
    " OR (name = 'shared_preload_libraries' AND 'timescaledb' = ANY("
    "string_to_array(translate(setting, ' \"', ''), ',')))"
)
_AVAILABLE = text("SELECT count(*) FROM pg_available_extensions WHERE name = 'timescaledb'")
_CREATED = text("SELECT count(*) FROM pg_extension WHERE extname = 'timescaledb'")


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
        log.info("storage: TimescaleDB (readings hypertable, compression, retention)")
    elif state == "preloaded-not-created":
        log.warning(
            "storage: plain PostgreSQL; TimescaleDB is preloaded but not created in this "
            "database: a superuser may run CREATE EXTENSION timescaledb, then restart"
        )
    elif state == "available-not-preloaded":
        log.info(
            "storage: plain PostgreSQL; TimescaleDB is installed but not in "
            "shared_preload_libraries, so it is not used"
        )
