"""recent turns: each chat's last turns, attached to a technical-support appeal

Revision ID: 0014
Revises: 0011
"""
from alembic import op
import sqlalchemy as sa


revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "recent_turns",
        sa.Column("chat_id", Id, nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivery", sa.String(length=100), nullable=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("said", sa.Text(), nullable=False),
        sa.Column("answered", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["chat_id"], ["chats.id"], name=op.f("fk_recent_turns_chat_id_chats"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("chat_id", "slot", name=op.f("pk_recent_turns")),
    )
    op.create_index(op.f("ix_recent_turns_at"), "recent_turns", ["at"])
    with op.batch_alter_table("appeals") as table:
        table.add_column(sa.Column("turns", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("appeals") as table:
        table.drop_column("turns")
    op.drop_index(op.f("ix_recent_turns_at"), table_name="recent_turns")
    op.drop_table("recent_turns")
