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
from core.messages import EventKind, Incoming
from core.model import LinkedAccount, Meter
from core.recognition import PhotoRejected, Recognition, RecognitionBusy

if TYPE_CHECKING:
    from core.conversation import Kabinet, Turn
    from core.ports import Transaction

log = logging.getLogger(__name__)

# Steps whose meter a photo is for; with nothing of these in progress, the chat's only meter.
METER_STEPS = ("reading-values", "reading-confirm", "photo-confirm")


@dataclass(frozen=True)
class EarlyReading:
    """A photo read before its turn, for one meter as the chat stood then: what the reader answered (a
    Recognition) or raised (PhotoRejected, a failure)."""

    meter_id: int
    digits: int
    previous: int | None
    outcome: Recognition | Exception

    def fits(self, meter: Meter, previous: int | None) -> bool:
        return (self.meter_id, self.digits, self.previous) == (meter.id, meter.digits, previous)


async def read_before_turn(app: Kabinet, event: Incoming) -> EarlyReading | None:
    """The photo of `event` read for the meter it will most likely be for, outside any transaction (a reader too
    busy to take it is an outcome too: the turn answers it, once it knows the photo is no redelivery); None when
    there is nothing to read it for (no reader, no linked single-zone meter, several meters to choose from: the
    turn decides)."""
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
        if len(meters) != 1 or meters[0][1].zones != 1:
            return None
        if await over_quota(app, tx, chat.id, len(event.photo)):
            return None  # the turn refuses it, unread
    linked, meter = meters[0]
    previous = last_reading(linked, meter)
    try:
        outcome: Recognition | Exception = await app.reader.read(event.photo, digits=meter.digits, previous=previous)
    except RecognitionBusy as busy:
        # Answered by the turn ("send it again"), after its duplicate check: a messenger's redelivery of a photo
        # already taken must not be told to send it again.
        log.warning("%s chat %s: the photo reader is full; the consumer is asked to send it again",
                    event.channel, event.chat_id)
        return EarlyReading(meter.id, meter.digits, previous, busy)
    except Exception as exc:  # a refusal (PhotoRejected) or a failure: the turn answers it
        outcome = exc
    return EarlyReading(meter.id, meter.digits, previous, outcome)


async def over_quota(app: Kabinet, tx: Transaction, chat_id: int, size: int) -> bool:
    """Whether a photo of `size` bytes would take an account linked to the chat over its photo store quota."""
    return app.photo_quota is not None and await tx.photo_store_used(chat_id) + size > app.photo_quota


def last_reading(linked: LinkedAccount, meter: Meter) -> int | None:
    """The meter's last single-zone reading, the prior the reader weighs candidates against."""
    previous = linked.last_readings[meter.id]
    return previous[1].value if 1 in previous else None


async def on_photo(turn: Turn, content: bytes) -> None:
    received_at = turn.app.clock()
    if not content:
        turn.say("photo-empty")
        return
    accounts = await linked_or_ask(turn)
    if not accounts:
        return
    found: tuple[LinkedAccount, Meter] | None = None
    if turn.state and turn.state.step in ("reading-values", "reading-confirm", "photo-confirm"):
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
    """What the photo says for this meter: a Recognition; None when there is no reader, the meter has zones, or
    the reader failed (the photo is kept and the reading asked for); False when the photo was refused or the
    reader is too busy to take a photo not `kept` yet (said so; nothing is kept, the consumer sends it again or types
    the reading). A kept photo the reader is too busy for is left unread, as with a failure."""
    if turn.app.reader is None or meter.zones != 1:
        return None
    previous = last_reading(linked, meter)
    early = turn.before_turn if isinstance(turn.before_turn, EarlyReading) else None
    if early is not None and early.fits(meter, previous):
        outcome = early.outcome
    else:
        try:
            outcome = await turn.app.reader.read(content, digits=meter.digits, previous=previous)
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
    """What the photo says, offered for confirmation, or (unread, or no recognizer) the question for the reading."""
    if recognition is not None and recognition.reading:
        if photo_id is not None:
            await turn.tx.update_photo(photo_id, meter_id=meter.id, recognized=recognition.reading,
                                       confidence=round(float(recognition.confidence), 4))
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


async def step_photo_confirm(turn: Turn, text: str | None, action: str | None) -> None:
    data = turn.state.data if turn.state else {}
    found = await readings.meter_in_step(turn, data)
    if found is None:
        return
    linked, meter = found
    photo_id = data.get("photo_id")
    if action == "photo:yes":
        await readings.submit_typed_values(turn, linked, meter, str(data.get("value", "")), photo_id)
    elif action == "photo:type":
        await readings.ask_for_values(turn, linked, meter, photo_id)
    elif text:
        await readings.submit_typed_values(turn, linked, meter, text, photo_id)  # a corrected value typed straight away


FLOW = Flow(
    steps=(Step("photo-confirm", step_photo_confirm, buttons=("photo",)),),
    photo=on_photo,
    before_photo_turn=read_before_turn,
)
