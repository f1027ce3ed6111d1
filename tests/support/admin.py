"""The admin API through aiohttp's test client, with the demo data and a chat or two linked to it."""
from __future__ import annotations

import io
import zipfile
from datetime import datetime
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from bot.server import make_web_app
from bot.settings import Settings

TOKEN = "test-admin-token-0123456789abcdef-fedcba9876543210"
AUTH = {"Authorization": f"Bearer {TOKEN}", "X-Operator": "olena"}


def admin_settings(data_dir: Path, token: str | None = TOKEN) -> Settings:
    return Settings(_env_file=None, admin_token=token, data_dir=data_dir, reading_window="2,3")


async def start(database, kabinet, data_dir: Path, token: str | None = TOKEN) -> TestClient:
    client = TestClient(TestServer(make_web_app(database, kabinet, admin_settings(data_dir, token))))
    await client.start_server()
    return client


async def linked_chat(database, account: str, at: datetime, external_id: str = "c1", language: str = "en",
                      channel: str = "console") -> int:
    """A chat linked to the account, the way the conversation leaves it."""
    async with database.transaction() as tx:
        chat = await tx.chat(channel, external_id, language)
        found = await tx.find_accounts([account])
        await tx.link(chat.id, found[0].id, at)
        return chat.id


def zipped(files: dict[str, bytes | str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, content in files.items():
            bundle.writestr(name, content)
    return buffer.getvalue()


def zipped_folder(folder: Path, prefix: str = "") -> bytes:
    return zipped({prefix + path.name: path.read_bytes() for path in sorted(folder.iterdir()) if path.is_file()})


async def every_page(client: TestClient, path: str) -> list[dict]:
    """The items of a paged list (`path` with its query), fetched page after page by `next_cursor`."""
    items, cursor = [], ""
    while True:
        answer = await client.get(f"{path}{cursor}", headers=AUTH)
        assert answer.status == 200
        page = await answer.json()
        items += page["items"]
        if page["next_cursor"] is None:
            return items
        cursor = f"&cursor={page['next_cursor']}"
