"""Reminder jobs: each only plans rows into the outbox; planning twice plans once."""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Awaitable, Callable, NamedTuple
from zoneinfo import ZoneInfo

from core.flows.linking import ACCOUNT_LINK_PERIOD, LINK_ATTEMPT_PERIOD
from core.notifications import (
    PLAN_BATCH, VERIFICATION_NOTICE_DAYS, Expansion, Kind, OutboxMessage, ReminderPlan, window_last_day,
    window_opening_tomorrow,
)
from core.outages import plan_current_outage_notices
from core.ports import OutboxStore, ReminderPlanning
from core.readings import ReadingWindow
from core.recent_turns import KEPT_FOR

log = logging.getLogger(__name__)

INVOICE_NOTICE_DAYS = 7  # an imported invoice older than this is history, not news
LINK_ATTEMPTS_COUNT = max(LINK_ATTEMPT_PERIOD, ACCOUNT_LINK_PERIOD)  # an attempt older than this limits nothing
FIRST_EXPANSION = 1.0  # seconds a daily job plans rows itself; the dispatchers plan the rest as they send
NOTHING = Expansion(0, True)


@dataclass(frozen=True)
class Retention:
    """How long the retention job keeps each kind of record (README, "Retention")."""

    outbox: timedelta = timedelta(days=30)  # sent and skipped messages
    deliveries: timedelta = timedelta(days=30)
    photos: timedelta = timedelta(days=3 * 365)
    media_sweep: Callable[[], int] | None = None  # removes the Viber media past their days; blocking file work
    batch: int = 5000  # rows deleted in one short transaction


class JobRun(NamedTuple):
    """What running a job did: the messages planned now, what a dry run would send (its first 50), and whether the
    dispatchers plan the rest of a daily job's chats as they send (kabinet jobs run says so)."""

    planned: int
    rows: list[OutboxMessage]
    expanding: bool = False


@dataclass
class Planner:
    store: OutboxStore
    window: ReadingWindow
    timezone: ZoneInfo
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    retention: Retention = field(default_factory=Retention)
    plan_batch: int = PLAN_BATCH
    first_expansion: float = FIRST_EXPANSION

    def today(self) -> date:
        return self.clock().astimezone(self.timezone).date()

    async def reading_window(self, tx: ReminderPlanning) -> Expansion:
        opening = window_opening_tomorrow(self.window, self.today())
        return await self.plan(tx, ReminderPlan(Kind.READING_WINDOW, opening)) if opening else NOTHING

    async def reading_last_day(self, tx: ReminderPlanning) -> Expansion:
        opening = window_last_day(self.window, self.today())
        return await self.plan(tx, ReminderPlan(Kind.READING_LAST_DAY, opening)) if opening else NOTHING

    async def invoices(self, tx: ReminderPlanning, run: str = "") -> Expansion:
        since = self.today() - timedelta(days=INVOICE_NOTICE_DAYS)
        return await self.plan(tx, ReminderPlan(Kind.INVOICE, since, run=run))

    async def debts(self, tx: ReminderPlanning) -> Expansion:
        return await self.plan(tx, ReminderPlan(Kind.DEBT, self.today()))

    async def verifications(self, tx: ReminderPlanning) -> Expansion:
        return await self.plan(tx, ReminderPlan(Kind.VERIFICATION, self.today(), VERIFICATION_NOTICE_DAYS))

    async def plan(self, tx: ReminderPlanning, plan: ReminderPlan) -> Expansion:
        """Record the job's plan and plan its first batches now, for `first_expansion` seconds at most (a small
        utility's every chat); the dispatchers plan the rest as they send. A plan recorded before: nothing."""
        now = self.clock()
        plan_id = await tx.open_plan(plan, now)
        if plan_id is None:
            return NOTHING
        planned, started = 0, time.monotonic()
        while True:
            expansion = await tx.expand_plan(plan_id, now, self.plan_batch)
            planned += expansion.planned
            if expansion.finished or time.monotonic() - started >= self.first_expansion:
                return Expansion(planned, expansion.finished)

    def daily(self) -> dict[str, Callable[[ReminderPlanning], Awaitable[Expansion]]]:
        return {
            "reading-window": self.reading_window,
            "reading-last-day": self.reading_last_day,
            "invoices": self.invoices,
            "debts": self.debts,
            "verifications": self.verifications,
        }

    def jobs(self) -> tuple[str, ...]:
        return (*self.daily(), *EXTRA_JOBS, RETENTION)

    async def prune(self) -> int:
        """Delete what the retention periods no longer keep, batch by batch; the count of rows and files."""
        now, keep, batch, store = self.clock(), self.retention, self.retention.batch, self.store
        deleted = {
            "outbox": await store.prune_outbox(now - keep.outbox, batch),
            "plans": await store.prune_plans(now - keep.outbox, batch),  # finished ones, kept as long as their rows
            "deliveries": await store.prune_deliveries(now - keep.deliveries, batch),
            "link attempts": await store.prune_link_attempts(now - LINK_ATTEMPTS_COUNT, batch),
            "photos": await store.prune_photos(now - keep.photos, batch),
            "recent turns": await store.prune_recent_turns(now - KEPT_FOR, batch),
            "viber media": await asyncio.to_thread(keep.media_sweep) if keep.media_sweep else 0,
        }
        log.info("retention deleted %s", ", ".join(f"{n} {what}" for what, n in deleted.items()))
        return sum(deleted.values())

    async def run(self, name: str, *, dry_run: bool = False) -> JobRun:
        """Plan one job now; with dry_run, return what it would plan now and write nothing."""
        if name == RETENTION:  # its own short transactions, one per batch
            return JobRun(0 if dry_run else await self.prune(), [])
        started = self.clock()
        async with self.store.planning(dry_run=dry_run) as tx:
            if name in EXTRA_JOBS:
                done = Expansion(await EXTRA_JOBS[name](self, tx), True)
            else:
                done = await self.daily()[name](tx)
            rows = await tx.planned_since(started, 50) if dry_run else []
        log.info("job %s planned %d message(s)%s%s", name, done.planned, "" if done.finished else
                 " now, the rest as they are sent", " (dry run)" if dry_run else "")
        return JobRun(done.planned, rows, not done.finished)


async def plan_after_import(planner: Planner, tx: ReminderPlanning) -> int:
    """What an import makes news, the same for `kabinet import` and the admin API: invoices issued in the last
    days, and current or just ended outages."""
    invoices = await planner.invoices(tx, run=f"import {planner.clock().isoformat()}")  # each import news anew
    return invoices.planned + await plan_outages(planner, tx)


async def plan_outages(planner: Planner, tx: ReminderPlanning) -> int:
    """Every current or upcoming outage to the chats whose accounts it touches; ended ones, once more."""
    return await plan_current_outage_notices(tx, planner.clock())


async def plan_order_changes(planner: Planner, tx: ReminderPlanning) -> int:
    """Status changes made by the utility, to the chat that placed the order; each change once."""
    now = planner.clock()
    planned = 0
    after = await tx.last_order_change_notified()
    while True:
        changes = await tx.order_changes_after(after)
        if not changes:
            return planned
        notices = [(c.chat_id, str(c.order_id), str(c.id)) for c in changes
                   if c.chat_id is not None and c.by != "consumer" and c.previous is not None]
        planned += await tx.plan_notices(Kind.ORDER, notices, now)
        after = changes[-1].id

# Jobs run every few seconds rather than daily: name -> async (planner, tx) -> planned count.
EXTRA_JOBS: dict[str, Callable[..., Awaitable[int]]] = {
    "outages": plan_outages,
    "orders": plan_order_changes,
}

RETENTION = "retention"
NIGHTLY = {RETENTION: "03:30"}  # local time: away from the morning's reminders and the day's turns

DAILY = ("reading-window", "reading-last-day", "invoices", "debts", "verifications")
