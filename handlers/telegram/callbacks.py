"""Inline button presses: answered at once, then handed to the core (which knows a stale button)."""
from __future__ import annotations

import logging

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery, Update

from core.conversation import Kabinet
from core.messages import EventKind
from handlers.telegram.events import incoming, respond

log = logging.getLogger(__name__)


async def on_button(query: CallbackQuery, bot: Bot, kabinet: Kabinet, event_update: Update) -> None:
    try:
        await query.answer()
    except TelegramAPIError as exc:  # a redelivered or very old query cannot be answered; the press still counts
        log.info("telegram callback %s not answered: %s", query.id, exc)
    chat_id = query.message.chat.id if query.message is not None else query.from_user.id
    event = incoming(chat_id, event_update.update_id, query.from_user.language_code, EventKind.BUTTON,
                     action=query.data or "")
    await respond(bot, kabinet, event, event_update.update_id)


def make_router() -> Router:
    """A fresh router (an aiogram router joins one dispatcher only); catch-all last."""
    router = Router(name=__name__)
    router.callback_query.register(on_button)
    return router
