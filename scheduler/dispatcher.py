"""The dispatcher: drains the outbox through the channels, within each messenger's rate limits.

Rows are claimed in small batches (FOR UPDATE SKIP LOCKED on PostgreSQL, so several dispatchers share the
work) and each is recorded right after it is sent: a crash between sending and recording can resend at
most the message in flight; rows claimed but not sent return to the queue when their lease expires.

A daily job's plan (core.notifications.ReminderPlan) is expanded here, batch by batch, whenever fewer than
`plan_ahead` of its kind's rows wait: its rows stay a little ahead of the messengers' pace, never a million at once.

A notice the chat also takes by e-mail has a row of its own (`via` core.mailing.EMAIL), planned when the chat's
row is first handled: it goes through the mailer at the e-mail pace, and is retried or refused on its own.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Awaitable, Callable, Mapping
from zoneinfo import ZoneInfo

from core import metrics
from core.i18n import Translator
from core.notifications import (
    PLAN_BATCH, QUIET_HOURS, ChatUnreachable, DeliveryError, Kind, MailboxRefused, OutboxMessage, RetryAfter, Sender,
    TransientFailure, quiet_until, render, wants,
)
from core.mailing import EMAIL, EMAIL_SWITCH, mailed, notice_email
from core.messages import Email, Reply
from core.model import Payee
from core.ports import Delivery, Mailer, OutboxStore
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
    mailer: Mailer | None = None  # None: no e-mail is configured, so nothing is queued for it (core/mailing.py)
    plan_batch: int = PLAN_BATCH  # chats' links of a plan expanded in one transaction
    plan_ahead: int = PLAN_BATCH  # a plan's next batch is expanded when fewer of its kind's rows wait

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
        """Expand the plans running short, claim one batch and deliver it; returns how many rows were dealt with."""
        try:
            await self.store.expand_plans(self.clock(), self.plan_batch, self.plan_ahead)
        except Exception:  # what is planned already is still sent
            log.exception("expanding the reminder plans failed")
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
        kind = Kind(row.kind)
        send: Callable[[], Awaitable[None]]
        address = ""  # the e-mail's, to mark it refused
        if row.via == EMAIL:
            email = await self._email(row, kind, now)
            if email is None:
                return
            mailer = self.mailer
            assert mailer is not None  # _email skips the row without one
            await self.pace.wait(EMAIL, 1.0 / (self.rates.get(EMAIL, 5.0) * PACE_SHARE))
            send, address = partial(mailer.send, email), email.to
        else:
            replies = await self._replies(row, kind, now)
            if replies is None:
                return
            sender = self.senders[row.channel]
            await self.pace.wait(f"chat:{row.chat_id}", self.per_chat_interval)
            await self.pace.wait(row.channel, 1.0 / (self.rates.get(row.channel, 30.0) * PACE_SHARE))
            send = partial(sender.deliver, row.external_id, replies)
        try:
            await send()
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
        except MailboxRefused as exc:  # no such mailbox: nothing more goes there until the consumer gives an address
            log.warning("the mail server refused the address of chat %s for good: %s", row.chat_id, exc)
            async with self.store.delivery() as tx:
                await tx.refuse_email(row.chat_id, address, self.clock())
                await tx.record_delivery(row.id, "failed", now=self.clock(), outcome=f"refused: {exc}"[:200],
                                         attempts_add=1)
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
        except DeliveryError as exc:  # refused for good (e.g. a 400, an SMTP 5xx to the message): retrying would not help
            if row.via == EMAIL:
                log.warning("the mail server refused outbox row %s for good: %s", row.id, exc)
            await self._record(row, "failed", f"refused: {exc}"[:200], attempts_add=1)
            self.stats.failed += 1
        except Exception as exc:  # a bug of ours: record it, do not loop on it
            log.exception("delivering outbox row %s", row.id)
            await self._record(row, "failed", f"error: {type(exc).__name__}", attempts_add=1)
            self.stats.failed += 1
        else:
            await self._record(row, "sent", None)
            self.stats.sent += 1

    async def _replies(self, row: OutboxMessage, kind: Kind, now: datetime) -> list[Reply] | None:
        """What the chat is sent now; None when the row is held or skipped (recorded here). A notice the chat also
        takes by e-mail gets its e-mail row here, whatever becomes of the chat's."""
        sender = self.senders.get(row.channel)
        if sender is None or not row.active:
            if self.mailer is not None and kind in EMAIL_SWITCH:
                async with self.store.delivery() as tx:
                    await self._queue_email(tx, row, kind, now)
            await self._record(row, "skipped", "no channel" if sender is None else "chat unreachable")
            self.stats.skipped += 1
            return None
        async with self.store.delivery() as tx:
            await self._queue_email(tx, row, kind, now)
            prefs = await tx.chat_settings(row.chat_id)
            if not wants(prefs, kind):
                await tx.record_delivery(row.id, "skipped", now=now, outcome="switched off")
                self.stats.skipped += 1
                return None
            quiet_end = quiet_until(prefs, now.astimezone(self.timezone))
            if quiet_end is not None and kind not in URGENT:
                await tx.record_delivery(row.id, "queued", now=now, outcome=QUIET_HOURS,
                                         not_before=quiet_end.astimezone(UTC))
                return None
            replies = await render(tx, self.translator, row, now.astimezone(self.timezone).date(), self.window,
                                   self.timezone, self.payee, now)
            if replies is None:
                await tx.record_delivery(row.id, "skipped", now=now, outcome="no longer relevant")
                self.stats.skipped += 1
                return None
        return replies

    async def _queue_email(self, tx: Delivery, row: OutboxMessage, kind: Kind, now: datetime) -> None:
        if self.mailer is not None and kind in EMAIL_SWITCH and mailed(await tx.chat_email(row.chat_id), kind):
            await tx.queue_email_copy(row.id, now)

    async def _email(self, row: OutboxMessage, kind: Kind, now: datetime) -> Email | None:
        """The e-mail of a row for the chat's address, as the address and its choices are now; None when the row
        is skipped (recorded here). No quiet hours: an e-mail waits in the mailbox."""
        async with self.store.delivery() as tx:
            address = await tx.chat_email(row.chat_id) if self.mailer is not None else None
            email = None
            if address is not None and mailed(address, kind):
                replies = await render(tx, self.translator, row, now.astimezone(self.timezone).date(), self.window,
                                       self.timezone, self.payee, now)
                if replies is not None:
                    email = await notice_email(tx, self.translator, row, address, replies, self.payee, now)
            if email is None:
                outcome = ("no mailer" if self.mailer is None else "no e-mail" if address is None else
                           "switched off" if not mailed(address, kind) else "no longer relevant")
                await tx.record_delivery(row.id, "skipped", now=now, outcome=outcome)
                self.stats.skipped += 1
        return email

    async def _record(self, row: OutboxMessage, status: str, outcome: str | None, **extra) -> None:
        metrics.count("outbox_sends", channel=EMAIL if row.via == EMAIL else row.channel,
                      outcome=status if status != "queued" else "retry")
        await self.store.record(row.id, status, now=self.clock(), outcome=outcome, **extra)
