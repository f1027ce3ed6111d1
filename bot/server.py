"""`kabinet run`: one aiohttp web server that every channel's webhooks and the operator side share."""
from __future__ import annotations

import asyncio
import logging
import signal
from typing import TYPE_CHECKING, Protocol

from aiohttp import web
from sqlalchemy import text

from bot.app import build_kabinet, open_database, recognition_pool
from bot import admin, payments
from bot.metrics import exposition, install as install_metrics, refresh_outbox_depth
from bot.settings import Settings
from core.conversation import Kabinet
from core.memory import give_back_freed_memory, map_large_blocks
from core.notifications import Sender
from core.mailing import EMAIL
from handlers.email import EmailSender
from handlers.registration import READY, Registration
from handlers.telegram.channel import TelegramChannel, TelegramConfig
from handlers.webhook import BODY_LIMIT
from scheduler.dispatcher import Dispatcher
from scheduler.jobs import Planner
from scheduler.chat_limit import RedisChatLimit
from scheduler.pace import LocalPace, RedisPace, SharedPace
from scheduler.runner import ReminderScheduler
from storage.database import Database
from storage.scheduling import SqlOutbox

if TYPE_CHECKING:
    from handlers.viber.channel import ViberConfig

log = logging.getLogger(__name__)

DATABASE = web.AppKey("database", Database)
KABINET = web.AppKey("kabinet", Kabinet)
DISPATCHER = web.AppKey("dispatcher", Dispatcher)
REMINDERS = web.AppKey("reminders", ReminderScheduler)
CHANNELS = web.AppKey("channels", dict)
SHARED_PACE = web.AppKey("shared_pace", SharedPace)
DISPATCHER_SILENCE = 120  # seconds without a round before /healthz calls the dispatcher dead
TRIM_EVERY = 60.0  # seconds between two trims of the heaps (core/memory.py)


class Channel(Sender, Protocol):
    """A messenger wired into `kabinet run`: routes first, then start (webhook or polling), stop last.
    start() returns at once: registering with the messenger's API goes on in the background, and `state` says
    how far it got (handlers.registration: registering, ready, failed). The dispatcher delivers the outbox
    through it (Sender.deliver)."""

    def mount(self, app: web.Application) -> None: ...

    async def start(self) -> None: ...

    @property
    def state(self) -> str: ...

    async def stop(self) -> None: ...


async def healthz(request: web.Request) -> web.Response:
    """The database (503 when unreachable); the scheduler, the dispatcher, each messenger's registration and the
    shared pace's Redis when they run. A messenger or Redis that is not there yet makes it `degraded`, not 503:
    the rest of the service works without them."""
    report: dict = {"status": "ok", "database": True}
    dispatcher, reminders = request.app.get(DISPATCHER), request.app.get(REMINDERS)
    channels, pace = request.app.get(CHANNELS), request.app.get(SHARED_PACE)
    if channels:
        report["channels"] = {name: channel.state for name, channel in channels.items()}
    if pace is not None:
        report["redis"] = "ready" if pace.shared else "fallback"
    if dispatcher is not None:
        seen = dispatcher.alive_at
        alive = seen is not None and (dispatcher.clock() - seen).total_seconds() < DISPATCHER_SILENCE
        report["dispatcher"] = {"alive": alive, "alive_at": seen.isoformat() if seen else None}
    if reminders is not None:
        report["scheduler"] = {"alive": reminders.alive, "leading": reminders.leadership.held}
    if not all(part["alive"] for part in (report.get("dispatcher"), report.get("scheduler")) if part) \
            or any(state != READY for state in report.get("channels", {}).values()) \
            or report.get("redis") == "fallback":
        report["status"] = "degraded"
    try:
        async with request.app[DATABASE].session() as session:
            await session.execute(text("SELECT 1"))
    except Exception:
        log.exception("health check: database unreachable")
        return web.json_response({**report, "status": "unavailable", "database": False}, status=503)
    return web.json_response(report)


async def metrics_page(request: web.Request) -> web.Response:
    await refresh_outbox_depth(request.app[DATABASE])
    body, content_type = exposition()
    return web.Response(body=body, headers={"Content-Type": content_type})


def make_web_app(database: Database, kabinet: Kabinet, settings: Settings | None = None) -> web.Application:
    """Health and metrics; the admin API too when given the settings (its token, data folder, window)."""
    # What a handler reads whole is a webhook's body: 1 MB. The admin import streams its zip to disk under
    # its own limit (bot/admin_import.py's MAX_ZIP_BYTES), and admin JSON bodies under theirs.
    app = web.Application(client_max_size=BODY_LIMIT)
    app[DATABASE] = database
    app[KABINET] = kabinet
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_page)
    if settings is not None:
        admin.mount(app, settings, database, kabinet.clock)
    if settings is not None and settings.liqpay is not None:
        payments.mount(app, settings.liqpay, database, kabinet.clock, settings.pay_links, kabinet.translator)
    return app


def telegram_config(settings: Settings) -> TelegramConfig:
    token = settings.telegram_token
    if token is None:
        raise ValueError("KABINET_TELEGRAM_TOKEN is not set")
    secret = settings.telegram_webhook_secret
    return TelegramConfig(token.get_secret_value(), settings.telegram_api_base, settings.telegram_webhook_url,
                          secret.get_secret_value() if secret is not None else None)


def viber_config(settings: Settings) -> ViberConfig:
    # Imported where Viber is configured: the SDK and `requests` it brings are ~11 MB resident in every process.
    from handlers.viber.channel import ViberConfig

    if settings.viber_token is None:
        raise ValueError("KABINET_VIBER_TOKEN is not set")
    return ViberConfig(settings.viber_token.get_secret_value(), settings.viber_media_dir, settings.viber_api_base,
                       settings.viber_webhook_url, settings.default_language)


def configured_channels(settings: Settings, kabinet: Kabinet) -> dict[str, Channel]:
    """The configured messengers by channel name; each also delivers the outbox's messages (deliver())."""
    channels: dict[str, Channel] = {}
    if settings.telegram_token is not None:
        channels["telegram"] = TelegramChannel(telegram_config(settings), kabinet)
    if settings.viber_token is not None:
        from handlers.viber.channel import ViberChannel  # see viber_config

        channels["viber"] = ViberChannel(viber_config(settings), kabinet)
    return channels


class Server:
    """The web server and the configured channels, started and stopped together."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.stopping = asyncio.Event()

    async def __aenter__(self) -> "Server":
        map_large_blocks()  # a chart's pixels or a photo's bytes unmapped when freed, not kept until the next trim
        install_metrics()
        self.database = await open_database(self.settings)
        # The worker processes that read meter photos before their turn (they load the models, this process never).
        # Not waited for: the models load while the channels register; a photo before then waits for a worker.
        self.recognition = await recognition_pool(self.settings).start(wait=False)
        self.kabinet = build_kabinet(self.settings, self.database, reader=self.recognition)
        self.app = make_web_app(self.database, self.kabinet, self.settings)
        self.senders = configured_channels(self.settings, self.kabinet)
        self.channels = list(self.senders.values())
        self.app[CHANNELS] = self.senders
        for channel in self.channels:
            channel.mount(self.app)
        self.background: list[asyncio.Task] = []
        if self.senders:
            self._reminders()
        self.runner = web.AppRunner(self.app, shutdown_timeout=5)
        await self.runner.setup()
        self.site = web.TCPSite(self.runner, self.settings.http_host, self.settings.http_port)
        await self.site.start()
        for channel in self.channels:
            await channel.start()
        if self.senders:
            if self.settings.redis_url:
                self.redis.start()
            self.background = [
                asyncio.create_task(self.reminders.run(self.stopping), name="reminder-scheduler"),
                asyncio.create_task(self.dispatcher.run(self.stopping), name="outbox-dispatcher"),
            ]
        self.background.append(asyncio.create_task(self._trim_memory(), name="memory-trim"))
        log.warning("kabinet listening on http://%s:%s with %s", self.settings.http_host, self.settings.http_port,
                    ", ".join(type(c).__name__ for c in self.channels) or "no messenger configured")
        return self

    async def _trim_memory(self) -> None:
        """Every TRIM_EVERY seconds, the heaps' free pages back to the system: a photo's bytes, a chart or a PDF
        (MB-sized blocks, written in threads) leave them between the small blocks a process keeps (core/memory.py)."""
        while not self.stopping.is_set():
            try:
                await asyncio.wait_for(self.stopping.wait(), timeout=TRIM_EVERY)
            except asyncio.TimeoutError:
                give_back_freed_memory()

    def _reminders(self) -> None:
        """The outbox dispatcher in every process; the scheduler where this process holds the lock."""
        settings = self.settings
        store = SqlOutbox(self.database)  # the scheduler's ports, on this process's database
        planner = Planner(store, settings.window, settings.zone, retention=settings.retention)
        self.reminders = ReminderScheduler(planner, daily_at=settings.reminders_at, events_every=settings.events_every)
        pace: LocalPace | SharedPace = LocalPace()
        if settings.redis_url:
            pace = SharedPace(RedisPace(settings.redis_url))
            self.redis = Registration("redis for the shared send pace", pace.connect)
            pace.lost = self.redis.start
            self.app[SHARED_PACE] = pace
        self.dispatcher = Dispatcher(
            store, self.senders, self.kabinet.translator, settings.zone, settings.window,
            rates={"telegram": settings.telegram_rate, "viber": settings.viber_rate, EMAIL: settings.smtp_rate},
            pace=pace, payee=self.kabinet.payee, mailer=self.kabinet.mailer,
        )
        self.app[DISPATCHER] = self.dispatcher
        self.app[REMINDERS] = self.reminders

    async def __aexit__(self, *exc_info) -> None:
        self.stopping.set()
        if self.background:
            await asyncio.wait(self.background, timeout=10)
        for channel in reversed(self.channels):
            try:
                await channel.stop()
            except Exception:
                log.exception("stopping %s", type(channel).__name__)
        if self.senders and isinstance(self.dispatcher.pace, SharedPace):
            await self.redis.stop()
            await self.dispatcher.pace.close()
        if isinstance(self.kabinet.chat_limit, RedisChatLimit):
            await self.kabinet.chat_limit.close()
        await self.runner.cleanup()
        if isinstance(self.kabinet.mailer, EmailSender):
            await self.kabinet.mailer.close()
        await self.recognition.close()
        await self.database.close()


async def serve(settings: Settings) -> int:
    """Run until SIGINT or SIGTERM, then stop cleanly."""
    async with Server(settings) as server:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, server.stopping.set)
        await server.stopping.wait()
    return 0
