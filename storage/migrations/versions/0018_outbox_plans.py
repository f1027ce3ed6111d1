"""outbox plans: a daily reminder job records one row, expanded into the outbox as it is sent

Revision ID: 0018
Revises: 0017

A job used to insert a row per chat at once: at a million accounts 45–104 s of PostgreSQL per job, most of it the
insert itself (the foreign key, five index entries, 700 MB of WAL). It now records its run here, and the
dispatchers insert its rows batch by batch, a little ahead of the messengers' pace (docs/benchmarks.md).
"""
from alembic import op
import sqlalchemy as sa

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "outbox_plans",
        sa.Column("id", Id, nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("notice_days", sa.Integer(), nullable=False),
        sa.Column("after_chat_id", Id, nullable=True),
        sa.Column("planned", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expanded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_plans")),
        sa.UniqueConstraint("key", name=op.f("uq_outbox_plans_key")),
    )


def downgrade() -> None:
    # The rows already expanded stay in the outbox; the chats not yet reached are not reminded this time.
    op.drop_table("outbox_plans")
