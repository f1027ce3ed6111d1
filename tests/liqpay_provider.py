"""A stand-in for LiqPay (www.liqpay.ua), written from its API v3 documentation, not from our code.

Checkout: `GET|POST /api/3/checkout` with `data` = base64(JSON) and `signature` = base64(sha1(private_key + data +
private_key)), in the query string or a urlencoded form. It checks the signature with the shop's private key and
the fields the documentation requires (version 3, public_key, action, amount, currency, description, order_id),
and answers the payment page, or LiqPay's error JSON.

Callback: once the page is "paid" (`pay()`), it POSTs a urlencoded form with `data` and `signature` of the
payment's JSON to the checkout's server_url (or the shop's, set in its LiqPay settings), as LiqPay does.
"""
from __future__ import annotations

import base64
import hashlib
import json
import time
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web
from aiohttp.test_utils import unused_port

CURRENCIES = {"UAH", "USD", "EUR"}
ACTIONS = {"pay", "hold", "subscribe", "paydonate"}
REQUIRED = ("version", "public_key", "action", "amount", "currency", "description", "order_id")


def liqpay_signature(private_key: str, data: str) -> str:
    return base64.b64encode(hashlib.sha1(f"{private_key}{data}{private_key}".encode()).digest()).decode()


def liqpay_pair(private_key: str, fields: dict) -> dict[str, str]:
    data = base64.b64encode(json.dumps(fields).encode()).decode()
    return {"data": data, "signature": liqpay_signature(private_key, data)}


@dataclass
class Delivery:
    """One callback the stand-in sent: the form, and how our server answered it."""

    url: str
    form: dict[str, str]
    status: int
    body: str


@dataclass
class LiqPayProvider:
    public_key: str
    private_key: str
    shop_server_url: str | None = None  # the callback URL in the shop's LiqPay settings
    checkouts: dict[str, dict] = field(default_factory=dict)  # order_id -> the checkout's fields
    refusals: list[dict] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    next_payment_id: int = 2401234567

    async def __aenter__(self) -> "LiqPayProvider":
        app = web.Application()
        app.router.add_route("*", "/api/3/checkout", self.checkout_page)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        self.port = unused_port()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()
        self.http = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.http.close()
        await self.runner.cleanup()

    @property
    def checkout_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/3/checkout"

    def refuse(self, code: str, description: str) -> web.Response:
        error = {"result": "error", "status": "error", "err_code": code, "err_description": description}
        self.refusals.append(error)
        return web.json_response(error, status=400)

    async def checkout_page(self, request: web.Request) -> web.Response:
        fields = dict(request.query)
        if request.method == "POST":
            fields.update(await request.post())
        data, signature = fields.get("data"), fields.get("signature")
        if not data or not signature:
            return self.refuse("invalid_data", "data and signature are required")
        try:
            payment = json.loads(base64.b64decode(data, validate=True))
        except ValueError:
            return self.refuse("invalid_data", "data is not base64 JSON")
        if payment.get("public_key") != self.public_key:
            return self.refuse("public_key_not_found", "unknown public_key")
        if signature != liqpay_signature(self.private_key, data):
            return self.refuse("invalid_signature", "invalid signature")
        missing = [name for name in REQUIRED if payment.get(name) in (None, "")]
        if missing:
            return self.refuse("missing_params", f"required: {', '.join(missing)}")
        if payment["version"] != 3 or payment["action"] not in ACTIONS or payment["currency"] not in CURRENCIES:
            return self.refuse("invalid_params", "version, action or currency")
        if not isinstance(payment["amount"], (int, float)) or payment["amount"] <= 0:
            return self.refuse("invalid_amount", "amount")
        if payment["order_id"] in self.checkouts and self.checkouts[payment["order_id"]].get("paid"):
            return self.refuse("order_id_duplicate", "the order is paid already")
        self.checkouts[payment["order_id"]] = payment
        return web.Response(text=f"<html><body>LiqPay: {payment['description']}, {payment['amount']} "
                                 f"{payment['currency']}</body></html>", content_type="text/html")

    def callback_fields(self, order_id: str, status: str, **changes) -> dict:
        """The callback's JSON as LiqPay's documentation shows it."""
        checkout = self.checkouts[order_id]
        now = int(time.time() * 1000)
        fields = {
            "action": checkout["action"], "payment_id": self.next_payment_id, "status": status, "version": 3,
            "type": "buy", "paytype": "card", "public_key": self.public_key, "acq_id": 414963,
            "order_id": order_id, "liqpay_order_id": f"LP{self.next_payment_id}", "description": checkout["description"],
            "sender_card_mask2": "424242*42", "sender_card_bank": "Test", "sender_card_type": "visa",
            "sender_card_country": 804, "ip": "192.0.2.10", "amount": checkout["amount"],
            "currency": checkout["currency"], "sender_commission": 0.0, "receiver_commission": 3.68,
            "agent_commission": 0.0, "amount_debit": checkout["amount"], "amount_credit": checkout["amount"],
            "commission_debit": 0.0, "commission_credit": 3.68, "currency_debit": checkout["currency"],
            "currency_credit": checkout["currency"], "sender_bonus": 0.0, "amount_bonus": 0.0, "mpi_eci": "7",
            "is_3ds": False, "language": checkout.get("language", "uk"), "create_date": now, "end_date": now,
            "transaction_id": self.next_payment_id + 7,
        }
        if status in ("failure", "error"):
            fields.update(err_code="limit", err_description="Перевищено ліміт картки")
        fields.update(changes)
        return fields

    async def pay(self, order_id: str, status: str = "success", **changes) -> Delivery:
        """The consumer finishes the page: LiqPay POSTs the signed outcome to the server_url."""
        fields = self.callback_fields(order_id, status, **changes)
        self.next_payment_id += 1
        if status in ("success", "sandbox", "wait_accept"):
            self.checkouts[order_id]["paid"] = True
        return await self.send(self.checkouts[order_id].get("server_url") or self.shop_server_url,
                               liqpay_pair(self.private_key, fields))

    async def replay(self) -> Delivery:
        """The last callback again, byte for byte (LiqPay retries; an attacker may too)."""
        last = self.deliveries[-1]
        return await self.send(last.url, last.form)

    async def send(self, url: str | None, form: dict[str, str]) -> Delivery:
        assert url, "no server_url in the checkout and none in the shop's settings"
        async with self.http.post(url, data=form) as response:
            delivery = Delivery(url, form, response.status, await response.text())
        self.deliveries.append(delivery)
        return delivery
