"""Reminder jobs: each only plans rows into the outbox; planning twice plans once."""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Awaitable, Callable
from zoneinfo import ZoneInfo

from sqlalchemy import select

from core.conversation import ACCOUNT_LINK_PERIOD, LINK_ATTEMPT_PERIOD
from core.notifications import VERIFICATION_NOTICE_DAYS, Kind, window_last_day, window_opening_tomorrow
from core.readings import ReadingWindow
from storage import outbox, retention
from storage.database import Database
from storage.models import OutboxRow

log = logging.getLogger(__name__)

INVOICE_NOTICE_DAYS = 7  # an imported invoice older than this is history, not news
LINK_ATTEMPTS_COUNT = max(LINK_ATTEMPT_PERIOD, ACCOUNT_LINK_PERIOD)  # an attempt older than this limits nothing


@dataclass(frozen=True)
class Retention:
    """How long the retention job keeps each kind of record (README, "Retention")."""

    outbox: timedelta = timedelta(days=30)  # sent and skipped messages
    deliveries: timedelta = timedelta(days=30)
    photos: timedelta = timedelta(days=3 * 365)
    media_sweep: Callable[[], int] | None = None  # removes the Viber media past their days; blocking file work
    batch: int = retention.BATCH


@dataclass
class Planner:
    database: Database
    window: ReadingWindow
    timezone: ZoneInfo
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    retention: Retention = field(default_factory=Retention)

    def today(self) -> date:
        return self.clock().astimezone(self.timezone).date()

    async def reading_window(self, session) -> int:
        opening = window_opening_tomorrow(self.window, self.today())
        return await outbox.plan_reading_window(session, opening, self.clock()) if opening else 0

    async def reading_last_day(self, session) -> int:
        opening = window_last_day(self.window, self.today())
        return await outbox.plan_reading_last_day(session, opening, self.clock()) if opening else 0

    async def invoices(self, session) -> int:
        return await outbox.plan_invoices(session, self.today() - timedelta(days=INVOICE_NOTICE_DAYS), self.clock())

    async def debts(self, session) -> int:
        return await outbox.plan_debts(session, self.today(), self.clock())

    async def verifications(self, session) -> int:
        return await outbox.plan_verifications(session, self.today(), VERIFICATION_NOTICE_DAYS, self.clock())

    def jobs(self) -> dict[str, Callable[..., Awaitable[int]]]:
        return {
            "reading-window": self.reading_window,
            "reading-last-day": self.reading_last_day,
            "invoices": self.invoices,
            "debts": self.debts,
            "verifications": self.verifications,
            **{name: job for name, job in EXTRA_JOBS.items()},
            RETENTION: self.prune,
        }

    async def prune(self) -> int:
        """Delete what the retention periods no longer keep, batch by batch; the count of rows and files."""
        now, keep, batch = self.clock(), self.retention, self.retention.batch
        deleted = {
            "outbox": await retention.prune_outbox(self.database, now - keep.outbox, batch),
            "deliveries": await retention.prune_deliveries(self.database, now - keep.deliveries, batch),
            "link attempts": await retention.prune_link_attempts(self.database, now - LINK_ATTEMPTS_COUNT, batch),
            "photos": await retention.prune_photos(self.database, now - keep.photos, batch),
            "viber media": await asyncio.to_thread(keep.media_sweep) if keep.media_sweep else 0,
        }
        log.info("retention deleted %s", ", ".join(f"{n} {what}" for what, n in deleted.items()))
        return sum(deleted.values())

    async def run(self, name: str, *, dry_run: bool = False) -> tuple[int, list[OutboxRow]]:
        """Plan one job now; with dry_run, return what it would plan and write nothing."""
        if name == RETENTION:  # its own short transactions, one per batch
            return (0 if dry_run else await self.prune()), []
        job = self.jobs()[name]
        started = self.clock()
        async with self.database.sessions() as session:
            async with session.begin():
                if EXTRA_JOBS.get(name) is job:
                    planned = await job(self, session)
                else:
                    planned = await job(session)
                rows = []
                if dry_run:
                    rows = list(await session.scalars(
                        select(OutboxRow).where(OutboxRow.created_at >= started).order_by(OutboxRow.id).limit(50)
                    ))
                    # Out of the session before the rollback, which would expire them: the caller reads them later.
                    session.expunge_all()
                    await session.rollback()
        log.info("job %s planned %d message(s)%s", name, planned, " (dry run)" if dry_run else "")
        return planned, rows


async def plan_after_import(planner: Planner, session) -> int:
    """What an import makes news, the same for `kabinet import` and the admin API: invoices issued in the last
    days, and current or just ended outages."""
    return await planner.invoices(session) + await plan_outages(planner, session)


async def plan_outages(planner: Planner, session) -> int:
    """Every current or upcoming outage to the chats whose accounts it touches; ended ones, once more."""
    from storage.repositories import SqlTransaction

    tx = SqlTransaction(session)
    now = planner.clock()
    planned = 0
    for outage in await tx.current_outages(now):
        chats = await tx.chats_touched_by(outage)
        planned += await outbox.plan_notices(session, Kind.OUTAGE, [(c, outage.code, "start") for c in chats], now)
    for outage in await tx.outages_ended_between(now - OUTAGE_END_NOTICE, now):
        chats = await tx.chats_touched_by(outage)
        planned += await outbox.plan_notices(session, Kind.OUTAGE_END, [(c, outage.code, "end") for c in chats], now)
    return planned


async def plan_order_changes(planner: Planner, session) -> int:
    """Status changes made by the utility, to the chat that placed the order; each change once."""
    from storage.repositories import SqlTransaction

    tx = SqlTransaction(session)
    now = planner.clock()
    planned = 0
    after = await outbox.last_subject_period(session, Kind.ORDER)
    while True:
        changes = await tx.order_changes_after(after)
        if not changes:
            return planned
        notices = [(c.chat_id, str(c.order_id), str(c.id)) for c in changes
                   if c.chat_id is not None and c.by != "consumer" and c.previous is not None]
        planned += await outbox.plan_notices(session, Kind.ORDER, notices, now)
        after = changes[-1].id


OUTAGE_END_NOTICE = timedelta(days=1)

# Jobs run every few seconds rather than daily: name -> async (planner, session) -> planned count.
EXTRA_JOBS: dict[str, Callable[..., Awaitable[int]]] = {
    "outages": plan_outages,
    "orders": plan_order_changes,
}

RETENTION = "retention"
NIGHTLY = {RETENTION: "03:30"}  # local time: away from the morning's reminders and the day's turns

DAILY = ("reading-window", "reading-last-day", "invoices", "debts", "verifications")
