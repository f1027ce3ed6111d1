"""A consumer's photo fetched with getFile, refused before downloading when Telegram would not serve it."""
from __future__ import annotations

import asyncio

import aiohttp
from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest

from handlers.channel import MEGABYTE, PhotoTooLarge

# Bots may download files of up to 20 MB with getFile (https://core.telegram.org/bots/api#getfile).
MAX_DOWNLOAD = 20 * MEGABYTE


class PhotoUnavailable(Exception):
    """Telegram did not give us the file. The message names the step, the error's type and status only:
    the download URL holds the bot token, so neither it nor an error that quotes it is kept."""


async def fetch_photo(bot: Bot, file_id: str, declared_size: int | None) -> bytes:
    """The file's content; PhotoTooLarge over the download limit, PhotoUnavailable when Telegram does not serve it."""
    if declared_size is not None and declared_size > MAX_DOWNLOAD:
        raise PhotoTooLarge(MAX_DOWNLOAD)
    try:
        file = await bot.get_file(file_id)
    except TelegramAPIError as exc:
        if isinstance(exc, TelegramBadRequest) and "too big" in exc.message.lower():
            raise PhotoTooLarge(MAX_DOWNLOAD) from None
        raise PhotoUnavailable(f"getFile: {type(exc).__name__}: {exc.message}") from None
    if (file.file_size or 0) > MAX_DOWNLOAD:
        raise PhotoTooLarge(MAX_DOWNLOAD)
    if file.file_path is None:
        raise PhotoUnavailable("getFile: no file_path in the answer")
    try:
        content = await bot.download_file(file.file_path)
    except aiohttp.ClientResponseError as exc:
        raise PhotoUnavailable(f"GET file: {type(exc).__name__}: HTTP {exc.status}") from None
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        raise PhotoUnavailable(f"GET file: {type(exc).__name__}") from None
    if content is None:  # aiogram returns None only when given a destination to write to
        raise PhotoUnavailable("GET file: nothing read")
    return content.read()
