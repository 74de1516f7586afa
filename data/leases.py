"""Leases in the database, judged by the database's clock on PostgreSQL (several hosts never
compare their own clocks), and the locks that serialise concurrent starts.

A lease is one row: taken when free or expired, renewed by its holder, released on a clean
stop. ``worker:<id>`` rows say which workers are alive; a claim (a lab run, a notification
being sent) made by a worker without a live presence row is void.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, Select, case, delete, func, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from data.db import Database
from data.models import Lease, UtcDateTime

__all__ = [
    "PRESENCE",
    "db_now",
    "holders",
    "live_workers",
    "presence",
    "release",
    "serialised",
    "take",
    "try_exclusive",
]

PRESENCE = "worker:"  # a worker's presence lease is named worker:<its id>


def presence(worker: str) -> str:
    """The name of ``worker``'s presence lease."""
    return PRESENCE + worker


def db_now(session: Session) -> ColumnElement[datetime]:
    """Now, by the database's clock on PostgreSQL (one clock for every host); SQLite has
    one host, whose clock it is."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(ColumnElement[datetime], func.now())
    return literal(datetime.now(UTC), UtcDateTime())


def _later(session: Session, seconds: float) -> ColumnElement[datetime]:
    if session.get_bind().dialect.name == "postgresql":
        return func.now() + timedelta(seconds=seconds)
    return literal(datetime.now(UTC) + timedelta(seconds=seconds), UtcDateTime())


def take(*, session: Session, names: Iterable[str], holder: str, ttl_s: float) -> set[str]:
    """Take the free or expired leases among ``names`` and renew those ``holder`` has, for
    ``ttl_s`` seconds; the names it holds now (one statement, whoever else tries)."""
    names = sorted(set(names))  # one order for every worker: no deadlock between them
    if not names:
        return set()
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    now, until = db_now(session), _later(session, ttl_s)
    rows = [{"name": n, "holder": holder, "acquired_at": now, "expires_at": until} for n in names]
    stmt = dialect.insert(Lease).values(rows)
    new = stmt.excluded
    upsert = stmt.on_conflict_do_update(
        index_elements=[Lease.name],
        set_={
            "holder": new.holder,
            "expires_at": new.expires_at,
            "acquired_at": case(
                (Lease.holder == new.holder, Lease.acquired_at), else_=new.acquired_at
            ),
        },
        where=(Lease.holder == new.holder) | (Lease.expires_at < now),
    ).returning(Lease.name)
    return set(session.scalars(upsert))


def release(*, session: Session, holder: str, names: Iterable[str] | None = None) -> int:
    """Give up ``holder``'s leases (all, or those named): others take them at once."""
    stmt = delete(Lease).where(Lease.holder == holder)
    if names is not None:
        stmt = stmt.where(Lease.name.in_(list(names)))
    return cast(CursorResult[Any], session.execute(stmt)).rowcount


def holders(*, session: Session) -> dict[str, str]:
    """{lease: holder} of every lease not expired."""
    stmt = select(Lease.name, Lease.holder).where(Lease.expires_at >= db_now(session))
    return {name: holder for name, holder in session.execute(stmt)}


def live_workers(session: Session) -> Select[str]:
    """The ids of the workers alive now (their presence lease not expired), as a subquery."""
    return select(Lease.holder).where(
        Lease.name.startswith(PRESENCE), Lease.expires_at >= db_now(session)
    )


def _key(name: str) -> int:
    """A stable 32-bit advisory-lock key for a name (the same in every process)."""
    return zlib.crc32(name.encode())


def serialised(*, session: Session, name: str) -> None:
    """Hold the PostgreSQL lock ``name`` until this transaction ends: concurrent starts
    (seeding, say) run one after the other and each sees what the previous wrote. SQLite
    serialises its writers itself."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(_key(name))))


@contextmanager
def try_exclusive(db: Database, name: str) -> Iterator[bool]:
    """True while this process alone holds the PostgreSQL lock ``name`` (kept on one
    connection: a crash frees it), False when another process holds it; SQLite: True."""
    if db.dialect != "postgresql":
        yield True
        return
    with db.engine.connect() as conn:
        got = bool(conn.scalar(select(func.pg_try_advisory_lock(_key(name)))))
        conn.commit()
        try:
            yield got
        finally:
            if got:
                conn.execute(select(func.pg_advisory_unlock(_key(name))))
                conn.commit()
