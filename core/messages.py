"""The neutral messages between a messenger adapter and the core: one event in, replies out."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class EventKind(str, Enum):
    TEXT = "text"
    BUTTON = "button"
    PHOTO = "photo"
    DOCUMENT = "document"  # a file that is not a photo (a PDF): an order's attachment
    CONTACT = "contact"
    OTHER = "other"


@dataclass(frozen=True)
class Incoming:
    """What a consumer did in a chat: typed text, pressed a button, sent a photo or a document, shared a contact."""

    channel: str
    chat_id: str
    kind: EventKind = EventKind.TEXT
    text: str = ""
    action: str = ""
    photo: bytes | None = None
    document: bytes | None = None
    file_name: str = ""  # the document's name, as the consumer's messenger gave it
    phone: str = ""
    language: str | None = None
    # The messenger's id of this delivery (Telegram update_id, Viber message_token): a second delivery
    # with the same key is recognised in the same transaction that handles the first, and ignored.
    delivery_key: str | None = None
    # False in a group or a channel, where others read along: accounts are linked only in a private chat.
    private: bool = True

    @classmethod
    def typed(cls, channel: str, chat_id: str, text: str, language: str | None = None) -> "Incoming":
        return cls(channel, chat_id, EventKind.TEXT, text=text, language=language)

    @classmethod
    def pressed(cls, channel: str, chat_id: str, action: str, language: str | None = None) -> "Incoming":
        return cls(channel, chat_id, EventKind.BUTTON, action=action, language=language)


class Outcome(str, Enum):
    DONE = "done"
    DUPLICATE = "duplicate"
    FAILED = "failed"
    LIMITED = "limited"  # over the chat's update limit: not handled, nothing written


@dataclass
class Handled:
    """What came of one event: the replies to send, and whether it was handled, a repeat, or failed."""

    outcome: Outcome
    replies: list["Reply"]


@dataclass(frozen=True)
class Button:
    label: str
    action: str
    url: str | None = None  # a link the messenger opens (the bank's payment page) instead of sending `action` back


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mime_type: str


@dataclass(frozen=True)
class Email:
    """One message to one address: a plain-text body, and files such as an invoice's PDF."""

    to: str
    subject: str
    body: str
    attachments: tuple[Attachment, ...] = ()
    reference: str | None = None  # what the Message-ID is made of, for a message that may be sent again


@dataclass
class Reply:
    """One message from the bot: text, optional rows of buttons, an optional image or document."""

    text: str = ""
    buttons: list[list[Button]] = field(default_factory=list)
    image: Attachment | None = None
    document: Attachment | None = None
    request_contact: bool = False

    def all_buttons(self) -> list[Button]:
        return [button for row in self.buttons for button in row]
