"""account details and the payments' reference: accounts.contract_number and contract_date; payments.reference, in
the payments' natural key

Revision ID: 0013
Revises: 0011

The account details (issue 19.5) show the supply contract, which accounts.csv may now name. payments.csv's
`reference` was read only to reconcile an online payment; a row with one collapsed into a bank payment of the same
account, day, amount and purpose. It is kept now, and is part of the key.
"""
from alembic import op
import sqlalchemy as sa

revision = "0013"
down_revision = "0011"
branch_labels = None
depends_on = None

OLD_KEY = ["account_id", "paid_on", "amount", "purpose"]


def upgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contract_number", sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column("contract_date", sa.Date(), nullable=True))
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reference", sa.String(length=100), server_default="", nullable=False))
        batch_op.drop_constraint("uq_payments_account_id", type_="unique")
        batch_op.create_unique_constraint("uq_payments_account_id", OLD_KEY + ["reference"])


def downgrade() -> None:
    # The old key has no reference: it goes into the purpose, so payments that differ only by it stay two.
    op.execute("UPDATE payments SET purpose = SUBSTR(TRIM(purpose || ' ' || reference), 1, 200) WHERE reference <> ''")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_constraint("uq_payments_account_id", type_="unique")
        batch_op.create_unique_constraint("uq_payments_account_id", OLD_KEY)
        batch_op.drop_column("reference")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("contract_date")
        batch_op.drop_column("contract_number")
