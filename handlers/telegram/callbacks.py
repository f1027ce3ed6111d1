"""Inline button presses: handed to the core (which knows a stale button), answered when the turn is done."""
from __future__ import annotations

from aiogram import Router
from aiogram.methods import AnswerCallbackQuery
from aiogram.types import CallbackQuery, Update

from core.messages import EventKind
from handlers.telegram.events import incoming, is_private, respond
from handlers.telegram.replies import TelegramOutput


async def on_button(query: CallbackQuery, channel: TelegramOutput, event_update: Update) -> AnswerCallbackQuery:
    chat_id = query.message.chat.id if query.message is not None else query.from_user.id
    event = incoming(chat_id, event_update.update_id, query.from_user.language_code, EventKind.BUTTON,
                     action=query.data or "", private=query.message is None or is_private(query.message.chat))
    await respond(channel, event, event_update.update_id)
    # Returned, not called: a webhook answers it in its HTTP response, one Bot API request fewer per press
    # (in polling aiogram calls it). Telegram does not say whether that worked, and nothing depends on it:
    # the press is handled and answered by then, a query that cannot be answered any more only logs.
    return query.answer()


def make_router() -> Router:
    """A fresh router (an aiogram router joins one dispatcher only); catch-all last."""
    router = Router(name=__name__)
    router.callback_query.register(on_button)
    return router
