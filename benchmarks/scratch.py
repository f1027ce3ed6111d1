"""A database of its own for one benchmark run: a fresh SQLite file or PostgreSQL database, dropped after."""
from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from contextlib import asynccontextmanager
from pathlib import Path
from typing import AsyncIterator

TICKS = os.sysconf("SC_CLK_TCK")
POSTGRES_ADMIN = os.environ.get("KABINET_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


@asynccontextmanager
async def scratch_database(backend: str) -> AsyncIterator[str]:
    """Yields the SQLAlchemy URL of an empty database of `backend` (sqlite or postgresql)."""
    if backend == "sqlite":
        folder = tempfile.mkdtemp(prefix="kabinet-bench-")
        try:
            yield f"sqlite+aiosqlite:///{folder}/bench.db"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    import asyncpg

    name = f"kabinet_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(POSTGRES_ADMIN)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield POSTGRES_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + f"/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def cpu_seconds(pid: int, *, reaped: bool = False) -> float:
    """User and system CPU seconds of a process so far, from /proc (OSError once it has ended); with `reaped`,
    also those of its children that have ended and been waited for (cutime, cstime)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(value) for value in fields[11:15 if reaped else 13]) / TICKS


def postgres_cpu() -> dict[int, float]:
    """CPU seconds of each postgres process now, by pid (one that starts meanwhile counts from its start,
    one that ends meanwhile is missed: the pool keeps its connections)."""
    seconds = {}
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "comm").read_text().startswith("postgres"):
                seconds[int(entry.name)] = cpu_seconds(int(entry.name))
        except OSError:  # ended meanwhile
            continue
    return seconds


def backends_cpu(database: str) -> float:
    """CPU seconds so far of the postgres backends connected to `database` (named in their process titles): a
    job's own cost on the server, which other work on a shared machine slows but does not add to."""
    seconds = 0.0
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and f" {database} " in (entry / "cmdline").read_bytes().decode(errors="replace"):
                seconds += cpu_seconds(int(entry.name))
        except OSError:  # ended meanwhile
            continue
    return seconds


def postgres_cpu_since(before: dict[int, float]) -> float:
    """CPU seconds the postgres processes spent since `before` (a postgres_cpu())."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in postgres_cpu().items())
