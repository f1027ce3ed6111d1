"""Prometheus metrics of this process, served at GET /metrics in the text format."""
from __future__ import annotations

import asyncio
import logging
import time
import weakref
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

import core.metrics
from core.notifications import Kind

DAILY_KINDS = (Kind.READING_WINDOW.value, Kind.READING_LAST_DAY.value, Kind.INVOICE.value, Kind.DEBT.value,
               Kind.VERIFICATION.value)  # what daily jobs plan, as plans

log = logging.getLogger(__name__)

REGISTRY = CollectorRegistry()

_COUNTERS = {
    "updates": Counter("kabinet_updates_total", "Consumer events handled, by channel and outcome",
                       ["channel", "outcome"], registry=REGISTRY),
    "readings": Counter("kabinet_readings_total", "Readings accepted, or refused with the reason",
                        ["result", "reason"], registry=REGISTRY),
    "ocr": Counter("kabinet_ocr_total", "Meter photos by recognition outcome", ["outcome"], registry=REGISTRY),
    "photos": Counter("kabinet_photos_total", "Meter photos the archive could not keep", ["outcome"],
                      registry=REGISTRY),
    "photos_refused": Counter("kabinet_photos_refused_total",
                              "Meter photos refused: over the chat's photos a minute (flood) or the account's photo "
                              "store quota (quota)", ["reason"], registry=REGISTRY),
    "outbox_sends": Counter("kabinet_outbox_sends_total", "Outbox deliveries by channel and outcome",
                            ["channel", "outcome"], registry=REGISTRY),
    "replies_kept": Counter("kabinet_replies_kept_total", "Answers the messenger did not take, kept in the outbox",
                            ["channel"], registry=REGISTRY),
    "link_failures": Counter("kabinet_link_failures_total",
                             "Failed attempts to link an account (an alarm on its rate catches guessing)",
                             ["channel"], registry=REGISTRY),
    "admin": Counter("kabinet_admin_requests_total", "Admin API requests by route and status",
                     ["route", "status"], registry=REGISTRY),
    "admin_auth_failures": Counter(
        "kabinet_admin_auth_failures_total",
        "Admin API requests without the right token (refused, 401) or from an address that failed too often "
        "(blocked, 429)", ["outcome"], registry=REGISTRY),
}
_HISTOGRAMS = {
    "reply_seconds": Histogram("kabinet_reply_seconds", "Time from an event to its replies being ready",
                               ["channel"], registry=REGISTRY,
                               buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)),
}
OUTBOX_DEPTH = Gauge("kabinet_outbox_depth", "Outbox rows waiting to be sent, by kind", ["kind"], registry=REGISTRY)
OUTBOX_PLANNING = Gauge("kabinet_outbox_planning",
                        "Daily reminder plans still being expanded into the outbox as it is sent (their chats not yet "
                        "reached are not in the depth), by kind", ["kind"], registry=REGISTRY)


class PrometheusSink:
    """Each labelled series looked up in prometheus_client once: `labels()` checks, orders and locks its labels on
    every call, a few microseconds twice a turn (`updates` and `reply_seconds`)."""

    def __init__(self) -> None:
        self._series: dict[tuple, Any] = {}

    def _labelled(self, metrics: dict, name: str, labels: dict[str, str]) -> Any:
        key = (name, *labels.items())
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = metrics[name].labels(**labels)
        return series

    def count(self, name: str, amount: float = 1, **labels: str) -> None:
        self._labelled(_COUNTERS, name, labels).inc(amount)

    def observe(self, name: str, value: float, **labels: str) -> None:
        self._labelled(_HISTOGRAMS, name, labels).observe(value)


def install() -> None:
    core.metrics.sink = PrometheusSink()


def exposition() -> tuple[bytes, str]:
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


DEPTH_EVERY = 10.0  # seconds a counted outbox depth is served before a scrape counts it again
DEPTH_TIMEOUT = 2.0  # seconds the count may take; past it the scrape serves the last value


class OutboxDepth:
    """The outbox depth for scrapes: counted by one scrape at a time, at most every DEPTH_EVERY seconds, and
    only on a connection the pool has idle, so that scrapers never wait for, or take, one a turn needs."""

    def __init__(self, every: float = DEPTH_EVERY, clock=time.monotonic) -> None:
        self.every = every
        self.clock = clock
        self.counted_at: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # by database
        self.lock = asyncio.Lock()

    async def refresh(self, database) -> None:
        if self._fresh(database) or self.lock.locked():
            return
        async with self.lock:
            if self._fresh(database) or not _pool_has_idle(database.engine):
                return
            try:
                counts, planning = await asyncio.wait_for(self._count(database), DEPTH_TIMEOUT)
            except Exception:  # a database that is down or slow leaves the last value
                log.warning("outbox depth not counted", exc_info=True)
                return
            self.counted_at[database] = self.clock()
        for kind in {k.value for k in Kind} | set(counts):
            OUTBOX_DEPTH.labels(kind=kind).set(counts.get(kind, 0))
        for kind in set(DAILY_KINDS) | set(planning):
            OUTBOX_PLANNING.labels(kind=kind).set(planning.get(kind, 0))

    def _fresh(self, database) -> bool:
        counted_at = self.counted_at.get(database)
        return counted_at is not None and self.clock() - counted_at < self.every

    @staticmethod
    async def _count(database) -> tuple[dict[str, int], dict[str, int]]:
        from storage.outbox import depth
        from storage.plans import unfinished

        async with database.session() as session:
            return await depth(session), await unfinished(session)


def _pool_has_idle(engine) -> bool:
    """A connection can be had at once: one is idle, or the pool may still open one (nobody waits then)."""
    pool = engine.pool
    size = getattr(pool, "size", None)
    return size is None or pool.checkedin() > 0 or pool.checkedout() < size()


OUTBOX = OutboxDepth()


async def refresh_outbox_depth(database) -> None:
    """Set the outbox depth gauge, counted at most every DEPTH_EVERY seconds (see OutboxDepth)."""
    await OUTBOX.refresh(database)
