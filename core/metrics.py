"""What the core counts, without knowing who collects it: bot/metrics.py plugs in Prometheus."""
from __future__ import annotations

import logging
from typing import Protocol

log = logging.getLogger(__name__)


class MetricsSink(Protocol):
    def count(self, name: str, amount: float = 1, **labels: str) -> None: ...

    def observe(self, name: str, value: float, **labels: str) -> None: ...


class _Nothing:
    def count(self, name: str, amount: float = 1, **labels: str) -> None:
        pass

    def observe(self, name: str, value: float, **labels: str) -> None:
        pass


sink: MetricsSink = _Nothing()


def count(name: str, amount: float = 1, **labels: str) -> None:
    try:
        sink.count(name, amount, **labels)
    except Exception:  # counting must never break what it counts
        log.exception("metric %s %s", name, labels)


def observe(name: str, value: float, **labels: str) -> None:
    try:
        sink.observe(name, value, **labels)
    except Exception:
        log.exception("metric %s %s", name, labels)
