"""The Viber channel through real signed callbacks, against a stand-in Viber API on 127.0.0.1."""
from __future__ import annotations

import dataclasses
from datetime import timedelta
import io
import json

import aiohttp
import pytest
from PIL import Image
from sqlalchemy import select

from handlers.viber import channel as viber_channel
from storage.models import ChatRow
from tests.support.faults import snapshot
from tests.support.viber import USER, link, meter_jpeg, serve
from tests.support.waiting import free_port
from tests.viber_api import StandInViber, ViberUser, callback, profile, sign


async def chat_active(database, user_id: str = USER) -> bool | None:
    async with database.session() as session:
        row = (await session.execute(
            select(ChatRow).where(ChatRow.channel == "viber", ChatRow.external_id == user_id)
        )).scalar_one_or_none()
    return None if row is None else row.active


# ----- webhook registration and signatures


async def test_set_webhook_after_the_server_listens_and_the_check_is_answered(rig):
    assert await rig.channel.registration.task
    assert rig.viber.webhooks == [{"url": f"{rig.base}/webhook/viber",
                                   "event_types": viber_channel.EVENT_TYPES}]
    assert rig.viber.webhook_check_answers == [200]


@pytest.mark.parametrize("signature", [None, "", "0" * 64, "подпис", sign(b"another body")])
async def test_forged_or_missing_signature_is_refused_and_not_processed(rig, demo_database, signature):
    user = rig.user()
    status, _ = await user.post(user.message("text", text="/help"), signature=signature)
    assert status == 403
    assert rig.viber.sent == []
    assert await chat_active(demo_database) is None


async def test_a_callback_signed_with_another_token_is_refused(rig):
    user = rig.user()
    payload = user.message("text", text="/help")
    status, _ = await user.post(payload, signature=sign(json.dumps(payload).encode(), "another-token"))
    assert status == 403


# ----- flows


async def test_welcome_then_linking_through_the_keyboard_then_balance(rig):
    user = rig.user()
    welcome = await user.opens_conversation()
    assert welcome["type"] == "text" and welcome["sender"]["name"] == "Кабінет споживача"
    assert "Welcome to the electricity consumer's cabinet" in welcome["text"]
    assert user.buttons == ["Link account"]
    assert rig.viber.sent == []  # the welcome is the callback's answer, not a sent message

    assert "consent to the processing of personal data" in await user.press("Link account")
    assert user.buttons == ["I agree", "I do not agree"]
    assert all(b["ActionBody"].startswith("kb:consent:") and b["Silent"] for b in user.keyboard)
    assert "Enter your personal account number" in await user.press("I agree")
    assert "owner's surname" in await user.say("01 000 0012345")
    text = await user.say("Шевченко")
    assert "Account 010000012345 is linked" in text
    assert user.buttons[:2] == ["Balance", "Submit reading"]
    assert [b["Columns"] for b in user.keyboard][:2] == [3, 3]  # core's rows stay rows
    assert sum(b["Columns"] for b in user.keyboard) % 6 == 0

    text = await user.press("Balance")
    assert "To pay now: UAH 658.40." in text
    assert "Last payment: UAH 300.00, 10.11.2026" in text


async def test_the_chat_starts_in_the_senders_language(rig):
    user = rig.user(language="uk")
    assert "не підключено жодного особового рахунку" in await user.say("/balance")
    assert user.buttons == ["Підключити особовий рахунок"]


async def test_typed_label_text_is_text_and_a_marker_is_a_button(rig):
    user = rig.user()
    await link(user)
    # A typed "kb:" text that names no live action is a stale button, never a crash.
    assert "no longer active" in await user.say("kb:reading:confirm")
    assert "To pay" in await user.say("balance")  # typed menu labels work like in every channel


async def test_reading_confirmed_with_the_keyboard(rig):
    user = rig.user()
    await link(user)
    text = await user.say("/reading 00100")
    assert "passed through zero (5 digits), the consumption is 87,755 kWh" in text
    assert user.buttons == ["Confirm", "Enter again"]
    assert "Consumption: 87,755 kWh" in await user.press("Confirm")


async def test_meter_picture_is_downloaded_and_answered(rig):
    rig.viber.media["meter.jpg"] = meter_jpeg()
    user = rig.user()
    await link(user)
    text = await user.sends_picture(rig.viber.media_url("meter.jpg"))
    assert rig.viber.media_requests == ["meter.jpg"]
    assert "The photo is kept" in text and "Enter the reading of meter 0123456" in text
    assert "accepted" in await user.say("12450")


async def test_meter_photo_sent_as_a_file_is_a_photo(rig):
    rig.viber.media["IMG_0042.JPG"] = meter_jpeg()
    user = rig.user()
    await link(user)
    await user.post(user.message("file", media=rig.viber.media_url("IMG_0042.JPG"), size=2000,
                                 file_name="IMG_0042.JPG"))
    assert "Enter the reading of meter 0123456" in user.text
    await user.post(user.message("file", media=rig.viber.media_url("act.pdf"), size=2000, file_name="act.pdf"))
    assert "I do not handle messages of this kind" in user.text
    assert rig.viber.media_requests == ["IMG_0042.JPG"]


async def test_too_large_picture_is_refused_politely(rig, monkeypatch):
    monkeypatch.setattr(viber_channel, "MAX_PHOTO_BYTES", 1000)
    rig.viber.media["huge.jpg"] = b"\xff" * 5000
    user = rig.user()
    await link(user)
    assert "too large" in await user.sends_picture(rig.viber.media_url("huge.jpg"))
    assert user.status == 200


async def test_picture_that_cannot_be_downloaded_is_asked_again(rig, logged):
    user = rig.user()
    await link(user)
    assert "did not arrive" in await user.sends_picture(rig.viber.media_url("gone.jpg"))
    said = [line for line in logged.lines if "could not download a viber picture" in line]
    assert said and "HTTP 404" in said[0]
    assert not any("gone.jpg" in line for line in logged.lines)  # no URL: Viber's media links are signed


async def test_viber_answering_an_http_error_is_logged_by_method_and_status_without_the_token(rig, logged):
    from tests.support.logs import leaked

    user = rig.user()
    rig.viber.http_errors = [403] * 4  # the first try and the three retries
    await user.say("/help")
    assert user.status == 200 and user.messages == []
    said = [line for line in logged.lines if "send_message" in line]
    assert len(said) == 4 and all("HTTP 403" in line for line in said), said
    assert leaked(logged.lines) == [] and logged.tracebacks == []


async def test_stickers_and_unknown_message_types_are_answered_politely(rig):
    user = rig.user()
    await user.post(user.message("sticker", sticker_id=46105))
    assert "I do not handle messages of this kind" in user.text
    await user.post(user.message("something_new", payload={"a": 1}))
    assert user.status == 200 and "I do not handle messages of this kind" in user.text


async def test_contact_is_handed_to_core(rig):
    user = rig.user()
    await user.post(user.message("contact", contact={"name": "John", "phone_number": "+380501234567"}))
    assert "no phone number is needed now" in user.text


@pytest.mark.parametrize("payload", [
    {"event": ["message"]},
    {"event": "message", "timestamp": 1, "message_token": 7, "message": {"type": "text", "text": "hi"}},
    {"event": "message", "timestamp": 1, "message_token": 7, "sender": {"name": "no id"},
     "message": {"type": "text", "text": "hi"}},
    {"event": "unsubscribed", "timestamp": 1},
])
async def test_signed_but_malformed_callbacks_are_refused_without_a_crash(rig, payload):
    user = rig.user()
    status, _ = await user.post(payload)
    assert status == 400 and rig.viber.sent == []


@pytest.mark.parametrize("change", [
    {"message_token": {"": None, "00": None}},
    {"message_token": "7" * 101},
    {"message_token": None},
    {"message_token": True},
    {"sender": profile("u" * 101)},
    {"sender": profile("")},
])
async def test_a_token_or_sender_id_that_is_not_viber_s_is_refused_and_changes_nothing(rig, demo_database, change):
    # Found by tests/test_fuzz_webhooks.py: a dict as message_token once overflowed the delivery key column.
    before = await snapshot(demo_database)
    user = rig.user()
    status, _ = await user.post({**user.message("text", text="/reading 12500"), **change})
    assert status == 400 and rig.viber.sent == []
    status, _ = await user.post(callback("conversation_started", type="open", context="", subscribed=False,
                                         user=change.get("sender", profile(USER)),
                                         message_token=change.get("message_token", 99)))
    assert status == 400
    assert await snapshot(demo_database) == before


@pytest.mark.parametrize("event, fields", [
    ("subscribed", {"user": profile("\x00")}),
    ("unsubscribed", {"user_id": "ab\x00"}),
    ("message", {"sender": profile("\x00"), "message": {"type": "text", "text": "/help"}}),
])
async def test_a_user_id_with_a_nul_is_refused_and_changes_nothing(rig, demo_database, logged, event, fields):
    # Found by tests/test_fuzz_webhooks.py on PostgreSQL, whose text cannot hold a NUL: a 500 and a traceback.
    before = await snapshot(demo_database)
    status, _ = await rig.user().post(callback(event, **fields))
    assert status == 400 and rig.viber.sent == []
    assert await snapshot(demo_database) == before
    assert logged.tracebacks == []


async def test_an_unknown_event_is_acknowledged(rig):
    status, _ = await rig.user().post(callback("client_status", user_id=USER))
    assert status == 200


# ----- delivery: duplicates, failures, reachability


async def test_a_message_token_seen_twice_is_handled_once(rig):
    user = rig.user()
    payload = user.message("text", text="/help")
    await user.post(payload)
    assert len(user.messages) == 1
    status, _ = await user.post(payload)
    assert status == 200 and user.messages == []


async def test_failed_callback_without_desc_does_not_crash(rig):
    user = rig.user()
    status, _ = await user.post(callback("failed", user_id=USER))
    assert status == 200
    status, _ = await user.post(callback("failed", user_id=USER, desc="failure description"))
    assert status == 200


@pytest.mark.parametrize("event", ["delivered", "seen"])
async def test_receipts_are_acknowledged(rig, event):
    user = rig.user()
    status, _ = await user.post(callback(event, user_id=USER))
    assert status == 200


async def test_unsubscribed_user_is_not_reachable_and_subscribing_again_is(rig, demo_database):
    user = rig.user()
    await user.say("/help")
    assert await chat_active(demo_database) is True
    status, _ = await user.post(callback("unsubscribed", user_id=USER))
    assert status == 200
    assert await chat_active(demo_database) is False
    await user.post(callback("subscribed", user=dict(id=USER, name="John", language="en", api_version=10)))
    assert await chat_active(demo_database) is True


async def test_receiver_not_subscribed_marks_the_chat_unreachable(rig, demo_database):
    user = rig.user()
    await user.say("/help")
    rig.viber.refusals[USER] = [6]
    await user.say("/help")
    assert user.messages == []
    assert await chat_active(demo_database) is False


async def test_too_many_requests_is_retried_a_bounded_number_of_times(rig):
    user = rig.user()
    rig.viber.refusals[USER] = [12, 12]
    await user.say("/help")
    assert len(user.messages) == 1

    rig.viber.refusals[USER] = [12] * 10
    attempts = rig.viber.attempts
    await user.say("/help")
    assert user.messages == [] and rig.viber.attempts - attempts == 4  # one try and three retries


async def test_an_answer_viber_would_not_take_is_delivered_later_by_the_outbox(rig, kabinet, demo_database, clock):
    from scheduler.dispatcher import Dispatcher
    from storage.scheduling import SqlOutbox
    from tests.support.demo import KYIV

    user = rig.user()
    rig.viber.refusals[USER] = [12] * 4  # refused on the try and on every retry
    await user.say("/help")
    assert user.status == 200 and user.messages == []
    sending = Dispatcher(SqlOutbox(demo_database), {"viber": rig.channel}, kabinet.translator, KYIV, kabinet.window,
                         rates={"viber": 1000.0}, per_chat_interval=0.0, clock=clock)
    clock.now += timedelta(seconds=11)
    assert await sending.run_once() == 1
    [late] = rig.viber.to(USER)
    assert "/balance" in late["text"] and late.get("keyboard")  # the help, with its buttons


async def test_a_failure_of_ours_is_apologised_for_and_answered_500(kabinet, demo_database, tmp_path):
    class BrokenArchive:  # a bug of ours (a full disk is survived: tests/test_faults_photos.py)
        def save(self, content, received_at):
            raise RuntimeError("a bug in the archive")

    broken = dataclasses.replace(kabinet, photos=BrokenArchive())
    viber = await StandInViber().start()
    viber.media["meter.jpg"] = meter_jpeg()
    channel, runner, base = await serve(broken, demo_database, tmp_path, viber)
    try:
        async with aiohttp.ClientSession() as http:
            user = ViberUser(http, f"{base}/webhook/viber", viber, USER)
            await link(user)
            payload = user.message("picture", text="", media=viber.media_url("meter.jpg"))
            status, _ = await user.post(payload)
            assert status == 500
            assert "something went wrong on our side" in user.text
            status, _ = await user.post(payload)  # Viber's retry is handled again, not taken for a repeat
            assert status == 500 and user.messages
    finally:
        await channel.stop()
        await runner.cleanup()
        await viber.stop()


# ----- the outbox dispatcher's way in (core.notifications.Sender)


async def test_dispatcher_delivery_reports_viber_refusals_as_core_errors(rig):
    from core.messages import Reply
    from core.notifications import ChatUnreachable, RetryAfter, TransientFailure

    await rig.channel.deliver(USER, [Reply("Вікно передачі показників відкрито")])
    assert rig.viber.to(USER)[-1]["text"] == "Вікно передачі показників відкрито"

    rig.viber.refusals[USER] = [12]
    attempts = rig.viber.attempts
    with pytest.raises(RetryAfter):
        await rig.channel.deliver(USER, [Reply("x")])
    assert rig.viber.attempts - attempts == 1  # the dispatcher paces; no retrying behind its back

    rig.viber.refusals[USER] = [6]
    with pytest.raises(ChatUnreachable):
        await rig.channel.deliver(USER, [Reply("x")])

    rig.channel.api.base = f"http://127.0.0.1:{free_port()}/pa"  # nobody listens there
    with pytest.raises(TransientFailure):
        await rig.channel.deliver(USER, [Reply("x")])


# ----- core's pictures, documents and phone questions, as Viber gets them


async def test_history_chart_is_a_picture_viber_fetches_from_us(rig):
    user = rig.user()
    await link(user)
    await user.say("/history")
    [chart] = [m for m in user.messages if m["type"] in ("picture", "file")]
    assert chart["type"] == "picture" and chart["text"] == "Consumption chart, account 010000012345."
    assert chart["media"].startswith(f"{rig.base}/viber/media/") and chart["media"].endswith(".jpg")
    async with rig.http.get(chart["media"]) as response:
        assert response.status == 200
        image = Image.open(io.BytesIO(await response.read()))
    assert image.format == "JPEG"


async def test_invoice_pdf_is_a_file_message(rig):
    user = rig.user()
    await link(user)
    assert "Invoice for October 2026" in await user.say("/invoices")
    [pdf] = [m for m in user.messages if m["type"] == "file"]
    assert pdf["file_name"] == "invoice-010000012345-2026-10.pdf"
    async with rig.http.get(pdf["media"]) as response:
        content = await response.read()
    assert content.startswith(b"%PDF") and pdf["size"] == len(content)
    assert "September 2026" in user.buttons


async def test_forget_removes_the_chats_pictures_and_documents_from_our_route(rig):
    user, other = rig.user(), rig.user("98765432109B=")
    await link(user)
    await link(other)
    await user.say("/invoices")
    [pdf] = [m for m in user.messages if m["type"] == "file"]
    await user.say("/history")
    [chart] = [m for m in user.messages if m["type"] == "picture"]
    await other.say("/invoices")
    [others] = [m for m in other.messages if m["type"] == "file"]
    for url in (pdf["media"], chart["media"]):
        async with rig.http.get(url) as response:
            assert response.status == 200
    await user.say("/forget")
    assert "invoice PDFs and charts sent here" in user.text and "orders and appeals" in user.text
    assert "erased" in await user.press("Yes, erase")
    for url in (pdf["media"], chart["media"]):
        async with rig.http.get(url) as response:
            assert response.status == 404
    async with rig.http.get(others["media"]) as response:  # another chat's stay
        assert response.status == 200
    assert pdf["media"].split("/")[-2] == chart["media"].split("/")[-2] != others["media"].split("/")[-2]


async def test_service_order_takes_the_phone_from_the_share_phone_button(rig):
    user = rig.user()
    await link(user)
    await user.say("/service")
    assert "Enter a contact phone" in await user.press("Noise in the electricity meter · free")
    share = user.keyboard[0]
    assert share["ActionType"] == "share-phone" and share["Text"] == "Send my phone number"
    assert all(m.get("min_api_version", 0) >= 3 for m in user.messages)
    await user.post(user.message("contact", contact={"name": "John McClane", "phone_number": "380501234567"}))
    assert "Add a comment" in user.text
    assert "is sent" in await user.press("Skip")
