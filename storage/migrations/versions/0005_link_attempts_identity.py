"""link_attempts: kept by the chat's identity in its messenger, and by the account tried

Revision ID: 0005
Revises: 0004

Failed link attempts were keyed by the chat's row and deleted with it, so /forget gave a chat a fresh
budget of guesses. They are now keyed by (channel, external_id), which /forget does not erase, and a
failed attempt on an existing account's number names the account, so that failures are limited per
account across all chats as well. Existing rows take their chat's channel and id; none names an account.
"""
from alembic import op
import sqlalchemy as sa

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("link_attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("channel", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("external_id", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("account_id", Id, nullable=True))

    attempts = sa.table("link_attempts", sa.column("chat_id"), sa.column("channel"), sa.column("external_id"))
    chats = sa.table("chats", sa.column("id"), sa.column("channel"), sa.column("external_id"))
    of_chat = chats.c.id == attempts.c.chat_id
    op.get_bind().execute(sa.update(attempts).values(
        channel=sa.select(chats.c.channel).where(of_chat).scalar_subquery(),
        external_id=sa.select(chats.c.external_id).where(of_chat).scalar_subquery(),
    ))

    with op.batch_alter_table("link_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_link_attempts_chat_at")
        batch_op.drop_constraint("fk_link_attempts_chat_id_chats", type_="foreignkey")
        batch_op.drop_column("chat_id")
        batch_op.alter_column("channel", existing_type=sa.String(length=20), nullable=False)
        batch_op.alter_column("external_id", existing_type=sa.String(length=100), nullable=False)
        batch_op.create_foreign_key(batch_op.f("fk_link_attempts_account_id_accounts"), "accounts",
                                    ["account_id"], ["id"], ondelete="CASCADE")
        batch_op.create_index("ix_link_attempts_identity_at", ["channel", "external_id", "attempted_at"],
                              unique=False)
        batch_op.create_index("ix_link_attempts_account_at", ["account_id", "attempted_at"], unique=False)


def downgrade() -> None:
    # Attempts of chats that were forgotten have no chat row to go back to: they are dropped.
    with op.batch_alter_table("link_attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chat_id", Id, nullable=True))

    attempts = sa.table("link_attempts", sa.column("chat_id"), sa.column("channel"), sa.column("external_id"))
    chats = sa.table("chats", sa.column("id"), sa.column("channel"), sa.column("external_id"))
    connection = op.get_bind()
    connection.execute(sa.update(attempts).values(chat_id=sa.select(chats.c.id).where(
        chats.c.channel == attempts.c.channel, chats.c.external_id == attempts.c.external_id).scalar_subquery()))
    connection.execute(sa.delete(attempts).where(attempts.c.chat_id.is_(None)))

    with op.batch_alter_table("link_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_link_attempts_account_at")
        batch_op.drop_index("ix_link_attempts_identity_at")
        batch_op.drop_constraint("fk_link_attempts_account_id_accounts", type_="foreignkey")
        batch_op.drop_column("account_id")
        batch_op.drop_column("external_id")
        batch_op.drop_column("channel")
        batch_op.alter_column("chat_id", existing_type=Id, nullable=False)
        batch_op.create_foreign_key("fk_link_attempts_chat_id_chats", "chats", ["chat_id"], ["id"],
                                    ondelete="CASCADE")
        batch_op.create_index("ix_link_attempts_chat_at", ["chat_id", "attempted_at"], unique=False)
