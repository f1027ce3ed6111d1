"""What the fault and fuzz tests share: a slow Bot API stand-in, many linked Telegram chats, a database snapshot."""
from __future__ import annotations

import asyncio
from datetime import datetime

from sqlalchemy import delete, select

from core.conversation import Kabinet
from core.messages import Incoming
from core.notifications import Kind
from storage.models import Base, OutboxRow
from tests.support.demo import KYIV
from tests.telegram_api import BotAPI, Call

FIRST_CHAT = 7_770_000


class SlowBotAPI(BotAPI):
    """The stand-in Bot API, which can also take its time over sendMessage (past the bot's timeout)."""

    def __init__(self) -> None:
        super().__init__()
        self.delays: list[float] = []  # the next sendMessage calls wait this long each, then succeed
        self.pause = 0.0  # every sendMessage waits this long (a slow network), so a kill lands mid-batch
        self.waiting = 0  # sendMessage calls still waiting

    async def api_sendMessage(self, call: Call) -> dict:
        wait = self.delays.pop(0) if self.delays else self.pause
        if wait:
            self.waiting += 1
            try:
                await asyncio.sleep(wait)
            finally:
                self.waiting -= 1
        return await super().api_sendMessage(call)

    def delivered(self) -> list[int]:
        """The chat of every message delivered, in order, repeats included."""
        return [call.chat_id for call in self.calls_to("sendMessage") if call.result is not None]


async def link_telegram_chats(kabinet: Kabinet, count: int, account: str = "010000012345",
                              surname: str = "Шевченко") -> list[int]:
    """`count` Telegram chats that consented and linked the account, as consumers do it."""
    chats = [FIRST_CHAT + number for number in range(count)]
    for chat in chats:
        replies = await kabinet.handle(Incoming.typed("telegram", str(chat), f"/link {account} {surname}", "en"))
        if replies and any(b.action == "consent:yes" for r in replies for b in r.all_buttons()):
            replies = await kabinet.handle(Incoming.pressed("telegram", str(chat), "consent:yes", "en"))
        assert any("is linked" in reply.text for reply in replies), [r.text for r in replies]
    # Each link tells the chats linked before it (issue 16.1): those notices are the set-up's, not what the
    # fault tests send and count.
    async with kabinet.store.session() as session:
        await session.execute(delete(OutboxRow).where(OutboxRow.kind == Kind.ACCOUNT_LINKED.value))
    return chats


def debt_day() -> datetime:
    """A day the demo account's debt is news (after the 20.11.2026 due date), at noon: no quiet hours."""
    return datetime(2026, 11, 21, 12, 0, tzinfo=KYIV)


async def snapshot(database) -> dict[str, list[tuple]]:
    """Every row of every table: what "changes nothing" is checked against."""
    async with database.session() as session:
        return {
            table.name: [tuple(row) for row in await session.execute(select(table).order_by(*table.primary_key))]
            for table in Base.metadata.sorted_tables
        }
