"""Issue 21: `kabinet run` serves at once whatever a messenger's API or Redis does; each registers in the background.

Each messenger's stand-in first refuses connections (nothing listens on its port), then answers 500 to
everything, then comes back on the same port; `/healthz` answers within 5 s throughout, and the channel turns
`ready` once its API returns.
"""
from __future__ import annotations

import asyncio
import logging
import os
from contextlib import asynccontextmanager

import aiohttp
import pytest
from aiohttp import web

import handlers.registration
from bot.server import Server
from bot.settings import Settings
from tests.support.waiting import free_port, wait_until
from tests.tcp_proxy import TcpProxy
from tests.telegram_api import TOKEN as TELEGRAM_TOKEN, BotAPI, TelegramChat, TelegramUser, polling_delivery
from tests.viber_api import TOKEN as VIBER_TOKEN, StandInViber, ViberUser

ADMIN_TOKEN = "startup-test-admin-token-0123456789abcdef"
HEALTH_TIMEOUT = 5.0  # the bound for /healthz while a messenger is down
REDIS = os.environ.get("KABINET_TEST_REDIS", "redis://127.0.0.1:6379/15")


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch):
    """Backoff steps of a fraction of a second, so that a registration notices the API's return soon."""
    monkeypatch.setattr(handlers.registration, "FIRST_DELAY", 0.1)
    monkeypatch.setattr(handlers.registration, "MAX_DELAY", 0.4)


class Failing:
    """An HTTP server that answers 500 to every request, on a given port: an API having a bad day."""

    def __init__(self) -> None:
        self.requests = 0

    @asynccontextmanager
    async def on(self, port: int):
        async def fail(request: web.Request) -> web.Response:
            self.requests += 1
            return web.Response(status=500, text="Internal Server Error")

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", fail)
        runner = web.AppRunner(app, shutdown_timeout=0.1)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            yield self
        finally:
            await runner.cleanup()


def settings_for(tmp_path, database_url: str, **channel) -> Settings:
    return Settings(_env_file=None, database_url=database_url, data_dir=tmp_path, http_host="127.0.0.1",
                    http_port=free_port(), admin_token=ADMIN_TOKEN, reading_window="always", **channel)


async def health(settings: Settings) -> tuple[int, dict]:
    url = f"http://127.0.0.1:{settings.http_port}/healthz"
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=HEALTH_TIMEOUT)) as http:
        async with http.get(url) as response:
            return response.status, await response.json()


@asynccontextmanager
async def running(settings: Settings):
    """The server of `kabinet run`, entered without waiting for any messenger."""
    server = Server(settings)
    await asyncio.wait_for(server.__aenter__(), HEALTH_TIMEOUT + 60)  # + a cold import of the reader's models
    try:
        yield server
    finally:
        await server.__aexit__(None, None, None)


async def channel_state(settings: Settings, name: str) -> str:
    status, report = await health(settings)
    assert status == 200, report
    return report["channels"][name]


async def test_telegram_webhook_refused_then_500_then_back(tmp_path, database, database_url, caplog):
    caplog.set_level(logging.WARNING, logger="handlers.registration")
    api_port = free_port()
    settings = settings_for(tmp_path, database_url, telegram_token=TELEGRAM_TOKEN,
                            telegram_api_base=f"http://127.0.0.1:{api_port}",
                            telegram_webhook_url="https://bot.example.com/webhook/telegram")
    async with running(settings):
        # Refused: the server answers, the channel is registering, the service is degraded but not down.
        status, report = await health(settings)
        assert status == 200 and report["status"] == "degraded" and report["database"] is True
        assert report["channels"] == {"telegram": "registering"}
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{settings.http_port}/admin/stats",
                                headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as response:
                assert response.status == 200  # the admin API does not wait for Telegram

        failing = Failing()
        async with failing.on(api_port):
            await wait_until(lambda: _later(failing.requests >= 2), 20)
            assert await channel_state(settings, "telegram") == "registering"

        api = await BotAPI().start(api_port)
        try:
            await wait_until(lambda: _is(channel_state(settings, "telegram"), "ready"), 20)
            assert api.webhook["url"] == "https://bot.example.com/webhook/telegram"
            status, report = await health(settings)
            assert report["status"] == "ok" and report["channels"] == {"telegram": "ready"}
            await wait_until(lambda: _later(len(api.calls_to("setMyCommands")) == 4), 20)  # the menu, in the background too
        finally:
            await api.close()
    failures = [r for r in caplog.records if r.name == "handlers.registration" and "failed (attempt" in r.getMessage()]
    assert len(failures) >= 3  # refused at least once, then the two 500s
    assert all(r.exc_info is None and "\n" not in r.getMessage() for r in failures)  # one line, no traceback
    assert not any(TELEGRAM_TOKEN in r.getMessage() for r in caplog.records)


async def test_telegram_polling_starts_once_get_me_answers(tmp_path, database, database_url):
    api_port = free_port()
    settings = settings_for(tmp_path, database_url, telegram_token=TELEGRAM_TOKEN,
                            telegram_api_base=f"http://127.0.0.1:{api_port}")
    api = BotAPI()
    try:
        async with running(settings):
            assert await channel_state(settings, "telegram") == "registering"
            async with Failing().on(api_port):
                await asyncio.sleep(0.5)
                assert await channel_state(settings, "telegram") == "registering"
            await api.start(api_port)
            await wait_until(lambda: _is(channel_state(settings, "telegram"), "ready"), 20)
            assert api.calls_to("getMe") and api.calls_to("deleteWebhook")
            chat = TelegramChat(api, TelegramUser(), polling_delivery(api))
            assert "/link" in await chat.say("/help")  # polling delivers updates
    finally:
        await api.close()


async def test_viber_refused_then_500_then_back(tmp_path, database, database_url):
    api_port = free_port()
    settings = settings_for(tmp_path, database_url, viber_token=VIBER_TOKEN,
                            viber_api_base=f"http://127.0.0.1:{api_port}/pa")
    settings.viber_webhook_url = f"http://127.0.0.1:{settings.http_port}/webhook/viber"
    viber = StandInViber()
    async with running(settings):
        assert await channel_state(settings, "viber") == "registering"
        failing = Failing()
        async with failing.on(api_port):
            await wait_until(lambda: _later(failing.requests >= 2), 20)
            assert await channel_state(settings, "viber") == "registering"
        await viber.start(api_port)
        await wait_until(lambda: _is(channel_state(settings, "viber"), "ready"), 20)
        assert viber.webhooks and viber.webhook_check_answers[-1] == 200
        async with aiohttp.ClientSession() as http:
            user = ViberUser(http, settings.viber_webhook_url, viber, "startup-user", "en")
            assert "/link" in await user.say("/help")
    await viber.stop()


async def test_viber_token_refused_is_reported_failed_and_not_retried(tmp_path, database, database_url):
    viber = await StandInViber(token="another-token").start()
    settings = settings_for(tmp_path, database_url, viber_token=VIBER_TOKEN, viber_api_base=viber.api_base)
    settings.viber_webhook_url = f"http://127.0.0.1:{settings.http_port}/webhook/viber"
    async with running(settings):
        await wait_until(lambda: _is(channel_state(settings, "viber"), "failed"), 20)
        await asyncio.sleep(0.5)
        assert viber.webhook_attempts == 1
        status, report = await health(settings)
        assert status == 200 and report["status"] == "degraded"
    await viber.stop()


async def test_redis_down_at_start_falls_back_then_shares_the_pace(tmp_path, database, database_url):
    host, port = REDIS.split("//")[1].split("/")[0].split(":")
    proxy = await TcpProxy(host, int(port)).start()
    proxy.cut()
    api = await BotAPI().start()
    settings = settings_for(tmp_path, database_url, telegram_token=TELEGRAM_TOKEN, telegram_api_base=api.base,
                            redis_url=f"redis://127.0.0.1:{proxy.port}/15")
    try:
        async with running(settings) as server:
            await redis_round_trip(server, settings, proxy)
    finally:
        await api.close()
        await proxy.close()


async def redis_round_trip(server: Server, settings: Settings, proxy: TcpProxy) -> None:
    """Refused at start: the local pace; Redis back: shared; lost while running: local again, then shared."""
    status, report = await health(settings)
    assert status == 200 and report["redis"] == "fallback" and report["status"] == "degraded"
    assert await server.dispatcher.pace.wait("telegram", 0.001) is None  # sending goes on meanwhile
    proxy.restore()
    await wait_until(lambda: _is(_field(settings, "redis"), "ready"), 20)
    await server.dispatcher.pace.wait("telegram", 0.001)
    assert server.dispatcher.pace.shared
    proxy.cut()  # Redis lost while running: back to the local pace, and connecting again
    await server.dispatcher.pace.wait("telegram", 0.001)
    assert not server.dispatcher.pace.shared
    proxy.restore()
    await wait_until(lambda: _is(_field(settings, "redis"), "ready"), 20)


async def _later(value):
    return value


async def _is(state, expected: str) -> bool:
    return await state == expected


async def _field(settings: Settings, name: str):
    return (await health(settings))[1][name]
