"""The Telegram channel in `kabinet run`: long polling for development, a webhook for production."""
from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, cast

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.middlewares.base import NextRequestMiddlewareType
from aiogram.dispatcher.middlewares.user_context import UserContextMiddleware
from aiogram.methods import AnswerCallbackQuery, GetUpdates, Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.types import TelegramObject, Update
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import JsonPayload, MultipartWriter, Payload, web
from pydantic import ValidationError

from core.conversation import Kabinet
from handlers.registration import Registration
from handlers.telegram import callbacks, membership, messages
from handlers.telegram.events import UpdateNotProcessed, respond
from handlers.telegram.menu import set_command_menu
from handlers.telegram.plain_updates import PlainUpdate, read_plain
from handlers.telegram.replies import TelegramOutput
from handlers.webhook import BadBody, parse_json, read_body

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhook/telegram"
POLLING_TIMEOUT = 25  # seconds a getUpdates call waits for news
STOP_TIMEOUT = 5.0  # seconds updates in progress get to finish when the channel stops
# Seconds a webhook's answer waits for the turn, as aiogram's feed_webhook_update does (Telegram waits about 60).
WEBHOOK_WAIT = 55.0


@dataclass(frozen=True)
class TelegramConfig:
    """What the Telegram channel is told (bot/ builds it from the settings)."""

    token: str = field(repr=False)  # never in a log line
    api_base: str = "https://api.telegram.org"
    webhook_url: str | None = None  # none: long polling
    webhook_secret: str | None = field(default=None, repr=False)  # none: derived from the token (webhook_secret)


def build_dispatcher(channel: TelegramOutput) -> Dispatcher:
    # No aiogram FSM: the core keeps the step.
    dispatcher = Dispatcher(channel=channel, kabinet=channel.kabinet, disable_fsm=True)
    dispatcher.include_routers(callbacks.make_router(), membership.make_router(), messages.make_router())
    return dispatcher


def webhook_secret(config: TelegramConfig) -> str:
    """The configured secret, or one derived from the token, the same in every process of one bot."""
    if config.webhook_secret is not None:
        return config.webhook_secret
    return hashlib.sha256(f"kabinet-telegram-webhook:{config.token}".encode()).hexdigest()


class TelegramWebhook(SimpleRequestHandler):
    """aiogram's webhook handler with bounded bodies, answering 500 for an update the core did not process,
    so that Telegram retries, and 4xx, never a traceback, for a request that is not an update. A text message or
    a button press is handled past aiogram's dispatcher (plain_updates.py), with the same answers."""

    def __init__(self, channel: TelegramChannel) -> None:
        super().__init__(channel.dispatcher, channel.bot, handle_in_background=False, secret_token=channel.secret)
        self.channel = channel
        self._late_answers: set[asyncio.Future[None]] = set()

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
            plain = read_plain(update) if self.channel.plain_updates else None
            if plain is not None:
                return web.Response(body=await self._take_plain(plain))
            result: TelegramMethod[Any] | None = await self.dispatcher.feed_webhook_update(
                self.bot, update, **self.data)
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

    async def _take_plain(self, plain: PlainUpdate) -> Payload:
        """The update handled past aiogram, answered as aiogram's feed_webhook_update would: a press's
        answerCallbackQuery in the response once the turn is done; after WEBHOOK_WAIT seconds an empty answer (so
        that Telegram does not deliver it again) while the turn goes on, and the press is answered by a request."""
        turn = asyncio.ensure_future(self.channel.take_plain(plain))
        done, _ = await asyncio.wait((turn,), timeout=WEBHOOK_WAIT)
        if not done:
            log.warning("telegram update %s: answered before its turn ended (over %s s)", plain.update_id,
                        WEBHOOK_WAIT)
            turn.add_done_callback(functools.partial(self._answer_late, plain.query_id))
            return JsonPayload({})
        turn.result()  # UpdateNotProcessed: a 500
        if plain.query_id is None:
            return JsonPayload({})
        return answer_in_response(plain.query_id)

    def _answer_late(self, query_id: str | None, turn: asyncio.Future[None]) -> None:
        if turn.cancelled():
            return
        error = turn.exception()
        if error is not None:  # Telegram had its answer; the core logged a failure of its own (UpdateNotProcessed)
            if not isinstance(error, UpdateNotProcessed):
                log.error("telegram: an update answered before its turn ended failed", exc_info=error)
            return
        if query_id is not None:
            answer = AnswerCallbackQuery(callback_query_id=query_id)
            late = asyncio.ensure_future(self.dispatcher.silent_call_request(bot=self.bot, result=answer))
            self._late_answers.add(late)  # kept until done: the loop holds tasks weakly
            late.add_done_callback(self._late_answers.discard)

    __call__ = handle


def answer_in_response(query_id: str) -> MultipartWriter:
    """answerCallbackQuery as the webhook's response, the form aiogram's SimpleRequestHandler writes for it."""
    writer = MultipartWriter("form-data", boundary=f"webhookBoundary{secrets.token_urlsafe(16)}")
    for name, value in (("method", "answerCallbackQuery"), ("callback_query_id", query_id)):
        writer.append(value).set_content_disposition("form-data", name=name)
    return writer


_RESPONSE_MODELS: dict[Any, type] = {}


async def keep_response_models(make_request: NextRequestMiddlewareType[TelegramType], bot: Bot,
                               method: TelegramMethod[TelegramType]) -> Response[TelegramType]:
    """Keep aiogram's Response[T] models alive: pydantic caches them weakly, so each Bot API call built
    the generic model class anew (about a millisecond of CPU) once the collector had taken the last one."""
    returning = method.__returning__
    if returning not in _RESPONSE_MODELS:
        _RESPONSE_MODELS[returning] = Response[returning]  # type: ignore[valid-type]  # made at run time, as aiogram does
    return await make_request(bot, method)


class TelegramChannel(TelegramOutput):
    """aiogram's Bot and Dispatcher plugged into the shared web server (see bot/server.py's Channel)."""

    def __init__(self, config: TelegramConfig, kabinet: Kabinet) -> None:
        session = AiohttpSession(api=TelegramAPIServer.from_base(config.api_base))
        session.middleware(keep_response_models)
        session.middleware(self._line_up_polled)
        super().__init__(Bot(config.token, session=session), kabinet)
        self.dispatcher = build_dispatcher(self)
        self.dispatcher.update.outer_middleware(self._track)
        # Text messages and button presses on the webhook read straight from the JSON (plain_updates.py); False:
        # every update through aiogram (benchmarks/webhook_turns.py compares the two).
        self.plain_updates = True
        self.webhook_url = config.webhook_url
        self.secret = webhook_secret(config)
        self._polling: asyncio.Task[None] | None = None
        self.registration = Registration(f"telegram {self.mode} registration", self._register, final=refused_for_good)
        self.menu = Registration("telegram command menu", lambda: set_command_menu(self.bot, kabinet.translator, kabinet.registry.commands),
                                 final=refused_for_good)

    @property
    def mode(self) -> str:
        return "webhook" if self.webhook_url else "polling"

    async def _track(
        self, handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        update: TelegramObject, data: dict[str, Any],
    ) -> Any:
        """Remember updates in progress, so that stopping lets them finish; handle each in its chat's turn."""
        assert isinstance(update, Update)  # an outer middleware of dispatcher.update
        async with self.in_flight(), self.lines.turn(line_of(update), update.update_id):
            return await handler(update, data)

    async def take_plain(self, plain: PlainUpdate) -> None:
        """A text message or button press read past aiogram, handled in its chat's turn as `_track` does."""
        async with self.in_flight(), self.lines.turn(plain.line, plain.update_id):
            await respond(self, plain.event, plain.update_id)

    async def _line_up_polled(self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot,
                              method: TelegramMethod[TelegramType]) -> Response[TelegramType]:
        """Each update of a getUpdates batch takes its place in its chat's line before aiogram starts the
        batch's tasks, which run concurrently and need not reach the core in update_id order."""
        result = await make_request(bot, method)
        if isinstance(method, GetUpdates):
            # What make_request returns is the method's result (the updates), not the Response aiogram's type says.
            for update in cast("list[Update]", result):
                self.lines.queue(line_of(update), update.update_id)
        return result

    def mount(self, app: web.Application) -> None:
        if self.webhook_url:
            TelegramWebhook(self).register(app, path=WEBHOOK_PATH)

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
        await self.settle(STOP_TIMEOUT)
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


def _report_polling_end(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("telegram: polling stopped by an error", exc_info=task.exception())
