"""/outages: current and upcoming outages at the chat's linked accounts."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from core.contacts import emergency_line
from core.flows.accounts import linked
from core.flows.registry import Command, Flow
from core.messages import Reply
from core.model import Outage
from core.outages import outage_is_over, outage_touches

if TYPE_CHECKING:
    from core.conversation import Turn


def local_time(turn: Turn, at: datetime) -> str:
    return at.astimezone(turn.app.timezone).strftime("%d.%m.%Y %H:%M")


def outage_text(turn: Turn, outage: Outage, now: datetime) -> str:
    ends = local_time(turn, outage.ends_at) if outage.ends_at else turn.t("outage-end-unknown")
    return turn.t(
        "outage-line",
        kind=outage.kind,
        started="yes" if outage.starts_at <= now else "no",
        starts=local_time(turn, outage.starts_at),
        ends=ends,
        reason=outage.reason,
    )


async def cmd_outages(turn: Turn, args: str) -> None:
    accounts = turn.accounts
    now = turn.app.clock()
    outages = [outage for outage in await turn.tx.current_outages(now) if not outage_is_over(outage, now)]
    parts = []
    for account in accounts:
        touching = [outage for outage in outages if outage_touches(outage, account)]
        if not touching:
            continue
        lines = [turn.t("outages-account", account=account.number, address=account.address)]
        lines.extend(outage_text(turn, outage, now) for outage in touching)
        parts.append("\n\n".join(lines))
    if parts:
        emergency = emergency_line(turn.t, await turn.tx.contacts())
        if emergency:
            parts[-1] += "\n\n" + emergency
        turn.replies.extend(Reply(part) for part in parts)
    else:
        turn.say("outages-none", count=len(accounts))
    turn.with_menu()


FLOW = Flow(commands=(Command("outages", cmd_outages, needs=(linked,)),))
