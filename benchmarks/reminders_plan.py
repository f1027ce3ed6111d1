"""Benchmark: plan reminders for N accounts (default 1,000,000), each linked from one chat with one meter.

    .venv/bin/python benchmarks/reminders_plan.py --backend sqlite --accounts 1000000
    .venv/bin/python benchmarks/reminders_plan.py --backend postgresql --accounts 1000000 --explain plans.txt

Prints the time to generate the data (not the point) and, for each planning job, its time, the rows it
planned and the process's peak memory. Planning is set-based (INSERT … SELECT … ON CONFLICT DO NOTHING), so
memory should not grow with N; a second run of each job plans nothing.

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
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event, text  # noqa: E402

from core.model import Outage  # noqa: E402
from core.readings import ReadingWindow  # noqa: E402
from scheduler.jobs import Planner  # noqa: E402
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


async def main(backend: str, n: int, explain: Path | None) -> None:
    async with scratch_database(backend) as url:
        await asyncio.to_thread(upgrade, url)
        database = Database(url)
        try:
            await measure(database, backend, n, explain)
        finally:
            await database.close()


async def measure(database: Database, backend: str, n: int, explain: Path | None = None) -> None:
    started = time.perf_counter()
    await generate(database, backend, n)
    print(f"{backend}: generated {n:,} accounts, chats, links, meters, invoices in {time.perf_counter() - started:.1f} s")
    clock_at = {
        "reading-window": datetime(2026, 11, 28, 9, tzinfo=KYIV),
        "reading-last-day": datetime(2026, 12, 3, 9, tzinfo=KYIV),
        "invoices": datetime(2026, 11, 5, 9, tzinfo=KYIV),
        "debts": datetime(2026, 11, 21, 9, tzinfo=KYIV),
        "verifications": datetime(2026, 11, 21, 9, tzinfo=KYIV),
    }
    explained = Explained(database, explain) if explain else None
    # The server's CPU for the job (PostgreSQL): on a shared machine the wall clock also counts others' work.
    name = database.engine.url.database if backend == "postgresql" else ""
    server = (lambda: backends_cpu(name)) if name else (lambda: 0.0)
    print(f"{'job':18} {'planned':>10} {'seconds':>9} {'rows/s':>10} {'again (s)':>10} {'peak RSS MB':>12}"
          + (f" {'server CPU s':>13} {'again':>6}" if name else ""))
    for job, moment in clock_at.items():
        planner = Planner(SqlOutbox(database), ReadingWindow.parse("2,3"), KYIV,
                          clock=lambda m=moment: m.astimezone(UTC))
        before = await outbox_rows(database)
        if explained:
            explained.job = job
        started, cpu = time.perf_counter(), server()
        await planner.run(job)
        took, cpu = time.perf_counter() - started, server() - cpu
        planned = await outbox_rows(database) - before
        if explained:
            explained.job = f"{job}, again"
        started, cpu_again = time.perf_counter(), server()
        await planner.run(job)
        repeat, cpu_again = time.perf_counter() - started, server() - cpu_again
        again = await outbox_rows(database) - before - planned
        assert again == 0, f"{job} planned {again} the second time"
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{job:18} {planned:>10,} {took:>9.1f} {planned / took if took else 0:>10,.0f} {repeat:>10.1f} {peak:>12.0f}"
              + (f" {cpu:>13.1f} {cpu_again:>6.1f}" if name else ""))
    # An outage in one of the 100 settlements: the chats it touches, found by the settlement's key.
    outage = Outage(0, "bench", "emergency", datetime(2026, 11, 21, 9, tzinfo=UTC), None, "bench", settlement="м. Н7")
    started = time.perf_counter()
    async with database.transaction() as tx:
        touched = await tx.chats_touched_by(outage)
    took = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{'outage (1 place)':18} {len(touched):>10,} {took:>9.1f} {len(touched) / took if took else 0:>10,.0f} "
          f"{'':>10} {peak:>12.0f}")


async def outbox_rows(database: Database) -> int:
    """Counted rather than taken from the job: an explained statement returns its plan, not its row count."""
    async with database.engine.connect() as connection:
        return await connection.scalar(text("SELECT count(*) FROM outbox"))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--explain", type=Path, metavar="FILE",
                        help="PostgreSQL: write EXPLAIN (ANALYZE, BUFFERS, WAL) of every planning statement here")
    arguments = parser.parse_args()
    if arguments.explain and arguments.backend != "postgresql":
        parser.error("--explain reads PostgreSQL's plans")
    asyncio.run(main(arguments.backend, arguments.accounts, arguments.explain))
