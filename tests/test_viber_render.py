"""Core replies as Viber messages: limits, keyboards, and pictures and files served by URL."""
from __future__ import annotations

import io

from PIL import Image

from core.messages import Attachment, Button, Reply
from handlers.channel import Recipient
from handlers.viber.media import public_base
from handlers.viber.render import (
    MAX_BUTTONS,
    MAX_TEXT,
    action_of,
    keyboard,
    messages_for,
    split_text,
)
from tests.support.viber import USER


def png(size: tuple[int, int] = (40, 20)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "white").save(out, "PNG")
    return out.getvalue()


def test_long_text_is_split_under_the_limit_at_line_breaks():
    paragraph = "Показник прийнято. " * 20
    text = "\n".join([paragraph] * 40)
    pieces = split_text(text, MAX_TEXT)
    assert len(pieces) > 1
    assert all(len(piece) <= MAX_TEXT for piece in pieces)
    assert all(piece.rstrip().endswith("прийнято.") for piece in pieces)
    assert "".join(pieces).replace(" ", "").replace("\n", "") == text.replace(" ", "").replace("\n", "")


def test_text_without_spaces_is_cut_hard():
    pieces = split_text("x" * (MAX_TEXT * 2 + 5), MAX_TEXT)
    assert [len(p) for p in pieces] == [MAX_TEXT, MAX_TEXT, 5]


def test_rows_fill_six_columns_and_buttons_carry_their_action():
    rows = [[Button("A", "cmd:a")], [Button(str(n), f"n:{n}") for n in range(4)],
            [Button(str(n), f"m:{n}") for n in range(8)]]
    board = keyboard(rows)
    assert [b["Columns"] for b in board["Buttons"]] == [6, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 3, 3]
    assert [action_of(b["ActionBody"]) for b in board["Buttons"]][:2] == ["cmd:a", "n:0"]
    assert all(b["ActionType"] == "reply" for b in board["Buttons"])


def test_a_link_button_opens_its_url():
    board = keyboard([[Button("Pay UAH 658.40", "", url="https://bank.gov.ua/qr/QkNE")], [Button("C", "x:3")]])
    assert board["Buttons"][0]["ActionType"] == "open-url"
    assert board["Buttons"][0]["ActionBody"] == "https://bank.gov.ua/qr/QkNE"
    assert action_of(board["Buttons"][1]["ActionBody"]) == "x:3"


def test_keyboard_keeps_within_viber_limits():
    rows = [[Button("Рахунок " + "дуже довгий " * 40, f"unlink:{n}")] for n in range(30)]
    board = keyboard(rows)
    assert len(board["Buttons"]) == MAX_BUTTONS
    assert all(len(b["Text"]) <= 250 for b in board["Buttons"])


def test_phone_is_asked_with_a_share_phone_button():
    reply = Reply("Вкажіть телефон", buttons=[[Button("Скасувати", "cmd:cancel")]], request_contact=True)
    [message] = messages_for(reply, share_phone="Надіслати мій номер")
    assert message["min_api_version"] >= 3
    first, second = message["keyboard"]["Buttons"]
    assert first["ActionType"] == "share-phone" and first["Text"] == "Надіслати мій номер"
    assert second["ActionBody"] == "kb:cmd:cancel"


def test_typed_text_is_not_an_action():
    assert action_of("Баланс") is None
    assert action_of("kb:") is None
    assert action_of("kb:cmd:balance") == "cmd:balance"


def test_public_base_of_the_webhook_url():
    assert public_base("https://bot.example.com/webhook/viber") == "https://bot.example.com"
    assert public_base("https://example.com/kabinet/webhook/viber") == "https://example.com/kabinet"
    assert public_base("https://example.com:8443/hooks/v") == "https://example.com:8443"
    assert public_base(None) is None and public_base("not a url") is None


async def test_image_goes_as_a_picture_with_caption_and_is_served_from_our_route(rig):
    content = png()
    reply = Reply("Споживання за рік", image=Attachment("chart.png", content, "image/png"),
                  buttons=[[Button("Баланс", "cmd:balance")]])
    assert await rig.channel.answer(Recipient(USER), [reply])
    [message] = rig.viber.to(USER)
    assert message["type"] == "picture" and message["text"] == "Споживання за рік"
    assert message["media"].startswith(f"{rig.base}/viber/media/") and message["media"].endswith(".png")
    assert message["keyboard"]["Buttons"][0]["Text"] == "Баланс"
    async with rig.http.get(message["media"]) as response:
        assert response.status == 200 and response.content_type == "image/png"
        assert await response.read() == content


async def test_document_goes_as_a_file_after_a_long_text(rig):
    pdf = b"%PDF-1.4 invoice"
    reply = Reply("Рахунок. " * 1000, document=Attachment("invoice-2026-10.pdf", pdf, "application/pdf"))
    assert await rig.channel.answer(Recipient(USER), [reply])
    messages = rig.viber.to(USER)
    assert [m["type"] for m in messages] == ["text", "text", "file"]
    assert messages[-1]["file_name"] == "invoice-2026-10.pdf" and messages[-1]["size"] == len(pdf)
    async with rig.http.get(messages[-1]["media"]) as response:
        assert await response.read() == pdf


async def test_media_route_serves_nothing_it_did_not_put_out_or_has_expired(rig):
    async with rig.http.get(f"{rig.base}/viber/media/{'A' * 32}.png") as response:
        assert response.status == 404
    async with rig.http.get(f"{rig.base}/viber/media/..%2F..%2Fetc%2Fpasswd") as response:
        assert response.status == 404
    reply = Reply("", image=Attachment("chart.png", png(), "image/png"))
    await rig.channel.answer(Recipient(USER), [reply])
    url = rig.viber.to(USER)[0]["media"]
    rig.channel.shelf.ttl = -1
    async with rig.http.get(url) as response:
        assert response.status == 404


async def test_large_image_goes_as_a_file(rig):
    big = png((2600, 2600)) + b"\0" * (1024 * 1024)
    await rig.channel.answer(Recipient(USER), [Reply("", image=Attachment("plan.png", big, "image/png"))])
    [message] = rig.viber.to(USER)
    assert message["type"] == "file" and message["file_name"] == "plan.png"
