"""Alembic environment. The server runs migrations with its own connection
(``gerbang_server.db.upgrade``); the ``alembic`` command line works too, from ``DATABASE_URL``."""

import os

from alembic import context

from gerbang_server.db import make_engine, metadata

config = context.config


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True,
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = os.environ.get("DATABASE_URL") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("set DATABASE_URL (or use `flask --app gerbang_server db-upgrade`)")
    with make_engine(url).begin() as conn:
        _run(conn)
