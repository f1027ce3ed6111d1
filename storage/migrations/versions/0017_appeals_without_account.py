"""appeals without an account: a chat with none linked may write to technical support

Revision ID: 0017
Revises: 0015
"""
from alembic import op
import sqlalchemy as sa


revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("appeals") as table:
        table.alter_column("account_id", existing_type=Id, nullable=True)


def downgrade() -> None:
    # An appeal without an account has no place in the older schema: it goes (its answer, if any, was sent).
    op.execute(sa.text("DELETE FROM appeals WHERE account_id IS NULL"))
    with op.batch_alter_table("appeals") as table:
        table.alter_column("account_id", existing_type=Id, nullable=False)
