"""Benchmark: plan reminders for N accounts (default 1,000,000), each linked from one chat with one meter.

    .venv/bin/python benchmarks/reminders_plan.py --backend sqlite --accounts 1000000
    .venv/bin/python benchmarks/reminders_plan.py --backend postgresql --accounts 1000000 --explain plans.txt

Prints the time to generate the data (not the point) and, for each daily job, on an emptied outbox:
- whole: the baseline, the job as it was before plans: one INSERT … SELECT … ON CONFLICT DO NOTHING of every
  chat's row in the job's transaction, and a second run of it;
- plan: the job as it is: its plan recorded and its first batches expanded (about a second's worth), and a
  second run, which finds the plan and plans nothing;
- expand: the rest of the plan expanded as the dispatchers do it, batch by batch (core.notifications.PLAN_BATCH
  links, a short transaction each, the next one when fewer than a batch of rows wait), the rows marked sent
  between batches as the messengers would take them (not timed); its rows per second, the batches, and the
  process's peak memory, which should not grow with N.

With --explain FILE (PostgreSQL), every planning statement of both runs is run as EXPLAIN (ANALYZE, BUFFERS,
WAL) and its plan written to FILE: the statements still insert, so the figures stay comparable, a little
slower for the timing EXPLAIN ANALYZE adds.
"""
from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event, text  # noqa: E402

from core.model import Outage  # noqa: E402
from core.notifications import PLAN_BATCH  # noqa: E402
from core.readings import ReadingWindow  # noqa: E402
from scheduler.jobs import Planner  # noqa: E402
from storage import outbox  # noqa: E402
from storage.database import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.scheduling import SqlOutbox  # noqa: E402

from benchmarks.scratch import backends_cpu, scratch_database  # noqa: E402

KYIV = ZoneInfo("Europe/Kyiv")


def series(backend: str, n: int) -> str:
    if backend == "postgresql":
        return f"SELECT generate_series(1, {n}) AS i"
    return f"WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n}) SELECT i FROM s"


async def generate(database: Database, backend: str, n: int) -> None:
    s = series(backend, n)
    now = "'2026-11-01 00:00:00'"
    statements = [
        f"INSERT INTO accounts (id, number, surname, full_name, address, settlement, place_key, consumer_type, "
        f"tariff_plan, balance, balance_on) SELECT i, printf('%012d', i), 'S', 'S', 'A', 'Н' || (i % 100), "
        f"'н' || (i % 100), 'household', 'P', CASE WHEN i % 3 = 0 THEN 100 ELSE 0 END, '2026-11-01' FROM ({s}) g",
        f"INSERT INTO meters (id, account_id, serial, type, digits, zones, k_factor, installed_on, "
        f"next_verification_on) SELECT i, i, 'M' || i, 'T', 6, 1, 1, '2020-01-01', "
        f"CASE WHEN i % 10 = 0 THEN '2026-12-15' ELSE '2030-01-01' END FROM ({s}) g",
        f"INSERT INTO chats (id, channel, external_id, language, active, created_at) "
        f"SELECT i, 'telegram', CAST(i AS TEXT), 'uk', true, {now} FROM ({s}) g",
        f"INSERT INTO chat_accounts (chat_id, account_id, linked_at) SELECT i, i, {now} FROM ({s}) g",
        f"INSERT INTO invoices (account_id, period, issued_on, due_on, amount, kwh) "
        f"SELECT i, '2026-10', '2026-11-03', '2026-11-20', 100, 50 FROM ({s}) g",
    ]
    if backend == "postgresql":
        statements[0] = statements[0].replace("printf('%012d', i)", "lpad(i::text, 12, '0')")
        statements = [st.replace(f"{now}", f"TIMESTAMPTZ {now}").replace("THEN '2026-12-15' ELSE '2030-01-01'",
                                                                        "THEN DATE '2026-12-15' ELSE DATE '2030-01-01'")
                      for st in statements]
    else:
        statements = [st.replace("true", "1") for st in statements]
    async with database.engine.begin() as connection:
        for statement in statements:
            await connection.execute(text(statement))
    if backend == "postgresql":
        # What autovacuum does within a minute of a bulk load (it is off on the machine of the figures): without
        # statistics PostgreSQL takes a million-row table for a few hundred rows and plans nested loops.
        async with database.engine.connect() as connection:
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text("VACUUM ANALYZE"))


class Explained:
    """Runs each INSERT INTO outbox of the engine as EXPLAIN (ANALYZE, BUFFERS, WAL) and keeps its plan."""

    def __init__(self, database: Database, path: Path) -> None:
        self.out = path.open("w")
        self.job = ""
        event.listen(database.engine.sync_engine, "before_cursor_execute", self.before, retval=True)
        event.listen(database.engine.sync_engine, "after_cursor_execute", self.after)

    def before(self, connection, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO OUTBOX"):
            statement = "EXPLAIN (ANALYZE, BUFFERS, WAL, VERBOSE) " + statement
        return statement, parameters

    def after(self, connection, cursor, statement, parameters, context, executemany):
        if statement.startswith("EXPLAIN"):
            self.out.write(f"===== {self.job}\n{statement}\n{parameters}\n")
            self.out.write("\n".join(row[0] for row in cursor.fetchall()) + "\n\n")
            self.out.flush()


async def main(backend: str, n: int, explain: Path | None, jobs: tuple[str, ...], whole: bool) -> None:
    async with scratch_database(backend) as url:
        await asyncio.to_thread(upgrade, url)
        database = Database(url)
        try:
            await measure(database, backend, n, explain, jobs, whole)
        finally:
            await database.close()


# Each job's moment, and its rule as the code before plans ran it: one INSERT of every chat's row (the baseline).
MOMENTS = {
    "reading-window": datetime(2026, 11, 28, 9, tzinfo=KYIV),
    "reading-last-day": datetime(2026, 12, 3, 9, tzinfo=KYIV),
    "invoices": datetime(2026, 11, 5, 9, tzinfo=KYIV),
    "debts": datetime(2026, 11, 21, 9, tzinfo=KYIV),
    "verifications": datetime(2026, 11, 21, 9, tzinfo=KYIV),
}
WHOLE = {
    "reading-window": lambda session, now: outbox.plan_reading_window(session, date(2026, 11, 29), now),
    "reading-last-day": lambda session, now: outbox.plan_reading_last_day(session, date(2026, 11, 29), now),
    "invoices": lambda session, now: outbox.plan_invoices(session, date(2026, 10, 29), now),
    "debts": lambda session, now: outbox.plan_debts(session, date(2026, 11, 21), now),
    "verifications": lambda session, now: outbox.plan_verifications(session, date(2026, 11, 21), 90, now),
}


async def measure(database: Database, backend: str, n: int, explain: Path | None = None,
                  jobs: tuple[str, ...] = tuple(MOMENTS), whole: bool = True) -> None:
    started = time.perf_counter()
    await generate(database, backend, n)
    print(f"{backend}: generated {n:,} accounts, chats, links, meters, invoices in {time.perf_counter() - started:.1f} s")
    explained = Explained(database, explain) if explain else None
    # The server's CPU for the job (PostgreSQL): on a shared machine the wall clock also counts others' work.
    name = database.engine.url.database if backend == "postgresql" else ""
    server = (lambda: backends_cpu(name)) if name else (lambda: 0.0)
    timed = Timed(server)
    print("each cell: wall seconds" + (" / PostgreSQL CPU seconds" if name else "") + "; the outbox emptied before each")
    print(f"{'job':18} {'planned':>10} {'whole':>13} {'again':>13} {'plan':>11} {'again':>11} {'now':>7} "
          f"{'expand':>13} {'rows/s':>8} {'batches':>7} {'peak RSS MB':>11}")
    for job in jobs:
        moment = MOMENTS[job]
        now = moment.astimezone(UTC)
        cells = {}
        if whole:
            await empty_outbox(database)
            if explained:
                explained.job = f"{job}, whole"
            whole_rows = await timed(whole_insert(database, job, now))
            cells["whole"] = timed.last
            await timed(whole_insert(database, job, now))
            cells["whole again"] = timed.last
        await empty_outbox(database)
        store = SqlOutbox(database)
        planner = Planner(store, ReadingWindow.parse("2,3"), KYIV, clock=lambda m=moment: m.astimezone(UTC))
        if explained:
            explained.job = job
        run = await timed(planner.run(job))
        cells["plan"] = timed.last
        again = await timed(planner.run(job))
        assert again.planned == 0, f"{job} planned {again.planned} the second time"
        cells["plan again"] = timed.last
        expanded, batches, expansion = await expand_all(database, store, now, timed)
        planned = await outbox_rows(database)
        assert planned == run.planned + expanded, (planned, run.planned, expanded)
        if whole:
            assert planned == whole_rows, f"{job}: {planned} planned, {whole_rows} by the whole insert"
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        rate = expanded / expansion[0] if expansion[0] else 0
        shown = {what: cell(figures, bool(name)) for what, figures in {**cells, "expand": expansion}.items()}
        print(f"{job:18} {planned:>10,} {shown.get('whole', '-'):>13} {shown.get('whole again', '-'):>13} "
              f"{shown['plan']:>11} {shown['plan again']:>11} {run.planned:>7,} {shown['expand']:>13} "
              f"{rate:>8,.0f} {batches:>7} {peak:>11.0f}")
    # An outage in one of the 100 settlements: the chats it touches, found by the settlement's key.
    outage = Outage(0, "bench", "emergency", datetime(2026, 11, 21, 9, tzinfo=UTC), None, "bench", settlement="м. Н7")
    started = time.perf_counter()
    async with database.transaction() as tx:
        touched = await tx.chats_touched_by(outage)
    took = time.perf_counter() - started
    print(f"outage (1 place): {len(touched):,} chats in {took:.2f} s")


class Timed:
    """Awaits a call and keeps its wall and server CPU seconds in `last`."""

    def __init__(self, server) -> None:
        self.server = server
        self.last: tuple[float, float] = (0.0, 0.0)

    async def __call__(self, work):
        started, cpu = time.perf_counter(), self.server()
        result = await work
        self.last = (time.perf_counter() - started, self.server() - cpu)
        return result


def cell(figures, server: bool) -> str:
    """Wall seconds, and the server's CPU seconds beside them where they are measured (PostgreSQL)."""
    if figures is None:
        return "-"
    wall, cpu = figures
    return f"{wall:.2f} / {cpu:.2f}" if server else f"{wall:.2f}"


async def whole_insert(database: Database, job: str, now: datetime) -> int:
    """The baseline: the job's every row in one INSERT … SELECT, in the job's transaction (work_mem and all)."""
    async with SqlOutbox(database).planning() as tx:
        return await WHOLE[job](tx.session, now)


async def expand_all(database: Database, store: SqlOutbox, now: datetime, timed: Timed):
    """Expand the job's plan as the dispatchers do (a batch when fewer than a batch wait), the rows marked sent
    between batches as the messengers would take them (not timed); rows planned, batches, (wall, CPU) of expansion."""
    expanded, batches, wall, cpu = 0, 0, 0.0, 0.0
    while await unfinished_plans(database):
        expanded += await timed(store.expand_plans(now, PLAN_BATCH, PLAN_BATCH))
        wall, cpu, batches = wall + timed.last[0], cpu + timed.last[1], batches + 1
        async with database.engine.begin() as connection:
            await connection.execute(text("UPDATE outbox SET status = 'sent' WHERE status = 'queued'"))
    return expanded, batches, (wall, cpu)


async def unfinished_plans(database: Database) -> int:
    async with database.engine.connect() as connection:
        return await connection.scalar(text("SELECT count(*) FROM outbox_plans WHERE finished_at IS NULL"))


async def empty_outbox(database: Database) -> None:
    async with database.engine.begin() as connection:
        await connection.execute(text("DELETE FROM outbox" if database.is_sqlite else "TRUNCATE outbox"))
        await connection.execute(text("DELETE FROM outbox_plans"))
    if not database.is_sqlite:
        async with database.engine.connect() as connection:
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text("VACUUM ANALYZE outbox"))


async def outbox_rows(database: Database) -> int:
    """Counted rather than taken from the job: an explained statement returns its plan, not its row count."""
    async with database.engine.connect() as connection:
        return await connection.scalar(text("SELECT count(*) FROM outbox"))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--jobs", default=",".join(MOMENTS), help="the daily jobs to measure, comma-separated")
    parser.add_argument("--no-whole", action="store_true", help="skip the baseline (the whole insert of each job)")
    parser.add_argument("--explain", type=Path, metavar="FILE",
                        help="PostgreSQL: write EXPLAIN (ANALYZE, BUFFERS, WAL) of every planning statement here")
    arguments = parser.parse_args()
    if arguments.explain and arguments.backend != "postgresql":
        parser.error("--explain reads PostgreSQL's plans")
    asyncio.run(main(arguments.backend, arguments.accounts, arguments.explain, tuple(arguments.jobs.split(",")),
                     not arguments.no_whole))
