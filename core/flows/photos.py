"""A meter photo: kept as evidence, read by the recognizer when there is one, its value offered for confirmation or
correction before it is submitted as the reading."""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from core.flows import readings
from core.flows.accounts import linked_or_ask
from core.flows.registry import Flow, Step
from core.model import LinkedAccount, Meter
from core.recognition import PhotoRejected, Recognition

if TYPE_CHECKING:
    from core.conversation import Turn

log = logging.getLogger(__name__)

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
    recognition = None
    if found is not None:
        recognition = await recognize(turn, content, *found)
        if recognition is False:
            return  # not a usable photo: said so, nothing kept
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


async def recognize(turn: Turn, content: bytes, linked: LinkedAccount,
                    meter: Meter) -> Recognition | None | Literal[False]:
    """The reader's Recognition, None when there is no reader or the meter has zones, False when refused."""
    if turn.app.reader is None or meter.zones != 1:
        return None
    previous = linked.last_readings[meter.id]
    before = previous[1].value if 1 in previous else None
    try:
        recognition = await asyncio.to_thread(
            turn.app.reader.read, content, digits=meter.digits, previous=before
        )
    except PhotoRejected as refusal:
        turn.counted.append(("ocr", {"outcome": f"rejected-{refusal.reason}"}))
        turn.say(f"photo-rejected-{refusal.reason.replace('_', '-')}")
        return False
    except Exception:  # a broken reader (models missing, a runtime error) must not cost the photo or the reading
        log.exception("meter photo recognition failed")
        turn.counted.append(("ocr", {"outcome": "failed"}))
        return None
    turn.counted.append(("ocr", {"outcome": "read" if recognition.reading else "unsure"}))
    return recognition


async def recognize_kept_photo(turn: Turn, linked: LinkedAccount, meter: Meter, photo_id: int) -> None:
    """A photo kept before its meter was chosen (a button): read it now from the archive, then offer its value."""
    recognition = None
    path = await turn.tx.photo_path(photo_id)
    if path is not None and turn.app.reader is not None:
        content = await asyncio.to_thread(turn.app.photos.load, path)
        recognition = await recognize(turn, content, linked, meter) if content else None
        if recognition is False:
            await turn.tx.update_photo(photo_id, meter_id=meter.id, note="rejected")
            turn.go(None)
            return
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
)
