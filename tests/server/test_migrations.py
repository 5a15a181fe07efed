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
    assert db.current_revision(eng) == db.head_revision()


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
        assert db.current_revision(eng) == db.head_revision()
    finally:
        app.extensions["gerbang_engine"].dispose()


def test_sqlite_pragmas(app):
    eng = app.extensions["gerbang_engine"]
    if eng.dialect.name != "sqlite":
        pytest.skip("SQLite pragmas")
    with eng.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_0002_keeps_json_text_as_documents(app):
    """A database at 0001 with JSON text in its Text columns (areas referenced by devices)
    upgrades to JSON columns holding the same documents, and back."""
    from sqlalchemy import text

    eng = app.extensions["gerbang_engine"]
    db.downgrade(eng, "0001")
    with eng.begin() as conn:
        conn.execute(text("UPDATE areas SET policy = :p WHERE id = 1"),
                     {"p": '{"clock_policy":0,"min_doses":2}'})
        conn.execute(text(
            "INSERT INTO devices (id, area_id, public_key, kid, state, registered_at, "
            "last_counter, acked_seq, max_seq, trust_serial, health, gaps, config) VALUES "
            "('d1', 1, :pk, :kid, 'active', 1, 0, 0, 0, 0, :h, :g, :c)"),
            {"pk": bytes(32), "kid": bytes(8), "h": '{"1":80000}', "g": "[[3,4]]",
             "c": '{"relay_ms":900}'})
        conn.execute(text("INSERT INTO audit_log (at, actor, action, details) "
                          "VALUES (1, 'a', 'x', :d)"), {"d": '{"k":[1,"v"]}'})
    db.upgrade(eng)
    with eng.connect() as conn:
        area = conn.execute(db.areas.select().where(db.areas.c.id == 1)).first()
        dev = conn.execute(db.devices.select()).first()
        entry = conn.execute(db.audit_log.select().where(db.audit_log.c.actor == "a")).first()
        assert conn.execute(db.areas.select()).all().__len__() == 18
    assert area.policy == {"clock_policy": 0, "min_doses": 2}
    assert (dev.health, dev.gaps, dev.config) == ({"1": 80000}, [[3, 4]], {"relay_ms": 900})
    assert entry.details == {"k": [1, "v"]}
    db.downgrade(eng, "0001")
    with eng.connect() as conn:
        assert conn.execute(text("SELECT config FROM devices")).scalar_one() == '{"relay_ms":900}'
    db.upgrade(eng)
