"""The world the tests live in: the demo utility's data, Kyiv time, a clock the test moves, the backends."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import TypeAdapter

DEMO = Path(__file__).resolve().parents[2] / "bot" / "demo"
KYIV = ZoneInfo("Europe/Kyiv")
# KABINET_TEST_BACKENDS=sqlite (or postgresql) narrows a local run; CI runs both.
BACKENDS = [name.strip() for name in os.environ.get("KABINET_TEST_BACKENDS", "sqlite,postgresql").split(",")]
# A Redis database the tests of shared limits and pace may empty.
REDIS = os.environ.get("KABINET_TEST_REDIS", "redis://127.0.0.1:6379/15")
POSTGRES_ADMIN = os.environ.get("KABINET_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
# Read as bot.settings reads it (pydantic's bool: on/off, true/false, 1/0, yes/no).
FAST_PATH = TypeAdapter(bool).validate_python(os.environ.get("KABINET_DATABASE_FAST_PATH") or True)
# For the tests of a turn's statements: SQLite once (it has no fast path), PostgreSQL with it and without.
BOTH_PATHS = pytest.mark.parametrize(("database_url", "fast_path"), [
    pytest.param(backend, on, id=backend if backend == "sqlite" else f"{backend}-{'fast' if on else 'sqlalchemy'}")
    for backend in BACKENDS for on in ((FAST_PATH,) if backend == "sqlite" else (True, False))
], indirect=["database_url"])


@dataclass
class Clock:
    """A clock the test moves; starts on 2026-11-30 10:00 in Kyiv, inside the default reading window."""

    now: datetime = field(default_factory=lambda: datetime(2026, 11, 30, 10, 0, tzinfo=KYIV))

    def __call__(self) -> datetime:
        return self.now.astimezone(UTC)

    def set(self, *args: int) -> None:
        self.now = datetime(*args, tzinfo=KYIV)
