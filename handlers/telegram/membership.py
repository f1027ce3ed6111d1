"""The bot blocked or unblocked in a private chat (my_chat_member): the chat becomes (un)reachable."""
from __future__ import annotations

import logging

from aiogram import Router
from aiogram.enums import ChatMemberStatus
from aiogram.types import ChatMemberUpdated

from core.conversation import Kabinet
from handlers.telegram.replies import CHANNEL

log = logging.getLogger(__name__)

GONE = {ChatMemberStatus.KICKED, ChatMemberStatus.LEFT}


async def on_bot_membership(update: ChatMemberUpdated, kabinet: Kabinet) -> None:
    reachable = update.new_chat_member.status not in GONE
    log.info("telegram chat %s: bot is %s", update.chat.id, update.new_chat_member.status)
    await kabinet.set_reachable(CHANNEL, str(update.chat.id), reachable)


def make_router() -> Router:
    """A fresh router (an aiogram router joins one dispatcher only); catch-all last."""
    router = Router(name=__name__)
    router.my_chat_member.register(on_bot_membership)
    return router
