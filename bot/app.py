"""Wiring: settings → database, photo archive and the core, shared by every channel."""
from __future__ import annotations

import functools
import logging

from bot.settings import Settings
from core.conversation import Kabinet
from core.i18n import Translator
from core.recognition.pool import RecognitionPool, line_reader
from handlers.email import EmailSender
from scheduler.chat_limit import LocalChatLimit, RedisChatLimit
from storage.database import Database
from storage.migrate import upgrade_if_behind
from storage.photos import FilePhotoArchive

log = logging.getLogger(__name__)


def recognition_pool(settings: Settings, workers: int | None = None) -> RecognitionPool:
    """The worker processes that read meter photos (`workers`: the setting's unless given), not started yet:
    `async with` it for the app's lifetime and hand it to build_kabinet as the reader."""
    workers = settings.recognition_workers if workers is None else workers
    return RecognitionPool(workers, settings.recognition_queue,
                           make_reader=functools.partial(line_reader, settings.recognizer),
                           worker_photos=settings.recognition_worker_photos, worker_mb=settings.recognition_worker_mb)


async def open_database(settings: Settings) -> Database:
    """The database, migrated to the newest schema."""
    await upgrade_if_behind(settings.database_url)
    return Database(settings.database_url, pool_size=settings.database_pool, fast_path=settings.database_fast_path)


def chat_limit(settings: Settings) -> LocalChatLimit | RedisChatLimit:
    """Each chat's update limit (its `photos` limit beside it): shared through Redis when there is one, else this
    process's own."""
    if settings.redis_url:
        return RedisChatLimit(settings.redis_url, settings.chat_updates_per_minute)
    return LocalChatLimit(settings.chat_updates_per_minute)


def email_sender(settings: Settings) -> EmailSender | None:
    """The SMTP client e-mail goes through (closed with the app), or None: no e-mail is configured nor offered."""
    return EmailSender(settings.smtp) if settings.smtp is not None else None


def build_kabinet(settings: Settings, database: Database, **overrides) -> Kabinet:
    """The core; its mailer is `email_sender(settings)` unless given (whoever builds one closes it)."""
    updates = chat_limit(settings)
    options = dict(
        store=database,
        photos=FilePhotoArchive(settings.photo_dir),
        translator=Translator(settings.default_language),
        window=settings.window,
        timezone=settings.zone,
        link_attempts_per_hour=settings.link_attempts_per_hour,
        link_failures_per_account_per_day=settings.link_failures_per_account_per_day,
        payee=settings.payee,
        services=settings.service_codes,
        chat_limit=updates,
        photo_limit=updates.photos(settings.chat_photos_per_minute),
        photo_quota=round(settings.photo_quota_mb * 1024 * 1024) or None,
    )
    if "mailer" not in overrides:
        options["mailer"] = email_sender(settings)
    options.update(overrides)
    return Kabinet(**options)
