"""Files of an order from the chat (issue 19.4): a photo or a PDF the consumer sends while the order asks for one
(a receipt's scan for a reconnection), size-limited, kept like photos; the operator lists and downloads them."""
from __future__ import annotations

import pytest

from tests.support.admin import AUTH
from tests.support.billing import import_files
from tests.support.chat import ChatDriver
from tests.support.drivers import link_demo_account
from tests.support.console import linked, order
from tests.support.pictures import phone_photo

CATALOGUE = (
    "service,name_uk,name_en,name_ru,price,attach_uk,attach_en,attach_ru,statuses,offered\n"
    "reconnection,Повторне підключення,Reconnection,Повторное подключение,free,"
    "скан чека про оплату боргу,a scan of the debt's payment receipt,,accepted;awaiting_confirmation,yes\n"
    "meter-noise,Шум у лічильнику,Noise in the meter,Шум в счётчике,free,,,,accepted,yes\n"
)
RECEIPT = b"%PDF-1.4 a receipt of the paid debt\n%%EOF\n"


@pytest.fixture(autouse=True)
async def catalogue(demo_database, tmp_path):
    await import_files(demo_database, tmp_path / "exchange", {"services.csv": CATALOGUE})


async def test_a_receipt_scan_and_a_photo_reach_the_operator_from_every_channel(consumer: ChatDriver, admin):
    await link_demo_account(consumer)
    await consumer.press("Послуги")
    await consumer.press("Повторне підключення · безкоштовна")
    await consumer.contact("+380501234567")
    text = await consumer.press("Пропустити")
    assert "Заявку №1 надіслано" in text
    assert "Заявка №1: додайте скан чека про оплату боргу. Надішліть фото або PDF-файл (до 20 МБ кожен)" in text
    assert consumer.buttons == ["Готово"]
    assert await consumer.document(RECEIPT, "receipt.pdf") == (
        "Файл додано до заявки №1 (усього: 1). Надішліть ще або натисніть «Готово».")
    photo = phone_photo()
    assert "Файл додано до заявки №1 (усього: 2)" in await consumer.photo(photo)
    assert "Приймаю лише фото (JPEG, PNG) або PDF-файл" in await consumer.document(b"%!PS-Adobe", "receipt.pdf")
    assert await consumer.press("Готово") == "Файлів у заявці №1: 2. Фахівець їх побачить."
    assert "Такі повідомлення я не обробляю" in await consumer.document(RECEIPT, "late.pdf")  # no order asks: not even fetched

    seen = await (await admin.get("/admin/orders/1", headers=AUTH)).json()
    assert [(f["kind"], f["mime_type"], f["size"]) for f in seen["files"]] == [
        ("consumer", "application/pdf", len(RECEIPT)), ("consumer", "image/jpeg", len(photo))]
    for listed, content in zip(seen["files"], (RECEIPT, photo)):
        download = await admin.get(listed["download"], headers=AUTH)
        assert download.status == 200 and await download.read() == content
    assert "Ваших файлів у заявці: 2" in await consumer.press(action="order:1")
    assert consumer.buttons == ["Додати файл", "Скасувати заявку", "Мої заявки"]


async def test_a_file_is_taken_only_while_an_order_asks_for_one(talk, admin, tmp_path):
    await linked(talk)
    await order(talk, service="Noise in the meter")  # asks for no file
    await talk.press(action="order:1")
    assert "Add a file" not in talk.buttons
    receipt = tmp_path / "receipt.pdf"
    receipt.write_bytes(RECEIPT)
    assert "I do not handle messages of this kind" in await talk.say(f"/file {receipt}")
    seen = await (await admin.get("/admin/orders/1", headers=AUTH)).json()
    assert seen["files"] == []


async def test_too_large_too_many_and_closed_orders_take_no_file(talk, admin, monkeypatch, demo_database, clock):
    from core.flows import services
    from core.services import change_order_status

    monkeypatch.setattr(services, "ATTACHMENT_LIMIT", 100)
    monkeypatch.setattr(services, "FILES_PER_ORDER", 1)
    await linked(talk)
    await talk.say("/service reconnection")
    await talk.say("0501234567")
    await talk.say("Skip")
    big = talk.channel.files_dir / "big.pdf"
    big.parent.mkdir(parents=True, exist_ok=True)
    big.write_bytes(b"%PDF-" + b"0" * 200)
    assert "The file is too large" in await talk.say(f"/file {big}")
    small = talk.channel.files_dir / "small.pdf"
    small.write_bytes(RECEIPT[:60])
    assert "(1 in all)" in await talk.say(f"/file {small}")
    assert "already has 1 files" in await talk.say(f"/file {small}")
    assert "Send a photo or a PDF file, or press “Done”" in await talk.say("what now?")
    async with demo_database.transaction() as tx:
        await change_order_status(tx, 1, "cancelled", None, clock())
    assert "it is done or cancelled" in await talk.say(f"/file {small}")
    assert "it is done or cancelled" in await talk.press(action="orderattach:1")
    seen = await (await admin.get("/admin/orders/1", headers=AUTH)).json()
    assert len(seen["files"]) == 1
