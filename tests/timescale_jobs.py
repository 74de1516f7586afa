"""TimescaleDB's background jobs as the TimescaleDB tests read them: each job's config, and
whether every job of a kind has run (``timescaledb_information.jobs`` and ``job_stats``)."""

from __future__ import annotations

from sqlalchemy import text

from data.db import Database


def job_configs(db: Database, *, where: str, key: str) -> dict[str, dict]:
    """``key`` column (e.g. ``proc_name``) -> config of the jobs matching ``where``."""
    with db.engine.connect() as conn:
        rows = conn.execute(
            text(f"SELECT {key}, config FROM timescaledb_information.jobs WHERE {where}")
        )
        return {name: config for name, config in rows}


def jobs_all_ran(db: Database, *, where: str, counter: str = "total_runs") -> bool:
    """Whether every job matching ``where`` (columns of ``jobs``, alias ``j``) has a nonzero
    ``counter`` in its statistics (``total_runs`` or ``total_successes``)."""
    with db.engine.connect() as conn:
        return not conn.scalar(
            text(
                "SELECT count(*) FROM timescaledb_information.jobs j LEFT JOIN "
                "timescaledb_information.job_stats s USING (job_id) "
                f"WHERE {where} AND coalesce(s.{counter}, 0) = 0"
            )
        )
