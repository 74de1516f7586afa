"""Alembic environment: runs on the connection handed over by ``data.db.upgrade_schema``
or, from the ``alembic`` command line, on ``PDM_DATABASE_URL``."""

from alembic import context
from sqlalchemy import Connection, create_engine

from data.models import Base

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,  # SQLite needs batch mode for ALTER TABLE
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    from config import load_settings

    engine = create_engine(load_settings().effective_database_url)
    with engine.begin() as conn:
        _run(conn)
