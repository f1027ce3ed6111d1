"""Alembic, configured in code so `kabinet db upgrade` works from any directory.

Alembic (with the Mako and Pygments it brings, 11 MB resident) is imported only when a database is to be
upgraded: a `kabinet run` started on a database already at the newest schema never loads it.
"""
from __future__ import annotations

import ast
import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from storage.database import ensure_sqlite_folder

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` to `revision`; blocking, run it off the event loop."""
    from alembic import command

    ensure_sqlite_folder(url)
    command.upgrade(alembic_config(url), revision)


async def upgrade_if_behind(url: str) -> bool:
    """Bring the database at `url` to the newest schema unless it is there already; True when it was upgraded."""
    newest = newest_revision()
    if newest is not None and await schema_revisions(url) == {newest}:
        return False
    await asyncio.to_thread(upgrade, url)
    return True


async def schema_revisions(url: str) -> set[str]:
    """The revisions Alembic recorded in the database at `url`; none in a database it never upgraded."""
    ensure_sqlite_folder(url)
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return set((await connection.execute(text("SELECT version_num FROM alembic_version"))).scalars())
    except DBAPIError:  # no alembic_version table yet
        return set()
    finally:
        await engine.dispose()


def newest_revision() -> str | None:
    """The head of the migrations, the one revision no other names as its `down_revision`, from the files parsed
    (not imported, so Alembic need not be); None when that is not one plain revision (Alembic then decides)."""
    files = [_constants(ast.parse(path.read_text(encoding="utf-8")))
             for path in sorted((MIGRATIONS / "versions").glob("*.py"))]
    heads = {found.get("revision") for found in files} - {found.get("down_revision") for found in files}
    head = heads.pop() if len(heads) == 1 else None
    return head if isinstance(head, str) else None


def _constants(module: ast.Module) -> dict[str, object]:
    """The module-level `name = constant` (annotated or not) of a parsed file."""
    found = {}
    for node in module.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name) and isinstance(value, ast.Constant):
            found[target.id] = value.value
    return found


def revision(url: str, message: str) -> None:
    from alembic import command

    command.revision(alembic_config(url), message=message, autogenerate=True)
