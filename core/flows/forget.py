"""/forget: erase the chat's data (links, state, settings, files the channels keep), after a yes."""
from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from core.flows.registry import Command, Flow, Step

if TYPE_CHECKING:
    from core.conversation import Turn


async def cmd_forget(turn: Turn, args: str) -> None:
    turn.go("forget")
    turn.say("forget-ask", buttons=[[turn.button("forget-yes", "forget:yes"), turn.button("forget-no", "forget:no")]])


async def step_forget(turn: Turn, text: str | None, action: str | None) -> None:
    if action == "forget:yes":
        await turn.tx.forget_chat_email(turn.chat.id)
        await turn.tx.forget_chat(turn.chat.id)
        # Before the commit: should it fail, the files are gone and the chat is not, which is harmless.
        for files in turn.app.chat_files:
            await asyncio.to_thread(files.forget, turn.chat.channel, turn.chat.external_id)
        turn.forgotten = True
        turn.say("forget-done")
    else:
        turn.go(None)
        turn.say("cancelled")
        turn.with_menu()


FLOW = Flow(
    commands=(Command("forget", cmd_forget),),
    steps=(Step("forget", step_forget, buttons=("forget",)),),
)
