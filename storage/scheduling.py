"""The scheduler's ports (core.ports.OutboxStore, ReminderPlanning, Delivery, Leadership) on SQLAlchemy.

The planner and the dispatcher see only these; the SQL stays in storage/outbox.py and storage/retention.py.
"""
from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime, timedelta

from sqlalchemy import text

from core.mailing import EMAIL
from core.notifications import Kind, OutboxMessage
from storage import outbox, retention
from storage.database import Database
from storage.repositories import SqlTransaction

log = logging.getLogger(__name__)

LOCK_ID = 0x4B61_6269  # "Kabi": one number for every Kabinet process sharing a database


class SqlOutboxTransaction(SqlTransaction):
    """A unit of work of the scheduler (a reminder job, one message's delivery, an operator's change): a
    consumer's Transaction and the outbox's own statements, on one ORM session."""

    async def plan_reading_window(self, opening: date, at: datetime) -> int:
        return await outbox.plan_reading_window(self.session, opening, at)

    async def plan_reading_last_day(self, opening: date, at: datetime) -> int:
        return await outbox.plan_reading_last_day(self.session, opening, at)

    async def plan_invoices(self, issued_since: date, at: datetime) -> int:
        return await outbox.plan_invoices(self.session, issued_since, at)

    async def plan_debts(self, today: date, at: datetime) -> int:
        return await outbox.plan_debts(self.session, today, at)

    async def plan_verifications(self, today: date, notice_days: int, at: datetime) -> int:
        return await outbox.plan_verifications(self.session, today, notice_days, at)

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
