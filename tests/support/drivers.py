"""A consumer's chat in any channel, opened the same way: `async with open_chat("viber", ...) as chat`."""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import AsyncIterator

import aiohttp

from core.conversation import Kabinet
from tests.support.chat import ChatDriver
from tests.support.console import ConsoleDriver
from tests.support.telegram import TelegramDriver, Webhook
from tests.support.viber import USER, Rig, ViberDriver, serve
from tests.telegram_api import BotAPI, TelegramUser
from tests.viber_api import StandInViber

CHANNELS = ("console", "telegram", "viber")


@contextlib.asynccontextmanager
async def open_chat(channel: str, kabinet: Kabinet, database, tmp_path: Path,
                    language: str = "uk") -> AsyncIterator[ChatDriver]:
    """The channel up (a webhook on 127.0.0.1 with its stand-in messenger), and one consumer's chat in it."""
    if channel == "console":
        yield ConsoleDriver(kabinet, tmp_path / "console", language=language)
    elif channel == "telegram":
        api = await BotAPI().start()
        try:
            async with Webhook(api, kabinet, database) as hook:
                yield TelegramDriver(hook, TelegramUser(language_code=language))
        finally:
            await api.close()
    elif channel == "viber":
        viber = await StandInViber().start()
        bot, runner, base = await serve(kabinet, database, tmp_path, viber)
        try:
            async with aiohttp.ClientSession() as http:
                yield ViberDriver(Rig(viber, bot, http, base), USER, language)
        finally:
            await bot.stop()
            await runner.cleanup()
            await viber.stop()
    else:
        raise ValueError(f"unknown channel {channel}")


async def link_demo_account(chat: ChatDriver, account: str = "010000012345", surname: str = "Шевченко") -> None:
    """A demo account linked the way a newcomer does it in Ukrainian: /start, the button, consent, number, surname."""
    await chat.say("/start")
    await chat.press("Підключити особовий рахунок")
    await chat.press("Погоджуюсь")
    await chat.say(account)
    assert "підключено" in await chat.say(surname)
