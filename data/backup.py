"""Backup and restore of the whole database, online.

``python -m data.backup backup FILE`` and ``python -m data.backup restore FILE`` use the
database of ``PDM_DATABASE_URL`` (or the default SQLite file):

- SQLite: SQLite's online backup API copies a consistent snapshot while the app keeps
  writing (never copy the file by hand: the WAL would be missing). Restore copies the
  snapshot back page by page; stop the app first.
- PostgreSQL: ``pg_dump --format=custom`` (a consistent snapshot, online) and
  ``pg_restore --clean --if-exists``; the PostgreSQL client tools must be installed.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

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


def main(argv: list[str] | None = None) -> None:
    from config import load_settings

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
