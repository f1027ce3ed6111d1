"""outbox: a partial index on the rows still to send, for a cheap outbox depth

Revision ID: 0007
Revises: 0006

/metrics counted the outbox by kind and status with a GROUP BY over every row, sent ones included: 1.1 s
at a million rows. The depth now reads only this index, whose size is the rows waiting, not the history.
"""
from alembic import op
import sqlalchemy as sa

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

WAITING_SQL = "status IN ('queued', 'sending')"


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_waiting", ["kind", "status"], unique=False,
                              postgresql_where=sa.text(WAITING_SQL),
                              sqlite_where=sa.text(WAITING_SQL))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_waiting")
