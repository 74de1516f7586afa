"""Engine factory, unit-of-work sessions and schema upgrades (Alembic)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.orm import Session, sessionmaker

from data.timescale import adopt_timescale, log_timescale_state, storage_detail

__all__ = ["Database", "make_engine", "upgrade_schema"]

_MIGRATIONS = Path(__file__).parent / "migrations"
_UPGRADE_LOCK = 726_533  # any constant: serialises concurrent upgrades on PostgreSQL
STORAGE_TTL_S = 30.0


def make_engine(url: str) -> Engine:
    """An engine tuned per backend: SQLite in WAL mode, PostgreSQL with pre-ping."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def _sqlite_pragmas(dbapi_conn: DBAPIConnection, _record: object) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def upgrade_schema(engine: Engine) -> None:
    """Bring the schema to the newest migration; safe to call from several processes."""
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _UPGRADE_LOCK})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
        if conn.dialect.name == "postgresql":
            # again after every upgrade, not only in migration 0010: a database migrated
            # before its server preloaded TimescaleDB is converted at the next start
            log_timescale_state(adopt_timescale(conn))


class Database:
    """The engine plus a session factory; one per process."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._storage: tuple[float, dict[str, str]] | None = None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One unit of work: commits on success, rolls back on error."""
        with self._sessions() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def ping(self) -> bool:
        """True when the database answers."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:  # noqa: BLE001 - any failure means not ready
            return False

    def storage(self) -> dict[str, str]:
        """The storage in use, for /readyz (``data.timescale.storage_detail``), kept for
        ``STORAGE_TTL_S``: health checks come every few seconds, the state changes at starts."""
        now = time.monotonic()
        if self._storage is None or now - self._storage[0] > STORAGE_TTL_S:
            try:
                detail = storage_detail(self.engine)
            except Exception:  # noqa: BLE001 - readiness says the database is down already
                return {"backend": self.dialect, "timescaledb": "unknown", "note": "no answer"}
            self._storage = (now, detail)
        return self._storage[1]

    def dispose(self) -> None:
        self.engine.dispose()
