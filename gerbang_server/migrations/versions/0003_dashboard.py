"""Dashboard: staff accounts, log-in failures, per-hour scan counts (filled from the scan
records already stored), sync history.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dashboard_users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("areas", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("disabled_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
    )
    op.create_table(
        "login_failures",
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("username"),
    )
    op.create_table(
        "scan_hourly",
        sa.Column("area_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("hour", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("device_id", sa.String(length=32), nullable=False),
        sa.Column("decision", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("reason", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("area_id", "hour", "device_id", "decision", "reason"),
    )
    op.create_index("ix_scan_hourly_hour", "scan_hourly", ["hour"], unique=False)
    op.create_table(
        "device_syncs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  autoincrement=True, nullable=False),
        sa.Column("device_id", sa.String(length=32), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("device_time", sa.BigInteger(), nullable=True),
        sa.Column("firmware", sa.String(length=32), nullable=True),
        sa.Column("trust_serial", sa.BigInteger(), nullable=True),
        sa.Column("acked_seq", sa.BigInteger(), nullable=True),
        sa.Column("health", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_device_syncs_device_at", "device_syncs", ["device_id", "at"],
                    unique=False)
    # records stored before this migration are counted once, here; the sync engine keeps the
    # counts from now on (gerbang_server/dashboard/counts.py)
    op.execute(
        "INSERT INTO scan_hourly (area_id, hour, device_id, decision, reason, n) "
        "SELECT area_id, time - time % 3600, device_id, decision, reason, count(*) "
        "FROM scan_records GROUP BY area_id, time - time % 3600, device_id, decision, reason")


def downgrade() -> None:
    op.drop_index("ix_device_syncs_device_at", table_name="device_syncs")
    op.drop_table("device_syncs")
    op.drop_index("ix_scan_hourly_hour", table_name="scan_hourly")
    op.drop_table("scan_hourly")
    op.drop_table("login_failures")
    op.drop_table("dashboard_users")
