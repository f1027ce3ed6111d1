"""The scheduler's ports (core.ports.OutboxStore, ReminderPlanning, Delivery, Leadership) on SQLAlchemy.

The planner and the dispatcher see only these; the SQL stays in storage/outbox.py and storage/retention.py.
"""
from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from sqlalchemy import text

from core.mailing import EMAIL
from core.notifications import Expansion, Kind, OutboxMessage, ReminderPlan
from storage import outbox, plans, retention
from storage.database import Database
from storage.repositories import SqlTransaction

log = logging.getLogger(__name__)

PLANNING_WORK_MEM = "64MB"  # PostgreSQL's memory per sort or hash of a planning job (docs/benchmarks.md)
LOCK_ID = 0x4B61_6269  # "Kabi": one number for every Kabinet process sharing a database


class SqlOutboxTransaction(SqlTransaction):
    """A unit of work of the scheduler (a reminder job, one message's delivery, an operator's change): a
    consumer's Transaction and the outbox's own statements, on one ORM session."""

    async def open_plan(self, plan: ReminderPlan, at: datetime) -> int | None:
        return await plans.open_plan(self.session, plan, at)

    async def expand_plan(self, plan_id: int, at: datetime, batch: int) -> Expansion:
        return await plans.expand(self.session, plan_id, at, batch)

    async def last_order_change_notified(self) -> int:
        return await outbox.last_subject_period(self.session, Kind.ORDER)

    async def chats_told_of_outage(self, code: str) -> set[int]:
        return await outbox.chats_told_of_outage(self.session, code)

    async def planned_since(self, since: datetime, limit: int) -> list[OutboxMessage]:
        return await outbox.planned_since(self.session, since, limit)

    async def queue_email_copy(self, message_id: int, at: datetime) -> None:
        await outbox.queue_email_copy(self.session, message_id, EMAIL, at)

    async def record_delivery(self, message_id: int, status: str, *, now: datetime, outcome: str | None = None,
                              not_before: datetime | None = None, attempts_add: int = 0) -> None:
        await outbox.record(self.session, message_id, status, now=now, outcome=outcome, not_before=not_before,
                            attempts_add=attempts_add)


class SqlOutbox:
    """The outbox of one database, as the scheduler uses it."""

    def __init__(self, database: Database) -> None:
        self.database = database

    @asynccontextmanager
    async def planning(self, *, dry_run: bool = False) -> AsyncIterator[SqlOutboxTransaction]:
        async with self.database.sessions() as session:
            async with session.begin():
                if not self.database.is_sqlite:
                    # A job joins and sorts a row per linked chat: hashed and sorted in memory, not in temporary
                    # files. For this transaction only, and per sort or hash, so the server's share stays bounded.
                    await session.execute(text(f"SET LOCAL work_mem = '{PLANNING_WORK_MEM}'"))
                yield SqlOutboxTransaction(session)
                if dry_run:
                    # Out of the session before the rollback, which would expire them: the caller reads them later.
                    session.expunge_all()
                    await session.rollback()

    @asynccontextmanager
    async def delivery(self) -> AsyncIterator[SqlOutboxTransaction]:
        async with self.database.session() as session:
            yield SqlOutboxTransaction(session)

    async def claim(self, now: datetime, limit: int, lease: timedelta) -> list[OutboxMessage]:
        async with self.database.session() as session:
            return await outbox.claim(session, now, limit, lease)

    async def record(self, message_id: int, status: str, *, now: datetime, outcome: str | None = None,
                     not_before: datetime | None = None, attempts_add: int = 0) -> None:
        async with self.delivery() as tx:
            await tx.record_delivery(message_id, status, now=now, outcome=outcome, not_before=not_before,
                                     attempts_add=attempts_add)

    async def expand_plans(self, now: datetime, batch: int, ahead: int) -> int:
        return await plans.expand_due(self.database, now, batch, ahead)

    def leadership(self) -> AdvisoryLock:
        return AdvisoryLock(self.database)

    async def prune_outbox(self, before: datetime, batch: int) -> int:
        return await retention.prune_outbox(self.database, before, batch)

    async def prune_deliveries(self, before: datetime, batch: int) -> int:
        return await retention.prune_deliveries(self.database, before, batch)

    async def prune_link_attempts(self, before: datetime, batch: int) -> int:
        return await retention.prune_link_attempts(self.database, before, batch)

    async def prune_photos(self, before: datetime, batch: int) -> int:
        return await retention.prune_photos(self.database, before, batch)

    async def prune_recent_turns(self, before: datetime, batch: int) -> int:
        return await retention.prune_recent_turns(self.database, before, batch)

    async def prune_plans(self, before: datetime, batch: int) -> int:
        return await retention.prune_plans(self.database, before, batch)


class AdvisoryLock:
    """The scheduler's lead: a PostgreSQL advisory lock on a connection of its own. When its holder dies the
    connection closes and the lock is freed for another process. On SQLite there is one process, always leader."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.connection = None

    @property
    def held(self) -> bool:
        return self.connection is not None

    async def try_take(self) -> bool:
        if self.database.is_sqlite:
            self.connection = self.connection or "sqlite"
            return True
        if self.connection is not None:
            try:
                await self.connection.execute(text("SELECT 1"))
                return True
            except Exception:
                log.warning("scheduler lock connection lost; leadership given up")
                await self.release()
        connection = await self.database.engine.connect()
        try:
            taken = await connection.scalar(text("SELECT pg_try_advisory_lock(:id)"), {"id": LOCK_ID})
            await connection.commit()
        except Exception:
            await connection.close()
            raise
        if taken:
            self.connection = connection
            return True
        await connection.close()
        return False

    async def release(self) -> None:
        if self.connection is not None and self.connection != "sqlite":
            try:
                # Ending the PostgreSQL session frees the lock; a plain close would pool the connection, lock and all.
                await self.connection.invalidate()
                await self.connection.close()
            except Exception:
                log.debug("closing the lock connection", exc_info=True)
        self.connection = None
