"""online_payments: payments made on LiqPay's page, pending until the billing import reconciles them

Revision ID: 0010
Revises: 0009
"""
from alembic import op
import sqlalchemy as sa

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "online_payments",
        sa.Column("id", Id, nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("account_id", Id, nullable=False),
        sa.Column("amount", sa.Numeric(14, 2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("provider_status", sa.String(length=30), nullable=True),
        sa.Column("payment_id", sa.String(length=40), nullable=True),
        sa.Column("error", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reconciled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reconciled_ref", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_online_payments_account_id_accounts"),
                                ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_online_payments")),
        sa.UniqueConstraint("order_id", name=op.f("uq_online_payments_order_id")),
        sa.UniqueConstraint("provider", "payment_id", name=op.f("uq_online_payments_provider")),
    )
    op.create_index(op.f("ix_online_payments_account_id"), "online_payments", ["account_id"])
    op.create_index(op.f("ix_online_payments_paid_at"), "online_payments", ["paid_at"])


def downgrade() -> None:
    op.drop_table("online_payments")
