"""/meter: each meter of the linked accounts, its card, last reading and verification date."""
from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from core import i18n
from core.flows.accounts import linked
from core.flows.registry import Command, Flow
from core.flows.wording import source_name, verification_warning, zone_values
from core.messages import Reply

if TYPE_CHECKING:
    from core.conversation import Turn


async def cmd_meter(turn: Turn, args: str) -> None:
    accounts = turn.accounts
    meters = await turn.tx.meters([a.id for a in accounts])
    if not meters:
        turn.say("meter-none")
        turn.with_menu()
        return
    numbers = {a.id: a.number for a in accounts}
    today = turn.app.today()
    for meter in meters:
        zone_names = ", ".join(turn.t(f"zone-{meter.zones}-{zone}") for zone in range(1, meter.zones + 1))
        parts = [turn.t(
            "meter-card", account=numbers[meter.account_id], meter=meter.serial, type=meter.type,
            digits=meter.digits, zones=meter.zones, names=zone_names, k=i18n.kwh(meter.k_factor, turn.language),
            installed=i18n.day(meter.installed_on),
        )]
        if meter.next_verification_on is not None:
            parts.append(turn.t("meter-verification", on=i18n.day(meter.next_verification_on)))
        else:
            parts.append(turn.t("meter-verification-unknown"))
        last = await turn.tx.last_readings(meter.id, date.max)
        if last:
            shown = zone_values(turn, meter.zones, {zone: str(r.value) for zone, r in last.items()})
            newest = max(last.values(), key=lambda r: r.taken_on)
            parts.append(turn.t("meter-last-reading", values=shown, on=i18n.day(newest.taken_on),
                                source=source_name(turn, newest.source)))
        else:
            parts.append(turn.t("meter-no-readings"))
        parts.extend(verification_warning(turn, meter, today))
        turn.replies.append(Reply("\n".join(parts)))
    turn.with_menu()


FLOW = Flow(commands=(Command("meter", cmd_meter, needs=(linked,)),))
