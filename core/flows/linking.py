"""/link: consent first, then the account and its owner's surname; failed attempts are limited per chat and per
account, and the chats an account was linked to before are told."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from core.accounts import account_candidates, consent_answer, surname_matches
from core.flows.registry import Command, Flow, Step
from core.model import Account
from core.notifications import Kind, linked_from
from core.recent_turns import HIDDEN, hidden

if TYPE_CHECKING:
    from core.conversation import Turn

LINK_ATTEMPT_PERIOD = timedelta(hours=1)
ACCOUNT_LINK_PERIOD = timedelta(hours=24)  # rolling: an account's failures count for a day after each


async def private(turn: Turn) -> bool:
    """Requirement of /link: a private chat."""
    return not link_not_here(turn)


def link_not_here(turn: Turn) -> bool:
    """A group or a channel: its members would see the account, so it is linked only in a private chat."""
    if turn.event.private:
        return False
    turn.go(None)
    turn.say("link-private-only")
    return True


async def cmd_link(turn: Turn, args: str) -> None:
    turn.go(None)
    account, surname = split_link_args(args)
    if turn.chat.consent_at is None:
        turn.go("consent", account=account, surname=surname)
        ask_consent(turn)
        return
    await link_continue(turn, account, surname)


def ask_consent(turn: Turn) -> None:
    turn.say("consent-ask",
             buttons=[[turn.button("consent-yes", "consent:yes"), turn.button("consent-no", "consent:no")]])


def account_words(text: str) -> str:
    """What of a text naming an account is kept among the recent turns: the words with a digit (the number, an
    EIC code); a word without one may be the owner's surname, the secret that proves the link."""
    return " ".join(word if any(ch.isdigit() for ch in word) else HIDDEN for word in text.split())


def split_link_args(args: str) -> tuple[str, str]:
    """`/link 01 000 0012345 Шевченко`: the surname is the last word, the account is what precedes it."""
    words = args.split()
    if not words:
        return "", ""
    if len(words) == 1:
        return words[0], ""
    if any(ch.isalpha() for ch in words[-1]) and not account_candidates(words[-1]):
        return " ".join(words[:-1]), words[-1]
    return " ".join(words), ""


async def step_consent(turn: Turn, text: str | None, action: str | None) -> None:
    if action is None and text:
        # A typed "так"/"ні" answers like the buttons; anything else asks again.
        answer = consent_answer(text)
        action = None if answer is None else "consent:yes" if answer else "consent:no"
    if action == "consent:yes":
        turn.chat.consent_at = turn.app.clock()
        await turn.tx.save_chat(turn.chat)
        data = turn.state.data if turn.state else {}
        turn.say("consent-recorded")
        await link_continue(turn, data.get("account", ""), data.get("surname", ""))
    elif action == "consent:no":
        turn.go(None)
        turn.say("consent-declined")
        turn.with_menu()
    else:
        ask_consent(turn)


async def link_continue(turn: Turn, account: str, surname: str) -> None:
    if link_not_here(turn) or await link_blocked(turn):
        return
    if not account:
        turn.go("link-account")
        turn.say("link-ask-account")
        return
    if not account_candidates(account):
        turn.go("link-account")
        turn.say("link-account-malformed")
        return
    if not surname:
        turn.go("link-surname", account=account)
        turn.say("link-ask-surname")
        return
    await link_try(turn, account, surname)


async def step_link_account(turn: Turn, text: str | None, action: str | None) -> None:
    await link_continue(turn, text or "", "")


async def step_link_surname(turn: Turn, text: str | None, action: str | None) -> None:
    account = turn.state.data.get("account", "") if turn.state else ""
    if not text or len(text) > 100 or not any(ch.isalpha() for ch in text):
        turn.say("link-surname-malformed")
        return
    await link_continue(turn, account, text)


async def link_failures(turn: Turn, since: datetime) -> list[datetime]:
    """The chat's failed attempts, by its id in the messenger: /forget does not reset them."""
    return await turn.tx.failed_link_attempts(turn.chat.channel, turn.chat.external_id, since)


async def link_blocked(turn: Turn) -> bool:
    now = turn.app.clock()
    failures = await link_failures(turn, now - LINK_ATTEMPT_PERIOD)
    if len(failures) < turn.app.link_attempts_per_hour:
        return False
    retry_at = min(failures) + LINK_ATTEMPT_PERIOD
    turn.go(None)
    turn.say("link-too-many", time=retry_at.astimezone(turn.app.timezone).strftime("%H:%M"))
    turn.with_menu()
    return True


async def account_locked(turn: Turn, account: Account, now: datetime) -> bool:
    """Guessed at too often today, from any chats: linked again after a day, or when the operator says."""
    failures = await turn.tx.failed_links_to(account.id, now - ACCOUNT_LINK_PERIOD)
    return failures >= turn.app.link_failures_per_account_per_day


async def link_try(turn: Turn, account_text: str, surname: str) -> None:
    now = turn.app.clock()
    numbered = await turn.tx.find_accounts(account_candidates(account_text))
    found = [account for account in numbered if surname_matches(surname, account.surname)]
    if len(found) == 1 and await account_locked(turn, found[0], now):
        found = []  # refused like a wrong surname: nothing tells that the account exists
    succeeded = len(found) == 1
    # A failure counts against every account the number named, whichever chat tries it.
    await turn.tx.record_link_attempt(turn.chat.channel, turn.chat.external_id,
                                      [account.id for account in (found if succeeded else numbered)], now,
                                      succeeded)
    if not succeeded:
        turn.counted.append(("link_failures", {"channel": turn.chat.channel}))
        failures = await link_failures(turn, now - LINK_ATTEMPT_PERIOD)
        left = max(turn.app.link_attempts_per_hour - len(failures), 0)
        turn.go("link-account")
        turn.say("link-refused", left=left)
        if left == 0:
            await link_blocked(turn)
        return
    account = found[0]
    turn.go(None)
    if await turn.tx.link(turn.chat.id, account.id, now):
        await tell_linked_chats(turn, account, now)
        turn.say("link-done", account=account.number, address=account.address)
    else:
        turn.say("link-already", account=account.number)
    turn.with_menu()


async def tell_linked_chats(turn: Turn, account: Account, now: datetime) -> None:
    """The chats the account was linked to before hear that this one linked it (through the outbox)."""
    others = [chat_id for chat_id in await turn.tx.chats_linked_to(account.id) if chat_id != turn.chat.id]
    if others:
        period = linked_from(turn.chat.channel, now)
        await turn.tx.plan_notices(Kind.ACCOUNT_LINKED,
                                   [(chat_id, account.number, period) for chat_id in others], now)


FLOW = Flow(
    commands=(Command("link", cmd_link, needs=(private,), kept=account_words),),
    steps=(
        Step("consent", step_consent, buttons=("consent",)),
        Step("link-account", step_link_account, kept=account_words),
        Step("link-surname", step_link_surname, kept=hidden),
    ),
)
