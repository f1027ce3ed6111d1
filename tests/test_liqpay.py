"""Paying on LiqPay's page: the checkout our code builds, taken by a stand-in LiqPay written from its documentation,
and the signed callback it sends back to POST /payments/liqpay; on SQLite and PostgreSQL."""
from __future__ import annotations

import asyncio
import base64
import csv
import dataclasses
import io
import json
import logging
import os
from datetime import datetime, timedelta
from decimal import Decimal

import aiohttp
import pytest
from aiohttp.test_utils import TestServer, unused_port
from sqlalchemy import select

from bot.logs import secrets_of
from bot.server import make_web_app
from bot.settings import Settings, SettingsError, load_settings
from core.liqpay import BadCallback, ForgedCallback, LiqPay, Outcome, new_order_id, sign
from core.pay_links import PayLinks
from scheduler.dispatcher import Dispatcher
from scheduler.jobs import Planner
from storage import queries_payments as payments
from storage.exchange import import_folder
from storage.scheduling import SqlOutbox
from storage.models import OnlinePaymentRow, OutboxRow, PaymentRow
from tests.liqpay_provider import LiqPayProvider, liqpay_pair
from tests.support.admin import linked_chat
from tests.support.cli import kabinet as kabinet_command
from tests.support.console import Talk, linked
from tests.support.demo import KYIV
from tests.support.telegram import link as telegram_link
from tests.support.viber import link as viber_link

PUBLIC, PRIVATE = "i00000000001", "demo-private-key-0123456789abcdefghijklmn"
ACCOUNT = "010000012345"
PAY_URL = "https://kabinet.example/payments/liqpay/pay"
RESULT_URL = "https://t.me/kabinet_demo_bot"


class Sent:
    """The messenger's edge: what the dispatcher delivered, by chat."""

    def __init__(self) -> None:
        self.texts: list[tuple[str, str]] = []

    async def deliver(self, external_id, replies) -> None:
        self.texts.extend((external_id, reply.text.replace("\xa0", " ")) for reply in replies)


class Shop:
    """Kabinet's web server with LiqPay configured, the stand-in LiqPay, and the demo account's chats."""

    def __init__(self, database, kabinet, clock, provider: LiqPayProvider, server: TestServer, liqpay: LiqPay,
                 links: PayLinks):
        self.database, self.kabinet, self.clock = database, kabinet, clock
        self.provider, self.server, self.liqpay, self.links = provider, server, liqpay, links

    @property
    def callback_url(self) -> str:
        return str(self.server.make_url("/payments/liqpay"))

    @property
    def pay_url(self) -> str:
        return str(self.server.make_url("/payments/liqpay/pay"))

    async def account_id(self, account: str = ACCOUNT) -> int:
        async with self.database.transaction() as tx:
            return (await tx.find_accounts([account]))[0].id

    async def checkout(self, amount: str = "245.60", account: str = ACCOUNT) -> str:
        """A Pay by card link as the button makes it, opened: the order is recorded, LiqPay's page opens."""
        return await self.open(self.links.link(await self.account_id(account), Decimal(amount), "uk", self.clock()))

    async def open(self, link: str) -> str:
        """A pay link opened in a browser, through the redirect to LiqPay's page; the order id on that page."""
        async with aiohttp.ClientSession() as browser, browser.get(link) as page:
            assert page.status == 200, await page.text()
            assert str(page.url).startswith(self.provider.checkout_url)
            data = page.url.query["data"]
        return json.loads(base64.b64decode(data))["order_id"]

    async def get(self, link: str, method: str = "GET") -> tuple[int, str]:
        """A pay link opened without following where it leads: the status and the page (or the redirect)."""
        async with aiohttp.ClientSession() as browser, browser.request(method, link, allow_redirects=False) as page:
            return page.status, page.headers.get("Location") or (await page.text()).replace("\xa0", " ")

    async def post(self, body: bytes | dict, content_type: str = "application/x-www-form-urlencoded"):
        async with aiohttp.ClientSession() as http:
            data = body if isinstance(body, bytes) else aiohttp.FormData(body)
            headers = {"Content-Type": content_type} if isinstance(body, bytes) else {}
            async with http.post(self.callback_url, data=data, headers=headers) as response:
                return response.status, await response.text()

    async def state(self) -> tuple[list[tuple], list[tuple]]:
        """Every online payment and every outbox row: what a refused callback must leave as it was."""
        async with self.database.session() as session:
            rows = await session.execute(select(
                OnlinePaymentRow.order_id, OnlinePaymentRow.status, OnlinePaymentRow.amount,
                OnlinePaymentRow.payment_id, OnlinePaymentRow.paid_at, OnlinePaymentRow.provider_status,
            ).order_by(OnlinePaymentRow.id))
            outbox = await session.execute(select(OutboxRow.chat_id, OutboxRow.kind, OutboxRow.subject,
                                                  OutboxRow.period, OutboxRow.text).order_by(OutboxRow.id))
            return [tuple(r) for r in rows], [tuple(r) for r in outbox]

    async def pending(self, account: str = ACCOUNT):
        async with self.database.transaction() as tx:
            account_id = (await tx.find_accounts([account]))[0].id
        async with self.database.session() as session:
            return await payments.pending_payments(session, account_id)

    async def delivered(self) -> list[tuple[str, str]]:
        sent = Sent()
        dispatcher = Dispatcher(SqlOutbox(self.database), {"console": sent}, self.kabinet.translator, KYIV,
                                self.kabinet.window, clock=self.clock, rates={"console": 1000.0}, per_chat_interval=0.0)
        while await dispatcher.run_once():
            pass
        return sent.texts


@pytest.fixture
async def shop(demo_database, kabinet, clock, tmp_path):
    port = unused_port()
    server_url = f"http://127.0.0.1:{port}/payments/liqpay"
    async with LiqPayProvider(PUBLIC, PRIVATE) as provider:
        settings = Settings(_env_file=None, data_dir=tmp_path / "data", liqpay_public_key=PUBLIC,
                            liqpay_private_key=PRIVATE, liqpay_server_url=server_url,
                            liqpay_checkout_url=provider.checkout_url, liqpay_result_url=RESULT_URL)
        kabinet.payee = settings.payee  # the Pay by card button, to this server's /payments/liqpay/pay
        server = TestServer(make_web_app(demo_database, kabinet, settings), host="127.0.0.1", port=port)
        await server.start_server()
        try:
            yield Shop(demo_database, kabinet, clock, provider, server, settings.liqpay, settings.pay_links)
        finally:
            await server.close()


# ----- the way it should go


async def test_a_checkout_paid_on_liqpay_is_pending_at_once_and_every_linked_chat_is_told(shop, clock):
    await linked_chat(shop.database, ACCOUNT, clock(), "c1", "en")
    await linked_chat(shop.database, ACCOUNT, clock(), "c2", "uk")
    order_id = await shop.checkout("245.60")
    page = shop.provider.checkouts[order_id]
    assert (page["amount"], page["currency"], page["action"], page["server_url"]) == (
        245.6, "UAH", "pay", shop.callback_url)

    delivery = await shop.provider.pay(order_id)

    assert (delivery.status, delivery.body) == (200, "ok")
    [pending] = await shop.pending()
    assert (pending.order_id, pending.amount, pending.status, pending.account) == (
        order_id, Decimal("245.60"), "paid", ACCOUNT)
    assert pending.payment_id == str(shop.provider.next_payment_id - 1) and pending.paid_at == clock()
    assert sorted(await shop.delivered()) == [
        ("c1", f"✅ Payment of UAH 245.60 for account {ACCOUNT} received; it will appear on the account after "
               "processing."),
        ("c2", f"✅ Оплату 245,60 грн за особовим рахунком {ACCOUNT} отримано, вона з'явиться на особовому рахунку "
               "після обробки."),
    ]


async def test_a_checkout_signed_with_another_key_is_refused_by_liqpay(shop):
    order_id = new_order_id()
    checkout = LiqPay(PUBLIC, "not-our-private-key", checkout_url=shop.provider.checkout_url).checkout(
        order_id, Decimal("10"), "Оплата")
    async with aiohttp.ClientSession() as browser, browser.post(checkout.url, data=checkout.form) as page:
        assert page.status == 400
    assert shop.provider.refusals[-1]["err_code"] == "invalid_signature"
    assert order_id not in shop.provider.checkouts


# ----- the Pay by card button: /balance and invoices, the pending payment, the export


def pay_row(reply) -> list:
    """The reply's row of link buttons."""
    return next((row for row in reply.buttons if row and row[0].url), [])


async def test_pay_by_card_from_balance_is_pending_at_once_in_balance_history_and_the_export(shop, clock, tmp_path):
    talk = Talk(shop.kabinet, files=tmp_path / "out")
    await linked(talk)
    assert "To pay now: UAH 658.40." in await talk.say("/balance")
    nbu, card = pay_row(talk.replies[0])
    assert (nbu.label, card.label) == ("Pay UAH 658.40", "Pay by card")
    assert nbu.url.startswith("https://bank.gov.ua/qr/") and card.url.startswith(shop.pay_url + "?")
    assert len(card.url) < 300
    assert (await shop.state())[0] == []  # showing the button records no order

    status, location = await shop.get(card.url)
    assert status == 302 and location.startswith(shop.provider.checkout_url + "?data=")
    order_id = await shop.open(card.url)  # opened again: the same order
    [row], _ = await shop.state()
    assert row[:3] == (order_id, "ordered", Decimal("658.40"))
    page = shop.provider.checkouts[order_id]
    assert (page["amount"], page["description"], page["language"], page["server_url"], page["result_url"]) == (
        658.4, f"Оплата за електроенергію, особовий рахунок {ACCOUNT}", "en", shop.callback_url, RESULT_URL)

    assert (await shop.provider.pay(order_id)).status == 200

    text = await talk.say("/balance")
    assert "Nothing owed: nothing to pay." in text
    assert "Paid online UAH 658.40 (30.11.2026): it will appear on the account after processing." in text
    assert pay_row(talk.replies[0]) == []
    assert await talk.say("How is it counted?") == (
        f"How the amount to pay on account {ACCOUNT} is counted:\n"
        "Owed on 01.11.2026: UAH 245.60\n"
        "Invoice for October 2026 of 03.11.2026: +UAH 712.80\n"
        "Payment of 10.11.2026: \u2212UAH 300.00\n"
        "Online payment of 30.11.2026, in processing: \u2212UAH 658.40\n"
        "To pay now: UAH 0.00, nothing to pay"
    )
    assert "30.11.2026 — UAH 658.40 (online, in processing)" in await talk.say("/history")

    environment = {k: v for k, v in os.environ.items() if not k.startswith("KABINET_")}
    environment.update(KABINET_DATA_DIR=str(tmp_path / "var"), KABINET_DATABASE_URL=shop.database.url)
    export = kabinet_command(["export", "payments"], environment)
    assert export.returncode == 0, export.stderr
    assert export.stdout.splitlines()[0] == "order_id,payment_id,account,amount,currency,paid_at,status,service_order"
    assert list(csv.DictReader(io.StringIO(export.stdout))) == [{
        "order_id": order_id, "payment_id": str(shop.provider.next_payment_id - 1), "account": ACCOUNT,
        "amount": "658.40", "currency": "UAH", "paid_at": "2026-11-30T08:00:00+00:00", "status": "paid",
        "service_order": ""}]
    later = kabinet_command(["export", "payments", "--since", "2026-12-01", "--format", "json"], environment)
    assert (later.returncode, json.loads(later.stdout)) == (0, [])

    # The billing brings the payment: no longer pending, counted once, by the billing.
    async with shop.database.session() as session:
        paid = await payments.online_payment(session, order_id)
        assert await payments.mark_reconciled(session, "liqpay", paid.payment_id, "payments.csv:2", clock())
    text = await talk.say("/balance")
    assert "Paid online" not in text and "To pay now: UAH 658.40." in text
    assert "online" not in await talk.say("/history")


async def test_a_part_paid_online_leaves_the_rest_to_pay_on_balance_and_the_invoice(shop, clock, tmp_path):
    talk = Talk(shop.kabinet, language="uk", files=tmp_path / "out")
    await talk.say(f"/link {ACCOUNT} Шевченко")
    await talk.say("1")
    await shop.provider.pay(await shop.checkout("245.60"))

    text = await talk.say("/balance")
    assert "До сплати зараз: 412,80 грн." in text
    assert "Сплачено онлайн 245,60 грн (30.11.2026): з'явиться на особовому рахунку після обробки." in text
    assert [button.label for button in pay_row(talk.replies[0])] == ["Сплатити 412,80 грн", "Сплатити карткою"]
    assert "Оплата онлайн 30.11.2026, обробляється: \u2212245,60 грн" in await talk.say("Як це пораховано?")

    text = await talk.say("/invoices")
    assert "Частково сплачено, до сплати: 412,80 грн." in text
    [reply] = [reply for reply in talk.replies if reply.document is not None]
    nbu, card = pay_row(reply)
    assert nbu.label == "Сплатити 412,80 грн" and card.label == "Сплатити карткою"
    order_id = await shop.open(card.url)
    assert shop.provider.checkouts[order_id]["amount"] == 412.8


async def test_the_same_link_opened_four_times_at_once_is_one_order(shop):
    link = shop.links.link(await shop.account_id(), Decimal("100.00"), "uk", shop.clock())
    order_ids = await asyncio.gather(*(shop.open(link) for _ in range(4)))
    assert len(set(order_ids)) == 1
    payments_made, _ = await shop.state()
    assert [row[:2] for row in payments_made] == [(order_ids[0], "ordered")]


async def test_a_debt_paid_online_is_not_reminded_and_a_part_paid_one_names_the_rest(shop, clock):
    await linked_chat(shop.database, ACCOUNT, clock(), "c1", "en")
    await linked_chat(shop.database, "020000054321", clock(), "c2", "en")
    await shop.provider.pay(await shop.checkout("658.40"))
    await shop.provider.pay(await shop.checkout("18250.40", "020000054321"))
    await shop.delivered()  # the two "payment received" notices

    planned = (await Planner(SqlOutbox(shop.database), shop.kabinet.window, KYIV, clock).run("debts")).planned

    assert planned == 1  # not even planned for the account paid in full
    assert await shop.delivered() == [
        ("c2", "❗ Account 020000054321 owes UAH 18,250.40: the payment was due on 20.11.2026.")]


# ----- a pay link that is not ours, or not any more, records nothing


async def test_a_changed_cut_or_expired_pay_link_is_refused_and_records_nothing(shop, clock):
    account_id = await shop.account_id()
    link = shop.links.link(account_id, Decimal("658.40"), "en", clock())
    assert "amount=658.40" in link and f"account={account_id}&" in link
    broken = "Посилання на оплату пошкоджене"
    for changed in (link.replace("amount=658.40", "amount=1.00"),
                    link.replace(f"account={account_id}&", f"account={account_id + 1}&"),
                    link.replace("language=en", "language=uk"),
                    PayLinks.for_shop(shop.pay_url, "a-guessed-key").link(account_id, Decimal("1"), "en", clock())):
        status, page = await shop.get(changed)
        assert status == 403 and broken in page
    status, page = await shop.get(link.split("&signature=")[0])
    assert status == 400 and broken in page
    assert (await shop.get(link, "HEAD"))[0] == 405  # a link preview's HEAD opens nothing
    clock.now += timedelta(days=7, seconds=1)
    status, page = await shop.get(link)
    assert status == 410 and "This payment link has expired. Send /balance" in page
    assert await shop.state() == ([], [])
    assert shop.provider.checkouts == {}


async def test_a_paid_link_opened_again_says_so_and_opens_no_second_payment(shop):
    link = shop.links.link(await shop.account_id(), Decimal("658.40"), "ru", shop.clock())
    order_id = await shop.open(link)
    await shop.provider.pay(order_id)
    paid = await shop.state()

    status, page = await shop.get(link)

    assert status == 409 and "По этой ссылке уже оплачено" in page
    assert await shop.state() == paid
    assert list(shop.provider.checkouts) == [order_id]


async def test_a_failed_payment_can_be_tried_again_through_the_same_link(shop):
    link = shop.links.link(await shop.account_id(), Decimal("100.00"), "uk", shop.clock())
    order_id = await shop.open(link)
    await shop.provider.pay(order_id, "failure")
    assert await shop.open(link) == order_id
    await shop.provider.pay(order_id)
    assert [p.order_id for p in await shop.pending()] == [order_id]


# ----- the button in each messenger: a URL button to the pay link


def card_payments(kabinet) -> str:
    kabinet.payee = dataclasses.replace(kabinet.payee, card=PayLinks.for_shop(PAY_URL, PRIVATE))
    return PAY_URL


async def test_telegram_shows_pay_by_card_as_a_url_button(chat, kabinet):
    await telegram_link(chat)
    card_payments(kabinet)
    await chat.say("/balance")
    [pay_row_sent] = [row for row in chat.last.markup["inline_keyboard"] if "url" in row[0]]
    assert [button["text"] for button in pay_row_sent] == ["Pay UAH 658.40", "Pay by card"]
    assert pay_row_sent[1]["url"].startswith(PAY_URL + "?order=")


async def test_viber_shows_pay_by_card_as_an_open_url_button(rig, kabinet):
    user = rig.user()
    await viber_link(user)
    card_payments(kabinet)
    await user.say("/balance")
    [card] = [button for button in user.keyboard if button["Text"].endswith("Pay by card")]
    assert card["ActionType"] == "open-url" and card["ActionBody"].startswith(PAY_URL + "?order=")


# ----- what changes nothing


async def test_a_forged_callback_is_refused_with_403_and_changes_nothing(shop, clock):
    await linked_chat(shop.database, ACCOUNT, clock())
    order_id = await shop.checkout()
    before = await shop.state()
    genuine = liqpay_pair(PRIVATE, shop.provider.callback_fields(order_id, "success"))
    forged_fields = shop.provider.callback_fields(order_id, "success", amount=9999.0)
    tampered = {"data": liqpay_pair(PRIVATE, forged_fields)["data"], "signature": genuine["signature"]}
    for form in (liqpay_pair("a-guessed-key", shop.provider.callback_fields(order_id, "success")), tampered,
                 {"data": genuine["data"], "signature": genuine["signature"][:-4] + "AAA="},
                 {"data": genuine["data"], "signature": "лапки"}):
        status, body = await shop.post(form)
        assert (status, body) == (403, "the signature does not match")
    assert await shop.state() == before
    assert await shop.delivered() == []


async def test_a_replayed_callback_answers_200_and_changes_nothing(shop, clock):
    await linked_chat(shop.database, ACCOUNT, clock())
    order_id = await shop.checkout()
    assert (await shop.provider.pay(order_id)).status == 200
    paid = await shop.state()
    clock.now += timedelta(minutes=5)

    assert ((await shop.provider.replay()).status, (await shop.provider.replay()).status) == (200, 200)

    assert await shop.state() == paid
    assert len(await shop.delivered()) == 1


async def test_the_same_callback_four_times_at_once_records_and_notifies_once(shop, clock, caplog):
    await linked_chat(shop.database, ACCOUNT, clock())
    order_id = await shop.checkout()
    form = liqpay_pair(PRIVATE, shop.provider.callback_fields(order_id, "success"))

    with caplog.at_level(logging.INFO, logger="bot.payments"):
        answers = await asyncio.gather(*(shop.post(form) for _ in range(4)))

    assert answers == [(200, "ok")] * 4
    assert [r.getMessage() for r in caplog.records if "paid" in r.getMessage()] == [
        f"liqpay order {order_id} paid: 245.60 UAH, payment {shop.provider.next_payment_id}"]
    assert len(await shop.pending()) == 1
    assert len(await shop.delivered()) == 1


async def test_a_failed_payment_records_nothing_pending_and_a_second_try_is_paid(shop, clock):
    await linked_chat(shop.database, ACCOUNT, clock())
    order_id = await shop.checkout("100.00")

    assert (await shop.provider.pay(order_id, "failure")).status == 200

    assert await shop.pending() == []
    (row,), outbox = await shop.state()
    assert (row[1], row[4], row[5], outbox) == ("failed", None, "failure", [])
    # the consumer tries another card on the same page
    assert (await shop.provider.pay(order_id, "success")).status == 200
    assert [p.amount for p in await shop.pending()] == [Decimal("100.00")]
    # a late failure of the first try does not undo the payment
    assert (await shop.provider.pay(order_id, "error")).status == 200
    assert [p.status for p in await shop.pending()] == ["paid"]


async def test_a_payment_on_its_way_changes_nothing_and_a_reversed_one_is_no_longer_pending(shop, clock):
    order_id = await shop.checkout()
    before = await shop.state()
    for status in ("3ds_verify", "processing", "wait_secure"):
        assert (await shop.provider.pay(order_id, status)).status == 200
    assert await shop.state() == before
    await shop.provider.pay(order_id, "success")
    assert (await shop.provider.pay(order_id, "reversed")).status == 200
    assert await shop.pending() == []
    async with shop.database.session() as session:
        assert [(p.order_id, p.status) for p in await payments.payments_for_export(session)] == [
            (order_id, "reversed")]


async def test_a_callback_for_an_order_we_never_made_is_404_and_changes_nothing(shop):
    fields = {"status": "success", "order_id": new_order_id(), "public_key": PUBLIC, "amount": 10, "currency": "UAH",
              "payment_id": 1}
    before = await shop.state()
    assert await shop.post(liqpay_pair(PRIVATE, fields)) == (404, "unknown order_id")
    assert await shop.state() == before


def signed(fields) -> dict[str, str]:
    return liqpay_pair(PRIVATE, fields)


def signed_raw(data: bytes) -> dict[str, str]:
    text = base64.b64encode(data).decode()
    return {"data": text, "signature": sign(PRIVATE, text)}


GOOD = {"status": "success", "order_id": "kb-0", "public_key": PUBLIC, "amount": 10.5, "currency": "UAH",
        "payment_id": 7, "action": "pay", "version": 3}


@pytest.mark.parametrize("body, reason", [
    (b"", "no data field"),
    (b"signature=abc", "no data field"),
    (b"data=abc", "no signature field"),
    ("data=é&signature=x".encode(), "the body is not a urlencoded form"),
    (b"data=a&data=b&signature=x", "the data field is given twice"),
    ("&".join(f"f{n}=1" for n in range(30)).encode(), "the body has too many fields"),
    (signed_raw(b"not json at all"), "data is not JSON"),
    ({"data": "***", "signature": sign(PRIVATE, "***")}, "data is not base64"),
    (signed_raw(b"[1, 2]"), "data is not a JSON object"),
    (signed({**GOOD, "public_key": "i99999999999"}), "public_key is not this shop's"),
    (signed({k: v for k, v in GOOD.items() if k != "order_id"}), "order_id is missing"),
    (signed({k: v for k, v in GOOD.items() if k != "status"}), "status is missing"),
    (signed({**GOOD, "status": "bribed"}), "status 'bribed' is not one of LiqPay's"),
    (signed({**GOOD, "status": "sandbox"}), "a sandbox payment to a live shop"),
    (signed({**GOOD, "currency": "USD"}), "currency 'USD' is not UAH"),
    (signed({k: v for k, v in GOOD.items() if k != "amount"}), "amount is missing"),
    (signed({**GOOD, "amount": -5}), "amount is not a positive sum"),
    (signed({**GOOD, "amount": "1e400"}), "amount is not a positive sum"),
    (signed({**GOOD, "amount": 10.555}), "amount has more than two decimals"),
    (signed({**GOOD, "payment_id": None}), "a paid callback has no payment_id"),
    (signed({**GOOD, "payment_id": [1]}), "payment_id is not an id"),
])
async def test_a_malformed_callback_gets_400_naming_the_problem_and_changes_nothing(shop, body, reason):
    await shop.checkout()
    before = await shop.state()
    assert await shop.post(body) == (400, reason)
    assert await shop.state() == before


async def test_a_body_over_the_limit_is_refused_before_it_is_read(shop):
    before = await shop.state()
    status, _ = await shop.post(b"data=" + b"A" * (65 * 1024) + b"&signature=x")
    assert status == 413
    assert await shop.state() == before


async def test_without_the_keys_there_is_no_callback_route(demo_database, kabinet, tmp_path):
    server = TestServer(make_web_app(demo_database, kabinet, Settings(_env_file=None, data_dir=tmp_path)))
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as http, http.post(server.make_url("/payments/liqpay"),
                                                              data=signed(GOOD)) as response:
            assert response.status == 404
    finally:
        await server.close()


# ----- the queries: pending, exported, reconciled (the billing import will call mark_reconciled)


async def test_pending_payments_are_listed_exported_and_reconciled_once_by_the_providers_payment_id(shop, clock):
    first, second, failed = await shop.checkout("245.60"), await shop.checkout("100.00"), await shop.checkout("5.00")
    other = await shop.checkout("18250.40", "020000054321")
    for order_id in (first, other):
        await shop.provider.pay(order_id)
    clock.now += timedelta(hours=1)
    await shop.provider.pay(second)
    await shop.provider.pay(failed, "failure")
    assert [p.order_id for p in await shop.pending()] == [first, second]
    assert [p.order_id for p in await shop.pending("020000054321")] == [other]
    async with shop.database.session() as session:
        assert [p.order_id for p in await payments.payments_for_export(session)] == [first, other, second]
        assert [p.order_id for p in await payments.payments_for_export(session, since=clock())] == [second]
        paid = await payments.online_payment(session, first)

    async with shop.database.session() as session:
        assert await payments.mark_reconciled(session, "liqpay", paid.payment_id, "payments.csv:2", clock())
        assert not await payments.mark_reconciled(session, "liqpay", paid.payment_id, "payments.csv:9", clock())
        assert not await payments.mark_reconciled(session, "liqpay", "404", "payments.csv:3", clock())
        assert not await payments.mark_reconciled(session, "other-provider", paid.payment_id, "x", clock())

    assert [p.order_id for p in await shop.pending()] == [second]
    async with shop.database.session() as session:
        reconciled = await payments.online_payment(session, first)
        assert (reconciled.reconciled_at, reconciled.reconciled_ref, reconciled.pending) == (
            clock(), "payments.csv:2", False)
        # the export still lists it: the utility sees every payment once, reconciled or not
        assert first in [p.order_id for p in await payments.payments_for_export(session)]


# ----- the billing import brings the payment: reconciled in the import's transaction, counted once


HOW_COUNTED_BEFORE = (
    f"How the amount to pay on account {ACCOUNT} is counted:\n"
    "Owed on 01.11.2026: UAH 245.60\n"
    "Invoice for October 2026 of 03.11.2026: +UAH 712.80\n"
    "Payment of 10.11.2026: \u2212UAH 300.00\n"
)


async def bring(shop, tmp_path, lines: list[str], header: str = "account,paid_on,amount,purpose,reference") -> None:
    """The billing's payments.csv, imported the way `kabinet import` does (the utility's time zone)."""
    folder = tmp_path / f"billing-{len(list(tmp_path.glob('billing-*')))}"
    folder.mkdir()
    (folder / "payments.csv").write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    async with shop.database.session() as session:
        await import_folder(session, folder, timezone=KYIV, now=shop.clock())


async def paid_online(shop, amount: str = "658.40", account: str = ACCOUNT):
    order_id = await shop.checkout(amount, account)
    await shop.provider.pay(order_id)
    async with shop.database.session() as session:
        return await payments.online_payment(session, order_id)


async def counted_once(talk) -> None:
    """/balance, its explanation and /history count the 658.40 paid on 30 November once, as the billing's."""
    text = await talk.say("/balance")
    assert "Nothing owed: nothing to pay." in text and "Paid online" not in text
    assert await talk.say("How is it counted?") == (
        HOW_COUNTED_BEFORE + "Payment of 30.11.2026: \u2212UAH 658.40\nTo pay now: UAH 0.00, nothing to pay")
    history = await talk.say("/history")
    assert history.count("30.11.2026 — UAH 658.40") == 1 and "online" not in history


@pytest.mark.parametrize("by", ["payment_id", "order_id"])
async def test_the_billing_bringing_a_pending_payment_by_its_reference_counts_it_once(shop, clock, tmp_path, by):
    talk = Talk(shop.kabinet, files=tmp_path / "out")
    await linked(talk)
    paid = await paid_online(shop)
    assert "Paid online UAH 658.40 (30.11.2026)" in await talk.say("/balance")

    await bring(shop, tmp_path, [f"{ACCOUNT},2026-11-30,658.40,LiqPay,{getattr(paid, by)}"])

    assert await shop.pending() == []
    await counted_once(talk)
    async with shop.database.session() as session:
        reconciled = await payments.online_payment(session, paid.order_id)
    assert reconciled.reconciled_at == clock() and reconciled.reconciled_ref.startswith("payments.csv ")
    # the same file again (the billing sends its history each time): nothing changes
    await bring(shop, tmp_path, [f"{ACCOUNT},2026-11-30,658.40,LiqPay,{getattr(paid, by)}"])
    await counted_once(talk)


async def test_without_a_reference_a_new_payment_of_the_same_amount_on_or_after_the_paid_day_reconciles_one(
        shop, clock, tmp_path):
    talk = Talk(shop.kabinet, files=tmp_path / "out")
    await linked(talk)
    first = await paid_online(shop)
    # 00:30 in Kyiv on 1 December is 22:30 UTC on 30 November: its day is the 1st, in the utility's time zone
    clock.now = datetime(2026, 12, 1, 0, 30, tzinfo=KYIV)
    second = await paid_online(shop)

    # not it: another amount, a day before the payment, another account
    await bring(shop, tmp_path, [f"{ACCOUNT},2026-11-30,658.41,", f"{ACCOUNT},2026-11-29,658.40,",
                                 "020000054321,2026-11-30,658.40,"], header="account,paid_on,amount,purpose")
    assert [p.order_id for p in await shop.pending()] == [first.order_id, second.order_id]

    # one billing payment reconciles one online payment, the oldest; brought again, it reconciles no other
    for _ in range(2):
        await bring(shop, tmp_path, [f"{ACCOUNT},2026-11-30,658.40,Оплата,"])
        assert [p.order_id for p in await shop.pending()] == [second.order_id]
    await bring(shop, tmp_path, [f"{ACCOUNT},2026-11-30,658.40,Оплата 2,"])  # a day before the second's
    assert [p.order_id for p in await shop.pending()] == [second.order_id]
    # a reference we never gave (the bank's own) is no reference: the amount rule still applies
    await bring(shop, tmp_path, [f"{ACCOUNT},2026-12-01,658.40,Оплата,BANK-77"])
    assert await shop.pending() == []


async def test_a_payment_with_a_reference_is_not_taken_for_a_bank_payment_of_the_same_day_amount_and_purpose(
        shop, clock, tmp_path):
    """The reference is part of a payment's key: the online payment is a payment of its own in the billing's history,
    and settles its pending one, however like the bank payment beside it."""
    talk = Talk(shop.kabinet, files=tmp_path / "out")
    await linked(talk)
    bank = f"{ACCOUNT},2026-11-30,658.40,Оплата,"
    await bring(shop, tmp_path, [bank])  # before anything was paid online: it settles nothing
    paid = await paid_online(shop)

    await bring(shop, tmp_path, [bank, f"{ACCOUNT},2026-11-30,658.40,Оплата,{paid.payment_id}"])

    assert await shop.pending() == []
    async with shop.database.session() as session:
        rows = (await session.scalars(select(PaymentRow).where(PaymentRow.paid_on == datetime(2026, 11, 30).date())
                                      .order_by(PaymentRow.id))).all()
        reconciled = await payments.online_payment(session, paid.order_id)
    assert [(str(row.amount), row.reference) for row in rows] == [("658.40", ""), ("658.40", paid.payment_id)]
    assert reconciled.reconciled_ref == payments.billing_row(rows[1].id)
    history = await talk.say("/history")
    assert history.count("30.11.2026 — UAH 658.40 (Оплата)") == 2 and "online" not in history
    # brought again, nothing doubles
    await bring(shop, tmp_path, [bank, f"{ACCOUNT},2026-11-30,658.40,Оплата,{paid.payment_id}"])
    assert (await talk.say("/history")).count("30.11.2026 — UAH 658.40 (Оплата)") == 2


async def test_a_pending_payment_is_named_in_its_periods_balance_and_payments_but_not_counted_in_the_billings(
        shop, clock, tmp_path):
    talk = Talk(shop.kabinet, files=tmp_path / "out")
    await linked(talk)
    await paid_online(shop)

    november = await talk.say("/balance 2026-11")
    assert "Paid: UAH 300.00\n• 10.11.2026: UAH 300.00\nAt the end of 30.11.2026: owed UAH 658.40\n" in november
    assert november.endswith("Paid online UAH 658.40 (30.11.2026): it will appear on the account after processing.")
    assert "Paid online" not in await talk.say("/balance 2026-10")
    assert await talk.say("/history 2026-11") == (
        "Payment history for November 2026, account 010000012345:\n"
        "10.11.2026 — UAH 300.00 (Оплата за жовтень)\n"
        "30.11.2026 — UAH 658.40 (online, in processing)\n"
        "Total: UAH 958.40")


async def test_a_reference_to_another_accounts_payment_reconciles_nothing(shop, clock, tmp_path):
    paid = await paid_online(shop)
    other = await paid_online(shop, "658.40", "020000054321")

    await bring(shop, tmp_path, [f"020000054321,2026-11-30,658.40,,{paid.payment_id}",
                                 f"{ACCOUNT},2026-11-30,658.40,,{other.order_id}"])

    assert [p.order_id for p in await shop.pending()] == [paid.order_id]
    assert [p.order_id for p in await shop.pending("020000054321")] == [other.order_id]


# ----- the pure parts


def test_the_checkout_carries_what_liqpay_requires_and_an_order_id_that_says_nothing():
    liqpay = LiqPay(PUBLIC, PRIVATE, "https://kabinet.example/payments/liqpay")
    checkout = liqpay.checkout("kb-1", Decimal("245.6"), "Оплата", language="ru", result_url="https://t.me/kabinet")
    fields = json.loads(base64.b64decode(checkout.data))
    assert fields == {"version": 3, "public_key": PUBLIC, "action": "pay", "amount": 245.6, "currency": "UAH",
                      "description": "Оплата", "order_id": "kb-1", "result_url": "https://t.me/kabinet",
                      "server_url": "https://kabinet.example/payments/liqpay"}
    assert checkout.link.startswith("https://www.liqpay.ua/api/3/checkout?data=")
    assert PRIVATE not in repr(liqpay)
    orders = {new_order_id() for _ in range(1000)}
    assert len(orders) == 1000 and all(len(o) == 35 and o.startswith("kb-") for o in orders)
    with pytest.raises(ValueError):
        liqpay.checkout("kb-2", Decimal("0"), "Оплата")


def test_a_sandbox_payment_is_money_only_to_a_shop_on_sandbox_keys():
    sandbox = LiqPay("sandbox_i000", PRIVATE)
    assert sandbox.outcome("sandbox") is Outcome.PAID
    with pytest.raises(BadCallback):
        LiqPay(PUBLIC, PRIVATE).outcome("sandbox")
    with pytest.raises(ForgedCallback):
        LiqPay(PUBLIC, "other").verified(**signed(GOOD))


@pytest.mark.parametrize("given", [{"liqpay_public_key": PUBLIC}, {"liqpay_private_key": PRIVATE}])
def test_liqpay_needs_both_keys_or_neither(monkeypatch, given):
    for name, value in given.items():
        monkeypatch.setenv(f"KABINET_{name.upper()}", value)
    with pytest.raises(SettingsError, match="KABINET_LIQPAY_PRIVATE_KEY: .*both keys or neither"):
        load_settings(_env_file=None)
    monkeypatch.setenv("KABINET_LIQPAY_PUBLIC_KEY", PUBLIC)
    monkeypatch.setenv("KABINET_LIQPAY_PRIVATE_KEY", PRIVATE)
    monkeypatch.setenv("KABINET_LIQPAY_PAY_URL", "https://kabinet.example/payments/liqpay/pay")
    assert load_settings(_env_file=None).liqpay == LiqPay(PUBLIC, PRIVATE)


def test_the_card_button_needs_the_public_address_of_the_pay_route(monkeypatch):
    monkeypatch.setenv("KABINET_LIQPAY_PUBLIC_KEY", PUBLIC)
    monkeypatch.setenv("KABINET_LIQPAY_PRIVATE_KEY", PRIVATE)
    with pytest.raises(SettingsError, match="KABINET_LIQPAY_PAY_URL: .*neither is KABINET_LIQPAY_SERVER_URL"):
        load_settings(_env_file=None)
    monkeypatch.setenv("KABINET_LIQPAY_SERVER_URL", "https://kabinet.example/payments/liqpay")
    settings = load_settings(_env_file=None)
    assert settings.payee.card.url == "https://kabinet.example/payments/liqpay/pay"
    assert PRIVATE not in repr(settings.payee)
    monkeypatch.delenv("KABINET_LIQPAY_PUBLIC_KEY")
    monkeypatch.delenv("KABINET_LIQPAY_PRIVATE_KEY")
    assert load_settings(_env_file=None).payee.card is None


def test_the_private_key_is_redacted_from_every_log_line():
    settings = Settings(_env_file=None, liqpay_public_key=PUBLIC, liqpay_private_key=PRIVATE,
                        liqpay_server_url="https://kabinet.example/payments/liqpay")
    assert PRIVATE in secrets_of(settings) and PUBLIC not in secrets_of(settings)


async def test_a_callback_retried_after_midnight_keeps_the_day_liqpay_took_the_money(shop, clock):
    """Reviewed: the day counts for reconciliation with the billing's paid_on, so it is LiqPay's, not ours."""
    await linked_chat(shop.database, ACCOUNT, clock())
    order_id = await shop.checkout()
    taken = datetime(2026, 11, 29, 23, 50, tzinfo=KYIV)  # the callback arrives at 10:00 the next day
    millis = int(taken.timestamp() * 1000)
    assert (await shop.provider.pay(order_id, end_date=millis, create_date=millis - 60_000)).status == 200
    [pending] = await shop.pending()
    assert pending.paid_at == taken


async def test_a_second_payment_of_a_paid_order_is_told_to_the_operator(shop, clock, caplog):
    """Reviewed: a consumer paying one order twice (two tabs) must not vanish without a trace."""
    await linked_chat(shop.database, ACCOUNT, clock())
    order_id = await shop.checkout()
    assert (await shop.provider.pay(order_id)).status == 200
    form = liqpay_pair(PRIVATE, shop.provider.callback_fields(order_id, "success"))  # another payment_id
    with caplog.at_level(logging.INFO, logger="bot.payments"):
        assert await shop.post(form) == (200, "ok")
    assert [r.levelname for r in caplog.records if "paid again" in r.getMessage()] == ["ERROR"]
    assert len(await shop.pending()) == 1
