"""E-mail in /settings (issue 19.3): an address, confirmed by a 6-digit code mailed to it, then per linked
account whether a paper invoice still comes by post, and which kinds of notices also go there (core/mailing.py
mails them). Offered only when the Kabinet has a mailer.

The code is mailed after the turn commits (Turn.after_commit), straight through the mailer and not the outbox,
so the plain code is never written anywhere; a failed send closes the code and says so.
"""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from core import i18n
from core.email_address import (
    CODE_LIFETIME,
    CODE_TRIES,
    EMAIL_NOTICES,
    AddressRefused,
    Verdict,
    check_code,
    code_digest,
    code_limit,
    new_code,
    normalise_address,
    shown_address,
)
from core.flows.registry import Action, Flow, Step
from core.messages import Button, Email, Reply
from core.model import ConversationState
from core.notifications import DeliveryError, MailboxRefused
from core.recent_turns import hidden

if TYPE_CHECKING:
    from core.conversation import Turn

log = logging.getLogger(__name__)

ADDRESS_STEP = "email-address"
CODE_STEP = "email-code"
PAPER_STEP = "email-paper"


async def settings_button(turn: Turn) -> list[Button]:
    """/settings' row for e-mail: the address or "not set"; none when e-mail is not configured."""
    if turn.app.mailer is None:
        return []
    current = await turn.tx.chat_email(turn.chat.id)
    shown = shown_address(current.address) if current else turn.t("email-settings-none")
    refused = current is not None and current.refused_at is not None
    return [turn.button("email-settings-refused" if refused else "email-settings-button", "email:menu", address=shown)]


async def email_button(turn: Turn, value: str) -> None:
    """`email:menu|change|remove|again`."""
    if turn.app.mailer is None:
        turn.say("button-stale")
        turn.with_menu()
        return
    if value == "menu":
        current = await turn.tx.chat_email(turn.chat.id)
        if current is not None:
            turn.go(None)
            change = [[turn.button("email-change-button", "email:change")],
                      [turn.button("email-remove-button", "email:remove")]]
            if current.refused_at is not None:  # its server refused it for good: nothing to choose until it changes
                turn.say("email-refused-menu", address=shown_address(current.address), buttons=change)
                return
            turn.say("email-settings-button", address=shown_address(current.address),
                     buttons=[[turn.button("email-notices-button", "email:notices")], *change])
            return
        ask_address(turn)
    elif value == "notices":
        await show_notices(turn)
    elif value == "change":
        ask_address(turn)
    elif value == "remove":
        turn.go(None)
        removed = await turn.tx.remove_email(turn.chat.id)
        if removed is None:
            turn.say("button-stale")
        else:
            turn.say("email-removed", address=shown_address(removed))
        turn.with_menu()
    elif value == "again" and turn.state is not None and turn.state.step == CODE_STEP:
        await send_code(turn, str(turn.state.data["address"]))
    else:
        turn.say("button-stale")
        turn.with_menu()


async def show_notices(turn: Turn, *said: str) -> None:
    """Which kinds of notices also go to the confirmed address, one switch each; only while there is one."""
    turn.go(None)
    current = await turn.tx.chat_email(turn.chat.id)
    if current is None:
        turn.say("button-stale")
        turn.with_menu()
        return
    rows = [[turn.button("email-notice-switch", f"mailnotice:{name}", on="yes" if name in current.notices else "no",
                         name=turn.t(f"email-notice-{name}"))] for name in EMAIL_NOTICES]
    text = turn.t("email-notices-ask", address=shown_address(current.address))
    turn.replies.append(Reply("\n".join([*said, text]), rows))


async def toggle_notice(turn: Turn, name: str) -> None:
    """`mailnotice:<kind>`: that kind of notice goes by e-mail too, or no longer."""
    current = await turn.tx.chat_email(turn.chat.id) if turn.app.mailer is not None else None
    if current is None or name not in EMAIL_NOTICES:
        turn.go(None)
        turn.say("button-stale")
        turn.with_menu()
        return
    notices = current.notices ^ {name}
    await turn.tx.set_email_notices(turn.chat.id, notices)
    await show_notices(turn, turn.t("email-notice-on" if name in notices else "email-notice-off",
                                    name=turn.t(f"email-notice-{name}")))


def ask_address(turn: Turn) -> None:
    turn.go(ADDRESS_STEP)
    turn.say("email-ask")


async def step_address(turn: Turn, text: str | None, action: str | None) -> None:
    try:
        address = normalise_address(text or "")
    except AddressRefused as refused:
        turn.say(refused.reason)
        return
    await send_code(turn, address)


def again_button(turn: Turn) -> list[list[Button]]:
    return [[turn.button("email-code-again-button", "email:again")]]


async def send_code(turn: Turn, address: str) -> None:
    """A new code for `address`, within the limits, stored hashed now and mailed once the turn is committed."""
    now = turn.app.clock()
    channel, external_id = turn.chat.channel, turn.chat.external_id
    limit = code_limit(await turn.tx.email_codes_sent_by(channel, external_id, now - timedelta(hours=1)),
                       await turn.tx.email_codes_sent_to(address, now - timedelta(days=1)), now)
    if limit is not None:
        again_at = limit.again_at.astimezone(turn.app.timezone)
        at = again_at.strftime("%H:%M") if again_at.date() == turn.app.today() else \
            f"{i18n.day(again_at)} {again_at:%H:%M}"
        turn.go(None)
        turn.say(limit.reason, at=at)
        turn.with_menu()
        return
    code = new_code()
    await turn.tx.save_email_code(channel, external_id, address, code_digest(code), now)
    turn.go(CODE_STEP, address=address)
    minutes = int(CODE_LIFETIME.total_seconds() // 60)
    sent = turn.say("email-code-sent", buttons=again_button(turn), address=shown_address(address), minutes=minutes)
    email = Email(address, turn.t("email-code-subject"),
                  turn.t("email-code-body", code=code, minutes=minutes) + "\n\n" + turn.t("email-footer"))
    turn.after_commit.append(lambda: mail_code(turn, email, sent))


async def mail_code(turn: Turn, email: Email, sent: Reply) -> None:
    """After the commit: the code goes out; if it cannot, the code is closed and the consumer told instead."""
    assert turn.app.mailer is not None
    address = shown_address(email.to)
    try:
        await turn.app.mailer.send(email)
        return
    except MailboxRefused:  # no such mailbox: most likely a typo, so the address is asked again
        failed, state = Reply(turn.t("email-refused", address=address)), ConversationState(ADDRESS_STEP, {})
    except DeliveryError as exc:
        log.warning("the confirmation code for %s chat %s was not mailed: %s", turn.chat.channel,
                    turn.chat.external_id, exc)
        failed, state = Reply(turn.t("email-send-failed", address=address), turn.menu()), None
    async with turn.app.store.transaction() as tx:
        await tx.close_email_code(turn.chat.channel, turn.chat.external_id, turn.app.clock())
        await tx.save_state(turn.chat.id, state)
    turn.replies[turn.replies.index(sent)] = failed


async def step_code(turn: Turn, text: str | None, action: str | None) -> None:
    channel, external_id = turn.chat.channel, turn.chat.external_id
    pending = await turn.tx.pending_email_code(channel, external_id)
    if pending is None:
        turn.say("email-code-expired", buttons=again_button(turn))
        return
    now = turn.app.clock()
    check = check_code(pending, text or "", now)
    if check.verdict in (Verdict.WRONG, Verdict.SPENT):
        await turn.tx.spend_email_code_tries(channel, external_id, CODE_TRIES - check.tries_left)
    if check.verdict is Verdict.WRONG:
        turn.say("email-code-wrong", buttons=again_button(turn), tries=check.tries_left)
    elif check.verdict is Verdict.SPENT:
        turn.say("email-code-spent", buttons=again_button(turn))
    elif check.verdict is Verdict.EXPIRED:
        turn.say("email-code-expired", buttons=again_button(turn))
    elif check.verdict is Verdict.NOT_A_CODE:
        turn.say("email-code-not-a-code", buttons=again_button(turn))
    else:
        await turn.tx.close_email_code(channel, external_id, now)
        confirmed = await turn.tx.confirm_email(turn.chat.id, pending.address, now)
        turn.say("email-confirmed", address=shown_address(confirmed.address))
        accounts = await turn.tx.linked_accounts(turn.chat.id)
        await ask_paper(turn, [[account.id, account.number] for account in accounts])


async def ask_paper(turn: Turn, accounts: list[list[object]]) -> None:
    """Paper invoice yes/no for the first of `accounts` ([id, number] each); the rest are asked next."""
    if not accounts:
        turn.go(None)
        turn.with_menu()
        return
    turn.go(PAPER_STEP, accounts=accounts)
    number = accounts[0][1]
    turn.say("email-paper-ask", account=number, buttons=[
        [turn.button("email-paper-yes", "paper:yes"), turn.button("email-paper-no", "paper:no")]])


async def step_paper(turn: Turn, text: str | None, action: str | None) -> None:
    assert turn.state is not None
    accounts = list(turn.state.data.get("accounts", []))
    if action not in ("paper:yes", "paper:no") or not accounts:
        await ask_paper(turn, accounts)
        return
    account_id, number = accounts[0]
    paper = action == "paper:yes"
    if account_id in {account.id for account in await turn.tx.linked_accounts(turn.chat.id)}:
        await turn.tx.choose_paper_invoice(account_id, paper, turn.chat.id, turn.app.clock())
        turn.say("email-paper-recorded-yes" if paper else "email-paper-recorded-no", account=number)
    await ask_paper(turn, accounts[1:])


FLOW = Flow(
    steps=(Step(ADDRESS_STEP, step_address), Step(CODE_STEP, step_code, kept=hidden),
           Step(PAPER_STEP, step_paper, buttons=("paper",))),
    actions=(Action("email", email_button), Action("mailnotice", toggle_notice)),
)
