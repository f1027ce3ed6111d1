"""Which linked account a billing view is for: named in the command, the only one, or chosen by a button."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from core.accounts import account_candidates
from core.flows.accounts import linked
from core.flows.registry import Action, Command
from core.model import Account

if TYPE_CHECKING:
    from core.conversation import Turn


async def chosen_account(turn: Turn, args: str, kind: str, question: str) -> Account | None:
    """The account a view is for: named in the command, the only one linked, or a question with buttons.
    The command needs linked accounts: they are in `turn.accounts`."""
    accounts = turn.accounts
    if args:
        wanted = set(account_candidates(args))
        for account in accounts:
            if account.number in wanted or (account.eic and account.eic in wanted):
                return account
        turn.say("billing-account-not-linked", account=args[:40])
    elif len(accounts) == 1:
        return accounts[0]
    rows = [
        [turn.button("billing-account-button", f"{kind}:{account.id}", account=account.number, address=account.address)]
        for account in accounts
    ]
    turn.say(question, buttons=rows)
    return None


async def account_of_chat(turn: Turn, account_id: str) -> Account | None:
    """A linked account by the id a button carries; None (said: stale button) when it is not linked."""
    for account in await turn.tx.linked_accounts(turn.chat.id):
        if account_id.isdecimal() and account.id == int(account_id):
            return account
    turn.say("button-stale")
    turn.with_menu()
    return None


def account_view(command: str, kind: str, question: str,
                 show: Callable[[Turn, Account], Awaitable[None]]) -> tuple[Command, Action]:
    """`/command [ACCOUNT]` and its account buttons `kind:<account id>`, for a view of one account."""

    async def on_command(turn: Turn, args: str) -> None:
        account = await chosen_account(turn, args, kind, question)
        if account is not None:
            await show(turn, account)

    async def on_button(turn: Turn, value: str) -> None:
        turn.go(None)
        account = await account_of_chat(turn, value)
        if account is not None:
            await show(turn, account)

    return Command(command, on_command, needs=(linked,)), Action(kind, on_button)

