"""e-mail: a chat's confirmed address and the notices it takes, pending confirmation codes, paper invoice per account

Revision ID: 0011
Revises: 0010
"""
from alembic import op
import sqlalchemy as sa


revision = "0011"
down_revision = "0010"  # 0010_online_payments (s7-liqpay, on main): this branch alone lacks it
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "chat_emails",
        sa.Column("chat_id", Id, nullable=False),
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("notices", sa.JSON(), nullable=False),
        sa.Column("refused_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["chat_id"], ["chats.id"], name=op.f("fk_chat_emails_chat_id_chats"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("chat_id", name=op.f("pk_chat_emails")),
    )
    op.create_table(
        "email_codes",
        sa.Column("id", Id, nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=False),
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("digest", sa.String(length=100), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_codes")),
    )
    op.create_index("ix_email_codes_identity_sent", "email_codes", ["channel", "external_id", "sent_at"])
    op.create_index("ix_email_codes_address_sent", "email_codes", ["address", "sent_at"])
    op.create_table(
        "paper_invoices",
        sa.Column("account_id", Id, nullable=False),
        sa.Column("paper", sa.Boolean(), nullable=False),
        sa.Column("chat_id", Id, nullable=True),
        sa.Column("chosen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_paper_invoices_account_id_accounts"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["chat_id"], ["chats.id"], name=op.f("fk_paper_invoices_chat_id_chats"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_paper_invoices")),
    )


def downgrade() -> None:
    op.drop_table("paper_invoices")
    op.drop_index("ix_email_codes_address_sent", table_name="email_codes")
    op.drop_index("ix_email_codes_identity_sent", table_name="email_codes")
    op.drop_table("email_codes")
    op.drop_table("chat_emails")
