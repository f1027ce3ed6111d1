"""Deleting what has outlived its use, in short transactions of `batch` rows, so no lock is held for long.

Each batch is read by primary key order (an index range, cheap however big the table) and deleted by those
ids in its own transaction; live turns wait at most for one batch.
"""
from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime
from pathlib import Path

from sqlalchemy import and_, case, delete, exists, func, or_, select, true
from sqlalchemy.orm import aliased

from core.notifications import Kind
from storage.database import Database
from storage.models import (
    DeliveryRow, LinkAttemptRow, OutboxPlanRow, OutboxRow, PhotoRow, RecentTurnRow, ServiceOrderFileRow,
)

log = logging.getLogger(__name__)

# SQLite has one writer, and a turn waiting for it polls (every 100 ms at worst): after each batch the job
# stands aside that long, or as long as the batch took, so the next batch does not win every time.
SQLITE_PAUSE = 0.1
PRUNED_STATUSES = ("sent", "skipped")
# Planned again from the current state each day (a debt still owed, a meter still due, an outage still on,
# the last order change notified): their newest row on a subject stays, or its reminder would be sent again.
REPLANNED = (Kind.DEBT.value, Kind.VERIFICATION.value, Kind.OUTAGE.value, Kind.OUTAGE_END.value,
             Kind.ORDER.value)


class _Pace:
    def __init__(self, database: Database) -> None:
        self.sqlite = database.is_sqlite
        self.started = time.perf_counter()

    async def next_batch(self) -> None:
        if self.sqlite:
            await asyncio.sleep(max(SQLITE_PAUSE, time.perf_counter() - self.started))
        self.started = time.perf_counter()


async def _prune_by_id(database: Database, table, created, before: datetime, condition, batch: int) -> int:
    """Delete rows matching `condition` created before `before`, walking the table by id ranges of `batch`
    rows; ids grow with time, so the walk stops at the first range with no row created before (a few out
    of order are passed). The ids stay in the database: a list of thousands through Python would hold the
    event loop that the process's turns share."""
    deleted, after, pace = 0, 0, _Pace(database)
    while True:
        async with database.session() as session:
            span = select(table.id, created).where(table.id > after).order_by(table.id).limit(batch).subquery()
            last, old = (await session.execute(
                select(func.max(span.c.id), func.sum(case((span.c[created.key] < before, 1), else_=0)))
            )).one()
            if last is None or not old:
                return deleted
            result = await session.execute(
                delete(table).where(table.id > after, table.id <= last, created < before, condition)
                .execution_options(synchronize_session=False)
            )
            deleted += max(result.rowcount or 0, 0)
        after = last
        await pace.next_batch()


async def prune_outbox(database: Database, before: datetime, batch: int) -> int:
    """Sent and skipped rows planned before `before`, but not the newest one a daily planner still checks."""
    newer = aliased(OutboxRow)
    # Per way to the chat: a notice's e-mail row (core.mailing) is newer than its chat row but does not replace it.
    superseded = exists().where(newer.chat_id == OutboxRow.chat_id, newer.kind == OutboxRow.kind,
                                newer.subject == OutboxRow.subject, newer.via.is_not_distinct_from(OutboxRow.via),
                                newer.id > OutboxRow.id)
    condition = and_(OutboxRow.status.in_(PRUNED_STATUSES), or_(OutboxRow.kind.not_in(REPLANNED), superseded))
    return await _prune_by_id(database, OutboxRow, OutboxRow.created_at, before, condition, batch)


async def prune_link_attempts(database: Database, before: datetime, batch: int) -> int:
    """Attempts older than every limit that counts them."""
    return await _prune_by_id(database, LinkAttemptRow, LinkAttemptRow.attempted_at, before, true(), batch)


async def _prune_by_time(database: Database, table, at, before: datetime, batch: int) -> int:
    """Delete the rows of `table` whose indexed time `at` is before `before`, oldest first, `batch` at a time."""
    deleted, pace = 0, _Pace(database)
    while True:
        async with database.session() as session:
            # The batch's last time bounds it, through the time's index; ties may add a few rows.
            last = await session.scalar(select(at).where(at < before).order_by(at).offset(batch - 1).limit(1))
            result = await session.execute(delete(table).where(at <= last if last is not None else at < before))
            deleted += max(result.rowcount or 0, 0)
        if last is None:
            return deleted
        await pace.next_batch()


async def prune_deliveries(database: Database, before: datetime, batch: int) -> int:
    """Messenger deliveries seen before `before`: a messenger redelivers within minutes, not weeks."""
    return await _prune_by_time(database, DeliveryRow, DeliveryRow.seen_at, before, batch)


async def prune_recent_turns(database: Database, before: datetime, batch: int) -> int:
    """Chats' recent turns taken before `before` (core/recent_turns.py keeps them a week)."""
    return await _prune_by_time(database, RecentTurnRow, RecentTurnRow.at, before, batch)


async def prune_plans(database: Database, before: datetime, batch: int) -> int:
    """Reminder plans finished before `before`; an unfinished one stays, whatever its age."""
    return await _prune_by_time(database, OutboxPlanRow, OutboxPlanRow.finished_at, before, batch)


async def prune_photos(database: Database, before: datetime, batch: int) -> int:
    """Photos received before `before`: the row goes (the readings' photo_id becomes NULL by its foreign
    key, the reading's value stays), then the file, once the deletion is committed."""
    deleted, pace = 0, _Pace(database)
    while True:
        still_named: set[str] = set()
        async with database.session() as session:
            rows = (await session.execute(
                select(PhotoRow.id, PhotoRow.path).where(PhotoRow.received_at < before)
                .order_by(PhotoRow.id).limit(batch)
            )).all()
            paths = {path for _, path in rows}
            if rows:
                await session.execute(delete(PhotoRow).where(PhotoRow.id.in_([row_id for row_id, _ in rows])))
                # Two photos of the same content share one file, and so does a file sent to an order (stored as
                # photos are): it goes with the last row naming it.
                still_named = set(await session.scalars(select(PhotoRow.path).where(PhotoRow.path.in_(paths))))
                still_named.update(await session.scalars(
                    select(ServiceOrderFileRow.path).where(ServiceOrderFileRow.path.in_(paths))))
        for path in paths - still_named:  # once the deletion is committed
            try:
                Path(path).unlink(missing_ok=True)
            except OSError:
                log.warning("could not remove the expired photo %s", path, exc_info=True)
        deleted += len(rows)
        if len(rows) < batch:
            return deleted
        await pace.next_batch()
