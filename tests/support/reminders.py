"""The outbox's far end in tests: a sender that records, a dispatcher for it, and notices carried to a chat."""
from __future__ import annotations

from pathlib import Path

from core.conversation import Kabinet
from scheduler.dispatcher import Dispatcher
from scheduler.jobs import Planner
from storage.scheduling import SqlOutbox
from tests.support.chat import ChatDriver
from tests.support.console import Talk, linked


class RecordingSender:
    """The messenger's edge: records what would reach each chat; can be told to refuse."""

    def __init__(self, fail=None):
        self.sent: list[tuple[str, str]] = []
        self.fail = fail or (lambda external_id, count: None)

    async def deliver(self, external_id, replies):
        error = self.fail(external_id, len(self.sent))
        if error is not None:
            raise error
        for reply in replies:
            self.sent.append((external_id, reply.text.replace("\xa0", " ")))


def dispatcher_for(database, kabinet: Kabinet, clock, sender, channel: str = "console", **options) -> Dispatcher:
    """The outbox dispatcher with one channel's sender, unpaced, in Kyiv time."""
    return Dispatcher(SqlOutbox(database), {channel: sender}, kabinet.translator, kabinet.timezone, kabinet.window,
                      clock=clock, rates={channel: 1000.0}, per_chat_interval=0.0,
                      **{"payee": kabinet.payee, **options})


async def notices_to(chat: ChatDriver, job: str, kabinet: Kabinet, database, clock) -> int:
    """Plan a reminder job into the outbox and deliver it through the chat's own channel; returns the
    number planned. The chat reads what came with `await chat.arrived()`."""
    planned = (await Planner(SqlOutbox(database), kabinet.window, kabinet.timezone, clock).run(job)).planned
    await dispatcher_for(database, kabinet, clock, chat.sender, chat.channel).run_once()
    return planned


async def two_chats(kabinet: Kabinet, tmp_path: Path) -> tuple[Talk, Talk]:
    """c1 with the demo account; c2 with two others."""
    one = Talk(kabinet, chat_id="c1", files=tmp_path)
    await linked(one)
    two = Talk(kabinet, chat_id="c2", files=tmp_path)
    await linked(two, "1705339110", "Дем'яненко")
    await linked(two, "020000054321", "Бондар")
    return one, two
