"""A stand-in Telegram Bot API server on 127.0.0.1, and Telegram users who talk to the bot through it.

The server queues updates for getUpdates, serves files (getFile and /file/bot<token>/<path>), records every
call, answers a blocked chat with 403 and can be told to fail a method (e.g. 429 with retry_after).
The update JSON is shaped the way Telegram sends it (https://core.telegram.org/bots/api#update).
"""
from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

import aiohttp
import pytest
from aiohttp import web

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
BOT_ID = 123456789
BOT_USER = {"id": BOT_ID, "is_bot": True, "first_name": "Kabinet", "username": "kabinet_test_bot"}
SENDING = ("sendMessage", "sendPhoto", "sendDocument")
# Parameters that aiogram sends as JSON text in a form field.
JSON_PARAMS = {"reply_markup", "commands", "allowed_updates", "scope", "entities", "caption_entities", "reply_parameters"}


@dataclass
class Call:
    """One Bot API request the bot made: the method, its parameters, uploaded files by field."""

    method: str
    params: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)
    result: Any = None
    file_names: dict[str, str] = field(default_factory=dict)  # each uploaded file's name, by field

    @property
    def chat_id(self) -> int | None:
        value = self.params.get("chat_id")
        return int(value) if value is not None else None

    @property
    def text(self) -> str:
        return self.params.get("text") or self.params.get("caption") or ""

    @property
    def markup(self) -> dict:
        return self.params.get("reply_markup") or {}

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """Inline buttons as (label, callback_data), row after row."""
        return [(b["text"], b.get("callback_data", "")) for row in self.markup.get("inline_keyboard", []) for b in row]

    @property
    def labels(self) -> list[str]:
        return [label for label, _ in self.buttons]


@dataclass
class ScriptedError:
    error_code: int
    description: str
    parameters: dict | None = None


class BotAPI:
    """The stand-in server. `await api.start()`, then point the bot at `api.base`."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.calls: list[Call] = []
        self.updates: list[dict] = []
        self.files: dict[str, tuple[str, bytes, int]] = {}  # file_id → (file_path, content, declared size)
        self.downloads: list[str] = []
        self.file_failures: dict[str, int] = {}  # file_id → the HTTP status its download answers with
        self.blocked: set[int] = set()
        self.errors: dict[str, list[ScriptedError]] = {}
        self.webhook: dict[str, Any] | None = None
        self.update_ids = itertools.count(700_000_001)
        self.message_ids = itertools.count(1001)
        self.changed = asyncio.Condition()
        self.runner: web.AppRunner | None = None
        self.port = 0
        self.closing = False
        self.holding: dict[int, asyncio.Event] = {}  # chat id → released when set
        self.held: list[Call] = []

    # ----- server

    async def start(self, port: int = 0) -> "BotAPI":
        """Listen on `port` (a free one by default)."""
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self.on_method)
        app.router.add_get("/file/bot{token}/{path:.+}", self.on_file)
        # No access log: Telegram's side, not ours, and its paths hold the token (the tests grep our logs for it).
        self.runner = web.AppRunner(app, shutdown_timeout=0.5, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", port)
        await site.start()
        self.port = self.runner.addresses[0][1]
        return self

    async def close(self) -> None:
        self.closing = True  # long polls still waiting return at once
        await self._notify()
        if self.runner is not None:
            await self.runner.cleanup()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def on_method(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        params, files, names = await _params(request)
        call = Call(method, params, files, file_names=names)
        if method != "getUpdates":
            self.calls.append(call)
        gate = self.holding.get(call.chat_id) if method in SENDING else None
        if gate is not None:
            self.held.append(call)
            await self._notify()
            await gate.wait()
        scripted = self.errors.get(method)
        if scripted:
            error = scripted.pop(0)
            await self._notify()
            body = {"ok": False, "error_code": error.error_code, "description": error.description}
            if error.parameters:
                body["parameters"] = error.parameters
            return web.json_response(body, status=error.error_code)
        if method in SENDING and call.chat_id in self.blocked:
            await self._notify()
            return web.json_response(
                {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}, status=403
            )
        answer = getattr(self, "api_" + method, None)
        try:
            call.result = await answer(call) if answer is not None else True
        except LookupError as exc:
            return web.json_response({"ok": False, "error_code": 400, "description": f"Bad Request: {exc}"},
                                     status=400)
        await self._notify()
        return web.json_response({"ok": True, "result": call.result})

    async def on_file(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        for file_id, (file_path, content, _) in self.files.items():
            if file_path == path and request.match_info["token"] == self.token:
                if file_id in self.file_failures:
                    return web.Response(status=self.file_failures[file_id], text="Download failed")
                self.downloads.append(path)
                return web.Response(body=content)
        return web.Response(status=404, text="Not Found")

    async def _notify(self) -> None:
        async with self.changed:
            self.changed.notify_all()

    # ----- Bot API methods with an answer other than `true`

    async def api_getMe(self, call: Call) -> dict:
        return {**BOT_USER, "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": False}

    async def api_getUpdates(self, call: Call) -> list[dict]:
        offset = int(call.params.get("offset", 0) or 0)
        timeout = float(call.params.get("timeout", 0) or 0)
        if offset:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]  # confirmed ones are gone
        deadline = time.monotonic() + timeout
        async with self.changed:
            while not self.updates and not self.closing and time.monotonic() < deadline:
                try:
                    await asyncio.wait_for(self.changed.wait(), deadline - time.monotonic())
                except asyncio.TimeoutError:
                    break
        return list(self.updates[:100])

    async def api_getFile(self, call: Call) -> dict:
        file_id = call.params.get("file_id", "")
        if file_id not in self.files:
            raise LookupError("invalid file_id")
        path, content, size = self.files[file_id]
        if size > 20 * 1024 * 1024:
            raise LookupError("file is too big")
        return {"file_id": file_id, "file_unique_id": file_id[-8:], "file_size": size, "file_path": path}

    async def api_sendMessage(self, call: Call) -> dict:
        return self.sent_message(call, text=call.params["text"])

    async def api_sendPhoto(self, call: Call) -> dict:
        photo = {"file_id": f"sent-{secrets.token_hex(6)}", "file_unique_id": secrets.token_hex(4),
                 "width": 640, "height": 480}
        return self.sent_message(call, photo=[photo], caption=call.params.get("caption"))

    async def api_sendDocument(self, call: Call) -> dict:
        document = {"file_id": f"sent-{secrets.token_hex(6)}", "file_unique_id": secrets.token_hex(4)}
        return self.sent_message(call, document=document, caption=call.params.get("caption"))

    async def api_setWebhook(self, call: Call) -> bool:
        self.webhook = call.params
        return True

    async def api_deleteWebhook(self, call: Call) -> bool:
        self.webhook = None
        return True

    def sent_message(self, call: Call, **content: Any) -> dict:
        message = {
            "message_id": next(self.message_ids), "from": BOT_USER, "date": int(time.time()),
            # Telegram's groups, supergroups and channels have negative ids, people positive ones.
            "chat": {"id": call.chat_id, "type": "private", "first_name": "Consumer"} if (call.chat_id or 0) > 0
            else {"id": call.chat_id, "type": "supergroup", "title": "Group"},
            **{key: value for key, value in content.items() if value is not None},
        }
        if "inline_keyboard" in call.markup:
            message["reply_markup"] = call.markup
        return message

    # ----- what a test arranges

    def push(self, update: dict) -> dict:
        """Queue an update for getUpdates; it gets the next update_id unless it has one."""
        update.setdefault("update_id", next(self.update_ids))
        self.updates.append(update)
        asyncio.get_running_loop().create_task(self._notify())
        return update

    def add_file(self, content: bytes, *, size: int | None = None, name: str = "photo.jpg") -> str:
        """A file the bot may fetch; `size` declares another size than the content's (e.g. over 20 MB)."""
        file_id = f"AgACAgIAAxkBAAI{secrets.token_hex(12)}"
        self.files[file_id] = (f"photos/{file_id[-6:]}_{name}", content, len(content) if size is None else size)
        return file_id

    def fail(self, method: str, error_code: int, description: str, *, times: int = 1, **parameters: Any) -> None:
        """The next `times` calls of `method` fail, e.g. fail("sendMessage", 429, "Too Many Requests: retry
        after 3", retry_after=3)."""
        self.errors.setdefault(method, []).extend(
            ScriptedError(error_code, description, parameters or None) for _ in range(times)
        )

    def hold(self, chat_id: int) -> None:
        """Messages to the chat are not answered until `release`: the bot stays busy with that chat's update."""
        self.holding[chat_id] = asyncio.Event()

    def release(self, chat_id: int) -> None:
        self.holding.pop(chat_id).set()

    # ----- what a test inspects

    def calls_to(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    def sent_to(self, chat_id: int) -> list[Call]:
        """Messages, photos and documents the bot delivered to a chat (a refused call is not delivered)."""
        return [c for c in self.calls if c.method in SENDING and c.chat_id == chat_id and c.result is not None]

    async def wait_until(self, condition: Callable[[], Any], timeout: float = 5.0) -> Any:
        """Wait until `condition()` is truthy (checked after every call the bot makes); returns its value."""
        deadline = time.monotonic() + timeout
        async with self.changed:
            while not (value := condition()):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out waiting; calls so far: {[c.method for c in self.calls]}")
                try:  # looked at again now and then too, for conditions outside the server
                    await asyncio.wait_for(self.changed.wait(), min(left, 0.25))
                except asyncio.TimeoutError:
                    pass
        return value


async def _params(request: web.Request) -> tuple[dict[str, Any], dict[str, bytes], dict[str, str]]:
    params: dict[str, Any] = {}
    files: dict[str, bytes] = {}
    names: dict[str, str] = {}
    if request.content_type == "application/json":
        params = await request.json()
    elif request.can_read_body:
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                files[key] = value.file.read()
                names[key] = value.filename
            else:
                params[key] = json.loads(value) if key in JSON_PARAMS else value
    params.update(request.query)
    for key, value in list(params.items()):
        if isinstance(value, str) and value.startswith("attach://"):
            names[key] = names.get(value[len("attach://"):], "")
            params[key] = files.get(value[len("attach://"):], b"")
    return params, files, names


# ----- Telegram users and the updates they cause


@dataclass
class TelegramUser:
    """A person in a private chat with the bot; builds the updates Telegram would send for them."""

    id: int = 5_550_001
    first_name: str = "Taras"
    language_code: str | None = "en"
    message_ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    @property
    def user(self) -> dict:
        user = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    @property
    def chat(self) -> dict:
        return {"id": self.id, "first_name": self.first_name, "type": "private"}

    def message(self, **content: Any) -> dict:
        return {"message": {"message_id": next(self.message_ids), "from": self.user, "chat": self.chat,
                            "date": int(time.time()), **content}}

    def text(self, text: str) -> dict:
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split()[0]
            content["entities"] = [{"offset": 0, "length": len(command), "type": "bot_command"}]
        return self.message(**content)

    def photo(self, file_id: str, size: int, caption: str | None = None) -> dict:
        thumb = {"file_id": file_id + "-s", "file_unique_id": "AQADs1", "file_size": 1500, "width": 90, "height": 67}
        large = {"file_id": file_id, "file_unique_id": "AQADl1", "file_size": size, "width": 1280, "height": 960}
        return self.message(photo=[thumb, large], **({"caption": caption} if caption else {}))

    def document(self, file_id: str, size: int, file_name: str = "meter.jpg", mime_type: str = "image/jpeg") -> dict:
        return self.message(document={"file_name": file_name, "mime_type": mime_type, "file_id": file_id,
                                      "file_unique_id": "AgADdoc1", "file_size": size})

    def contact(self, phone: str) -> dict:
        return self.message(contact={"phone_number": phone, "first_name": self.first_name, "user_id": self.id})

    def sticker(self) -> dict:
        return self.message(sticker={"file_id": "CAACAgIAAxk", "file_unique_id": "AgADst", "type": "regular",
                                     "width": 512, "height": 512, "is_animated": False, "is_video": False})

    def press(self, message: Call, data: str) -> dict:
        """A press on an inline button of a message the bot sent."""
        return {"callback_query": {
            "id": str(secrets.randbits(63)), "from": self.user, "message": message.result,
            "chat_instance": "-7289318460385510812", "data": data,
        }}

    def membership(self, old: str, new: str) -> dict:
        """my_chat_member: the user blocked (kicked) or unblocked (member) the bot."""
        def member(status: str) -> dict:
            return {"user": BOT_USER, "status": status, **({"until_date": 0} if status == "kicked" else {})}

        return {"my_chat_member": {"chat": self.chat, "from": self.user, "date": int(time.time()),
                                   "old_chat_member": member(old), "new_chat_member": member(new)}}


Deliver = Callable[[dict], Awaitable[int | None]]


class TelegramChat:
    """A conversation with the bot through the stand-in server: say this, press that, read the answers.

    `deliver` hands an update to the bot: queued for getUpdates (polling) or POSTed to the webhook.
    """

    def __init__(self, api: BotAPI, user: TelegramUser, deliver: Deliver) -> None:
        self.api = api
        self.user = user
        self.deliver = deliver
        self.read = 0
        self.status: int | None = None

    @property
    def messages(self) -> list[Call]:
        return self.api.sent_to(self.user.id)

    @property
    def unread(self) -> list[Call]:
        return self.messages[self.read:]

    async def send(self, update: dict, replies: int = 1) -> list[Call]:
        """Deliver an update and wait for `replies` new messages to this chat; returns them."""
        self.status = await self.deliver(update)
        return await self.expect(replies)

    async def expect(self, count: int, timeout: float = 5.0) -> list[Call]:
        await self.api.wait_until(lambda: len(self.unread) >= count, timeout)
        new = self.unread[:count]
        self.read += count
        return new

    async def say(self, text: str, replies: int = 1) -> str:
        """The texts of the bot's answers to a typed message, joined with new lines."""
        return _joined(await self.send(self.user.text(text), replies))

    async def press(self, label: str, replies: int = 1) -> str:
        """Press the button with this label on the latest message that has it."""
        for message in reversed(self.messages[: self.read]):
            for button_label, data in message.buttons:
                if button_label == label:
                    return _joined(await self.send(self.user.press(message, data), replies))
        raise AssertionError(f"no button {label!r} in {[m.labels for m in self.messages]}")

    @property
    def last(self) -> Call:
        return self.messages[self.read - 1]


def _joined(messages: list[Call]) -> str:
    return "\n".join(message.text for message in messages).replace("\xa0", " ")


def polling_delivery(api: BotAPI) -> Deliver:
    async def deliver(update: dict) -> None:
        api.push(update)
        return None
    return deliver


def webhook_delivery(url: str, secret: str | None, api: BotAPI | None = None) -> Deliver:
    """POST each update to the bot's webhook the way Telegram does; returns the HTTP status. With `api`, a
    method the bot answers in the webhook's response is carried out on that server, as Telegram does."""
    async def deliver(update: dict) -> int:
        update.setdefault("update_id", next(_webhook_update_ids))
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        async with aiohttp.ClientSession() as session:
            async with session.post(url, json=update, headers=headers) as response:
                answer = await method_in_response(response)
                status = response.status
            if api is not None and answer is not None:
                await call_answer(session, api, answer)
            return status
    return deliver


async def method_in_response(response: aiohttp.ClientResponse) -> dict[str, str] | None:
    """The Bot API method a webhook's 200 response carries (aiogram sends it as a form), with its fields."""
    if response.status != 200 or response.content_type != "multipart/form-data":
        await response.read()
        return None
    fields = {}
    reader = aiohttp.MultipartReader(response.headers, response.content)
    while (part := await reader.next()) is not None:
        fields[part.name] = await part.text()
    return fields if "method" in fields else None


async def call_answer(session: aiohttp.ClientSession, api: BotAPI, answer: dict[str, str]) -> None:
    """What Telegram does with a method in a webhook's response: calls it (and tells the bot nothing)."""
    form = {name: value for name, value in answer.items() if name != "method"}
    async with session.post(f"{api.base}/bot{api.token}/{answer['method']}", data=form) as response:
        await response.read()


_webhook_update_ids = itertools.count(800_000_001)


@pytest.fixture
async def bot_api():
    api = await BotAPI().start()
    yield api
    await api.close()
