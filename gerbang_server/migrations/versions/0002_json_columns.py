"""JSON columns: areas.policy, devices.health/gaps/config and audit_log.details were JSON text
in Text columns; they become JSON (PostgreSQL json, SQLite JSON text). The stored text is
kept as it is (SQLite copies it uncast; PostgreSQL converts with ``USING col::json``).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# table -> [(column, nullable)]
COLUMNS = {
    "areas": [("policy", False)],
    "devices": [("health", True), ("gaps", True), ("config", True)],
    "audit_log": [("details", True)],
}


def upgrade() -> None:
    for table, cols in COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            for col, nullable in cols:
                batch.alter_column(col, type_=sa.JSON(), existing_type=sa.Text(),
                                   existing_nullable=nullable,
                                   postgresql_using=f"{col}::json")


def downgrade() -> None:
    for table, cols in COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            for col, nullable in cols:
                batch.alter_column(col, type_=sa.Text(), existing_type=sa.JSON(),
                                   existing_nullable=nullable,
                                   postgresql_using=f"{col}::text")
