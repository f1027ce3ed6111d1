"""accounts: settlement and grid node as outages compare them, indexed

Revision ID: 0004
Revises: 0003

An outage used to be matched against every linked account in Python (names are compared after
core.outages normalises them, which SQL cannot do for Cyrillic on SQLite). The normalised keys are now
stored beside the names, so the accounts an outage may touch are found by index first. The keys are
computed by core.outages.place_key and node_key (storage.models.stored_place_key and
stored_node_key): a change to those rules needs a migration that
recomputes them, like this one does.
"""
from alembic import op
import sqlalchemy as sa

from storage.models import stored_node_key, stored_place_key

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BATCH = 5000


def upgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("place_key", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("node_key", sa.String(length=50), nullable=True))
        batch_op.create_index(batch_op.f("ix_accounts_place_key"), ["place_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_accounts_node_key"), ["node_key"], unique=False)

    connection = op.get_bind()
    accounts = sa.table("accounts", sa.column("id"), sa.column("settlement"), sa.column("grid_node"),
                        sa.column("place_key"), sa.column("node_key"))
    update = (sa.update(accounts).where(accounts.c.id == sa.bindparam("account_id"))
              .values(place_key=sa.bindparam("place"), node_key=sa.bindparam("node")))
    last = 0
    while True:
        rows = connection.execute(
            sa.select(accounts.c.id, accounts.c.settlement, accounts.c.grid_node)
            .where(accounts.c.id > last).order_by(accounts.c.id).limit(BATCH)
        ).all()
        if not rows:
            break
        connection.execute(update, [
            {"account_id": id_, "place": stored_place_key(settlement), "node": stored_node_key(grid_node)}
            for id_, settlement, grid_node in rows
        ])
        last = rows[-1][0]


def downgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_accounts_node_key"))
        batch_op.drop_index(batch_op.f("ix_accounts_place_key"))
        batch_op.drop_column("node_key")
        batch_op.drop_column("place_key")
