"""One Telegram update handed to the core once, and the core's replies sent back."""
from __future__ import annotations

import logging
from typing import TypedDict, Unpack

from aiogram.enums import ChatType
from aiogram.types import Chat

from core.messages import EventKind, Incoming, Outcome, Reply
from handlers.channel import Recipient
from handlers.telegram.replies import CHANNEL, TelegramOutput

log = logging.getLogger(__name__)


class UpdateNotProcessed(Exception):
    """The core failed on an update: the webhook answers 500 so that Telegram delivers it again."""

    def __init__(self, update_id: int) -> None:
        super().__init__(f"update {update_id} was not processed")
        self.update_id = update_id


class EventFields(TypedDict, total=False):
    """What an update brings besides its chat and kind (the rest of core.messages.Incoming)."""

    text: str
    action: str
    photo: bytes | None
    document: bytes | None
    file_name: str
    phone: str


def incoming(chat_id: int, update_id: int, language: str | None, kind: EventKind, *, private: bool = True,
             **fields: Unpack[EventFields]) -> Incoming:
    return Incoming(CHANNEL, str(chat_id), kind, language=language, delivery_key=str(update_id), private=private,
                    **fields)


def is_private(chat: Chat) -> bool:
    """Not a group, a supergroup or a channel, where others would read along."""
    return chat.type == ChatType.PRIVATE


async def respond(channel: TelegramOutput, event: Incoming, update_id: int) -> None:
    """Process the event in the core (a repeated update_id is ignored there) and send what it answers."""
    handled = await channel.kabinet.process(event)
    if handled.outcome is Outcome.DUPLICATE:
        log.info("telegram update %s was delivered again; handled already", update_id)
        return
    to = Recipient(event.chat_id, event.language, after_contact=event.kind is EventKind.CONTACT)
    # Done and committed, but not all said: the outbox says the rest (an update sent again would not, it is
    # a duplicate now).
    await channel.answer(to, handled.replies, keep_unsent=handled.outcome is Outcome.DONE)
    if handled.outcome is Outcome.FAILED:
        raise UpdateNotProcessed(update_id)


async def apologise(channel: TelegramOutput, chat_id: int, language: str | None, update_id: int) -> None:
    """An error of ours outside the core: the consumer hears so, and the update is reported unprocessed."""
    await channel.answer(Recipient(str(chat_id), language), [Reply(channel.t(language, "error-ours"))])
    raise UpdateNotProcessed(update_id)
