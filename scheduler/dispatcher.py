"""The dispatcher: drains the outbox through the channels, within each messenger's rate limits.

Rows are claimed in small batches (FOR UPDATE SKIP LOCKED on PostgreSQL, so several dispatchers share the
work) and each is recorded right after it is sent: a crash between sending and recording can resend at
most the message in flight; rows claimed but not sent return to the queue when their lease expires.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Callable, Mapping
from zoneinfo import ZoneInfo

from core import metrics
from core.i18n import Translator
from core.notifications import (
    QUIET_HOURS, ChatUnreachable, DeliveryError, Kind, OutboxMessage, RetryAfter, Sender, TransientFailure,
    quiet_until, render, wants,
)
from core.model import Payee
from core.ports import OutboxStore
from core.readings import ReadingWindow
from scheduler.pace import LocalPace, Pace

log = logging.getLogger(__name__)


MAX_BACKOFF = 600  # seconds between tries of a message a messenger could not take

# Slots are spaced for 97 % of a messenger's limit: requests leave evenly but arrive with network jitter,
# and a limit counted over any one-second window is crossed by the first two that bunch up.
PACE_SHARE = 0.97

# Sent even in quiet hours: an emergency outage is news at any hour.
URGENT = (Kind.OUTAGE, Kind.OUTAGE_END, Kind.REPLY, Kind.ACCOUNT_LINKED)  # sent through quiet hours


@dataclass
class DispatchStats:
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    retried: int = 0
    rate_limited: int = 0


@dataclass
class Dispatcher:
    store: OutboxStore
    senders: Mapping[str, Sender]
    translator: Translator
    timezone: ZoneInfo
    window: ReadingWindow
    rates: dict[str, float] = field(default_factory=lambda: {"telegram": 30.0, "viber": 30.0})
    per_chat_interval: float = 1.0
    batch: int = 50
    concurrency: int = 4
    lease: timedelta = timedelta(minutes=2)
    max_attempts: int = 20  # with the backoff capped at 10 minutes: about 2.3 hours of trying
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    pace: Pace = field(default_factory=LocalPace)
    payee: Payee | None = None  # the utility's payment details: a debt reminder carries the Pay buttons

    def __post_init__(self) -> None:
        self.stats = DispatchStats()
        self.alive_at: datetime | None = None

    async def run(self, stop: asyncio.Event, idle: float = 1.0) -> None:
        """Drain until stopped, looking for due rows every `idle` seconds when there are none."""
        while not stop.is_set():
            try:
                handled = await self.run_once()
            except Exception:
                log.exception("dispatcher round failed")
                handled = 0
            self.alive_at = self.clock()
            if not handled:
                try:
                    await asyncio.wait_for(stop.wait(), timeout=idle)
                except asyncio.TimeoutError:
                    pass

    async def run_once(self) -> int:
        """Claim one batch and deliver it; returns how many rows were dealt with."""
        rows = await self.store.claim(self.clock(), self.batch, self.lease)
        if not rows:
            return 0
        gate = asyncio.Semaphore(self.concurrency)

        async def one(row: OutboxMessage) -> None:
            async with gate:
                await self.deliver(row)

        await asyncio.gather(*(one(row) for row in rows))
        return len(rows)

    async def deliver(self, row: OutboxMessage) -> None:
        now = self.clock()
        sender = self.senders.get(row.channel)
        if sender is None or not row.active:
            await self._record(row, "skipped", "no channel" if sender is None else "chat unreachable")
            self.stats.skipped += 1
            return
        kind = Kind(row.kind)
        async with self.store.delivery() as tx:
            prefs = await tx.chat_settings(row.chat_id)
            if not wants(prefs, kind):
                await tx.record_delivery(row.id, "skipped", now=now, outcome="switched off")
                self.stats.skipped += 1
                return
            quiet_end = quiet_until(prefs, now.astimezone(self.timezone))
            if quiet_end is not None and kind not in URGENT:
                await tx.record_delivery(row.id, "queued", now=now, outcome=QUIET_HOURS,
                                         not_before=quiet_end.astimezone(UTC))
                return
            replies = await render(tx, self.translator, row, now.astimezone(self.timezone).date(), self.window,
                                   self.timezone, self.payee, now)
            if replies is None:
                await tx.record_delivery(row.id, "skipped", now=now, outcome="no longer relevant")
                self.stats.skipped += 1
                return
        await self.pace.wait(f"chat:{row.chat_id}", self.per_chat_interval)
        await self.pace.wait(row.channel, 1.0 / (self.rates.get(row.channel, 30.0) * PACE_SHARE))
        try:
            await sender.deliver(row.external_id, replies)
        except RetryAfter as exc:
            await self.pace.pause(row.channel, exc.seconds)
            self.stats.rate_limited += 1
            await self._record(row, "queued", f"retry after {exc.seconds}s",
                               not_before=self.clock() + timedelta(seconds=exc.seconds))
        except ChatUnreachable as exc:
            async with self.store.delivery() as tx:
                await tx.set_reachable(row.channel, row.external_id, False)
                await tx.record_delivery(row.id, "failed", now=self.clock(), outcome=f"unreachable: {exc}"[:200])
            self.stats.failed += 1
        except (TransientFailure, asyncio.TimeoutError, OSError) as exc:
            if row.attempts + 1 >= self.max_attempts:
                await self._record(row, "failed", f"gave up: {exc}"[:200], attempts_add=1)
                self.stats.failed += 1
            else:
                backoff = timedelta(seconds=min(2 ** row.attempts * 5, MAX_BACKOFF))
                await self._record(row, "queued", f"retrying: {exc}"[:200], not_before=self.clock() + backoff,
                                   attempts_add=1)
                self.stats.retried += 1
        except DeliveryError as exc:  # refused for good (e.g. a 400): retrying would not help
            await self._record(row, "failed", f"refused: {exc}"[:200], attempts_add=1)
            self.stats.failed += 1
        except Exception as exc:  # a bug of ours: record it, do not loop on it
            log.exception("delivering outbox row %s", row.id)
            await self._record(row, "failed", f"error: {type(exc).__name__}", attempts_add=1)
            self.stats.failed += 1
        else:
            await self._record(row, "sent", None)
            self.stats.sent += 1

    async def _record(self, row: OutboxMessage, status: str, outcome: str | None, **extra) -> None:
        metrics.count("outbox_sends", channel=row.channel,
                      outcome=status if status != "queued" else "retry")
        await self.store.record(row.id, status, now=self.clock(), outcome=outcome, **extra)
