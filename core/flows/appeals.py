"""/appeal: write to the call centre (a type, the account, a text) and read my appeals with their answers."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.contacts import emergency_line
from core.flows.accounts import linked, linked_or_ask
from core.flows.registry import Action, Command, Flow, Step
from core.flows.services import account_chosen, chosen_account, note_account, state_data, typed_choice, when
from core.recent_turns import KEPT_FOR
from core.services import APPEAL_KINDS, APPEAL_TEXT_LIMIT, SUPPORT_APPEAL

if TYPE_CHECKING:
    from core.conversation import Turn
    from core.messages import Button
    from core.model import RecentTurn

APPEALS_SHOWN = 10
NO_POWER = "no-power"


def kind_rows(turn: Turn) -> list[list[Button]]:
    rows = [[turn.button(f"appeal-kind-{kind}", f"appealkind:{kind}")] for kind in APPEAL_KINDS]
    rows.append([turn.button("appeals-button", "appeals:")])
    return rows


async def cmd_appeal(turn: Turn, args: str) -> None:
    """`/appeal TEXT` skips the text question; the type (and the account, if several) is still asked."""
    data: dict[str, Any] = {}
    if args and not refused_text(turn, args):
        data["text"] = args
    elif args:
        return
    await appeal_next(turn, data)


async def appeal_next(turn: Turn, data: dict[str, Any]) -> None:
    accounts = await linked_or_ask(turn)
    if not accounts:
        turn.go(None)
        return
    if "kind" not in data:
        turn.go("appeal-kind", **data)
        turn.say("appeal-choose-kind", buttons=kind_rows(turn))
        return
    if not account_chosen(turn, accounts, data, step="appeal-account", action="appealacct", key="appeal-ask-account"):
        return
    if "text" not in data:
        turn.go("appeal-text", **data)
        asked = turn.say("appeal-ask-text", kind=turn.t(f"appeal-kind-{data['kind']}"), limit=APPEAL_TEXT_LIMIT)
        if data["kind"] == SUPPORT_APPEAL and turn.app.kept_turns:
            asked.text += "\n" + turn.t("appeal-turns-note", days=KEPT_FOR.days)  # what goes with it, said before
        elif data["kind"] == NO_POWER and (emergency := emergency_line(turn.t, await turn.tx.contacts())):
            asked.text += "\n" + emergency  # before the consumer writes: a danger is the line's, not an appeal's
        return
    account = chosen_account(turn, accounts, data)
    if account is None:
        return
    now = turn.app.clock()
    turns: tuple[RecentTurn, ...] = ()
    if data["kind"] == SUPPORT_APPEAL and turn.app.kept_turns:
        turns = tuple(await turn.tx.recent_turns(turn.chat.id, now - KEPT_FOR, turn.app.kept_turns))
    appeal = await turn.tx.add_appeal(account.id, turn.chat.id, data["kind"], data["text"], now, turns)
    turn.go(None)
    sent = turn.say("appeal-sent", number=str(appeal.id), account=account.number,
                    kind=turn.t(f"appeal-kind-{appeal.kind}"), status=turn.t(f"appeal-status-{appeal.status}"))
    if turns:
        sent.text += "\n" + turn.t("appeal-turns-attached", count=len(turns))
    if appeal.kind == NO_POWER and (emergency := emergency_line(turn.t, await turn.tx.contacts())):
        turn.replies[-1].text += "\n" + emergency  # no power may be an emergency: the line answers at once
    turn.with_menu()


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
    kind = action.partition(":")[2] if action else typed_choice(turn, text or "", APPEAL_KINDS, "appeal-kind-")
    if kind not in APPEAL_KINDS:
        turn.say("appeal-choose-kind", buttons=kind_rows(turn))
        return
    data["kind"] = kind
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
    appeals = await turn.tx.appeals([a.id for a in turn.accounts], limit=APPEALS_SHOWN)
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
    commands=(Command("appeal", cmd_appeal, needs=(linked,)),),
    steps=(
        Step("appeal-kind", step_appeal_kind, buttons=("appealkind",)),
        Step("appeal-account", step_appeal_account, buttons=("appealacct",)),
        Step("appeal-text", step_appeal_text),
    ),
    actions=(Action("appeals", list_appeals, needs=(linked,)),),
)
