"""Text messages and button presses, nearly all of a webhook's traffic, read straight from the update's JSON.

aiogram parses every update into its pydantic models and runs it through its dispatcher, routers, filters and
middlewares: about as much CPU as the rest of a consumer's turn outside the database. For the two kinds of update
that are nearly all traffic this module reads the few fields the core needs into the same `Incoming` that
messages.on_text and callbacks.on_button make. It takes an update only when it is sure what aiogram would do
with it: every key is one it knows here and every value has the JSON type the Bot API gives it (which aiogram's
models accept), so aiogram would parse it and route it to those two handlers. Anything else (photos, documents,
contacts, a reply, a forward, a group topic, a key the Bot API added since, a value of another type, a body that is
not an update) returns None and goes to aiogram as before, which reads it or refuses it with its own status.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from core.messages import EventKind, Incoming
from handlers.telegram.events import incoming

# The keys this module reads or checks; a message or query with any other goes to aiogram.
MESSAGE_KEYS: Final = frozenset({"message_id", "from", "chat", "date", "text", "entities"})
# A press carries the bot's own message, with its keyboard (and its date of change, if the bot edited it).
PRESSED_MESSAGE_KEYS: Final = MESSAGE_KEYS | {"reply_markup", "edit_date"}
QUERY_KEYS: Final = frozenset({"id", "from", "chat_instance", "message", "data"})
USER_KEYS: Final = frozenset({"id", "is_bot", "first_name", "last_name", "username", "language_code",
                              "is_premium", "added_to_attachment_menu"})
USER_TEXTS: Final = ("last_name", "username", "language_code")
USER_FLAGS: Final = ("is_premium", "added_to_attachment_menu")
CHAT_KEYS: Final = frozenset({"id", "type", "title", "username", "first_name", "last_name", "is_forum"})
CHAT_TEXTS: Final = ("title", "username", "first_name", "last_name")
ENTITY_KEYS: Final = frozenset({"type", "offset", "length", "url", "language", "custom_emoji_id"})
ENTITY_TEXTS: Final = ("url", "language", "custom_emoji_id")
BUTTON_KEYS: Final = frozenset({"text", "callback_data", "url"})
# A message's date as Unix seconds that pydantic reads as seconds (it takes larger numbers for milliseconds and
# refuses years past 9999): up to the year 2286; 0 is an inaccessible message's.
LATEST_DATE: Final = 10**10


@dataclass(frozen=True, slots=True)
class PlainUpdate:
    """A text message or a button press, ready for the core, and what the webhook needs besides."""

    update_id: int
    event: Incoming
    line: int  # the chat whose line it waits in: channel.line_of's for the same update
    query_id: str | None = None  # a press's callback query, answered in the webhook's response


def read_plain(update: Any) -> PlainUpdate | None:
    """The update as the core's event, or None: aiogram reads it (or refuses it)."""
    if type(update) is not dict or len(update) != 2:
        return None
    update_id = update.get("update_id")
    if type(update_id) is not int:
        return None
    if "message" in update:
        return _text(update["message"], update_id)
    if "callback_query" in update:
        return _press(update["callback_query"], update_id)
    return None


def _text(message: Any, update_id: int) -> PlainUpdate | None:
    """messages.on_text's event: a message whose text is not empty (its router's has_text) and nothing else."""
    if type(message) is not dict or not message.keys() <= MESSAGE_KEYS:
        return None
    text = message.get("text")
    chat: Any = message.get("chat")
    if type(text) is not str or not text or not _is_message(message) or not _is_chat(chat):
        return None
    sender: Any = message.get("from")
    if sender is not None and not _is_user(sender):
        return None
    language = sender.get("language_code") if sender is not None else None
    event = incoming(chat["id"], update_id, language, EventKind.TEXT, private=chat["type"] == "private", text=text)
    return PlainUpdate(update_id, event, chat["id"])


def _press(query: Any, update_id: int) -> PlainUpdate | None:
    """callbacks.on_button's event: a press on the bot's message (or on none), answered in the response."""
    if type(query) is not dict or not query.keys() <= QUERY_KEYS:
        return None
    query_id, data = query.get("id"), query.get("data")
    sender: Any = query.get("from")
    if type(query_id) is not str or type(query.get("chat_instance")) is not str or not _is_user(sender) \
            or (data is not None and type(data) is not str):
        return None
    message = query.get("message")
    if message is None:  # a press on a message sent in inline mode has none: the sender's private chat
        chat_id, private = sender["id"], True
    else:
        if type(message) is not dict or not message.keys() <= PRESSED_MESSAGE_KEYS or not _is_message(message):
            return None
        chat: Any = message.get("chat")
        text, edited = message.get("text"), message.get("edit_date")
        if not _is_chat(chat) or (text is not None and type(text) is not str) \
                or (edited is not None and type(edited) is not int) \
                or not _is_keyboard(message.get("reply_markup")):
            return None
        sent_by = message.get("from")
        if sent_by is not None and not _is_user(sent_by):
            return None
        chat_id, private = chat["id"], chat["type"] == "private"
    event = incoming(chat_id, update_id, sender.get("language_code"), EventKind.BUTTON, action=data or "",
                     private=private)
    return PlainUpdate(update_id, event, chat_id, query_id)


def _is_message(message: dict[str, Any]) -> bool:
    """Its id and date, and its entities if any (a command's, a link's), as aiogram's Message reads them."""
    date = message.get("date")
    if type(message.get("message_id")) is not int or type(date) is not int or not 0 <= date <= LATEST_DATE:
        return False
    entities = message.get("entities")
    if entities is None:
        return True
    return type(entities) is list and all(
        type(entity) is dict and entity.keys() <= ENTITY_KEYS and type(entity.get("type")) is str
        and type(entity.get("offset")) is int and type(entity.get("length")) is int
        and _texts(entity, ENTITY_TEXTS) for entity in entities)


def _is_user(user: Any) -> bool:
    return (type(user) is dict and user.keys() <= USER_KEYS and type(user.get("id")) is int
            and type(user.get("is_bot")) is bool and type(user.get("first_name")) is str
            and _texts(user, USER_TEXTS) and all(user.get(key) is None or type(user[key]) is bool for key in USER_FLAGS))


def _is_chat(chat: Any) -> bool:
    return (type(chat) is dict and chat.keys() <= CHAT_KEYS and type(chat.get("id")) is int
            and type(chat.get("type")) is str and _texts(chat, CHAT_TEXTS)
            and (chat.get("is_forum") is None or type(chat["is_forum"]) is bool))


def _is_keyboard(markup: Any) -> bool:
    """None, or an inline keyboard of buttons with a text and callback data or a link (the kinds the bot sends)."""
    if markup is None:
        return True
    if type(markup) is not dict or markup.keys() != {"inline_keyboard"} or type(markup["inline_keyboard"]) is not list:
        return False
    return all(type(row) is list and all(
        type(button) is dict and button.keys() <= BUTTON_KEYS and type(button.get("text")) is str
        and _texts(button, ("callback_data", "url")) for button in row) for row in markup["inline_keyboard"])


def _texts(value: dict[str, Any], keys: tuple[str, ...]) -> bool:
    """Each of these optional keys absent, null or a string."""
    return all(value.get(key) is None or type(value[key]) is str for key in keys)
