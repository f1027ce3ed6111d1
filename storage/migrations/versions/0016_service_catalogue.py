"""services: the utility's catalogue (services.csv), in place of the one in code; an order's amount and files,
and the order an online payment pays for

Revision ID: 0016
Revises: 0015
"""
from alembic import op
import sqlalchemy as sa

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "services",
        sa.Column("id", Id, nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name_uk", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=True),
        sa.Column("name_ru", sa.String(length=200), nullable=True),
        sa.Column("paid", sa.Boolean(), nullable=False),
        sa.Column("price", sa.Numeric(14, 2), nullable=True),
        sa.Column("attach_uk", sa.String(length=500), nullable=True),
        sa.Column("attach_en", sa.String(length=500), nullable=True),
        sa.Column("attach_ru", sa.String(length=500), nullable=True),
        sa.Column("steps", sa.String(length=100), nullable=False),
        sa.Column("offered", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_services")),
        sa.UniqueConstraint("code", name=op.f("uq_services_code")),
    )
    with op.batch_alter_table("service_orders") as table:
        table.add_column(sa.Column("amount", sa.Numeric(14, 2), nullable=True))
    op.create_table(
        "service_order_files",
        sa.Column("id", Id, nullable=False),
        sa.Column("order_id", Id, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("mime_type", sa.String(length=100), nullable=False),
        sa.Column("chat_id", Id, nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["service_orders.id"],
                                name=op.f("fk_service_order_files_order_id_service_orders"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["chat_id"], ["chats.id"], name=op.f("fk_service_order_files_chat_id_chats"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_order_files")),
    )
    op.create_index(op.f("ix_service_order_files_order_id"), "service_order_files", ["order_id"])
    with op.batch_alter_table("online_payments") as table:
        table.add_column(sa.Column("service_order_id", Id, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("online_payments") as table:
        table.drop_column("service_order_id")
    op.drop_index(op.f("ix_service_order_files_order_id"), table_name="service_order_files")
    op.drop_table("service_order_files")
    with op.batch_alter_table("service_orders") as table:
        table.drop_column("amount")
    op.drop_table("services")
