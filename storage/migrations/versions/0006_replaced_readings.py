"""replaced_readings: a consumer's reading replaced by a later one of the same day is kept, with its photo

Revision ID: 0006
Revises: 0005

A second submission of a meter's reading on the same day (and channel) overwrote the first in place, its
photo included. The reading row still holds the latest submission; what it replaced is now kept here.
Nothing replaced before this revision can be recovered, so the table starts empty.
"""
from alembic import op
import sqlalchemy as sa

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "replaced_readings",
        sa.Column("id", Id, nullable=False),
        sa.Column("reading_id", Id, nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("chat_id", Id, nullable=True),
        sa.Column("photo_id", Id, nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("replaced_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["reading_id"], ["readings.id"], name=op.f("fk_replaced_readings_reading_id_readings"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["chat_id"], ["chats.id"], name=op.f("fk_replaced_readings_chat_id_chats"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["photo_id"], ["photos.id"], name=op.f("fk_replaced_readings_photo_id_photos"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_replaced_readings")),
    )
    with op.batch_alter_table("replaced_readings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_replaced_readings_reading_id"), ["reading_id"], unique=False)


def downgrade() -> None:
    # The replaced submissions go with the table; the readings that replaced them stay.
    with op.batch_alter_table("replaced_readings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_replaced_readings_reading_id"))
    op.drop_table("replaced_readings")
