"""outbox.via: a notice's copy for the chat's confirmed e-mail address, sent and retried apart from the chat's own

Revision ID: 0015
Revises: 0011

NULL: the chat's messenger (every row before this revision); "email": the chat's confirmed address (issue 19.3).
"""
from alembic import op
import sqlalchemy as sa

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("via", sa.String(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("via")
