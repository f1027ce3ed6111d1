"""A database of its own for one benchmark run: a fresh SQLite file or PostgreSQL database, dropped after."""
from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from contextlib import asynccontextmanager
from typing import AsyncIterator

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
