"""What the core counts reaches Prometheus, each labelled series looked up once (bot/metrics.py)."""
from __future__ import annotations

from prometheus_client import Counter, Histogram

from bot import metrics


def test_a_labelled_series_is_looked_up_once_and_every_count_and_observation_reaches_it(monkeypatch):
    looked_up: list[dict] = []
    for kind in (Counter, Histogram):
        labels = kind.labels

        def counted(self, *values, _labels=labels, **named):
            looked_up.append(named)
            return _labels(self, *values, **named)

        monkeypatch.setattr(kind, "labels", counted)
    sink = metrics.PrometheusSink()
    for _ in range(3):
        sink.count("updates", channel="metrics-test", outcome="done")
        sink.observe("reply_seconds", 0.02, channel="metrics-test")
    sink.count("updates", 2, channel="metrics-test", outcome="failed")
    sample = metrics.REGISTRY.get_sample_value
    assert sample("kabinet_updates_total", {"channel": "metrics-test", "outcome": "done"}) == 3
    assert sample("kabinet_updates_total", {"channel": "metrics-test", "outcome": "failed"}) == 2
    assert sample("kabinet_reply_seconds_count", {"channel": "metrics-test"}) == 3
    assert sample("kabinet_reply_seconds_bucket", {"channel": "metrics-test", "le": "0.025"}) == 3
    assert looked_up == [{"channel": "metrics-test", "outcome": "done"}, {"channel": "metrics-test"},
                         {"channel": "metrics-test", "outcome": "failed"}]
