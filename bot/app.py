"""Wiring: settings → database, photo archive and the core, shared by every channel."""
from __future__ import annotations

import asyncio
import logging

from bot.settings import Settings
from core.conversation import Kabinet
from core.i18n import Translator
from scheduler.chat_limit import LocalChatLimit, RedisChatLimit
from storage.database import Database
from storage.migrate import upgrade
from storage.photos import FilePhotoArchive

log = logging.getLogger(__name__)


def load_reader(engine: str = "lines"):
    """The meter-photo reader, when the recognition engine is installed."""
    try:
        from core.recognition import default_reader
    except ImportError:
        return None
    try:
        return default_reader(engine)
    except Exception:  # a broken recognition install must not stop the bot; photos are then only kept
        log.warning("meter photo recognition is unavailable", exc_info=True)
        return None


async def open_database(settings: Settings) -> Database:
    """The database, migrated to the newest schema."""
    await asyncio.to_thread(upgrade, settings.database_url)
    return Database(settings.database_url, pool_size=settings.database_pool, fast_path=settings.database_fast_path)


def chat_limit(settings: Settings) -> LocalChatLimit | RedisChatLimit:
    """Each chat's update limit: shared through Redis when there is one, else this process's own."""
    if settings.redis_url:
        return RedisChatLimit(settings.redis_url, settings.chat_updates_per_minute)
    return LocalChatLimit(settings.chat_updates_per_minute)


def build_kabinet(settings: Settings, database: Database, **overrides) -> Kabinet:
    options = dict(
        store=database,
        photos=FilePhotoArchive(settings.photo_dir),
        translator=Translator(settings.default_language),
        window=settings.window,
        timezone=settings.zone,
        reader=overrides.pop("reader") if "reader" in overrides else load_reader(settings.recognizer),
        link_attempts_per_hour=settings.link_attempts_per_hour,
        link_failures_per_account_per_day=settings.link_failures_per_account_per_day,
        payee=settings.payee,
        services=settings.service_codes,
        chat_limit=chat_limit(settings),
    )
    options.update(overrides)
    return Kabinet(**options)
