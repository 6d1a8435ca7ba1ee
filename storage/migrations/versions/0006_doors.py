"""trust at the doors: sessions, login codes, rate counters, callback nonces

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

import storage.base


revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('callback_nonces',
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('expires_at', storage.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('channel', 'key', name=op.f('pk_callback_nonces'))
    )
    with op.batch_alter_table('callback_nonces', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_callback_nonces_expires_at'), ['expires_at'], unique=False)

    op.create_table('login_codes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('salt', sa.String(length=32), nullable=False),
    sa.Column('holder_hash', sa.String(length=64), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', storage.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', storage.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', storage.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('client', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_codes'))
    )
    with op.batch_alter_table('login_codes', schema=None) as batch_op:
        batch_op.create_index('ix_login_codes_phone', ['phone', 'created_at'], unique=False)

    op.create_table('login_tickets',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', storage.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', storage.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('openid', sa.String(length=64), nullable=True),
    sa.Column('approved_at', storage.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('used_at', storage.base.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_tickets'))
    )
    with op.batch_alter_table('login_tickets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_tickets_expires_at'), ['expires_at'], unique=False)

    op.create_table('web_links',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('persona_id', sa.String(length=40), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('created_at', storage.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', storage.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', storage.base.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_links'))
    )
    with op.batch_alter_table('web_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_links_code_hash'), ['code_hash'], unique=False)

    op.create_table('rate_counters',
    sa.Column('key', sa.String(length=160), nullable=False),
    sa.Column('window_start', storage.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('expires_at', storage.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', 'window_start', name=op.f('pk_rate_counters'))
    )
    with op.batch_alter_table('rate_counters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rate_counters_expires_at'), ['expires_at'], unique=False)

    op.create_table('web_sessions',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('subject', sa.String(length=64), nullable=False),
    sa.Column('csrf', sa.String(length=64), nullable=False),
    sa.Column('kiosk', sa.Boolean(), nullable=False),
    sa.Column('idle_seconds', sa.Integer(), nullable=False),
    sa.Column('created_at', storage.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', storage.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', storage.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', storage.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('client', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_sessions'))
    )
    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_sessions_subject'), ['subject'], unique=False)

    with op.batch_alter_table('web_personas', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone', sa.String(length=20), nullable=True))
        batch_op.create_index(batch_op.f('ix_web_personas_phone'), ['phone'], unique=False)

    op.create_table('web_room_members',
    sa.Column('room_id', sa.String(length=64), nullable=False),
    sa.Column('persona_id', sa.String(length=40), nullable=False),
    sa.Column('joined_at', storage.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['persona_id'], ['web_personas.id'], name=op.f('fk_web_room_members_persona_id_web_personas'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('room_id', 'persona_id', name=op.f('pk_web_room_members'))
    )
    with op.batch_alter_table('web_room_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_room_members_persona_id'), ['persona_id'], unique=False)

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('passive_for', sa.String(length=128), nullable=True))

    with op.batch_alter_table('contracts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('link_token', sa.String(length=32), server_default='', nullable=False))
    # Contracts made before: a fresh random link token each (their old links stop working).
    conn = op.get_bind()
    contracts = sa.table('contracts', sa.column('id', sa.Integer), sa.column('link_token', sa.String))
    for (contract_id,) in conn.execute(sa.select(contracts.c.id)).all():
        conn.execute(
            contracts.update().where(contracts.c.id == contract_id).values(link_token=secrets.token_urlsafe(16))
        )



def downgrade() -> None:
    op.drop_table('web_links')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('passive_for')
    op.drop_table('login_tickets')
    op.drop_table('web_room_members')
    with op.batch_alter_table('contracts', schema=None) as batch_op:
        batch_op.drop_column('link_token')

    with op.batch_alter_table('web_personas', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_web_personas_phone'))
        batch_op.drop_column('phone')

    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_web_sessions_subject'))

    op.drop_table('web_sessions')
    with op.batch_alter_table('rate_counters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rate_counters_expires_at'))

    op.drop_table('rate_counters')
    with op.batch_alter_table('login_codes', schema=None) as batch_op:
        batch_op.drop_index('ix_login_codes_phone')

    op.drop_table('login_codes')
    with op.batch_alter_table('callback_nonces', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_callback_nonces_expires_at'))

    op.drop_table('callback_nonces')
