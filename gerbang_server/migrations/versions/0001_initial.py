"""Initial schema: areas, devices, issuer and signer keys, trust lists, certificates,
revocations, scan records, admin tokens, audit log.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('admin_tokens',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.Column('last_used_at', sa.BigInteger(), nullable=True),
        sa.Column('revoked_at', sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash')
    )
    op.create_table('areas',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('slug', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('policy', sa.Text(), nullable=False),
        sa.Column('tag_key', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('slug')
    )
    op.create_table('audit_log',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('at', sa.BigInteger(), nullable=False),
        sa.Column('actor', sa.String(length=100), nullable=False),
        sa.Column('action', sa.String(length=100), nullable=False),
        sa.Column('target', sa.String(length=200), nullable=True),
        sa.Column('status', sa.Integer(), nullable=True),
        sa.Column('details', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_audit_log_at'), 'audit_log', ['at'], unique=False)
    op.create_table('signer_keys',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('kid', sa.LargeBinary(), nullable=False),
        sa.Column('public_key', sa.LargeBinary(), nullable=False),
        sa.Column('private_key_enc', sa.LargeBinary(), nullable=False),
        sa.Column('keycert', sa.LargeBinary(), nullable=False),
        sa.Column('not_before', sa.BigInteger(), nullable=False),
        sa.Column('not_after', sa.BigInteger(), nullable=False),
        sa.Column('imported_at', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id')
    )
    op.create_table('devices',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('area_id', sa.Integer(), nullable=False),
        sa.Column('public_key', sa.LargeBinary(), nullable=False),
        sa.Column('kid', sa.LargeBinary(), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('firmware', sa.String(length=32), nullable=True),
        sa.Column('registered_at', sa.BigInteger(), nullable=False),
        sa.Column('retired_at', sa.BigInteger(), nullable=True),
        sa.Column('last_sync_at', sa.BigInteger(), nullable=True),
        sa.Column('last_device_time', sa.BigInteger(), nullable=True),
        sa.Column('health', sa.Text(), nullable=True),
        sa.Column('last_counter', sa.BigInteger(), nullable=False),
        sa.Column('acked_seq', sa.BigInteger(), nullable=False),
        sa.Column('max_seq', sa.BigInteger(), nullable=False),
        sa.Column('gaps', sa.Text(), nullable=True),
        sa.Column('trust_serial', sa.BigInteger(), nullable=False),
        sa.Column('config', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['area_id'], ['areas.id'], ),
        sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_devices_area_id'), 'devices', ['area_id'], unique=False)
    op.create_index(op.f('ix_devices_kid'), 'devices', ['kid'], unique=False)
    op.create_table('issuer_keys',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('area_id', sa.Integer(), nullable=False),
        sa.Column('kid', sa.LargeBinary(), nullable=False),
        sa.Column('public_key', sa.LargeBinary(), nullable=False),
        sa.Column('private_key_enc', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.Column('activates_at', sa.BigInteger(), nullable=False),
        sa.Column('accept_from', sa.BigInteger(), nullable=False),
        sa.Column('revoked_at', sa.BigInteger(), nullable=True),
        sa.Column('revoke_reason', sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(['area_id'], ['areas.id'], ),
        sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_issuer_keys_area_id'), 'issuer_keys', ['area_id'], unique=False)
    op.create_index(op.f('ix_issuer_keys_kid'), 'issuer_keys', ['kid'], unique=False)
    op.create_table('revocations',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('area_id', sa.Integer(), nullable=False),
        sa.Column('cti_hash', sa.LargeBinary(), nullable=False),
        sa.Column('exp', sa.BigInteger(), nullable=False),
        sa.Column('revoked_at', sa.BigInteger(), nullable=False),
        sa.Column('reason', sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(['area_id'], ['areas.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('area_id', 'cti_hash', name='uq_revocations_area_cti')
    )
    op.create_table('trustlists',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('area_id', sa.Integer(), nullable=False),
        sa.Column('serial', sa.BigInteger(), nullable=False),
        sa.Column('issued', sa.BigInteger(), nullable=False),
        sa.Column('expires', sa.BigInteger(), nullable=False),
        sa.Column('content_hash', sa.LargeBinary(), nullable=False),
        sa.Column('bundle', sa.LargeBinary(), nullable=False),
        sa.Column('etag', sa.String(length=64), nullable=False),
        sa.Column('signer_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['area_id'], ['areas.id'], ),
        sa.ForeignKeyConstraint(['signer_id'], ['signer_keys.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('area_id', 'serial', name='uq_trustlists_area_serial')
    )
    op.create_table('issued_certs',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('cti_hash', sa.LargeBinary(), nullable=False),
        sa.Column('area_id', sa.Integer(), nullable=False),
        sa.Column('key_id', sa.Integer(), nullable=False),
        sa.Column('iat', sa.BigInteger(), nullable=False),
        sa.Column('exp', sa.BigInteger(), nullable=False),
        sa.Column('category', sa.SmallInteger(), nullable=False),
        sa.ForeignKeyConstraint(['area_id'], ['areas.id'], ),
        sa.ForeignKeyConstraint(['key_id'], ['issuer_keys.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('cti_hash')
    )
    op.create_index(op.f('ix_issued_certs_key_id'), 'issued_certs', ['key_id'], unique=False)
    op.create_table('scan_records',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('device_id', sa.String(length=32), nullable=False),
        sa.Column('area_id', sa.Integer(), nullable=False),
        sa.Column('seq', sa.BigInteger(), nullable=False),
        sa.Column('time', sa.BigInteger(), nullable=False),
        sa.Column('decision', sa.SmallInteger(), nullable=False),
        sa.Column('reason', sa.SmallInteger(), nullable=False),
        sa.Column('clock', sa.SmallInteger(), nullable=False),
        sa.Column('flags', sa.SmallInteger(), nullable=False),
        sa.Column('kid', sa.LargeBinary(), nullable=False),
        sa.Column('tag', sa.LargeBinary(), nullable=False),
        sa.Column('received_at', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['device_id'], ['devices.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('device_id', 'seq', name='uq_scan_records_device_seq')
    )
    op.create_index('ix_scan_records_area_time', 'scan_records', ['area_id', 'time'], unique=False)
    op.create_index('ix_scan_records_time', 'scan_records', ['time'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_scan_records_time', table_name='scan_records')
    op.drop_index('ix_scan_records_area_time', table_name='scan_records')
    op.drop_table('scan_records')
    op.drop_index(op.f('ix_issued_certs_key_id'), table_name='issued_certs')
    op.drop_table('issued_certs')
    op.drop_table('trustlists')
    op.drop_table('revocations')
    op.drop_index(op.f('ix_issuer_keys_kid'), table_name='issuer_keys')
    op.drop_index(op.f('ix_issuer_keys_area_id'), table_name='issuer_keys')
    op.drop_table('issuer_keys')
    op.drop_index(op.f('ix_devices_kid'), table_name='devices')
    op.drop_index(op.f('ix_devices_area_id'), table_name='devices')
    op.drop_table('devices')
    op.drop_table('signer_keys')
    op.drop_index(op.f('ix_audit_log_at'), table_name='audit_log')
    op.drop_table('audit_log')
    op.drop_table('areas')
    op.drop_table('admin_tokens')
