"""Core replies as Telegram messages: text, inline keyboards, a phone-number request, images and documents."""
from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import aiohttp
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import SendMessage
from aiogram.types import BufferedInputFile, InlineKeyboardMarkup, ReplyKeyboardMarkup, ReplyKeyboardRemove

from core.conversation import Kabinet
from core.messages import Attachment, Reply
from core.notifications import ChatUnreachable, DeliveryError, RetryAfter, TransientFailure
from handlers.channel import OutputChannel, Recipient, split_text
from handlers.telegram.photos import fetch_photo

log = logging.getLogger(__name__)

CHANNEL = "telegram"
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64  # bytes, Telegram's limit for callback_data
MAX_ANSWER_WAIT = 5.0  # seconds a consumer's answer may wait out a 429; a longer one is given up

# Keyboards are kept as the Bot API's JSON objects: text replies are posted as JSON (see post_json); only
# a picture or a document, uploaded through aiogram, needs them as aiogram's models (markup_model).
Markup = dict[str, Any] | None
REMOVE_KEYBOARD: dict[str, Any] = {"remove_keyboard": True}


def inline_keyboard(reply: Reply) -> Markup:
    """The reply's buttons as an inline keyboard; a button whose action Telegram cannot carry is left out."""
    rows = []
    for row in reply.buttons:
        buttons = []
        for button in row:
            if button.url:
                buttons.append({"text": button.label, "url": button.url})
                continue
            if len(button.action.encode("utf-8")) > MAX_CALLBACK_DATA:
                log.error("button %r: action %r is over Telegram's %d bytes; left out",
                          button.label, button.action, MAX_CALLBACK_DATA)
                continue
            buttons.append({"text": button.label, "callback_data": button.action})
        if buttons:
            rows.append(buttons)
    return {"inline_keyboard": rows} if rows else None


def phone_keyboard(label: str) -> Markup:
    return {"keyboard": [[{"text": label, "request_contact": True}]], "resize_keyboard": True,
            "one_time_keyboard": True}


def markup_model(markup: Markup) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None:
    if markup is None:
        return None
    if "inline_keyboard" in markup:
        return InlineKeyboardMarkup.model_validate(markup)
    if "keyboard" in markup:
        return ReplyKeyboardMarkup.model_validate(markup)
    return ReplyKeyboardRemove.model_validate(markup)


class SendMessageUnread(SendMessage):
    """sendMessage whose answer is not read back, for aiogram's reading of a refusal (see post_json)."""

    __returning__ = dict  # type: ignore[assignment]  # on purpose: the answer is not read into a Message


async def post_json(bot: Bot, params: dict[str, Any]) -> None:
    """sendMessage with its parameters as one JSON body, the answer not read back.

    aiogram would build a SendMessage model and its keyboard's, encode them as a multipart form, and read
    Telegram's answer into a Message model: more CPU than the rest of a consumer's turn, for a reply whose
    answer nothing here reads. The request goes through aiogram's own HTTP session (its connections, its
    timeout), and a refusal is read by aiogram, so it raises the same errors (TelegramRetryAfter,
    TelegramForbiddenError, ...) as bot(SendMessage(...)) would.
    """
    session = bot.session
    if not isinstance(session, AiohttpSession):  # its HTTP session is what the request goes through
        raise TypeError(f"post_json needs aiogram's AiohttpSession, not {type(session).__name__}")
    http = await session.create_session()
    url = session.api.api_url(token=bot.token, method="sendMessage")
    body = _ENCODER.encode(params).encode()
    try:
        async with http.post(url, data=body, headers=_JSON, timeout=aiohttp.ClientTimeout(total=session.timeout)
                             ) as response:
            content = await response.text()
            status = response.status
    except asyncio.TimeoutError as exc:
        raise TelegramNetworkError(method=_unread(params), message="Request timeout error") from exc
    except aiohttp.ClientError as exc:
        raise TelegramNetworkError(method=_unread(params), message=f"{type(exc).__name__}: {exc}") from exc
    if not 200 <= status < 300:  # the Bot API answers every refusal with its error code as the HTTP status
        session.check_response(bot=bot, method=_unread(params), status_code=status, content=content)  # raises


_JSON = {"Content-Type": "application/json"}
# Kept: json.dumps(..., ensure_ascii=False) builds an encoder on every call, a quarter of a reply's encoding.
_ENCODER = json.JSONEncoder(ensure_ascii=False)


def _unread(params: dict[str, Any]) -> SendMessageUnread:
    return SendMessageUnread.model_construct(**params)


class TelegramOutput(OutputChannel):
    """The Telegram primitives of the channel contract: replies as Bot API calls, photos by getFile, the
    Bot API's refusals as core's DeliveryErrors."""

    name = CHANNEL
    photo_too_large_key = "telegram-photo-too-large"
    answer_wait = MAX_ANSWER_WAIT

    def __init__(self, bot: Bot, kabinet: Kabinet) -> None:
        super().__init__(kabinet)
        self.bot = bot

    def refusal(self, exc: Exception) -> DeliveryError | None:
        if isinstance(exc, TelegramRetryAfter):
            return RetryAfter(exc.retry_after)
        if isinstance(exc, TelegramForbiddenError):
            return ChatUnreachable(exc.message)
        if isinstance(exc, (TelegramNetworkError, TelegramServerError)):
            return TransientFailure(str(exc))
        if isinstance(exc, TelegramAPIError):
            return DeliveryError(str(exc))
        return None

    async def download_photo(self, reference: str, declared_size: int | None) -> bytes:
        return await fetch_photo(self.bot, reference, declared_size)

    async def send_reply(self, to: Recipient, reply: Reply, *, first: bool) -> None:
        markup: Markup = REMOVE_KEYBOARD if to.after_contact and first and not reply.buttons else None
        follow_up: Markup = None
        if reply.request_contact:
            # A message carries one keyboard: the phone request wins, the choices follow in a second message.
            follow_up = inline_keyboard(reply)
            markup = phone_keyboard(self.t(to.language, "telegram-share-phone"))
        elif markup is None:
            markup = inline_keyboard(reply)
        attachment = reply.image or reply.document
        if attachment is not None:
            await self.send_attachment(to.chat_id, attachment, reply.image is not None, reply.text, markup)
        else:
            await self.send_text(to.chat_id, reply.text, markup)
        if follow_up is not None:
            await self.send_text(to.chat_id, self.t(to.language, "telegram-or-choose"), follow_up)

    async def send_text(self, chat_id: str, text: str, markup: Markup) -> None:
        parts = split_text(text, MAX_TEXT)
        for number, part in enumerate(parts, start=1):
            last = number == len(parts)
            if part.strip():
                params: dict[str, Any] = {"chat_id": chat_id, "text": part}
                if last and markup is not None:
                    params["reply_markup"] = markup
                await post_json(self.bot, params)

    async def send_attachment(self, chat_id: str, attachment: Attachment, is_image: bool, text: str,
                              markup: Markup) -> None:
        upload = BufferedInputFile(attachment.content, filename=attachment.filename)
        caption = text if len(text) <= MAX_CAPTION else None
        reply_markup = markup_model(markup) if caption is not None else None
        if is_image:
            await self.bot.send_photo(chat_id=chat_id, photo=upload, caption=caption or None, reply_markup=reply_markup)
        else:
            await self.bot.send_document(chat_id=chat_id, document=upload, caption=caption or None,
                                         reply_markup=reply_markup)
        if caption is None:
            await self.send_text(chat_id, text, markup)
