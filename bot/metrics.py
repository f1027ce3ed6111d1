"""Prometheus metrics of this process, served at GET /metrics in the text format."""
from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

import core.metrics

REGISTRY = CollectorRegistry()

_COUNTERS = {
    "updates": Counter("kabinet_updates_total", "Consumer events handled, by channel and outcome",
                       ["channel", "outcome"], registry=REGISTRY),
    "readings": Counter("kabinet_readings_total", "Readings accepted, or refused with the reason",
                        ["result", "reason"], registry=REGISTRY),
    "ocr": Counter("kabinet_ocr_total", "Meter photos by recognition outcome", ["outcome"], registry=REGISTRY),
    "photos": Counter("kabinet_photos_total", "Meter photos the archive could not keep", ["outcome"],
                      registry=REGISTRY),
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


class PrometheusSink:
    def count(self, name: str, amount: float = 1, **labels: str) -> None:
        _COUNTERS[name].labels(**labels).inc(amount)

    def observe(self, name: str, value: float, **labels: str) -> None:
        _HISTOGRAMS[name].labels(**labels).observe(value)


def install() -> None:
    core.metrics.sink = PrometheusSink()


def exposition() -> tuple[bytes, str]:
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


async def refresh_outbox_depth(database) -> None:
    """Set the outbox depth gauge from the database, on each scrape; a database that is down leaves it."""
    from core.notifications import Kind
    from storage.outbox import status_counts

    try:
        async with database.session() as session:
            counts = await status_counts(session)
    except Exception:
        return
    for kind in {k.value for k in Kind} | {kind for kind, _ in counts}:
        OUTBOX_DEPTH.labels(kind=kind).set(sum(n for (k, status), n in counts.items()
                                               if k == kind and status in ("queued", "sending")))
