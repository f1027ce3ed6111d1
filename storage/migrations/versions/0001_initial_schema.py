"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 09:45:56.699328
"""
from alembic import op
import sqlalchemy as sa



revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('deliveries',
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('channel', 'key', name=op.f('pk_deliveries'))
    )
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deliveries_seen_at'), ['seen_at'], unique=False)

    op.create_table('accounts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('eic', sa.String(length=16), nullable=True),
    sa.Column('surname', sa.String(length=100), nullable=False),
    sa.Column('full_name', sa.String(length=200), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.Column('settlement', sa.String(length=100), nullable=False),
    sa.Column('street', sa.String(length=200), nullable=True),
    sa.Column('house', sa.String(length=20), nullable=True),
    sa.Column('grid_node', sa.String(length=50), nullable=True),
    sa.Column('consumer_type', sa.String(length=10), nullable=False),
    sa.Column('tariff_plan', sa.String(length=50), nullable=False),
    sa.Column('balance', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('balance_on', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts')),
    sa.UniqueConstraint('eic', name=op.f('uq_accounts_eic')),
    sa.UniqueConstraint('number', name=op.f('uq_accounts_number'))
    )
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_accounts_grid_node'), ['grid_node'], unique=False)
        batch_op.create_index(batch_op.f('ix_accounts_settlement'), ['settlement'], unique=False)

    op.create_table('chats',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('external_id', sa.String(length=100), nullable=False),
    sa.Column('language', sa.String(length=5), nullable=False),
    sa.Column('consent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chats')),
    sa.UniqueConstraint('channel', 'external_id', name=op.f('uq_chats_channel'))
    )
    op.create_table('outages',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code', sa.String(length=50), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('settlement', sa.String(length=100), nullable=True),
    sa.Column('street', sa.String(length=200), nullable=True),
    sa.Column('houses', sa.Text(), nullable=True),
    sa.Column('grid_nodes', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outages')),
    sa.UniqueConstraint('code', name=op.f('uq_outages_code'))
    )
    with op.batch_alter_table('outages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outages_starts_at'), ['starts_at'], unique=False)

    op.create_table('tariffs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('tariff_plan', sa.String(length=50), nullable=False),
    sa.Column('zone', sa.Integer(), nullable=False),
    sa.Column('price', sa.Numeric(precision=10, scale=4), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tariffs')),
    sa.UniqueConstraint('tariff_plan', 'zone', 'valid_from', name=op.f('uq_tariffs_tariff_plan'))
    )
    op.create_table('chat_accounts',
    sa.Column('chat_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('linked_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_chat_accounts_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['chat_id'], ['chats.id'], name=op.f('fk_chat_accounts_chat_id_chats'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('chat_id', 'account_id', name=op.f('pk_chat_accounts'))
    )
    with op.batch_alter_table('chat_accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chat_accounts_account_id'), ['account_id'], unique=False)

    op.create_table('conversations',
    sa.Column('chat_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('step', sa.String(length=50), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['chat_id'], ['chats.id'], name=op.f('fk_conversations_chat_id_chats'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('chat_id', name=op.f('pk_conversations'))
    )
    op.create_table('invoices',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('kwh', sa.Numeric(precision=14, scale=3), nullable=False),
    sa.Column('pdf', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_invoices_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoices')),
    sa.UniqueConstraint('account_id', 'period', name=op.f('uq_invoices_account_id'))
    )
    op.create_table('link_attempts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('chat_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('attempted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('succeeded', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['chat_id'], ['chats.id'], name=op.f('fk_link_attempts_chat_id_chats'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_link_attempts'))
    )
    with op.batch_alter_table('link_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_link_attempts_chat_at', ['chat_id', 'attempted_at'], unique=False)

    op.create_table('meters',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('serial', sa.String(length=50), nullable=False),
    sa.Column('type', sa.String(length=100), nullable=False),
    sa.Column('digits', sa.Integer(), nullable=False),
    sa.Column('zones', sa.Integer(), nullable=False),
    sa.Column('k_factor', sa.Numeric(precision=10, scale=3), nullable=False),
    sa.Column('installed_on', sa.Date(), nullable=False),
    sa.Column('next_verification_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_meters_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meters')),
    sa.UniqueConstraint('account_id', 'serial', name=op.f('uq_meters_account_id'))
    )
    with op.batch_alter_table('meters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meters_account_id'), ['account_id'], unique=False)

    op.create_table('payments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('purpose', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_payments_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payments')),
    sa.UniqueConstraint('account_id', 'paid_on', 'amount', 'purpose', name=op.f('uq_payments_account_id'))
    )
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payments_account_id'), ['account_id'], unique=False)

    op.create_table('photos',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('chat_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('meter_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('path', sa.String(length=500), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recognized', sa.String(length=20), nullable=True),
    sa.Column('confidence', sa.Numeric(precision=5, scale=4), nullable=True),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['chat_id'], ['chats.id'], name=op.f('fk_photos_chat_id_chats'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['meter_id'], ['meters.id'], name=op.f('fk_photos_meter_id_meters'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_photos'))
    )
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_photos_chat_id'), ['chat_id'], unique=False)

    op.create_table('readings',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('meter_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('zone', sa.Integer(), nullable=False),
    sa.Column('taken_on', sa.Date(), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('chat_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('photo_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['chat_id'], ['chats.id'], name=op.f('fk_readings_chat_id_chats'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['meter_id'], ['meters.id'], name=op.f('fk_readings_meter_id_meters'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['photo_id'], ['photos.id'], name=op.f('fk_readings_photo_id_photos'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_readings')),
    sa.UniqueConstraint('meter_id', 'zone', 'taken_on', 'source', name=op.f('uq_readings_meter_id'))
    )
    with op.batch_alter_table('readings', schema=None) as batch_op:
        batch_op.create_index('ix_readings_meter_zone_taken', ['meter_id', 'zone', 'taken_on'], unique=False)
        batch_op.create_index('ix_readings_submitted_at', ['submitted_at'], unique=False)

    # ### end Alembic commands ###


def downgrade() -> None:
    op.drop_table('deliveries')
    # ### commands auto generated by Alembic - please adjust! ###
    with op.batch_alter_table('readings', schema=None) as batch_op:
        batch_op.drop_index('ix_readings_submitted_at')
        batch_op.drop_index('ix_readings_meter_zone_taken')

    op.drop_table('readings')
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_photos_chat_id'))

    op.drop_table('photos')
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payments_account_id'))

    op.drop_table('payments')
    with op.batch_alter_table('meters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meters_account_id'))

    op.drop_table('meters')
    with op.batch_alter_table('link_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_link_attempts_chat_at')

    op.drop_table('link_attempts')
    op.drop_table('invoices')
    op.drop_table('conversations')
    with op.batch_alter_table('chat_accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chat_accounts_account_id'))

    op.drop_table('chat_accounts')
    op.drop_table('tariffs')
    with op.batch_alter_table('outages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outages_starts_at'))

    op.drop_table('outages')
    op.drop_table('chats')
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_accounts_settlement'))
        batch_op.drop_index(batch_op.f('ix_accounts_grid_node'))

    op.drop_table('accounts')
    # ### end Alembic commands ###
