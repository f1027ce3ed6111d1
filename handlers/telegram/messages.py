"""Messages: text and commands, photos (also sent as image files), PDF files, contacts; anything else last."""
from __future__ import annotations

import logging
from typing import Unpack

from aiogram import Router
from aiogram.types import Message, Update

from core.messages import EventKind, Incoming
from handlers.channel import PhotoTooLarge, Recipient
from handlers.telegram.events import EventFields, apologise, incoming, is_private, respond
from handlers.telegram.photos import PhotoUnavailable
from handlers.telegram.replies import CHANNEL, TelegramOutput

log = logging.getLogger(__name__)


def language_of(message: Message) -> str | None:
    return message.from_user.language_code if message.from_user else None


def event_of(message: Message, update_id: int, kind: EventKind, **fields: Unpack[EventFields]) -> Incoming:
    return incoming(message.chat.id, update_id, language_of(message), kind, private=is_private(message.chat),
                    **fields)


async def on_text(message: Message, channel: TelegramOutput, event_update: Update) -> None:
    event = event_of(message, event_update.update_id, EventKind.TEXT, text=message.text or "")
    await respond(channel, event, event_update.update_id)


async def on_meter_photo(message: Message, channel: TelegramOutput, event_update: Update) -> None:
    assert message.photo  # the router's has_photo filter
    largest = message.photo[-1]
    await pass_photo(message, channel, event_update.update_id, largest.file_id, largest.file_size)


async def on_meter_photo_as_file(message: Message, channel: TelegramOutput, event_update: Update) -> None:
    document = message.document
    assert document is not None  # the router's has_image_file filter
    await pass_photo(message, channel, event_update.update_id, document.file_id, document.file_size)


async def on_pdf_file(message: Message, channel: TelegramOutput, event_update: Update) -> None:
    document = message.document
    assert document is not None  # the router's has_pdf_file filter
    if not await channel.kabinet.takes_files(CHANNEL, str(message.chat.id), language_of(message)):
        await on_other_message(message, channel, event_update)  # not fetched: nobody asked for a file
        return
    await pass_photo(message, channel, event_update.update_id, document.file_id, document.file_size,
                     kind=EventKind.DOCUMENT)


async def pass_photo(
    message: Message, channel: TelegramOutput, update_id: int, file_id: str, size: int | None,
    kind: EventKind = EventKind.PHOTO,
) -> None:
    """A photo, or with `kind` DOCUMENT a file (an order's PDF), fetched and handed to core."""
    language = language_of(message)
    try:
        content = await channel.download_photo(file_id, size)
    except PhotoTooLarge as exc:
        await channel.refuse_photo(Recipient(str(message.chat.id), language), exc)
        return
    except PhotoUnavailable as exc:
        log.error("telegram update %s: photo %s not fetched: %s", update_id, file_id, exc)
        content = None
    if content is None:  # apologised outside the except block, so that no error quoting a URL rides along
        await apologise(channel, message.chat.id, language, update_id)
        return
    if kind is EventKind.DOCUMENT:
        name = (message.document.file_name or "") if message.document else ""
        event = event_of(message, update_id, kind, document=content, file_name=name, text=message.caption or "")
    else:
        event = event_of(message, update_id, kind, photo=content, text=message.caption or "")
    await respond(channel, event, update_id)


async def on_contact(message: Message, channel: TelegramOutput, event_update: Update) -> None:
    assert message.contact is not None  # the router's has_contact filter
    event = event_of(message, event_update.update_id, EventKind.CONTACT, phone=message.contact.phone_number)
    await respond(channel, event, event_update.update_id)


async def on_other_message(message: Message, channel: TelegramOutput, event_update: Update) -> None:
    event = event_of(message, event_update.update_id, EventKind.OTHER)
    await respond(channel, event, event_update.update_id)


# Filters are coroutines on purpose: aiogram runs a plain callable (a magic F filter too) in a worker
# thread, a thread hand-off per filter per update.
async def has_text(message: Message) -> bool:
    return bool(message.text)


async def has_photo(message: Message) -> bool:
    return bool(message.photo)


async def has_image_file(message: Message) -> bool:
    return message.document is not None and (message.document.mime_type or "").startswith("image/")


async def has_pdf_file(message: Message) -> bool:
    document = message.document
    return document is not None and (document.mime_type == "application/pdf"
                                     or (document.file_name or "").lower().endswith(".pdf"))


async def has_contact(message: Message) -> bool:
    return message.contact is not None


def make_router() -> Router:
    """A fresh router (an aiogram router joins one dispatcher only); catch-all last."""
    router = Router(name=__name__)
    router.message.register(on_text, has_text)
    router.message.register(on_meter_photo, has_photo)
    router.message.register(on_meter_photo_as_file, has_image_file)
    router.message.register(on_pdf_file, has_pdf_file)
    router.message.register(on_contact, has_contact)
    router.message.register(on_other_message)
    return router
