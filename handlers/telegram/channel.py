"""The Telegram channel in `kabinet run`: long polling for development, a webhook for production."""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from typing import Any, Awaitable, Callable

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.dispatcher.middlewares.user_context import UserContextMiddleware
from aiogram.methods import GetUpdates, Response
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import TelegramObject, Update
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
from pydantic import ValidationError

from bot.registration import Registration
from bot.settings import Settings
from core.conversation import Kabinet
from core.messages import Reply
from core.notifications import ChatUnreachable, DeliveryError, RetryAfter, TransientFailure
from handlers.chat_order import ChatLines
from handlers.telegram import callbacks, membership, messages
from handlers.telegram.events import UpdateNotProcessed
from handlers.telegram.menu import set_command_menu
from handlers.telegram.replies import ReplySender
from handlers.webhook import BadBody, parse_json, read_body

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhook/telegram"
POLLING_TIMEOUT = 25  # seconds a getUpdates call waits for news
STOP_TIMEOUT = 5.0  # seconds updates in progress get to finish when the channel stops


def build_dispatcher(kabinet: Kabinet) -> Dispatcher:
    dispatcher = Dispatcher(kabinet=kabinet, disable_fsm=True)  # no aiogram FSM: the core keeps the step
    dispatcher.include_routers(callbacks.make_router(), membership.make_router(), messages.make_router())
    return dispatcher


def webhook_secret(settings: Settings) -> str:
    """The configured secret, or one derived from the token, the same in every process of one bot."""
    if settings.telegram_webhook_secret is not None:
        return settings.telegram_webhook_secret.get_secret_value()
    token = settings.telegram_token.get_secret_value()
    return hashlib.sha256(f"kabinet-telegram-webhook:{token}".encode()).hexdigest()


class TelegramWebhook(SimpleRequestHandler):
    """aiogram's webhook handler with bounded bodies, answering 500 for an update the core did not process,
    so that Telegram retries, and 4xx, never a traceback, for a request that is not an update."""

    def verify_secret(self, telegram_secret_token: str, bot: Bot) -> bool:
        if not self.secret_token:
            return True
        # As bytes: compare_digest raises TypeError for a str with non-ASCII characters, which a header may hold.
        given = telegram_secret_token.encode("utf-8", "surrogateescape")
        return hmac.compare_digest(given, self.secret_token.encode())

    async def handle(self, request: web.Request) -> web.Response:
        if not self.verify_secret(request.headers.get("X-Telegram-Bot-Api-Secret-Token", ""), self.bot):
            return web.Response(body="Unauthorized", status=401)
        try:
            update = parse_json(await read_body(request))
            result = await self.dispatcher.feed_webhook_update(self.bot, update, **self.data)
        except UpdateNotProcessed as exc:
            return web.json_response({"ok": False, "update_id": exc.update_id}, status=500)
        except BadBody as exc:
            log.warning("telegram webhook: a body that is not JSON we read: %s", exc)
            return web.json_response({"ok": False, "error": str(exc)}, status=400)
        except ValidationError as exc:
            # Where, not what: the values may be a consumer's text or phone number.
            where = ".".join(str(part) for part in exc.errors(include_url=False)[0]["loc"])
            log.warning("telegram webhook: a body that is not an update (%d problem(s), first at %s)",
                        exc.error_count(), where or "the top")
            return web.json_response({"ok": False, "error": "not a Telegram update"}, status=400)
        return web.Response(body=self._build_response_writer(bot=self.bot, result=result))

    __call__ = handle


_RESPONSE_MODELS: dict[Any, type] = {}


async def keep_response_models(make_request, bot: Bot, method):
    """Keep aiogram's Response[T] models alive: pydantic caches them weakly, so each Bot API call built
    the generic model class anew (about a millisecond of CPU) once the collector had taken the last one."""
    returning = method.__returning__
    if returning not in _RESPONSE_MODELS:
        _RESPONSE_MODELS[returning] = Response[returning]
    return await make_request(bot, method)


class TelegramChannel:
    """aiogram's Bot and Dispatcher plugged into the shared web server (see bot/server.py's Channel)."""

    def __init__(self, settings: Settings, kabinet: Kabinet) -> None:
        if settings.telegram_token is None:
            raise ValueError("KABINET_TELEGRAM_TOKEN is not set")
        self.kabinet = kabinet
        self.lines = ChatLines()
        session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_base))
        session.middleware(keep_response_models)
        session.middleware(self._line_up_polled)
        self.bot = Bot(settings.telegram_token.get_secret_value(), session=session)
        self.dispatcher = build_dispatcher(kabinet)
        self.dispatcher.update.outer_middleware(self._track)
        self.webhook_url = settings.telegram_webhook_url
        self.secret = webhook_secret(settings)
        self._polling: asyncio.Task | None = None
        self.registration = Registration(f"telegram {self.mode} registration", self._register, final=refused_for_good)
        self.menu = Registration("telegram command menu", lambda: set_command_menu(self.bot, kabinet.translator),
                                 final=refused_for_good)
        self._in_flight: set[asyncio.Task] = set()

    @property
    def mode(self) -> str:
        return "webhook" if self.webhook_url else "polling"

    async def _track(
        self, handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        update: TelegramObject, data: dict[str, Any],
    ) -> Any:
        """Remember updates in progress, so that stopping lets them finish; handle each in its chat's turn."""
        task = asyncio.current_task()
        self._in_flight.add(task)
        try:
            async with self.lines.turn(line_of(update), update.update_id):
                return await handler(update, data)
        finally:
            self._in_flight.discard(task)

    async def _line_up_polled(self, make_request, bot: Bot, method):
        """Each update of a getUpdates batch takes its place in its chat's line before aiogram starts the
        batch's tasks, which run concurrently and need not reach the core in update_id order."""
        result = await make_request(bot, method)
        if isinstance(method, GetUpdates):
            for update in result:
                self.lines.queue(line_of(update), update.update_id)
        return result

    def mount(self, app: web.Application) -> None:
        if self.webhook_url:
            TelegramWebhook(
                self.dispatcher, self.bot, handle_in_background=False, secret_token=self.secret
            ).register(app, path=WEBHOOK_PATH)

    async def start(self) -> None:
        """Register with the Bot API in the background: an outage of Telegram's must not hold up the web server."""
        self.registration.start()
        self.menu.start()

    @property
    def state(self) -> str:
        return self.registration.state

    async def _register(self) -> None:
        """The webhook, or (polling) getMe and no webhook, then polling."""
        if self.webhook_url:
            await self.bot.set_webhook(
                self.webhook_url, secret_token=self.secret,
                allowed_updates=self.dispatcher.resolve_used_update_types(), drop_pending_updates=False,
            )
            log.warning("telegram: webhook set to %s", self.webhook_url)
            return
        await self.bot.me()
        await self.bot.delete_webhook(drop_pending_updates=False)  # getUpdates is refused while one is set
        self._polling = asyncio.create_task(
            self.dispatcher.start_polling(
                self.bot, handle_signals=False, close_bot_session=False, polling_timeout=POLLING_TIMEOUT,
                tasks_concurrency_limit=32,
            ),
            name="telegram-polling",
        )
        self._polling.add_done_callback(_report_polling_end)
        log.warning("telegram: long polling started")

    async def deliver(self, external_id: str, replies: list[Reply]) -> None:
        """core.notifications.Sender for the outbox dispatcher: Telegram's refusals as core's DeliveryErrors."""
        sender = ReplySender(self.bot, self.kabinet, external_id, None)
        try:
            # The dispatcher paces and retries itself, so a 429 goes straight back to it.
            await sender.send_all(replies, wait_limit=0)
        except TelegramRetryAfter as exc:
            raise RetryAfter(exc.retry_after) from exc
        except TelegramForbiddenError as exc:
            raise ChatUnreachable(exc.message) from exc
        except (TelegramNetworkError, TelegramServerError) as exc:
            raise TransientFailure(str(exc)) from exc
        except TelegramAPIError as exc:
            raise DeliveryError(str(exc)) from exc

    async def stop(self) -> None:
        await self.registration.stop()
        await self.menu.stop()
        if self._polling is not None:
            try:
                await asyncio.wait_for(self.dispatcher.stop_polling(), STOP_TIMEOUT)
            except (RuntimeError, asyncio.TimeoutError):  # not started yet, or stuck: cancel it
                self._polling.cancel()
            await asyncio.wait([self._polling], timeout=STOP_TIMEOUT)
            self._polling = None
        if self._in_flight:
            await asyncio.wait(set(self._in_flight), timeout=STOP_TIMEOUT)
        await self.bot.session.close()


def line_of(update: Update) -> int | None:
    """The chat whose line an update waits in: its chat, or for a press on no message its sender's private
    chat (the one callbacks.py hands to the core); None for an update of no chat."""
    context = UserContextMiddleware.resolve_event_context(update)
    return context.chat_id if context.chat_id is not None else context.user_id


def refused_for_good(exc: Exception) -> bool:
    """A refusal that asking again will not change (a wrong token, a webhook URL Telegram rejects); network
    errors, 5xx and 429 are worth retrying."""
    return isinstance(exc, TelegramAPIError) and not isinstance(
        exc, (TelegramNetworkError, TelegramServerError, TelegramRetryAfter))


def _report_polling_end(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("telegram: polling stopped by an error", exc_info=task.exception())
