"""The Viber channel: signed webhook callbacks in, core events through, replies out over aiohttp."""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from viberbot.api.messages import ContactMessage, FileMessage, PictureMessage, TextMessage
from viberbot.api.viber_requests import (
    ViberConversationStartedRequest,
    ViberMessageRequest,
    ViberSubscribedRequest,
    ViberUnsubscribedRequest,
)

from core.conversation import Kabinet
from core.messages import Attachment, EventKind, Handled, Incoming, Outcome, Reply
from core.notifications import ChatUnreachable, DeliveryError, RetryAfter, TransientFailure
from handlers.channel import MEGABYTE, OutputChannel, PhotoTooLarge, Recipient
from handlers.registration import READY, Registration
from handlers.viber.api import (
    INVALID_AUTH_TOKEN,
    TOO_MANY_REQUESTS,
    TRANSPORT_FAILURE,
    ReceiverUnreachable,
    ViberApi,
    ViberApiError,
)
from handlers.viber.media import ROUTE, WEBHOOK_PATH, MediaShelf, public_base
from handlers.viber.render import MAX_TEXT, action_of, keyboard, messages_for
from handlers.webhook import BadBody, parse_json, read_body

log = logging.getLogger(__name__)

CHANNEL = "viber"
SIGNATURE_HEADER = "X-Viber-Content-Signature"
SIGNATURE = re.compile(r"[0-9a-fA-F]{64}")  # a hex HMAC-SHA256
MAX_SENDER_NAME = 28
MAX_PHOTO_BYTES = 20 * MEGABYTE
PHOTO_TIMEOUT = 30.0
MAX_ID = 100  # our columns for a chat id and a delivery key
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".heic", ".webp")  # a meter photo sent "as a file"
EVENT_TYPES = ["delivered", "seen", "failed", "subscribed", "unsubscribed", "conversation_started"]
STOP_TIMEOUT = 10.0
RATE_CONTROL_PAUSE = 1.0  # Viber's status 12 says no when to try again


@dataclass(frozen=True)
class ViberConfig:
    """What the Viber channel is told (bot/ builds it from the settings)."""

    token: str = field(repr=False)  # never in a log line
    media_dir: Path  # files put out for Viber to fetch, shared by the processes of one deployment
    api_base: str = "https://chatapi.viber.com/pa"
    webhook_url: str | None = None  # none: the webhook is not registered, and no file can be put out
    sender_language: str = "uk"  # the language of the bot's name shown to consumers


class ViberChannel(OutputChannel):
    """Viber wired into `kabinet run`: POST /webhook/viber, GET /viber/media/…, set_webhook at start."""

    name = CHANNEL
    photo_too_large_key = "viber-photo-too-large"

    def __init__(self, config: ViberConfig, kabinet: Kabinet, *, api: ViberApi | None = None) -> None:
        super().__init__(kabinet)
        self.webhook_url = config.webhook_url
        self._token = config.token.encode()
        self.api = api or ViberApi(config.token, config.api_base)
        self.shelf = MediaShelf(config.media_dir, public_base(config.webhook_url))
        kabinet.chat_files.append(self.shelf)  # /forget removes the chat's files with its data
        self.sender = {"name": kabinet.translator(config.sender_language, "viber-sender-name")[:MAX_SENDER_NAME]}
        self.registration = Registration("viber set_webhook", self.register, final=token_refused)
        self._events = {
            "message": self.on_message,
            "conversation_started": self.on_conversation_started,
            "subscribed": self.on_subscribed,
            "unsubscribed": self.on_unsubscribed,
            "failed": self.on_failed,
        }

    # ----- the Channel contract of bot/server.py

    def mount(self, app: web.Application) -> None:
        app.router.add_post(WEBHOOK_PATH, self.on_callback)
        app.router.add_get(ROUTE, self.shelf.serve)

    async def start(self) -> None:
        if not self.webhook_url:
            log.warning("KABINET_VIBER_WEBHOOK_URL is not set: the Viber webhook is not registered")
            return
        if not self.shelf.available:
            log.warning("KABINET_VIBER_WEBHOOK_URL %r is not an absolute URL", self.webhook_url)
        # Viber calls the webhook back while set_webhook is in flight, so it must not hold up the server.
        self.registration.start()

    @property
    def state(self) -> str:
        return self.registration.state if self.webhook_url else READY

    async def stop(self) -> None:
        await self.registration.stop()
        # Callbacks being answered still send through the API session: let them finish first.
        await self.settle(STOP_TIMEOUT)
        await self.api.close()

    async def register(self) -> None:
        if self.webhook_url is None:
            raise RuntimeError("no webhook URL to register")  # start() registers only with one
        await self.api.set_webhook(self.webhook_url, EVENT_TYPES, retries=0)
        log.info("viber webhook set to %s", self.webhook_url)

    # ----- callbacks

    def signed(self, body: bytes, signature: str) -> bool:
        expected = hmac.new(self._token, body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, signature.lower())

    async def on_callback(self, request: web.Request) -> web.StreamResponse:
        async with self.in_flight():
            return await self.callback(request)

    async def callback(self, request: web.Request) -> web.StreamResponse:
        signature = request.headers.get(SIGNATURE_HEADER, "").strip()
        if not SIGNATURE.fullmatch(signature):  # refused before the body is read: an unsigned body costs nothing
            log.warning("viber callback from %s with a missing or malformed signature", request.remote)
            return web.Response(status=403, text="a missing or malformed X-Viber-Content-Signature")
        body = await read_body(request)
        if not self.signed(body, signature):
            log.warning("viber callback from %s with a wrong signature", request.remote)
            return web.Response(status=403, text="a wrong X-Viber-Content-Signature")
        try:
            data = parse_json(body)
        except BadBody as exc:
            log.warning("viber callback: a body that is not JSON we read: %s", exc)
            return web.Response(status=400, text=str(exc))
        event = data.get("event") if isinstance(data, dict) else None
        if not isinstance(event, str):
            return web.Response(status=400, text="no event")
        handler = self._events.get(event)
        if handler is None:  # webhook check, delivered, seen, and events newer than this code
            log.debug("viber %s callback", event)
            return web.Response()
        try:
            return await handler(data)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            # Not the body (it may carry a consumer's phone number or text), and no traceback: the body is
            # at fault, not our code, and a traceback a request would fill the log.
            reason = f"{type(exc).__name__}: {str(exc)[:200]}"
            log.warning("viber %s callback we cannot read (%s; fields %s)", event, reason, sorted(data))
            return web.Response(status=400, text=f"a {event} callback we cannot read")

    async def on_message(self, data: dict[str, Any]) -> web.StreamResponse:
        request = _message_request(data)
        user_id = identifier(request.sender.id, "sender.id")
        async with self.lines.turn(user_id, sequence(data)):
            return await self.handle_message(request, user_id)

    async def handle_message(self, request: ViberMessageRequest, user_id: str) -> web.StreamResponse:
        language = request.sender.language
        try:
            event = await self.event_for(request)
        except PhotoTooLarge as exc:
            await self.refuse_photo(Recipient(user_id, language), exc)
            return web.Response()
        handled = await self.kabinet.process(event)
        return await self.respond(Recipient(user_id, language), handled)

    async def respond(self, to: Recipient, handled: Handled) -> web.StreamResponse:
        if handled.outcome is Outcome.DUPLICATE:
            return web.Response()
        await self.answer(to, handled.replies, keep_unsent=handled.outcome is Outcome.DONE)
        # A failed event was rolled back, its delivery key too: a non-200 makes Viber send it again.
        return web.Response(status=500 if handled.outcome is Outcome.FAILED else 200)

    async def event_for(self, request: ViberMessageRequest) -> Incoming:
        message = request.message
        common = dict(channel=CHANNEL, chat_id=identifier(request.sender.id, "sender.id"),
                      language=request.sender.language, delivery_key=token(request.message_token))
        if isinstance(message, TextMessage):
            text = message.text or ""
            action = action_of(text)
            if action is not None:
                return Incoming(kind=EventKind.BUTTON, action=action, **common)
            return Incoming(kind=EventKind.TEXT, text=text, **common)
        if isinstance(message, PictureMessage) or (
            isinstance(message, FileMessage) and (message.file_name or "").lower().endswith(PHOTO_SUFFIXES)
        ):
            size = message.size if isinstance(message, FileMessage) else None
            return Incoming(kind=EventKind.PHOTO, photo=await self.download_photo(message.media, size), **common)
        if isinstance(message, FileMessage) and (message.file_name or "").lower().endswith(".pdf") \
                and await self.kabinet.takes_files(CHANNEL, str(common["chat_id"]), request.sender.language):
            return Incoming(kind=EventKind.DOCUMENT, document=await self.download_photo(message.media, message.size),
                            file_name=message.file_name or "", **common)
        if isinstance(message, ContactMessage) and message.contact is not None:
            return Incoming(kind=EventKind.CONTACT, phone=message.contact.phone_number or "", **common)
        return Incoming(kind=EventKind.OTHER, **common)

    async def download_photo(self, url: str | None, declared_size: int | None) -> bytes:
        """The picture a consumer sent; empty when it cannot be fetched (core then asks for it again)."""
        if (declared_size or 0) > MAX_PHOTO_BYTES:
            raise PhotoTooLarge(MAX_PHOTO_BYTES)
        if not url or not url.startswith(("https://", "http://")):
            return b""
        content = bytearray()
        try:
            async with self.api.session.get(url, timeout=aiohttp.ClientTimeout(total=PHOTO_TIMEOUT)) as response:
                response.raise_for_status()
                if (response.content_length or 0) > MAX_PHOTO_BYTES:
                    raise PhotoTooLarge(MAX_PHOTO_BYTES)
                async for chunk in response.content.iter_chunked(64 * 1024):
                    content.extend(chunk)
                    if len(content) > MAX_PHOTO_BYTES:
                        raise PhotoTooLarge(MAX_PHOTO_BYTES)
        except aiohttp.ClientResponseError as exc:
            # Not the URL: Viber's media links are signed, and a client error quotes it.
            log.warning("could not download a viber picture: %s: HTTP %s", type(exc).__name__, exc.status)
            return b""
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            log.warning("could not download a viber picture: %s", type(exc).__name__)
            return b""
        return bytes(content)

    async def on_conversation_started(self, data: dict[str, Any]) -> web.StreamResponse:
        request = ViberConversationStartedRequest().from_dict(data)
        user = request.user
        event = Incoming(CHANNEL, identifier(user.id, "user.id"), EventKind.TEXT, text="/start",
                         language=user.language, delivery_key=token(request.message_token))
        async with self.lines.turn(event.chat_id, sequence(data)):
            handled = await self.kabinet.process(event)
        if handled.outcome is not Outcome.DONE:
            return web.Response(status=500 if handled.outcome is Outcome.FAILED else 200)
        # Viber allows one welcome message, and only as this response's body.
        texts = [reply.text for reply in handled.replies if reply.text]
        rows = next((reply.buttons for reply in reversed(handled.replies) if reply.buttons), [])
        welcome = {"type": "text", "text": "\n\n".join(texts)[:MAX_TEXT], "sender": self.sender}
        board = keyboard(rows)
        if board is not None:
            welcome["keyboard"] = board
        return web.json_response(welcome)

    async def on_subscribed(self, data: dict[str, Any]) -> web.StreamResponse:
        request = ViberSubscribedRequest().from_dict(data)
        await self.kabinet.set_reachable(CHANNEL, identifier(request.user.id, "user.id"), True)
        return web.Response()

    async def on_unsubscribed(self, data: dict[str, Any]) -> web.StreamResponse:
        request = ViberUnsubscribedRequest().from_dict(data)
        await self.kabinet.set_reachable(CHANNEL, identifier(request.user_id, "user_id"), False)
        return web.Response()

    async def on_failed(self, data: dict[str, Any]) -> web.StreamResponse:
        # Read by hand: viberbot's ViberFailedRequest requires `desc`, which Viber does not always send.
        log.warning("viber could not deliver message %s to %s: %s", data.get("message_token"),
                    data.get("user_id"), data.get("desc", "no description"))
        return web.Response()

    # ----- sending

    def refusal(self, exc: Exception) -> DeliveryError | None:
        if isinstance(exc, ReceiverUnreachable):
            return ChatUnreachable(str(exc))
        if not isinstance(exc, ViberApiError):
            return None
        if exc.status == TOO_MANY_REQUESTS:
            return RetryAfter(RATE_CONTROL_PAUSE)
        if exc.status == TRANSPORT_FAILURE:
            return TransientFailure(str(exc))
        return DeliveryError(str(exc))

    async def send_reply(self, to: Recipient, reply: Reply, *, first: bool) -> None:
        image_url = await self.put_out(to.chat_id, reply.image)
        document_url = await self.put_out(to.chat_id, reply.document)
        # A waiting consumer's answer rides out rate control in ViberApi; the outbox's dispatcher paces itself.
        retries = None if to.waiting else 0
        for payload in messages_for(reply, image_url=image_url, document_url=document_url,
                                    share_phone=self.t(to.language, "viber-share-phone")):
            await self.api.send_message({"receiver": to.chat_id, "sender": self.sender, **payload}, retries)

    async def put_out(self, user_id: str, attachment: Attachment | None) -> str | None:
        """The URL Viber fetches the attachment from; None sends the reply without it (and says why in the log)."""
        if attachment is None:
            return None
        if not self.shelf.available:
            log.warning("a reply to viber user %s has a file, but KABINET_VIBER_WEBHOOK_URL is not set", user_id)
            return None
        try:
            return await self.shelf.put(user_id, attachment)
        except OSError:
            log.exception("could not put out %s for viber user %s", attachment.filename, user_id)
            return None


def token_refused(exc: Exception) -> bool:
    """Viber refused the token: asking again will not help (anything else may be Viber not reaching us yet)."""
    return isinstance(exc, ViberApiError) and exc.status == INVALID_AUTH_TOKEN


def identifier(value: object, name: str) -> str:
    """A Viber user id as we keep it; anything else is a body we cannot read (answered 400)."""
    # A NUL is never in a Viber id, and PostgreSQL text cannot hold one.
    if not isinstance(value, str) or not value or len(value) > MAX_ID or "\x00" in value:
        raise ValueError(f"{name} is not a Viber id")
    return value


def token(value: object) -> str:
    """A callback's message_token (Viber sends a 64-bit integer) as our delivery key."""
    if isinstance(value, bool) or not isinstance(value, (int, str)) or len(str(value)) > MAX_ID:
        raise ValueError("message_token is not a Viber token")
    return str(value)


def sequence(data: dict[str, Any]) -> float:
    """Where a callback goes in its chat's line: Viber's timestamp (ms); one without goes after the others."""
    timestamp = data.get("timestamp")
    return timestamp if isinstance(timestamp, int) and not isinstance(timestamp, bool) else math.inf


def _message_request(data: dict[str, Any]) -> ViberMessageRequest:
    """viberbot's model of a message callback; a message type it does not know becomes a plain one."""
    try:
        return ViberMessageRequest().from_dict(data)
    except Exception as exc:  # viberbot raises bare Exception for message types it lacks
        if "message" not in data or "sender" not in data:
            raise KeyError("message") from exc
        return ViberMessageRequest().from_dict({**data, "message": {"type": "sticker"}})
