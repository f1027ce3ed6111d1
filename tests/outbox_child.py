"""An outbox dispatcher in a process of its own, for the kill test (tests/test_faults_kill.py).

    python tests/outbox_child.py DATABASE_URL BOT_API_BASE TOKEN CLOCK_OFFSET_SECONDS LEASE_SECONDS [PLAN_BATCH]

The real Dispatcher and the real Telegram channel, as `kabinet run` wires them, but with a short lease
(the 2-minute default would make the test wait) and a clock moved by the offset (the test plans on a
fixed day), and PLAN_BATCH chats' links expanded from a daily job's plan at a time (default the real 5,000). One
message at a time, so a kill leaves at most one in flight. It starts dispatching when a
line arrives on stdin (so a test can have it imported and ready beforehand); SIGTERM stops it.
"""
from __future__ import annotations

import asyncio
import signal
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from tempfile import mkdtemp
from zoneinfo import ZoneInfo

from core.conversation import Kabinet
from core.i18n import Translator
from core.notifications import PLAN_BATCH
from core.readings import ReadingWindow
from handlers.telegram.channel import TelegramChannel, TelegramConfig
from scheduler.dispatcher import Dispatcher
from storage.database import Database
from storage.photos import FilePhotoArchive
from storage.scheduling import SqlOutbox


async def main(url: str, api_base: str, token: str, offset: float, lease: float, plan_batch: int) -> None:
    database = Database(url)
    kabinet = Kabinet(store=database, photos=FilePhotoArchive(Path(mkdtemp()) / "photos"), translator=Translator("uk"))
    channel = TelegramChannel(TelegramConfig(token, api_base), kabinet)
    dispatcher = Dispatcher(
        SqlOutbox(database), {"telegram": channel}, kabinet.translator, ZoneInfo("Europe/Kyiv"),
        ReadingWindow.parse("always"),
        rates={"telegram": 30.0}, per_chat_interval=0.0, batch=5, concurrency=1, lease=timedelta(seconds=lease),
        clock=lambda: datetime.now(UTC) + timedelta(seconds=offset), plan_batch=plan_batch, plan_ahead=plan_batch,
    )
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    print("dispatching", flush=True)
    try:
        await dispatcher.run(stop, idle=0.2)
    finally:
        await channel.bot.session.close()
        await database.close()


if __name__ == "__main__":
    url, api_base, token, offset, lease = sys.argv[1:6]
    asyncio.run(main(url, api_base, token, float(offset), float(lease), int(sys.argv[6]) if len(sys.argv) > 6 else PLAN_BATCH))
