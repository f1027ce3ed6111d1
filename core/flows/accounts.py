"""/accounts: the chat's linked accounts, each with a button to unlink it; and what every flow for linked
accounts needs first: the chat's accounts, or a question to link one."""
from __future__ import annotations

from typing import TYPE_CHECKING

from core.flows.registry import Action, Command, Flow
from core.model import Account

if TYPE_CHECKING:
    from core.conversation import Turn


async def linked(turn: Turn) -> bool:
    """Requirement of a command for linked accounts: it starts afresh with them in `turn.accounts`; a chat with
    none is asked to link one."""
    turn.go(None)
    turn.accounts = await linked_or_ask(turn)
    return bool(turn.accounts)


async def linked_or_ask(turn: Turn) -> list[Account]:
    accounts = await turn.tx.linked_accounts(turn.chat.id)
    if not accounts:
        ask_to_link(turn)
    return accounts


def ask_to_link(turn: Turn) -> None:
    turn.say("no-accounts", buttons=[[turn.button("menu-link", "cmd:link")]])


async def cmd_accounts(turn: Turn, args: str) -> None:
    accounts = turn.accounts
    lines = [turn.t("account-line", account=a.number, address=a.address) for a in accounts]
    rows = [[turn.button("details-button", f"details:{a.id}", account=a.number),
             turn.button("account-unlink", f"unlink:{a.id}", account=a.number)] for a in accounts]
    rows.append([turn.button("account-link-another", "cmd:link")])
    turn.say("accounts-list", buttons=rows, accounts="\n".join(lines), count=len(accounts))


async def unlink(turn: Turn, value: str) -> None:
    """`unlink:<account id>`, a button of /accounts."""
    account = None
    if value.isdecimal():
        account = next((a for a in await turn.tx.linked_accounts(turn.chat.id) if a.id == int(value)), None)
    if account is None or not await turn.tx.unlink(turn.chat.id, account.id):
        turn.say("button-stale")
    else:
        turn.go(None)
        turn.say("account-unlinked", account=account.number)
    turn.with_menu()


FLOW = Flow(
    commands=(Command("accounts", cmd_accounts, needs=(linked,)),),
    actions=(Action("unlink", unlink),),
)
