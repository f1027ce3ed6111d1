"""/reading: a meter reading typed (or a bare number from the main menu), checked against the meter and the last
reading, confirmed when unusual, accepted with its consumption and estimated cost."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from core import i18n
from core.flows import photos
from core.flows.accounts import ask_to_link
from core.flows.registry import Command, Flow, Step
from core.flows.wording import zone_label
from core.messages import Reply
from core.model import LinkedAccount, Meter, Submission
from core.readings import ReadingRefused, assess, estimate_cost, meter_prices, parse_values

if TYPE_CHECKING:
    from core.conversation import Turn

BARE_NUMBER = re.compile(r"[\d\s,.]*\d[\d\s,.]*")  # what a reading typed from the main menu looks like


async def cmd_reading(turn: Turn, args: str) -> None:
    turn.go(None)
    found = await meter_for_reading(turn, values=args, photo_id=None)
    if found is None:
        return
    linked, meter = found
    if args:
        await submit_typed_values(turn, linked, meter, args, photo_id=None)
    else:
        await ask_for_values(turn, linked, meter, photo_id=None)


async def meter_for_reading(turn: Turn, *, values: str, photo_id: int | None,
                        accounts: list[LinkedAccount] | None = None) -> tuple[LinkedAccount, Meter] | None:
    """The meter a reading is for (with its account): the only one, or a question with a button per meter.
    `accounts`: the chat's linked meters when the caller has read them already."""
    if accounts is None:
        accounts = await turn.tx.linked_meters(turn.chat.id, turn.app.today())
    if not accounts:
        ask_to_link(turn)
        return None
    today = turn.app.today()
    if not turn.app.window.is_open(today):
        turn.counted.append(("readings", {"result": "refused", "reason": "window-closed"}))
        turn.say(
            "reading-window-closed",
            opens=i18n.day(turn.app.window.next_opening(today)),
            closes=i18n.day(turn.app.window.closing(turn.app.window.next_opening(today))),
        )
        turn.with_menu()
        return None
    meters = [(linked, meter) for linked in accounts for meter in linked.meters]
    if not meters:
        turn.say("reading-no-meter")
        turn.with_menu()
        return None
    if len(meters) == 1:
        return meters[0]
    rows = [
        [turn.button("reading-meter-button", f"meter:{m.id}", account=linked.account.number, meter=m.serial)]
        for linked, m in meters
    ]
    turn.go("reading-meter", values=values, photo_id=photo_id)
    turn.say("reading-choose-meter", buttons=rows)
    return None


async def offer_bare_number(turn: Turn, text: str) -> bool:
    """A number typed with nothing in progress: with one meter, offered as its reading to confirm; with several,
    which meter is it for. False when it is no number or fits no linked meter (it is then not understood, and
    nothing is asked)."""
    if not BARE_NUMBER.fullmatch(text):
        return False
    accounts = await turn.tx.linked_meters(turn.chat.id, turn.app.today())
    if not any(fits(text, meter) for linked in accounts for meter in linked.meters):
        return False
    found = await meter_for_reading(turn, values=text, photo_id=None, accounts=accounts)
    if found is None:
        return True  # asked which meter, or said the window is closed
    linked, meter = found
    values = parse_values(text, digits=meter.digits, zones=meter.zones)
    previous = {zone: r.value for zone, r in linked.last_readings[meter.id].items()}
    if assess(values, previous, digits=meter.digits, k_factor=meter.k_factor).needs_confirmation:
        await submit_values(turn, linked, meter, values, None, confirmed=False)  # asks, with what is unusual about it
        return True
    turn.go("reading-confirm", meter_id=meter.id, values=values, photo_id=None)
    shown = " / ".join(zone_label(turn, zone, meter.zones, str(value)) for zone, value in enumerate(values, 1))
    turn.say("reading-bare-confirm", meter=meter.serial, values=shown, buttons=[[
        turn.button("reading-confirm-button", "reading:confirm"),
        turn.button("reading-reenter-button", "reading:reenter"),
    ]])
    return True


async def step_reading_meter(turn: Turn, text: str | None, action: str | None) -> None:
    data = turn.state.data if turn.state else {}
    found = await meter_of_chat(turn, action.partition(":")[2] if action else "")
    if found is None:
        turn.say("reading-choose-meter-again")
        return
    linked, meter = found
    photo_id = data.get("photo_id")
    if photo_id is not None:
        await photos.recognize_kept_photo(turn, linked, meter, photo_id)
    elif data.get("values"):
        await submit_typed_values(turn, linked, meter, data["values"], photo_id=None)
    else:
        await ask_for_values(turn, linked, meter, photo_id=None)


async def meter_of_chat(turn: Turn, meter_id: str) -> tuple[LinkedAccount, Meter] | None:
    """A meter of one of the chat's linked accounts, with the account."""
    if not meter_id.isdecimal():
        return None
    for linked in await turn.tx.linked_meters(turn.chat.id, turn.app.today()):
        for meter in linked.meters:
            if meter.id == int(meter_id):
                return linked, meter
    return None


async def meter_in_step(turn: Turn, data: dict[str, Any]) -> tuple[LinkedAccount, Meter] | None:
    """The meter the step in progress is about, with its account; gone (unlinked meanwhile) ends the step."""
    found = await meter_of_chat(turn, str(data.get("meter_id", "")))
    if found is None:
        turn.go(None)
        turn.say("button-stale")
    return found


async def ask_for_values(turn: Turn, linked: LinkedAccount, meter: Meter, photo_id: int | None) -> None:
    previous = linked.last_readings[meter.id]
    turn.go("reading-values", meter_id=meter.id, photo_id=photo_id)
    key = "reading-ask-one" if meter.zones == 1 else "reading-ask-zones"
    zone_names = ", ".join(turn.t(f"zone-{meter.zones}-{zone}") for zone in range(1, meter.zones + 1))
    turn.say(key, meter=meter.serial, digits=meter.digits, zones=meter.zones, names=zone_names)
    if previous:
        shown = " / ".join(
            zone_label(turn, zone, meter.zones, str(previous[zone].value)) for zone in sorted(previous)
        )
        last_day = max(r.taken_on for r in previous.values())
        turn.say("reading-previous", values=shown, on=i18n.day(last_day))


async def step_reading_values(turn: Turn, text: str | None, action: str | None) -> None:
    data = turn.state.data if turn.state else {}
    found = await meter_in_step(turn, data)
    if found is None:
        return
    await submit_typed_values(turn, *found, text or "", photo_id=data.get("photo_id"))


async def submit_typed_values(turn: Turn, linked: LinkedAccount, meter: Meter, text: str, photo_id: int | None) -> None:
    try:
        values = parse_values(text, digits=meter.digits, zones=meter.zones)
    except ReadingRefused as refusal:
        turn.go("reading-values", meter_id=meter.id, photo_id=photo_id)
        turn.say(refusal.key, None, **refusal.args_)
        turn.counted.append(("readings", {"result": "refused", "reason": refusal.key.removeprefix("reading-")}))
        return
    await submit_values(turn, linked, meter, values, photo_id, confirmed=False)


async def submit_values(turn: Turn, linked: LinkedAccount, meter: Meter, values: list[int], photo_id: int | None, *,
                 confirmed: bool) -> None:
    today = turn.app.today()
    if not turn.app.window.is_open(today):
        turn.go(None)
        opens = turn.app.window.next_opening(today)
        turn.counted.append(("readings", {"result": "refused", "reason": "window-closed"}))
        turn.say("reading-window-closed", opens=i18n.day(opens), closes=i18n.day(turn.app.window.closing(opens)))
        turn.with_menu()
        return
    previous = linked.last_readings[meter.id]
    assessment = assess(
        values, {zone: r.value for zone, r in previous.items()}, digits=meter.digits, k_factor=meter.k_factor
    )
    if assessment.needs_confirmation and not confirmed:
        turn.go("reading-confirm", meter_id=meter.id, values=values, photo_id=photo_id)
        total = assessment.total_kwh
        assert total is not None  # a rollover or a large consumption is a consumption known
        if assessment.rolled_over:
            turn.say("reading-rollover", kwh=i18n.kwh(total, turn.language), digits=meter.digits)
        if assessment.large:
            turn.say("reading-large", kwh=i18n.kwh(total, turn.language))
        turn.replies[-1].buttons = [[
            turn.button("reading-confirm-button", "reading:confirm"),
            turn.button("reading-reenter-button", "reading:reenter"),
        ]]
        return
    submission = await turn.tx.add_readings(
        meter.id, today, values, turn.chat.channel, turn.chat.id, turn.app.clock(), photo_id
    )
    turn.counted.append(("readings", {"result": "accepted", "reason": "photo" if photo_id else "typed"}))
    prices = meter_prices(meter.zones, linked.prices_of(meter))
    cost = estimate_cost(assessment, prices) if prices is not None else None
    turn.go(None)
    shown = " / ".join(zone_label(turn, z.zone, meter.zones, str(z.value)) for z in assessment.zones)
    lines = [turn.t("reading-accepted", meter=meter.serial, values=shown, on=i18n.day(today))]
    if submission.replaced:
        lines.append(replaced_line(turn, submission, meter))
    closes = turn.app.window.billing_month(today)
    if closes != today.strftime("%Y-%m"):  # the window's opening days: say which month it counts for
        lines.append(turn.t("reading-closes-month", month=i18n.month(closes)))
    if assessment.total_kwh is not None:
        lines.append(turn.t("reading-consumption", kwh=i18n.kwh(assessment.total_kwh, turn.language)))
        if meter.zones > 1:
            lines.append(", ".join(
                zone_label(turn, z.zone, meter.zones, i18n.kwh(z.kwh, turn.language))
                for z in assessment.zones if z.kwh is not None
            ))
        if meter.k_factor != 1:
            lines.append(turn.t("reading-k-factor", k=i18n.kwh(meter.k_factor, turn.language)))
    else:
        lines.append(turn.t("reading-first"))
    if cost is not None:
        lines.append(turn.t("reading-cost", amount=i18n.money(cost), plan=linked.plan_of(meter)))
    elif prices is None and linked.prices_of(meter) and assessment.total_kwh is not None:
        lines.append(turn.t("reading-cost-other-zones", plan=linked.plan_of(meter), meter=meter.serial))
    turn.replies.append(Reply("\n".join(lines)))
    turn.with_menu()


def replaced_line(turn: Turn, submission: Submission, meter: Meter) -> str:
    """What today's earlier submission was, so that a second one does not replace it unnoticed."""
    values = " / ".join(zone_label(turn, zone, meter.zones, str(value))
                        for zone, value in sorted(submission.replaced.items()))
    if submission.replaced_at is None:
        return turn.t("reading-replaces-untimed", values=values)
    return turn.t("reading-replaces", values=values,
                  time=submission.replaced_at.astimezone(turn.app.timezone).strftime("%H:%M"))


async def step_reading_confirm(turn: Turn, text: str | None, action: str | None) -> None:
    data = turn.state.data if turn.state else {}
    found = await meter_in_step(turn, data)
    if found is None:
        return
    linked, meter = found
    photo_id = data.get("photo_id")
    if action == "reading:confirm":
        await submit_values(turn, linked, meter, [int(v) for v in data.get("values", [])], photo_id, confirmed=True)
    elif action == "reading:reenter":
        await ask_for_values(turn, linked, meter, photo_id)
    elif text:
        await submit_typed_values(turn, linked, meter, text, photo_id)


def fits(text: str, meter: Meter) -> bool:
    """Whether `text` is a reading the meter could show."""
    try:
        parse_values(text, digits=meter.digits, zones=meter.zones)
    except ReadingRefused:
        return False
    return True


FLOW = Flow(
    commands=(Command("reading", cmd_reading),),
    steps=(
        Step("reading-meter", step_reading_meter, buttons=("meter",)),
        Step("reading-values", step_reading_values),
        Step("reading-confirm", step_reading_confirm, buttons=("reading",)),
    ),
    idle_text=offer_bare_number,
)
