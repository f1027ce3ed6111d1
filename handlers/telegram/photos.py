"""A consumer's photo fetched with getFile, refused before downloading when Telegram would not serve it."""
from __future__ import annotations

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest

# Bots may download files of up to 20 MB with getFile (https://core.telegram.org/bots/api#getfile).
MAX_DOWNLOAD_MB = 20
MAX_DOWNLOAD = MAX_DOWNLOAD_MB * 1024 * 1024


class PhotoTooLarge(Exception):
    """The file is over the Bot API's download limit."""


async def fetch_photo(bot: Bot, file_id: str, declared_size: int | None) -> bytes:
    if declared_size is not None and declared_size > MAX_DOWNLOAD:
        raise PhotoTooLarge(file_id)
    try:
        file = await bot.get_file(file_id)
    except TelegramBadRequest as exc:
        if "too big" in exc.message.lower():
            raise PhotoTooLarge(file_id) from exc
        raise
    if (file.file_size or 0) > MAX_DOWNLOAD:
        raise PhotoTooLarge(file_id)
    if file.file_path is None:
        raise LookupError(f"getFile gave no file_path for {file_id}")
    content = await bot.download_file(file.file_path)
    return content.read()
