"""Paying for an order (issue 19.4): at "awaiting payment" the consumer sees the amount and Pay (the NBU link and
LiqPay's page, the order as the purpose); the payment is the order's, never pending on the electricity balance."""
from __future__ import annotations

import base64
import json
from decimal import Decimal

import aiohttp
import pytest
from aiohttp.test_utils import TestServer, unused_port

from bot.server import make_web_app
from bot.settings import Settings
from core.services import change_order_status
from storage import queries_payments as payments
from tests.liqpay_provider import LiqPayProvider
from tests.support.admin import AUTH, TOKEN
from tests.support.billing import import_files
from tests.support.chat import ChatDriver
from tests.support.drivers import link_demo_account
from tests.support.console import Talk, linked, order
from tests.support.reminders import RecordingSender, dispatcher_for, notices_to

PUBLIC, PRIVATE = "i00000000001", "demo-private-key-0123456789abcdefghijklmn"
CATALOGUE = (
    "service,name_uk,name_en,name_ru,price,attach_uk,attach_en,attach_ru,statuses,offered\n"
    "meter-check,Технічна перевірка лічильника,Meter check,Техническая проверка,350.00,,,,"
    "accepted;awaiting_confirmation;awaiting_payment,yes\n"
)


@pytest.fixture
async def shop(demo_database, kabinet, tmp_path):
    """Kabinet's web server with LiqPay and the admin API, the stand-in LiqPay, the catalogue with a priced service."""
    await import_files(demo_database, tmp_path / "exchange", {"services.csv": CATALOGUE})
    port = unused_port()
    async with LiqPayProvider(PUBLIC, PRIVATE) as provider:
        settings = Settings(_env_file=None, data_dir=tmp_path / "data", admin_token=TOKEN, liqpay_public_key=PUBLIC,
                            liqpay_private_key=PRIVATE, liqpay_server_url=f"http://127.0.0.1:{port}/payments/liqpay",
                            liqpay_checkout_url=provider.checkout_url)
        kabinet.payee = settings.payee
        server = TestServer(make_web_app(demo_database, kabinet, settings), host="127.0.0.1", port=port)
        await server.start_server()
        try:
            yield provider, server
        finally:
            await server.close()


def links(reply) -> list:
    return [button for button in reply.all_buttons() if button.url]


def nbu_purpose(url: str) -> str:
    encoded = url.rsplit("/", 1)[1]
    return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode("utf-8").split("\n")[-2]


async def test_an_accepted_contract_asks_for_the_price_and_pays_the_order_not_the_electricity(
        shop, kabinet, demo_database, clock, tmp_path):
    provider, server = shop
    talk = Talk(kabinet, files=tmp_path / "out")
    await linked(talk)
    number = await order(talk, service="Meter check")
    async with demo_database.transaction() as tx:
        await change_order_status(tx, int(number), "awaiting_confirmation", None, clock())
    text = await talk.press(action=f"orderaccept:{number}")
    assert text == (f"You have accepted the contract. Order No. {number}: Awaiting payment.\n"
                    "To pay: UAH 350.00. Work starts once the money reaches the utility (1–3 working days).")
    nbu, card = links(talk.replies[0])
    assert nbu.label == "Pay UAH 350.00"
    assert f"Оплата послуги за заявкою №{number}, особовий рахунок 010000012345" in nbu_purpose(nbu.url)
    await talk.press(action=f"order:{number}")
    assert "Pay UAH 350.00" in [b.label for b in links(talk.replies[0])]  # the order's card offers it too

    async with aiohttp.ClientSession() as browser, browser.get(card.url) as page:
        assert str(page.url).startswith(provider.checkout_url)
        order_id = json.loads(base64.b64decode(page.url.query["data"]))["order_id"]
    assert provider.checkouts[order_id]["description"] == (
        f"Оплата послуги за заявкою №{number}, особовий рахунок 010000012345")
    assert provider.checkouts[order_id]["amount"] == 350.0
    assert (await provider.pay(order_id)).status == 200

    balance = await talk.say("/balance")
    assert "To pay now: UAH 658.40." in balance and "Paid online" not in balance  # not the electricity's
    sender = RecordingSender()
    await dispatcher_for(demo_database, kabinet, clock, sender).run_once()
    assert sender.sent == [("c1", f"✅ Payment of UAH 350.00 for order No. {number} received. Work starts once the "
                                  "money reaches the utility (1–3 working days).")]
    async with demo_database.session() as session:
        [row] = await payments.exported_payments(session)
        assert (row["amount"], row["service_order"]) == ("350.00", number)
    async with aiohttp.ClientSession() as http, http.get(server.make_url("/admin/payments"), headers=AUTH) as listed:
        assert [item["service_order"] for item in (await listed.json())["items"]] == [int(number)]


async def test_a_link_for_an_order_cannot_be_turned_into_one_for_the_electricity(shop, kabinet, clock):
    provider, server = shop
    card = kabinet.payee.card.link(1, Decimal("350.00"), "uk", clock(), service_order=7)
    async with aiohttp.ClientSession() as browser:
        for changed in (card.replace("&service_order=7", ""), card.replace("service_order=7", "service_order=8")):
            async with browser.get(changed, allow_redirects=False) as page:
                assert page.status == 403
    assert provider.checkouts == {}


async def test_the_payment_notice_leads_to_the_amount_in_every_channel(consumer: ChatDriver, shop, kabinet,
                                                                       demo_database, clock):
    await link_demo_account(consumer)
    await consumer.press("Послуги")
    await consumer.press("Технічна перевірка лічильника · 350,00 грн")
    await consumer.contact("+380501234567")
    await consumer.press("Пропустити")
    for status in ("accepted", "awaiting_confirmation", "awaiting_payment"):
        async with demo_database.transaction() as tx:
            await change_order_status(tx, 1, status, None, clock())
        await notices_to(consumer, "orders", kabinet, demo_database, clock)
        notice = await consumer.arrived()
    assert "Заявка №1 «Технічна перевірка лічильника»: Очікує оплати." in notice
    assert consumer.buttons == ["Оплатити"]
    text = await consumer.press("Оплатити")
    assert "До сплати: 350,00 грн." in text
    assert consumer.buttons == ["Скасувати заявку", "Мої заявки"]  # and the links to pay, which are not choices
