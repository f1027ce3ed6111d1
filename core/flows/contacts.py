"""/contacts: how to reach the utility (contacts.csv); the emergency line, also offered where power is out."""
from __future__ import annotations

from typing import TYPE_CHECKING

from core.contacts import contact_line
from core.flows.registry import Command, Flow

if TYPE_CHECKING:
    from core.conversation import Turn


async def cmd_contacts(turn: Turn, args: str) -> None:
    turn.go(None)
    contacts = await turn.tx.contacts()
    if not contacts:
        turn.say("contacts-none")
    else:
        turn.say("contacts-list", contacts="\n".join(contact_line(turn.t, contact) for contact in contacts))
    turn.with_menu()


FLOW = Flow(commands=(Command("contacts", cmd_contacts),))
