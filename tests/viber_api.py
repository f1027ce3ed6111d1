"""A stand-in for Viber on 127.0.0.1, and a Viber user who talks to our webhook with signed callbacks.

The stand-in answers send_message and set_webhook the way chatapi.viber.com/pa does (HTTP 200, a
`status` in the body), records what it was sent, calls the webhook back during set_webhook like
Viber does, and serves media files the way Viber's CDN serves a picture a user sent.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

from tests.support.waiting import free_port

TOKEN = "4453b6ac1s345678-e02c5f12174805f9-daec9cbb5448c51r"

_tokens = itertools.count(5_098_034_272_017_990_000)


def sign(body: bytes, token: str = TOKEN) -> str:
    return hmac.new(token.encode(), body, hashlib.sha256).hexdigest()


def callback(event: str, **fields) -> dict:
    """A callback as Viber's REST API docs show it: event, timestamp in ms, chat_hostname, message_token."""
    return {"event": event, "timestamp": int(time.time() * 1000), "chat_hostname": "SN-CHAT-05_",
            "message_token": next(_tokens), **fields}


def profile(user_id: str, language: str = "en") -> dict:
    return {"id": user_id, "name": "John McClane", "avatar": "https://avatar.example.com/a.jpg",
            "country": "UA", "language": language, "api_version": 10}


@dataclass
class StandInViber:
    """chatapi.viber.com/pa on a local port: send_message, set_webhook, and GET /media/NAME."""

    token: str = TOKEN
    sent: list[dict] = field(default_factory=list)
    webhooks: list[dict] = field(default_factory=list)
    webhook_check_answers: list[int] = field(default_factory=list)
    media: dict[str, bytes] = field(default_factory=dict)
    media_requests: list[str] = field(default_factory=list)
    # Statuses to answer the next send_message calls to a receiver with (then 0 again).
    refusals: dict[str, list[int]] = field(default_factory=dict)
    attempts: int = 0
    webhook_attempts: int = 0
    # HTTP statuses to answer the next send_message calls with, before anything is read (then 200 again).
    http_errors: list[int] = field(default_factory=list)
    # Receivers whose messages are not answered until `release`: the bot stays busy with their callback.
    holding: dict[str, asyncio.Event] = field(default_factory=dict)
    held: list[dict] = field(default_factory=list)

    async def start(self, port: int | None = None) -> "StandInViber":
        """Listen on `port` (a free one by default)."""
        app = web.Application()
        app.router.add_post("/pa/send_message", self.send_message)
        app.router.add_post("/pa/set_webhook", self.set_webhook)
        app.router.add_get("/media/{name}", self.serve_media)
        self.runner = web.AppRunner(app, access_log=None)  # Viber's side, not ours
        await self.runner.setup()
        self.port = port or free_port()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()
        return self

    async def stop(self) -> None:
        await self.runner.cleanup()

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/pa"

    def media_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/media/{name}"

    def to(self, user_id: str) -> list[dict]:
        return [message for message in self.sent if message["receiver"] == user_id]

    def _refused(self, request: web.Request) -> web.Response | None:
        if request.headers.get("X-Viber-Auth-Token") != self.token:
            return web.json_response({"status": 2, "status_message": "invalidAuthToken"})
        return None

    async def send_message(self, request: web.Request) -> web.Response:
        self.attempts += 1
        if self.http_errors:
            return web.Response(status=self.http_errors.pop(0), text="refused by the stand-in")
        refused = self._refused(request)
        if refused is not None:
            return refused
        payload = await request.json()
        if not payload.get("receiver") or not payload.get("sender", {}).get("name"):
            return web.json_response({"status": 4, "status_message": "missingData"})
        if len(payload["sender"]["name"]) > 28 or len(payload.get("text", "")) > 7000:
            return web.json_response({"status": 3, "status_message": "badData"})
        gate = self.holding.get(payload["receiver"])
        if gate is not None:
            self.held.append(payload)
            await gate.wait()
        queued = self.refusals.get(payload["receiver"])
        if queued:
            status = queued.pop(0)
            return web.json_response({"status": status, "status_message": "refused by the stand-in"})
        self.sent.append(payload)
        return web.json_response({"status": 0, "status_message": "ok", "message_token": next(_tokens),
                                  "chat_hostname": "SN-CHAT-05_", "billing_status": 1})

    def hold(self, receiver: str) -> None:
        self.holding[receiver] = asyncio.Event()

    def release(self, receiver: str) -> None:
        self.holding.pop(receiver).set()

    async def set_webhook(self, request: web.Request) -> web.Response:
        self.webhook_attempts += 1
        refused = self._refused(request)
        if refused is not None:
            return refused
        payload = await request.json()
        self.webhooks.append(payload)
        # Viber checks the webhook before it answers: a signed `webhook` event that must get 200.
        body = json.dumps(callback("webhook")).encode()
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
            async with http.post(payload["url"], data=body, headers={
                "X-Viber-Content-Signature": sign(body, self.token), "Content-Type": "application/json",
            }) as answer:
                self.webhook_check_answers.append(answer.status)
        if answer.status != 200:
            return web.json_response({"status": 1, "status_message": "invalidUrl"})
        return web.json_response({"status": 0, "status_message": "ok",
                                  "event_types": payload.get("event_types", [])})

    async def serve_media(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        self.media_requests.append(name)
        if name not in self.media:
            raise web.HTTPNotFound()
        return web.Response(body=self.media[name], content_type="image/jpeg")


class ViberUser:
    """One Viber user talking to our webhook: `await user.say("/balance")`, `await user.press("Balance")`."""

    def __init__(self, http: aiohttp.ClientSession, webhook_url: str, viber: StandInViber,
                 user_id: str = "01234567890A=", language: str = "en") -> None:
        self.http = http
        self.webhook_url = webhook_url
        self.viber = viber
        self.user_id = user_id
        self.language = language
        self.messages: list[dict] = []
        self.status = 0
        self.keyboard: list[dict] = []  # Viber shows the keyboard of the last message received

    async def post(self, payload: dict, signature: str | None = "sign") -> tuple[int, bytes]:
        body = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json"}
        if signature == "sign":
            headers["X-Viber-Content-Signature"] = sign(body, self.viber.token)
        elif signature is not None:
            headers["X-Viber-Content-Signature"] = signature
        before = len(self.viber.to(self.user_id))
        async with self.http.post(self.webhook_url, data=body, headers=headers) as response:
            self.status = response.status
            answer = await response.read()
        self.messages = self.viber.to(self.user_id)[before:]
        if self.messages:
            self.keyboard = self.messages[-1].get("keyboard", {}).get("Buttons", [])
        return response.status, answer

    def message(self, type_: str, **content) -> dict:
        return callback("message", sender=profile(self.user_id, self.language),
                        message={"type": type_, **content}, silent=False)

    async def say(self, text: str) -> str:
        await self.post(self.message("text", text=text))
        return self.text

    async def press(self, label: str) -> str:
        """Press a button of the last keyboard we were sent, as Viber sends it: its ActionBody as text."""
        buttons = {button["Text"]: button for button in self.keyboard}
        assert label in buttons, f"no button {label!r} in {list(buttons)}"
        await self.post(self.message("text", text=buttons[label]["ActionBody"]))
        return self.text

    async def sends_picture(self, url: str) -> str:
        await self.post(self.message("picture", text="", media=url, thumbnail=url,
                                     file_name="IMG_0042.jpg", size=1234))
        return self.text

    async def opens_conversation(self) -> dict:
        status, body = await self.post(callback(
            "conversation_started", type="open", context="", user=profile(self.user_id, self.language),
            subscribed=False))
        assert status == 200, status
        welcome = json.loads(body) if body else {}
        self.keyboard = welcome.get("keyboard", {}).get("Buttons", [])
        return welcome

    @property
    def text(self) -> str:
        return "\n".join(m.get("text", "") for m in self.messages).replace("\xa0", " ")

    @property
    def buttons(self) -> list[str]:
        return [button["Text"] for button in self.keyboard]

