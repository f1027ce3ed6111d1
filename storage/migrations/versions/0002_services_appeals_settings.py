"""service orders with their events, appeals, chat settings

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('service_orders',
    sa.Column('id', ID, nullable=False),
    sa.Column('account_id', ID, nullable=False),
    sa.Column('chat_id', ID, nullable=True),
    sa.Column('service', sa.String(length=40), nullable=False),
    sa.Column('phone', sa.String(length=10), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=30), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_service_orders_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['chat_id'], ['chats.id'], name=op.f('fk_service_orders_chat_id_chats'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_orders'))
    )
    with op.batch_alter_table('service_orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_orders_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_orders_chat_id'), ['chat_id'], unique=False)

    op.create_table('service_order_events',
    sa.Column('id', ID, nullable=False),
    sa.Column('order_id', ID, nullable=False),
    sa.Column('status', sa.String(length=30), nullable=False),
    sa.Column('previous', sa.String(length=30), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('by', sa.String(length=20), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['service_orders.id'], name=op.f('fk_service_order_events_order_id_service_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_order_events'))
    )
    with op.batch_alter_table('service_order_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_order_events_order_id'), ['order_id'], unique=False)

    op.create_table('appeals',
    sa.Column('id', ID, nullable=False),
    sa.Column('account_id', ID, nullable=False),
    sa.Column('chat_id', ID, nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_appeals_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['chat_id'], ['chats.id'], name=op.f('fk_appeals_chat_id_chats'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appeals'))
    )
    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appeals_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_appeals_chat_id'), ['chat_id'], unique=False)

    op.create_table('chat_settings',
    sa.Column('chat_id', ID, nullable=False),
    sa.Column('settings', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['chat_id'], ['chats.id'], name=op.f('fk_chat_settings_chat_id_chats'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('chat_id', name=op.f('pk_chat_settings'))
    )


def downgrade() -> None:
    op.drop_table('chat_settings')
    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appeals_chat_id'))
        batch_op.drop_index(batch_op.f('ix_appeals_account_id'))
    op.drop_table('appeals')
    with op.batch_alter_table('service_order_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_order_events_order_id'))
    op.drop_table('service_order_events')
    with op.batch_alter_table('service_orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_orders_chat_id'))
        batch_op.drop_index(batch_op.f('ix_service_orders_account_id'))
    op.drop_table('service_orders')
