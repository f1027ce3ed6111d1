"""Core replies as Viber messages: text split under Viber's limit, buttons as a keyboard, media by URL."""
from __future__ import annotations

import logging
from typing import Any

from viberbot.api.messages import FileMessage, KeyboardMessage, PictureMessage, TextMessage

from core.messages import Attachment, Button, Reply
from handlers.channel import split_text

log = logging.getLogger(__name__)

# Limits from Viber's REST API and keyboard docs.
MAX_TEXT = 7000
MAX_CAPTION = 768
MAX_BUTTONS = 24
MAX_BUTTON_TEXT = 250
MAX_FILE_NAME = 256
MAX_PICTURE_BYTES = 1024 * 1024
KEYBOARD_COLUMNS = 6
SHARE_PHONE_API_VERSION = 3
PICTURE_TYPES = {"image/jpeg": ".jpg", "image/png": ".png"}

# A keyboard button comes back as a text message whose text is its ActionBody; the marker tells our
# buttons from typed text. A consumer typing it gains nothing: core checks every action it gets.
BUTTON_MARKER = "kb:"


def action_of(text: str) -> str | None:
    """The core action a pressed button carries, or None for typed text."""
    if text.startswith(BUTTON_MARKER) and len(text) > len(BUTTON_MARKER):
        return text[len(BUTTON_MARKER):]
    return None


def is_picture(attachment: Attachment) -> bool:
    """Whether Viber shows it as a picture message; anything else goes as a file."""
    return attachment.mime_type in PICTURE_TYPES and len(attachment.content) <= MAX_PICTURE_BYTES


def _widths(count: int) -> list[int]:
    """Column spans that fill one keyboard row exactly, so the next row starts on a new line."""
    base, extra = divmod(KEYBOARD_COLUMNS, count)
    return [base + (1 if index < extra else 0) for index in range(count)]


def _label(text: str) -> str:
    return text if len(text) <= MAX_BUTTON_TEXT else text[: MAX_BUTTON_TEXT - 1] + "…"


def keyboard(rows: list[list[Button]], share_phone: str | None = None) -> dict[str, Any] | None:
    """Viber's keyboard for rows of core buttons; a share-phone button first when a phone is asked."""
    lines: list[list[dict[str, Any]]] = []
    if share_phone is not None:
        lines.append([{"ActionType": "share-phone", "ActionBody": "phone", "Text": _label(share_phone)}])
    for row in rows:
        for start in range(0, len(row), KEYBOARD_COLUMNS):
            lines.append([
                {"ActionType": "open-url", "ActionBody": button.url, "Text": _label(button.label)} if button.url else
                {"ActionType": "reply", "ActionBody": BUTTON_MARKER + button.action, "Text": _label(button.label),
                 "Silent": True}
                for button in row[start:start + KEYBOARD_COLUMNS]
            ])
    buttons: list[dict[str, Any]] = []
    for line in lines:
        for key, width in zip(line, _widths(len(line))):
            buttons.append({"Columns": width, "Rows": 1, "TextSize": "regular", **key})
    if not buttons:
        return None
    if len(buttons) > MAX_BUTTONS:
        log.warning("a reply has %d buttons; Viber shows %d, the rest are left out", len(buttons), MAX_BUTTONS)
        buttons = buttons[:MAX_BUTTONS]
    return {"Type": "keyboard", "DefaultHeight": False, "Buttons": buttons}


def messages_for(reply: Reply, *, image_url: str | None = None, document_url: str | None = None,
                 share_phone: str | None = None) -> list[dict[str, Any]]:
    """The send_message payloads (without receiver and sender) for one reply, keyboard on the last."""
    board = keyboard(reply.buttons, share_phone if reply.request_contact else None)
    api_version = SHARE_PHONE_API_VERSION if reply.request_contact else None
    texts = split_text(reply.text, MAX_TEXT) if reply.text else []
    caption = ""
    if image_url is not None and reply.image is not None and is_picture(reply.image) and len(texts) == 1 \
            and len(texts[0]) <= MAX_CAPTION:
        caption = texts.pop()
    parts: list[dict[str, Any]] = [TextMessage(text=text).to_dict() for text in texts]
    if image_url is not None and reply.image is not None:
        if is_picture(reply.image):
            parts.append(PictureMessage(media=image_url, text=caption).to_dict())
        else:
            parts.append(_file(reply.image, image_url))
    if document_url is not None and reply.document is not None:
        parts.append(_file(reply.document, document_url))
    if not parts and board is not None:
        parts.append(KeyboardMessage().to_dict())
    if board is not None:
        parts[-1]["keyboard"] = board
    if api_version is not None:
        for part in parts:
            part["min_api_version"] = api_version
    return [{key: value for key, value in part.items() if value is not None} for part in parts]


def _file(attachment: Attachment, url: str) -> dict[str, Any]:
    name = attachment.filename[-MAX_FILE_NAME:] or "file"
    payload: dict[str, Any] = FileMessage(media=url, size=len(attachment.content), file_name=name).to_dict()
    return payload
