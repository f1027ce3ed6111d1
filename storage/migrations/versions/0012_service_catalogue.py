"""services: the utility's catalogue (services.csv), in place of the one in code

Revision ID: 0012
Revises: 0011
"""
from alembic import op
import sqlalchemy as sa

revision = "0012"
down_revision = "0011"
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


def downgrade() -> None:
    op.drop_table("services")
