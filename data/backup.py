"""Backup and restore of the whole database, online.

``python -m data.backup backup FILE`` and ``python -m data.backup restore FILE`` use the
database of ``PDM_DATABASE_URL`` (or the default SQLite file):

- SQLite: SQLite's online backup API copies a consistent snapshot while the app keeps
  writing (never copy the file by hand: the WAL would be missing). Restore copies the
  snapshot back page by page; stop the app first.
- PostgreSQL: ``pg_dump --format=custom`` (a consistent snapshot, online) and
  ``pg_restore --clean --if-exists``; the PostgreSQL client tools must be installed.
- TimescaleDB (the target database has the extension, or the backup does: a fresh database
  on a server that preloads TimescaleDB gets it first): ``pg_restore --clean`` cannot drop
  hypertables (``ONLY`` is refused) nor fill TimescaleDB's catalog, so the restore runs as
  TimescaleDB documents it, between ``timescaledb_pre_restore()`` and
  ``timescaledb_post_restore()``, into an emptied ``public`` schema and a fresh extension:
  the emptying and the whole restore are one transaction (``psql --single-transaction``), so
  a failed restore leaves the database as it was.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import subprocess
from contextlib import suppress
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from config import load_settings

__all__ = ["backup", "restore"]


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database:
        raise ValueError("an in-memory SQLite database has nothing to back up")
    return Path(database)


def _libpq_url(url: str) -> str:
    """The URL as pg_dump understands it (no SQLAlchemy driver suffix)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _tool(name: str) -> str:
    found = shutil.which(name) or next(
        iter(sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True)), None
    )
    if not found:
        raise RuntimeError(f"{name} not found: install the PostgreSQL client tools")
    return str(found)


def backup(url: str, dest: Path) -> Path:
    """Write a consistent copy of the database at ``url`` to ``dest``."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    if url.startswith("sqlite"):
        with sqlite3.connect(_sqlite_path(url)) as source, sqlite3.connect(dest) as target:
            source.backup(target)
        return dest
    subprocess.run(
        [_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={dest}", _libpq_url(url)],
        check=True,
    )
    return dest


def restore(url: str, src: Path) -> None:
    """Replace the database at ``url`` with the backup ``src`` (stop the app first)."""
    if not src.exists():
        raise FileNotFoundError(src)
    if url.startswith("sqlite"):
        with sqlite3.connect(src) as source, sqlite3.connect(_sqlite_path(url)) as target:
            source.backup(target)
        return
    if _uses_timescale(_libpq_url(url)) or _dumped_timescale(src):
        _restore_timescale(_libpq_url(url), src)
        return
    subprocess.run(
        [
            _tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            f"--dbname={_libpq_url(url)}",
            str(src),
        ],
        check=True,
    )


def _uses_timescale(libpq: str) -> bool:
    with psycopg.connect(libpq, autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'")
        return found.fetchone() is not None


def _dumped_timescale(src: Path) -> bool:
    """Whether the backup holds a TimescaleDB database (a fresh target has no extension yet)."""
    listing = subprocess.run(
        [_tool("pg_restore"), "--list", str(src)], capture_output=True, text=True
    ).stdout
    return any(line.rstrip().endswith("EXTENSION - timescaledb") for line in listing.splitlines())


# Runs first in the restore's transaction: the dump then finds what a fresh database has.
_EMPTY = b"""SET client_min_messages = warning;
DROP EXTENSION timescaledb CASCADE;
DROP SCHEMA public CASCADE;
CREATE SCHEMA public;
ALTER SCHEMA public OWNER TO pg_database_owner;
GRANT USAGE ON SCHEMA public TO PUBLIC;
CREATE EXTENSION timescaledb;
"""
# Fed to psql instead of the end of the script when pg_restore fails: the transaction aborts.
_ABORT = b"\nDO $$BEGIN RAISE EXCEPTION 'the backup could not be read'; END$$;\n"


def _restore_timescale(libpq: str, src: Path) -> None:
    with psycopg.connect(libpq, autocommit=True) as conn:
        # a fresh database first gets the extension (the server must preload it)
        conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
        conn.execute("SELECT timescaledb_pre_restore()")  # background jobs stop meanwhile
    try:
        _restore_script(libpq, src)
    finally:
        with psycopg.connect(libpq, autocommit=True) as conn:
            conn.execute("SELECT timescaledb_post_restore()")


def _restore_script(libpq: str, src: Path) -> None:
    """``pg_restore``'s SQL, after ``_EMPTY``, through one ``psql`` transaction."""
    psql = [_tool("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction"]
    with subprocess.Popen(
        [*psql, f"--dbname={libpq}", "--file=-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
    ) as sink:
        assert sink.stdin is not None
        with suppress(BrokenPipeError):  # psql stopped at an error: its code says so
            sink.stdin.write(_EMPTY)
            sink.stdin.flush()
        dump = subprocess.run(
            [_tool("pg_restore"), "--no-owner", "--file=-", str(src)], stdout=sink.stdin
        )
        with suppress(BrokenPipeError):
            if dump.returncode:
                sink.stdin.write(_ABORT)
            sink.stdin.close()
    if dump.returncode or sink.returncode:
        raise subprocess.CalledProcessError(dump.returncode or sink.returncode, psql)


def main(argv: list[str] | None = None) -> None:

    parser = argparse.ArgumentParser(
        prog="python -m data.backup",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("action", choices=["backup", "restore"])
    parser.add_argument("file", type=Path)
    args = parser.parse_args(argv)
    url = load_settings().effective_database_url
    if args.action == "backup":
        print(f"backed up to {backup(url, args.file)}")
    else:
        restore(url, args.file)
        print(f"restored from {args.file}")


if __name__ == "__main__":
    main()
