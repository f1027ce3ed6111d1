"""/contacts: how to reach the utility (contacts.csv); the emergency line, also offered where power is out."""
from __future__ import annotations

from core.contacts import contact_line
from core.conversation import Turn, register


@register.command("contacts")
async def cmd_contacts(turn: Turn, args: str) -> None:
    turn.go(None)
    contacts = await turn.tx.contacts()
    if not contacts:
        turn.say("contacts-none")
    else:
        turn.say("contacts-list", contacts="\n".join(contact_line(turn.t, contact) for contact in contacts))
    turn.with_menu()
