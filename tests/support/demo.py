"""The world the tests live in: the demo utility's data, Kyiv time, a clock the test moves, the backends."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

DEMO = Path(__file__).resolve().parents[2] / "bot" / "demo"
KYIV = ZoneInfo("Europe/Kyiv")
# KABINET_TEST_BACKENDS=sqlite (or postgresql) narrows a local run; CI runs both.
BACKENDS = [name.strip() for name in os.environ.get("KABINET_TEST_BACKENDS", "sqlite,postgresql").split(",")]
POSTGRES_ADMIN = os.environ.get("KABINET_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


@dataclass
class Clock:
    """A clock the test moves; starts on 2026-11-30 10:00 in Kyiv, inside the default reading window."""

    now: datetime = field(default_factory=lambda: datetime(2026, 11, 30, 10, 0, tzinfo=KYIV))

    def __call__(self) -> datetime:
        return self.now.astimezone(UTC)

    def set(self, *args: int) -> None:
        self.now = datetime(*args, tzinfo=KYIV)
