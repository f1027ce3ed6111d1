"""Paying on LiqPay's page: the checkout our code builds, taken by a stand-in LiqPay written from its documentation,
and the signed callback it sends back to POST /payments/liqpay; on SQLite and PostgreSQL."""
from __future__ import annotations

import asyncio
import base64
import json
import logging
from datetime import timedelta
from decimal import Decimal

import aiohttp
import pytest
from aiohttp.test_utils import TestServer, unused_port
from sqlalchemy import select

from bot.logs import secrets_of
from bot.server import make_web_app
from bot.settings import Settings, SettingsError, load_settings
from core.liqpay import BadCallback, ForgedCallback, LiqPay, Outcome, new_order_id, sign
from scheduler.dispatcher import Dispatcher
from storage import queries_payments as payments
from storage.scheduling import SqlOutbox
from storage.models import OnlinePaymentRow, OutboxRow
from tests.support.demo import KYIV
from tests.liqpay_provider import LiqPayProvider, liqpay_pair
from tests.support.admin import linked_chat

PUBLIC, PRIVATE = "i00000000001", "demo-private-key-0123456789abcdefghijklmn"
ACCOUNT = "010000012345"


class Sent:
    """The messenger's edge: what the dispatcher delivered, by chat."""

    def __init__(self) -> None:
        self.texts: list[tuple[str, str]] = []

    async def deliver(self, external_id, replies) -> None:
        self.texts.extend((external_id, reply.text.replace("\xa0", " ")) for reply in replies)


class Shop:
    """Kabinet's web server with LiqPay configured, the stand-in LiqPay, and the demo account's chats."""

    def __init__(self, database, kabinet, clock, provider: LiqPayProvider, server: TestServer, liqpay: LiqPay):
        self.database, self.kabinet, self.clock = database, kabinet, clock
        self.provider, self.server, self.liqpay = provider, server, liqpay

    @property
    def callback_url(self) -> str:
        return str(self.server.make_url("/payments/liqpay"))

    async def checkout(self, amount: str = "245.60", account: str = ACCOUNT) -> str:
        """What the Pay button will do (next round): record the order, open LiqPay's page with its link."""
        order_id = new_order_id()
        async with self.database.transaction() as tx:
            account_id = (await tx.find_accounts([account]))[0].id
        async with self.database.session() as session:
            await payments.order_payment(session, order_id, account_id, Decimal(amount), self.clock())
        checkout = self.liqpay.checkout(order_id, Decimal(amount), f"Оплата за електроенергію, особовий рахунок {account}",
                                        language="uk")
        async with aiohttp.ClientSession() as browser, browser.get(checkout.link) as page:
            assert page.status == 200, await page.text()
        return order_id

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
                            liqpay_checkout_url=provider.checkout_url)
        server = TestServer(make_web_app(demo_database, kabinet, settings), host="127.0.0.1", port=port)
        await server.start_server()
        try:
            yield Shop(demo_database, kabinet, clock, provider, server, settings.liqpay)
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

    with caplog.at_level(logging.INFO, logger="handlers.payments"):
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


# ----- the queries the next round wires: /balance, kabinet export payments, reconciliation by the billing import


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
    assert load_settings(_env_file=None).liqpay == LiqPay(PUBLIC, PRIVATE)


def test_the_private_key_is_redacted_from_every_log_line():
    settings = Settings(_env_file=None, liqpay_public_key=PUBLIC, liqpay_private_key=PRIVATE)
    assert PRIVATE in secrets_of(settings) and PUBLIC not in secrets_of(settings)
