"""/appeal: write to the call centre (a type, the account, a text) and read my appeals with their answers.

A chat with no account linked may send only the technical-support appeal ("the bot does not work as expected"):
the person whose linking fails needs it most. It concerns no account, so it is limited to a few a day per chat.
"""
from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from core.contacts import emergency_line
from core.flows.registry import Action, Command, Flow, Step
from core.flows.services import account_chosen, chosen_account, note_account, state_data, typed_choice, when
from core.recent_turns import KEPT_FOR
from core.services import APPEAL_KINDS, APPEAL_TEXT_LIMIT, SUPPORT_APPEAL

if TYPE_CHECKING:
    from core.conversation import Turn
    from core.messages import Button
    from core.model import Account, RecentTurn

APPEALS_SHOWN = 10
NO_POWER = "no-power"
UNLINKED_KINDS = (SUPPORT_APPEAL,)  # what a chat with no account linked may send
UNLINKED_APPEALS_PER_DAY = 3
UNLINKED_PERIOD = timedelta(hours=24)  # rolling: each appeal counts for a day after it was sent


def kind_rows(turn: Turn, kinds: tuple[str, ...] = APPEAL_KINDS) -> list[list[Button]]:
    rows = [[turn.button(f"appeal-kind-{kind}", f"appealkind:{kind}")] for kind in kinds]
    rows.append([turn.button("appeals-button", "appeals:")])
    return rows


def ask_kind(turn: Turn, accounts: list[Account], data: dict[str, Any]) -> None:
    turn.go("appeal-kind", **data)
    if accounts:
        turn.say("appeal-choose-kind", buttons=kind_rows(turn))
    else:
        turn.say("appeal-unlinked", kind=turn.t(f"appeal-kind-{SUPPORT_APPEAL}"),
                 buttons=kind_rows(turn, UNLINKED_KINDS) + [[turn.button("menu-link", "cmd:link")]])


async def cmd_appeal(turn: Turn, args: str) -> None:
    """`/appeal TEXT` skips the text question; the type (and the account, if several) is still asked."""
    turn.go(None)
    data: dict[str, Any] = {}
    if args and not refused_text(turn, args):
        data["text"] = args
    elif args:
        return
    await appeal_next(turn, data)


async def appeal_next(turn: Turn, data: dict[str, Any]) -> None:
    accounts = await turn.tx.linked_accounts(turn.chat.id)
    if not accounts and not turn.event.private:
        turn.go(None)
        turn.say("appeal-private-only")  # a group's turns are other people's words too
        return
    if data.get("kind") not in (APPEAL_KINDS if accounts else UNLINKED_KINDS):
        data.pop("kind", None)
        ask_kind(turn, accounts, data)
        return
    if not accounts and await unlinked_limit_reached(turn):
        return
    if accounts and not account_chosen(turn, accounts, data, step="appeal-account", action="appealacct",
                                       key="appeal-ask-account"):
        return
    if "text" not in data:
        turn.go("appeal-text", **data)
        asked = turn.say("appeal-ask-text", kind=turn.t(f"appeal-kind-{data['kind']}"), limit=APPEAL_TEXT_LIMIT)
        if data["kind"] == SUPPORT_APPEAL and turn.app.kept_turns:
            asked.text += "\n" + turn.t("appeal-turns-note", days=KEPT_FOR.days)  # what goes with it, said before
        elif data["kind"] == NO_POWER and (emergency := emergency_line(turn.t, await turn.tx.contacts())):
            asked.text += "\n" + emergency  # before the consumer writes: a danger is the line's, not an appeal's
        return
    account = None
    if accounts or "account_id" in data:  # an account chosen, then unlinked, is a stale choice
        account = chosen_account(turn, accounts, data)
        if account is None:
            return
    now = turn.app.clock()
    turns: tuple[RecentTurn, ...] = ()
    if data["kind"] == SUPPORT_APPEAL and turn.app.kept_turns:
        turns = tuple(await turn.tx.recent_turns(turn.chat.id, now - KEPT_FOR, turn.app.kept_turns))
    appeal = await turn.tx.add_appeal(account.id if account else None, turn.chat.id, data["kind"], data["text"],
                                      now, turns)
    turn.go(None)
    kind, status = turn.t(f"appeal-kind-{appeal.kind}"), turn.t(f"appeal-status-{appeal.status}")
    if account is None:
        sent = turn.say("appeal-sent-unlinked", number=str(appeal.id), kind=kind, status=status)
    else:
        sent = turn.say("appeal-sent", number=str(appeal.id), account=account.number, kind=kind, status=status)
    if turns:
        sent.text += "\n" + turn.t("appeal-turns-attached", count=len(turns))
    if appeal.kind == NO_POWER and (emergency := emergency_line(turn.t, await turn.tx.contacts())):
        turn.replies[-1].text += "\n" + emergency  # no power may be an emergency: the line answers at once
    turn.with_menu()


async def unlinked_limit_reached(turn: Turn) -> bool:
    """A chat with no account linked has sent its appeals for the day: says when it may send the next one."""
    sent = await turn.tx.appeals_without_account(turn.chat.id, turn.app.clock() - UNLINKED_PERIOD)
    if len(sent) < UNLINKED_APPEALS_PER_DAY:
        return False
    turn.go(None)
    turn.say("appeal-unlinked-too-many", limit=UNLINKED_APPEALS_PER_DAY,
             time=when(turn, sent[-UNLINKED_APPEALS_PER_DAY] + UNLINKED_PERIOD))
    turn.with_menu()
    return True


def refused_text(turn: Turn, text: str) -> bool:
    """Says why a text cannot be an appeal: nothing but spaces or symbols, or longer than the limit."""
    if not any(ch.isalnum() for ch in text):
        turn.say("appeal-text-empty")
        return True
    if len(text) > APPEAL_TEXT_LIMIT:
        turn.say("appeal-text-too-long", limit=APPEAL_TEXT_LIMIT, length=len(text))
        return True
    return False


async def step_appeal_kind(turn: Turn, text: str | None, action: str | None) -> None:
    data = state_data(turn)
    offered = APPEAL_KINDS if await turn.tx.linked_accounts(turn.chat.id) else UNLINKED_KINDS
    data["kind"] = action.partition(":")[2] if action else typed_choice(turn, text or "", offered, "appeal-kind-")
    await appeal_next(turn, data)


async def step_appeal_account(turn: Turn, text: str | None, action: str | None) -> None:
    await appeal_next(turn, await note_account(turn, action, state_data(turn)))


async def step_appeal_text(turn: Turn, text: str | None, action: str | None) -> None:
    if text is None or refused_text(turn, text):
        return
    data = state_data(turn)
    data["text"] = text
    await appeal_next(turn, data)


async def list_appeals(turn: Turn, value: str) -> None:
    """`appeals:`: the linked accounts' appeals and those the chat sent with no account linked."""
    accounts = await turn.tx.linked_accounts(turn.chat.id)
    appeals = await turn.tx.appeals([a.id for a in accounts], turn.chat.id, limit=APPEALS_SHOWN)
    if not appeals:
        turn.say("appeals-none", buttons=[[turn.button("appeal-write", "cmd:appeal")]])
        return
    blocks = []
    for appeal in appeals:
        block = turn.t("appeals-item", number=str(appeal.id), on=when(turn, appeal.created_at),
                       kind=turn.t(f"appeal-kind-{appeal.kind}"), status=turn.t(f"appeal-status-{appeal.status}"),
                       text=appeal.text)
        if appeal.answer:
            block += "\n" + turn.t("appeals-answer", answer=appeal.answer)
        blocks.append(block)
    turn.say("appeals-list", appeals="\n\n".join(blocks), buttons=[[turn.button("appeal-write", "cmd:appeal")]])


FLOW = Flow(
    commands=(Command("appeal", cmd_appeal),),
    steps=(
        Step("appeal-kind", step_appeal_kind, buttons=("appealkind",)),
        Step("appeal-account", step_appeal_account, buttons=("appealacct",)),
        Step("appeal-text", step_appeal_text),
    ),
    actions=(Action("appeals", list_appeals),),
)
