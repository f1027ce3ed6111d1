"""meters.tariff_plan: a meter's own tariff plan, when it is not its account's

Revision ID: 0008
Revises: 0007

A business account may have a three-zone meter and a one-zone meter; the account has one plan, so the
one-zone meter could not be priced (issue 18.2). meters.csv gains an optional tariff_plan column.
"""
from alembic import op
import sqlalchemy as sa

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("meters", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tariff_plan", sa.String(length=50), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("meters", schema=None) as batch_op:
        batch_op.drop_column("tariff_plan")
