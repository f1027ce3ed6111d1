"""Benchmark: prune N sent outbox rows while consumers take turns, and the outbox depth at N rows.

    .venv/bin/python benchmarks/retention.py --backend postgresql --rows 200000
    .venv/bin/python benchmarks/retention.py --backend sqlite --rows 200000 --users 8

A scratch database with the demo data and `--users` linked console chats; N sent outbox rows 60 days old
(past the 30 days kept) and 1,000 still queued. Prints, in one run:
- the outbox depth as /metrics counts it now (the partial index of the waiting rows) beside the old
  GROUP BY over every row, median of 5;
- the turns' latency (/balance, closed loop of `--users`) for `--seconds` without a prune, then while the
  retention job deletes the N rows in batches of `--batch`: p50 and p99 side by side, and the prune's time.
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select, text  # noqa: E402

from benchmarks.scratch import scratch_database  # noqa: E402
from core.conversation import Kabinet  # noqa: E402
from core.i18n import Translator  # noqa: E402
from core.messages import EventKind, Incoming  # noqa: E402
from core.readings import ReadingWindow  # noqa: E402
from scheduler.jobs import Planner, Retention  # noqa: E402
from storage import outbox  # noqa: E402
from storage.database import Database  # noqa: E402
from storage.exchange import import_folder  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import OutboxRow  # noqa: E402
from storage.photos import FilePhotoArchive  # noqa: E402
from storage.scheduling import SqlOutbox  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
KYIV = ZoneInfo("Europe/Kyiv")
WAITING = 1000


def series(backend: str, n: int) -> str:
    if backend == "postgresql":
        return f"SELECT generate_series(1, {n}) AS i"
    return f"WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n}) SELECT i FROM s"


async def fill(database: Database, backend: str, rows: int) -> None:
    old = (datetime.now(UTC) - timedelta(days=60)).strftime("%Y-%m-%d %H:%M:%S")
    stamp = f"TIMESTAMPTZ '{old}+00'" if backend == "postgresql" else f"'{old}.000000'"
    async with database.engine.begin() as connection:
        chat = await connection.scalar(text("SELECT min(id) FROM chats"))
        for start, count, status in ((0, rows, "sent"), (rows, WAITING, "queued")):
            await connection.execute(text(
                f"INSERT INTO outbox (key, chat_id, kind, subject, period, status, attempts, not_before, created_at) "
                f"SELECT 'bench:' || (i + {start}), {chat}, 'invoice', 'bench', CAST(i + {start} AS TEXT), "
                f"'{status}', 0, {stamp}, {stamp} FROM ({series(backend, count)}) g"))
    if backend == "postgresql":
        async with database.engine.connect() as connection:
            await connection.execute(text("ANALYZE outbox"))
            await connection.commit()


async def timed(call) -> float:
    started = time.perf_counter()
    await call()
    return time.perf_counter() - started


async def depth_figures(database: Database) -> tuple[float, float]:
    """Median seconds of the old GROUP BY over every row and of the depth from the partial index."""
    async def old() -> None:
        async with database.session() as session:
            await session.execute(select(OutboxRow.kind, OutboxRow.status, func.count())
                                  .group_by(OutboxRow.kind, OutboxRow.status))

    async def new() -> None:
        async with database.session() as session:
            assert sum((await outbox.depth(session)).values()) >= WAITING

    return (statistics.median([await timed(old) for _ in range(5)]),
            statistics.median([await timed(new) for _ in range(5)]))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def main(args) -> None:
    async with scratch_database(args.backend) as url:
        await asyncio.to_thread(upgrade, url)
        database = Database(url, pool_size=args.users + 2)
        try:
            await measure(database, args)
        finally:
            await database.close()


async def measure(database: Database, args) -> None:
    async with database.session() as session:
        await import_folder(session, ROOT / "bot" / "demo")
    kabinet = Kabinet(store=database, photos=FilePhotoArchive(Path("/tmp/kabinet-retention-photos")),
                      translator=Translator("uk"), window=ReadingWindow.parse("always"), timezone=KYIV,
                      clock=lambda: datetime.now(KYIV))
    keys = iter(range(1, 10**9))

    async def turn(chat: str, line: str | None = None, action: str | None = None) -> None:
        kind = EventKind.BUTTON if action else EventKind.TEXT
        await kabinet.process(Incoming("bench", chat, kind, text=line, action=action, language="en",
                                       delivery_key=str(next(keys))))

    chats = [f"chat{n}" for n in range(args.users)]
    for chat in chats:
        await turn(chat, "/link 010000012345 Шевченко")
        await turn(chat, action="consent:yes")
    started = time.perf_counter()
    await fill(database, args.backend, args.rows)
    print(f"{args.backend}: {args.rows:,} sent outbox rows and {WAITING:,} queued made in "
          f"{time.perf_counter() - started:.1f} s")

    old, new = await depth_figures(database)
    print(f"outbox depth at {args.rows + WAITING:,} rows: GROUP BY over every row {old * 1000:.1f} ms, "
          f"partial index {new * 1000:.2f} ms")

    async def users(until) -> list[float]:
        latencies: list[float] = []

        async def user(chat: str) -> None:
            while not until():
                latencies.append(await timed(lambda: turn(chat, "/balance")))

        await asyncio.gather(*(user(chat) for chat in chats))
        return latencies

    deadline = time.perf_counter() + args.seconds
    quiet = await users(lambda: time.perf_counter() > deadline)

    planner = Planner(SqlOutbox(database), kabinet.window, KYIV, retention=Retention(batch=args.batch))
    done = asyncio.Event()

    async def prune() -> tuple[int, float]:
        try:
            started = time.perf_counter()
            deleted = await planner.prune()
            return deleted, time.perf_counter() - started
        finally:
            done.set()

    (deleted, took), busy = await asyncio.gather(prune(), users(done.is_set))
    print(f"prune: {deleted:,} rows in {took:.1f} s ({deleted / took:,.0f} rows/s), batches of {args.batch:,}")
    print(f"{'/balance turns, ' + str(args.users) + ' users':32} {'turns':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for label, values in (("without a prune", quiet), ("during the prune", busy)):
        print(f"{label:32} {len(values):>7} {percentile(values, 0.5) * 1000:>8.1f} "
              f"{percentile(values, 0.99) * 1000:>8.1f} {max(values) * 1000:>8.1f}")
    async with database.session() as session:
        left = await session.scalar(select(func.count()).select_from(OutboxRow).where(OutboxRow.status == "sent"))
    assert left == 0, f"{left} sent rows left"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--rows", type=int, default=200_000, help="sent outbox rows to prune (the issue: 10,000,000)")
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0, help="of turns without a prune")
    asyncio.run(main(parser.parse_args()))
