"""A meter photo: kept as evidence, read by the recognizer when there is one, its value offered for confirmation or
correction before it is submitted as the reading.

The photo is read BEFORE its turn's transaction (`read_before_turn`): a short read of the chat's meters says which
meter it is for, the reader (a pool of worker processes) reads it with that meter's digits and last reading, and
only then is the turn opened, so no database connection or write lock waits for the models. The turn takes that
reading when the meter it settles on is the one the photo was read for; otherwise (the consumer chose another
meter, a reading arrived in between) it reads the photo again inside the turn.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from core.flows import readings
from core.flows.accounts import linked_or_ask
from core.flows.registry import Flow, Step
from core.messages import Button, EventKind, Incoming
from core.model import LinkedAccount, Meter
from core.readings import ReadingRefused, parse_values
from core.recognition import PhotoRejected, Recognition, RecognitionBusy

if TYPE_CHECKING:
    from core.conversation import Kabinet, Turn
    from core.ports import Transaction

log = logging.getLogger(__name__)

# Steps whose meter a photo is for; with nothing of these in progress, the chat's only meter.
METER_STEPS = ("reading-values", "reading-confirm", "photo-confirm", "photo-zone", "photo-zones")


@dataclass(frozen=True)
class EarlyReading:
    """A photo read before its turn, for one meter as the chat stood then: what the reader answered (a
    Recognition) or raised (PhotoRejected, a failure)."""

    meter_id: int
    digits: int
    previous: int | None
    zone_previous: tuple[int | None, ...]
    outcome: Recognition | Exception

    def fits(self, meter: Meter, previous: int | None, zone_previous: tuple[int | None, ...]) -> bool:
        return (self.meter_id, self.digits, self.previous, self.zone_previous) == (
            meter.id, meter.digits, previous, zone_previous)


async def read_before_turn(app: Kabinet, event: Incoming) -> EarlyReading | None:
    """The photo of `event` read for the meter it will most likely be for, outside any transaction (a reader too
    busy to take it is an outcome too: the turn answers it, once it knows the photo is no redelivery); None when
    there is nothing to read it for (no reader, no linked meter, several meters to choose from: the turn decides)."""
    if app.reader is None or event.kind is not EventKind.PHOTO or not event.photo:
        return None
    async with app.store.transaction() as tx:
        chat, state = await tx.chat_and_state(event.channel, event.chat_id, app.translator.language_for(event.language))
        accounts = await tx.linked_meters(chat.id, app.today())
        meters = [(linked, meter) for linked in accounts for meter in linked.meters]
        step = app.registry.steps.get(state.step) if state is not None else None
        if step is not None and step.files is not None:
            return None  # a file for the step that asks for one (an order's), not a meter's photo
        if state is not None and state.step in METER_STEPS:
            meters = [(linked, meter) for linked, meter in meters if str(meter.id) == str(state.data.get("meter_id"))]
        if len(meters) != 1:
            return None
        if await over_quota(app, tx, chat.id, len(event.photo)):
            return None  # the turn refuses it, unread
    linked, meter = meters[0]
    previous, zones = last_reading(linked, meter), zone_readings(linked, meter)
    try:
        outcome: Recognition | Exception = await app.reader.read(
            event.photo, digits=meter.digits, previous=previous, meter_type=meter.type, zone_previous=zones)
    except RecognitionBusy as busy:
        # Answered by the turn ("send it again"), after its duplicate check: a messenger's redelivery of a photo
        # already taken must not be told to send it again.
        log.warning("%s chat %s: the photo reader is full; the consumer is asked to send it again",
                    event.channel, event.chat_id)
        return EarlyReading(meter.id, meter.digits, previous, zones, busy)
    except Exception as exc:  # a refusal (PhotoRejected) or a failure: the turn answers it
        outcome = exc
    return EarlyReading(meter.id, meter.digits, previous, zones, outcome)


async def over_quota(app: Kabinet, tx: Transaction, chat_id: int, size: int) -> bool:
    """Whether a photo of `size` bytes would take an account linked to the chat over its photo store quota."""
    return app.photo_quota is not None and await tx.photo_store_used(chat_id) + size > app.photo_quota


def last_reading(linked: LinkedAccount, meter: Meter) -> int | None:
    """A one-zone meter's last reading, the prior the reader weighs candidates against (None for several zones)."""
    previous = linked.last_readings[meter.id]
    return previous[1].value if meter.zones == 1 and 1 in previous else None


def zone_readings(linked: LinkedAccount, meter: Meter) -> tuple[int | None, ...]:
    """A multi-zone meter's last reading of each zone, T1 first (empty for one zone): the display's zone picks one."""
    previous = linked.last_readings[meter.id]
    if meter.zones == 1:
        return ()
    return tuple(previous[zone].value if zone in previous else None for zone in range(1, meter.zones + 1))


async def on_photo(turn: Turn, content: bytes) -> None:
    received_at = turn.app.clock()
    if not content:
        turn.say("photo-empty")
        return
    accounts = await linked_or_ask(turn)
    if not accounts:
        return
    found: tuple[LinkedAccount, Meter] | None = None
    if turn.state and turn.state.step in METER_STEPS:
        found = await readings.meter_of_chat(turn, str(turn.state.data.get("meter_id", "")))
    if found is None:
        found = await readings.meter_for_reading(turn, values="", photo_id=None)
        if found is None and (turn.state is None or turn.state.step != "reading-meter"):
            return  # window closed or no meter: said already, nothing kept
    if await over_quota(turn.app, turn.tx, turn.chat.id, len(content)):
        log.warning("%s chat %s: a photo over its account's photo store quota is refused", turn.chat.channel,
                    turn.chat.external_id)
        turn.counted.append(("photos_refused", {"reason": "quota"}))
        turn.say("photo-over-quota")
        if found is not None:
            await readings.ask_for_values(turn, *found, None)
        return
    recognition: Recognition | None = None
    if found is not None:
        read = await recognize(turn, content, *found)
        if read is False:
            return  # not a usable photo: said so, nothing kept
        recognition = read
    photo_id = await keep_photo(turn, content, received_at)
    if found is None:
        turn.remember(photo_id=photo_id)  # for the meter the consumer is choosing
        return
    await offer_photo_reading(turn, *found, photo_id, recognition)


async def keep_photo(turn: Turn, content: bytes, received_at: datetime) -> int | None:
    """The photo's id in the archive; None when the archive failed (a full disk): said, and the reading goes on."""
    try:
        path, sha256 = await asyncio.to_thread(turn.app.photos.save, content, received_at)
    except OSError:
        log.exception("chat %s: the photo archive failed; the reading goes on without the photo", turn.chat.id)
        turn.say("photo-not-kept")
        return None
    return await turn.tx.add_photo(turn.chat.id, path, sha256, received_at, len(content))


async def recognize(turn: Turn, content: bytes, linked: LinkedAccount, meter: Meter, *,
                    kept: bool = False) -> Recognition | None | Literal[False]:
    """What the photo says for this meter: a Recognition; None when there is no reader or the reader failed (the
    photo is kept and the reading asked for); False when the photo was refused or the
    reader is too busy to take a photo not `kept` yet (said so; nothing is kept, the consumer sends it again or types
    the reading). A kept photo the reader is too busy for is left unread, as with a failure."""
    if turn.app.reader is None:
        return None
    previous, zones = last_reading(linked, meter), zone_readings(linked, meter)
    early = turn.before_turn if isinstance(turn.before_turn, EarlyReading) else None
    if early is not None and early.fits(meter, previous, zones):
        outcome = early.outcome
    else:
        try:
            outcome = await turn.app.reader.read(content, digits=meter.digits, previous=previous,
                                                 meter_type=meter.type, zone_previous=zones)
        except Exception as exc:
            outcome = exc
    if isinstance(outcome, RecognitionBusy):
        turn.counted.append(("ocr", {"outcome": "busy"}))
        if kept:
            return None
        turn.say("photo-busy")
        return False
    if isinstance(outcome, PhotoRejected):
        turn.counted.append(("ocr", {"outcome": f"rejected-{outcome.reason}"}))
        turn.say(f"photo-rejected-{outcome.reason.replace('_', '-')}")
        return False
    if isinstance(outcome, Exception):  # a broken reader or a dead worker must not cost the photo or the reading
        log.error("meter photo recognition failed", exc_info=outcome)
        turn.counted.append(("ocr", {"outcome": "failed"}))
        return None
    turn.counted.append(("ocr", {"outcome": "read" if outcome.reading else "unsure"}))
    return outcome


async def recognize_kept_photo(turn: Turn, linked: LinkedAccount, meter: Meter, photo_id: int) -> None:
    """A photo kept before its meter was chosen (a button): read it now from the archive, then offer its value."""
    recognition: Recognition | None = None
    path = await turn.tx.photo_path(photo_id)
    if path is not None and turn.app.reader is not None:
        content = await asyncio.to_thread(turn.app.photos.load, path)
        read = await recognize(turn, content, linked, meter, kept=True) if content else None
        if read is False:
            await turn.tx.update_photo(photo_id, meter_id=meter.id, note="rejected")
            turn.go(None)
            return
        recognition = read
    await offer_photo_reading(turn, linked, meter, photo_id, recognition)


async def offer_photo_reading(turn: Turn, linked: LinkedAccount, meter: Meter, photo_id: int | None,
                              recognition: Recognition | None) -> None:
    """What the photo says, offered for confirmation, or (unread, or no recognizer) the question for the reading.
    A multi-zone meter's display shows one zone: the value is offered for the zone it shows, or the consumer is
    asked which zone it is."""
    if recognition is not None and recognition.reading:
        if photo_id is not None:
            await turn.tx.update_photo(photo_id, meter_id=meter.id, recognized=recognition.reading,
                                       confidence=round(float(recognition.confidence), 4))
        if meter.zones > 1:
            offer_zone_reading(turn, meter, photo_id, recognition)
            return
        turn.go("photo-confirm", meter_id=meter.id, photo_id=photo_id, value=recognition.reading)
        turn.say("photo-read", value=recognition.reading, meter=meter.serial, buttons=[[
            turn.button("photo-correct", "photo:yes"), turn.button("photo-type", "photo:type"),
        ]])
        return
    if photo_id is not None:
        await turn.tx.update_photo(photo_id, meter_id=meter.id,
                                   note="not sure" if recognition is not None else None)
        turn.say("photo-unsure" if recognition is not None else "photo-kept")
    elif recognition is not None:
        turn.say("photo-unsure-not-kept")
    await readings.ask_for_values(turn, linked, meter, photo_id)


def zone_name(turn: Turn, meter: Meter, zone: int) -> str:
    """`T2 (ніч)`: the zone as a meter's display labels it, and its name."""
    return turn.t("photo-zone-name", label=f"T{zone}", name=turn.t(f"zone-{meter.zones}-{zone}"))


def gathered_zones(turn: Turn, meter: Meter) -> dict[str, str]:
    """The zones' values this chat already confirmed from photos of this meter's display (zone -> value)."""
    data = turn.state.data if turn.state else {}
    if turn.state is None or str(data.get("meter_id")) != str(meter.id):
        return {}
    return {str(zone): str(value) for zone, value in dict(data.get("zones", {})).items()}


def offer_zone_reading(turn: Turn, meter: Meter, photo_id: int | None, recognition: Recognition) -> None:
    """A multi-zone meter's display read: its value offered for the zone the display shows, or (no zone seen)
    the question which zone it is, one button per zone: never a guess."""
    gathered = gathered_zones(turn, meter)
    value = recognition.reading
    if recognition.zone is not None and 1 <= recognition.zone <= meter.zones:
        turn.go("photo-confirm", meter_id=meter.id, photo_id=photo_id, value=value, zone=recognition.zone,
                zones=gathered)
        turn.say("photo-read-zone", value=value, zone=zone_name(turn, meter, recognition.zone), meter=meter.serial,
                 buttons=[[turn.button("photo-correct", "photo:yes"), turn.button("photo-type", "photo:type")]])
        return
    turn.go("photo-zone", meter_id=meter.id, photo_id=photo_id, value=value, zones=gathered)
    rows = [[Button(zone_name(turn, meter, zone), f"zone:{zone}")] for zone in range(1, meter.zones + 1)]
    turn.say("photo-which-zone", value=value, meter=meter.serial,
             buttons=[*rows, [turn.button("photo-type", "photo:type")]])


async def take_zone_value(turn: Turn, linked: LinkedAccount, meter: Meter, zone: int, value: str,
                          photo_id: int | None) -> None:
    """A zone's value confirmed: submitted with the others once every zone has one, else the next zone asked for."""
    gathered = gathered_zones(turn, meter)
    gathered[str(zone)] = value
    missing = [z for z in range(1, meter.zones + 1) if str(z) not in gathered]
    if not missing:
        await readings.submit_typed_values(turn, linked, meter, " ".join(gathered[str(z)] for z in
                                                                          range(1, meter.zones + 1)), photo_id)
        return
    turn.go("photo-zones", meter_id=meter.id, photo_id=photo_id, zones=gathered)
    turn.say("photo-zone-noted", zone=zone_name(turn, meter, zone), value=value,
             next=", ".join(zone_name(turn, meter, z) for z in missing), count=len(missing))


async def step_photo_zones(turn: Turn, text: str | None, action: str | None) -> None:
    """Some zones confirmed from photos: the rest typed (in zone order), or another photo of the display."""
    data = turn.state.data if turn.state else {}
    found = await readings.meter_in_step(turn, data)
    if found is None:
        return
    linked, meter = found
    gathered = gathered_zones(turn, meter)
    missing = [z for z in range(1, meter.zones + 1) if str(z) not in gathered]
    try:
        typed = parse_values(text or "", digits=meter.digits, zones=len(missing))
    except ReadingRefused as refusal:
        turn.say(refusal.key, None, **refusal.args_)
        return
    gathered.update({str(z): str(v) for z, v in zip(missing, typed)})
    values = " ".join(gathered[str(z)] for z in range(1, meter.zones + 1))
    await readings.submit_typed_values(turn, linked, meter, values, data.get("photo_id"))


async def step_photo_confirm(turn: Turn, text: str | None, action: str | None) -> None:
    """The value read confirmed (for a multi-zone meter: for the zone the display showed, or the zone whose button
    was pressed), or typed instead."""
    data = turn.state.data if turn.state else {}
    found = await readings.meter_in_step(turn, data)
    if found is None:
        return
    linked, meter = found
    photo_id = data.get("photo_id")
    zone = str(data.get("zone", ""))
    if action and action.startswith("zone:"):
        zone, action = action.partition(":")[2], "photo:yes"
    if action == "photo:yes" and meter.zones > 1:
        if zone.isdecimal() and 1 <= int(zone) <= meter.zones:
            await take_zone_value(turn, linked, meter, int(zone), str(data.get("value", "")), photo_id)
        else:
            turn.say("button-stale")
    elif action == "photo:yes":
        await readings.submit_typed_values(turn, linked, meter, str(data.get("value", "")), photo_id)
    elif action == "photo:type":
        await readings.ask_for_values(turn, linked, meter, photo_id)
    elif text:
        await readings.submit_typed_values(turn, linked, meter, text, photo_id)  # a corrected value typed straight away


FLOW = Flow(
    steps=(
        Step("photo-confirm", step_photo_confirm, buttons=("photo",)),
        Step("photo-zone", step_photo_confirm, buttons=("zone", "photo")),
        Step("photo-zones", step_photo_zones),
    ),
    photo=on_photo,
    before_photo_turn=read_before_turn,
)
