"""Which linked account a billing view is for: named in the command, the only one, or chosen by a button; and the
month or year a view of a period is for, as typed."""
from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from core import i18n
from core.accounts import account_candidates
from core.flows.accounts import linked
from core.flows.registry import Action, Command
from core.i18n import LANGUAGES, Translator
from core.model import Account
from core.periods import Period, parse_period

if TYPE_CHECKING:
    from core.conversation import Turn


async def chosen_account(turn: Turn, args: str, kind: str, question: str) -> Account | None:
    """The account a view is for: named in the command, the only one linked, or a question with buttons.
    The command needs linked accounts: they are in `turn.accounts`."""
    accounts = turn.accounts
    if args:
        if (named := named_account(accounts, args)) is not None:
            return named
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



def month_stems(translator: Translator) -> dict[str, int]:
    """The beginnings of the months' names in every language, to the month (locales' `period-month-stems`)."""
    return {stem.casefold(): number for language in LANGUAGES
            for number, stem in enumerate(translator(language, "period-month-stems").split(), start=1)}


def typed_period(turn: Turn, text: str) -> Period | None:
    return parse_period(text, turn.app.today(), month_stems(turn.app.translator))


def period_name(turn: Turn, period: Period) -> str:
    """"березень 2025" or "2025 рік", in the chat's language."""
    if period.month is None:
        return turn.t("period-year", year=str(period.year))
    return turn.app.translator.text(turn.language, i18n.month(period.code))


def named_account(accounts: list[Account], text: str) -> Account | None:
    wanted = set(account_candidates(text))
    return next((a for a in accounts if a.number in wanted or (a.eic and a.eic in wanted)), None)


def account_and_period(turn: Turn, args: str) -> tuple[Account | None, Period | None] | None:
    """What `/command ARGS` names among the chat's linked accounts (`turn.accounts`): an account, a month or year, or
    both (the account first). None when ARGS is neither: the chat is told so."""
    args = args.strip()
    if not args:
        return None, None
    if (account := named_account(turn.accounts, args)) is not None:
        return account, None
    if (period := typed_period(turn, args)) is not None:
        return None, period
    first, _, rest = args.partition(" ")
    account = named_account(turn.accounts, first)
    if account is not None:
        if (period := typed_period(turn, rest)) is not None:
            return account, period
        turn.say("period-bad", text=rest.strip()[:40])
    elif _looks_like_account(args):
        turn.say("billing-account-not-linked", account=args[:40])
    else:
        turn.say("period-bad", text=args[:40])
    return None


def _looks_like_account(text: str) -> bool:
    """An account number (8 digits or more, spaces and dashes aside) or an EIC code, rather than a month or year."""
    return len(re.sub(r"\D", "", text)) >= 8 or any(len(word) == 16 and word.isalnum() for word in text.split())
