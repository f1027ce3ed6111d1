"""The scheduler runs in exactly one `kabinet run` process: the one holding the outbox store's Leadership
(on PostgreSQL an advisory lock on a connection of its own). When its holder dies another process takes it
over within `retry` seconds. On SQLite there is one process, always leader.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from core.ports import Leadership
from scheduler.jobs import DAILY, NIGHTLY, Planner

log = logging.getLogger(__name__)


@dataclass
class ReminderScheduler:
    """APScheduler with the daily reminder jobs and the frequent event jobs, while this process leads."""

    planner: Planner
    daily_at: str = "09:00"
    events_every: float = 60.0
    retry: float = 15.0
    leadership: Leadership = field(init=False)

    def __post_init__(self) -> None:
        self.leadership = self.planner.store.leadership()
        self.scheduler: AsyncIOScheduler | None = None
        self.alive = False

    def _start_jobs(self) -> None:
        hour, minute = (int(part) for part in self.daily_at.split(":"))
        self.scheduler = AsyncIOScheduler(timezone=self.planner.timezone)
        for name in DAILY:
            self.scheduler.add_job(self._run, CronTrigger(hour=hour, minute=minute, timezone=self.planner.timezone),
                                   args=[name], id=name, coalesce=True, misfire_grace_time=3600)
        for name, at in NIGHTLY.items():
            hour, minute = (int(part) for part in at.split(":"))
            self.scheduler.add_job(self._run, CronTrigger(hour=hour, minute=minute, timezone=self.planner.timezone),
                                   args=[name], id=name, coalesce=True, misfire_grace_time=3600, max_instances=1)
        for name in self.planner.jobs():
            if name not in DAILY and name not in NIGHTLY:
                self.scheduler.add_job(self._run, IntervalTrigger(seconds=self.events_every), args=[name], id=name,
                                       coalesce=True, max_instances=1)
        self.scheduler.start()

    async def _run(self, name: str) -> None:
        try:
            await self.planner.run(name)
        except Exception:
            log.exception("reminder job %s failed", name)

    async def run(self, stop: asyncio.Event) -> None:
        """Lead when the lock can be had, follow otherwise; check every `retry` seconds."""
        try:
            while not stop.is_set():
                try:
                    leading = await self.leadership.try_take()
                except Exception:
                    log.exception("scheduler lock: database unreachable")
                    leading = False
                if leading and self.scheduler is None:
                    log.warning("this process runs the reminder scheduler")
                    self._start_jobs()
                elif not leading and self.scheduler is not None:
                    self.scheduler.shutdown(wait=False)
                    self.scheduler = None
                self.alive = True
                try:
                    await asyncio.wait_for(stop.wait(), timeout=self.retry)
                except asyncio.TimeoutError:
                    pass
        finally:
            if self.scheduler is not None:
                self.scheduler.shutdown(wait=False)
                self.scheduler = None
            await self.leadership.release()
