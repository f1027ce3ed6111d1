"""Kabinet's Viber channel on its webhook, against the stand-in Viber API (tests/viber_api.py)."""
from __future__ import annotations

import dataclasses
import io

import aiohttp
from aiohttp import web
from PIL import Image

from bot.server import make_web_app, viber_config
from bot.settings import load_settings
from handlers.viber.api import ViberApi
from handlers.viber.channel import ViberChannel
from handlers.viber.render import BUTTON_MARKER
from tests.support.chat import Seen, Transcript, plain
from tests.support.waiting import free_port
from tests.viber_api import TOKEN, StandInViber, ViberUser

USER = "01234567890A="


def meter_jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 32), "white").save(out, "JPEG")
    return out.getvalue()


@dataclasses.dataclass
class Rig:
    viber: StandInViber
    channel: ViberChannel
    http: aiohttp.ClientSession
    base: str

    def user(self, user_id: str = USER, language: str = "en") -> ViberUser:
        return ViberUser(self.http, f"{self.base}/webhook/viber", self.viber, user_id, language)


async def serve(kabinet, database, tmp_path, viber: StandInViber):
    """Kabinet's web app with the Viber channel on a free port; returns the channel, the runner and its URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = load_settings(
        viber_token=TOKEN, viber_api_base=viber.api_base, viber_webhook_url=f"{base}/webhook/viber",
        data_dir=tmp_path / "data",
    )
    channel = ViberChannel(viber_config(settings), kabinet, api=ViberApi(TOKEN, viber.api_base, backoff=0.01))
    app = make_web_app(database, kabinet)
    channel.mount(app)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await channel.start()
    return channel, runner, base


async def link(user: ViberUser) -> None:
    await user.say("/link")
    await user.press("I agree")
    await user.say("010000012345")
    assert "Account 010000012345 is linked" in await user.say("Шевченко")


def seen(message: dict) -> Seen:
    keys = message.get("keyboard", {}).get("Buttons", [])
    return Seen(plain(message.get("text", "")), [key["Text"] for key in keys if key.get("ActionType") == "reply"],
                message.get("file_name") if message.get("type") == "file" else None,
                [(plain(key["Text"]), key["ActionBody"]) for key in keys if key.get("ActionType") == "open-url"])


class ViberDriver(Transcript):
    """A ChatDriver for a Viber user: signed callbacks to the real webhook, answers read from the stand-in
    Viber API. The webhook answers after the turn's messages are sent, so no waiting is needed."""

    channel = "viber"

    def __init__(self, rig: Rig, user_id: str = USER, language: str = "uk") -> None:
        super().__init__()
        self.viber = rig.viber
        self.user = rig.user(user_id, language)
        self.external_id = user_id
        self.sender = rig.channel
        self.pictures = 0

    def received(self) -> list[Seen]:
        return [seen(message) for message in self.viber.to(self.external_id)]

    async def _post(self, payload: dict) -> str:
        status, _ = await self.user.post(payload)
        assert status == 200, f"the webhook answered {status}"
        return self.take_new()

    async def say(self, text: str) -> str:
        return await self._post(self.user.message("text", text=text))

    async def press(self, label: str | None = None, *, action: str | None = None) -> str:
        """Press a button of the keyboard Viber shows (the last message's), or send an action as a button does."""
        if action is None:
            received = self.viber.to(self.external_id)
            # the keyboard of the last message that came, a notice from the outbox too
            keys = (received[-1].get("keyboard", {}).get("Buttons") if received else None) or self.user.keyboard
            shown = {key["Text"]: key["ActionBody"] for key in keys if key.get("ActionType") == "reply"}
            assert label in shown, f"no button {label!r} in {list(shown)}"
            return await self._post(self.user.message("text", text=shown[label]))
        return await self._post(self.user.message("text", text=BUTTON_MARKER + action))

    async def photo(self, content: bytes) -> str:
        self.pictures += 1
        name = f"IMG_{self.pictures:04d}.jpg"
        self.viber.media[name] = content
        url = self.viber.media_url(name)
        return await self._post(self.user.message("picture", text="", media=url, thumbnail=url, file_name=name,
                                                  size=len(content)))

    async def document(self, content: bytes, name: str) -> str:
        self.viber.media[name] = content
        return await self._post(self.user.message("file", media=self.viber.media_url(name), file_name=name,
                                                  size=len(content)))

    async def contact(self, phone: str) -> str:
        return await self._post(self.user.message("contact", contact={"name": "Тарас", "phone_number": phone}))
