"""Alembic migrations: the migrated schema is exactly gerbang_server/db.py's metadata, on SQLite and
PostgreSQL; downgrade and re-upgrade work; auto-migrate can be switched off."""

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from gerbang_server import db

from .conftest import make_test_app


def test_migrated_schema_matches_metadata(app):
    eng = app.extensions["gerbang_engine"]
    with eng.connect() as conn:
        mc = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(mc, db.metadata)
    assert diff == []
    assert db.current_revision(eng) == "0003"


def test_unique_device_seq_and_indexes(app):
    insp = inspect(app.extensions["gerbang_engine"])
    uniques = {tuple(u["column_names"]) for u in insp.get_unique_constraints("scan_records")}
    assert ("device_id", "seq") in uniques
    idx = {tuple(i["column_names"]) for i in insp.get_indexes("devices")}
    assert ("kid",) in idx
    assert not any(i["unique"] for i in insp.get_indexes("devices") if i["column_names"] == ["kid"])


def test_downgrade_and_upgrade_again(app):
    eng = app.extensions["gerbang_engine"]
    cfg = Config()
    cfg.set_main_option("script_location", db.MIGRATIONS)
    with eng.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    assert set(inspect(eng).get_table_names()) <= {"alembic_version"}
    db.upgrade(eng)
    assert set(db.metadata.tables) <= set(inspect(eng).get_table_names())


def test_auto_migrate_off(database, clock):
    app = make_test_app(database, clock, GERBANG_AUTO_MIGRATE=False)
    try:
        eng = app.extensions["gerbang_engine"]
        assert "areas" not in inspect(eng).get_table_names()
        with app.app_context():
            assert db.init_db(clock()) == 18
            assert db.init_db(clock()) == 18  # idempotent
        assert db.current_revision(eng) == "0003"
    finally:
        app.extensions["gerbang_engine"].dispose()


def test_sqlite_pragmas(app):
    eng = app.extensions["gerbang_engine"]
    if eng.dialect.name != "sqlite":
        pytest.skip("SQLite pragmas")
    with eng.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
