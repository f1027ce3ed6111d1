"""`kabinet run` as a real process against the stand-in Bot API: polling, then webhook on the same database."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from tests.support.logs import leaked
from tests.support.telegram import JPEG, SECRET, link
from tests.support.waiting import free_port
from tests.telegram_api import TOKEN, BotAPI, TelegramChat, TelegramUser, polling_delivery, webhook_delivery

KABINET = Path(sys.executable).with_name("kabinet")
DEMO = Path(__file__).resolve().parent.parent / "bot" / "demo"
START_TIMEOUT = 120.0  # a cold start imports aiogram, SQLAlchemy and the migrations
STOP_TIMEOUT = 10.0


class KabinetProcess:
    """One `kabinet run`, its log kept in a file; always killed at the end."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self.process: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> "KabinetProcess":
        with open(self.log, "ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                str(KABINET), "run", env=self.env, cwd=self.env["KABINET_DATA_DIR"],
                stdout=log, stderr=log, stdin=subprocess.DEVNULL,
            )
        return self

    async def stop(self) -> tuple[int, float]:
        """SIGTERM; the exit code and how long stopping took."""
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(self.process.wait(), STOP_TIMEOUT)
        return code, time.monotonic() - started

    async def __aexit__(self, *exc_info) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
        if exc_info[0] is not None:
            sys.stderr.write(self.log.read_text(errors="replace")[-5000:])


async def ready(api: BotAPI, method: str, process: KabinetProcess) -> None:
    """Wait for the call that ends the channel's start (or for the process to die)."""
    await api.wait_until(lambda: api.calls_to(method) or process.process.returncode is not None, START_TIMEOUT)
    assert process.process.returncode is None, process.log.read_text(errors="replace")[-3000:]


@pytest.fixture
def environment(tmp_path, database, database_url, bot_api) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("KABINET_")}
    env.update(
        KABINET_TELEGRAM_TOKEN=TOKEN,
        KABINET_TELEGRAM_API_BASE=bot_api.base,
        KABINET_DATABASE_URL=database_url,
        KABINET_HTTP_PORT=str(free_port()),
        KABINET_READING_WINDOW="always",
        KABINET_DATA_DIR=str(tmp_path),
    )
    imported = subprocess.run([str(KABINET), "import", str(DEMO)], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=120)
    assert imported.returncode == 0, imported.stderr
    return env


async def test_kabinet_run_polls_then_serves_the_webhook_on_the_same_database(environment, bot_api, tmp_path):
    user = TelegramUser(id=5_551_234, language_code="en")
    async with KabinetProcess(environment, tmp_path / "polling.log") as kabinet:
        await ready(bot_api, "deleteWebhook", kabinet)
        chat = TelegramChat(bot_api, user, polling_delivery(bot_api))
        await link(chat)
        assert "To pay now: UAH 658.40" in await chat.say("/balance")
        file_id = bot_api.add_file(JPEG)
        # The first photo waits for a recognition worker to load its models, which start with the process: a
        # cold start's wait, not a turn's.
        await chat.deliver(user.photo(file_id, len(JPEG)))
        answer = await chat.expect(1, START_TIMEOUT)
        assert answer[0].text and bot_api.calls_to("getFile")[0].params["file_id"] == file_id
        assert len(bot_api.downloads) == 1
        broken = bot_api.add_file(JPEG)
        bot_api.file_failures[broken] = 404
        assert "went wrong on our side" in (await chat.send(user.photo(broken, len(JPEG))))[0].text
        code, took = await kabinet.stop()
        assert code == 0 and took < STOP_TIMEOUT
    polling_log = (tmp_path / "polling.log").read_text(errors="replace")
    assert "ClientResponseError: HTTP 404" in polling_log and leaked(polling_log.splitlines()) == []

    port = environment["KABINET_HTTP_PORT"]
    url = f"http://127.0.0.1:{port}/webhook/telegram"
    webhook_env = {**environment, "KABINET_TELEGRAM_WEBHOOK_URL": url, "KABINET_TELEGRAM_WEBHOOK_SECRET": SECRET}
    async with KabinetProcess(webhook_env, tmp_path / "webhook.log") as kabinet:
        await ready(bot_api, "setWebhook", kabinet)
        assert bot_api.webhook["url"] == url and bot_api.webhook["secret_token"] == SECRET

        intruder = TelegramChat(bot_api, user, webhook_delivery(url, "not-the-secret"))
        await intruder.send(user.text("/balance"), replies=0)
        assert intruder.status == 401

        chat = TelegramChat(bot_api, user, webhook_delivery(url, SECRET, bot_api))
        chat.read = len(chat.messages)
        update = user.text("/balance")
        assert "658.40" in (await chat.send(update))[0].text  # the link was remembered
        assert chat.status == 200
        await chat.send(update, replies=0)
        assert chat.status == 200 and chat.unread == []
        code, took = await kabinet.stop()
        assert code == 0 and took < STOP_TIMEOUT
    assert leaked((tmp_path / "webhook.log").read_text(errors="replace").splitlines()) == []


async def test_kabinet_run_serves_while_the_bot_api_refuses_connections(environment, tmp_path):
    """Issue 21: a Telegram outage at start does not keep the web server (health, Viber, admin) down."""
    nowhere = f"http://127.0.0.1:{free_port()}"  # nothing listens there: every call is refused
    port = environment["KABINET_HTTP_PORT"]
    env = {**environment, "KABINET_TELEGRAM_API_BASE": nowhere,
           "KABINET_TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{port}/webhook/telegram"}
    async with KabinetProcess(env, tmp_path / "refused.log") as kabinet:
        report = await health_when_listening(f"http://127.0.0.1:{port}/healthz", kabinet)
        assert report["channels"] == {"telegram": "registering"} and report["status"] == "degraded"
        code, _ = await kabinet.stop()
        assert code == 0
    log = (tmp_path / "refused.log").read_text(errors="replace")
    assert "telegram webhook registration failed (attempt 1): TelegramNetworkError" in log
    assert "Traceback" not in log and TOKEN not in log


async def health_when_listening(url: str, process: KabinetProcess) -> dict:
    """/healthz's report once the process listens (200 expected: a registering channel is no outage)."""
    deadline = time.monotonic() + START_TIMEOUT
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
        while True:
            assert process.process.returncode is None, process.log.read_text(errors="replace")[-3000:]
            try:
                async with http.get(url) as response:
                    assert response.status == 200
                    return await response.json()
            except aiohttp.ClientConnectionError:
                assert time.monotonic() < deadline, "kabinet run never listened"
                await asyncio.sleep(0.2)
