"""LiqPay's two routes, beside the admin API in the web app: the consumer's way to its page, and its server-to-server
callback.

GET /payments/liqpay/pay: a "Pay by card" button's signed link (core/pay_links.py). A genuine one records its
order (once, however often it is opened) and redirects to LiqPay's checkout; a forged or cut one (403, 400), an
expired one (410) or a paid one (409) records nothing and answers a short page in the consumer's language.

POST /payments/liqpay: the callback, signed with the shop's private key. A forged callback (403) and a
malformed one (400) change nothing; a replayed one finds its order already in that state and changes nothing
either (200, so LiqPay stops sending it). A payment is recorded and its notice queued in one transaction: both
or neither.
"""
from __future__ import annotations

import html
import logging
from collections.abc import Callable
from datetime import datetime
from urllib.parse import parse_qs

from aiohttp import web

from core.paying import PURPOSE_LANGUAGE
from core.i18n import Translator
from core.liqpay import BadCallback, Callback, ForgedCallback, LiqPay, Outcome
from core.pay_links import BadPayLink, ExpiredPayLink, ForgedPayLink, PayLinks
from handlers.webhook import read_body
from storage import queries_payments as payments
from storage.database import Database

log = logging.getLogger(__name__)

PATH = "/payments/liqpay"
PAY_PATH = "/payments/liqpay/pay"
# LiqPay's callback is two form fields: a base64 JSON of some thirty fields and a 28-character signature.
BODY_LIMIT = 64 * 1024
FIELDS = ("data", "signature")


class LiqPayCallback:
    """What the route needs: the shop's keys, the database and the clock."""

    def __init__(self, liqpay: LiqPay, database: Database, clock: Callable[[], datetime]) -> None:
        self.liqpay = liqpay
        self.database = database
        self.clock = clock

    async def record(self, callback: Callback) -> web.Response:
        """The callback's outcome on its order, once."""
        now = self.clock()
        async with self.database.session() as session:
            payment = await payments.online_payment(session, callback.order_id)
            if payment is None:
                log.error("liqpay callback for unknown order %s (status %s, payment %s, %s UAH)",
                          callback.order_id, callback.status, callback.payment_id, callback.amount)
                return web.Response(status=404, text="unknown order_id")
            if callback.outcome is Outcome.PAID:
                if await payments.record_paid(session, callback.order_id, callback.payment_id, callback.amount,
                                              callback.status, min(callback.paid_at or now, now)):
                    if callback.amount != payment.amount:
                        log.warning("liqpay order %s: %s UAH paid, %s asked", callback.order_id, callback.amount,
                                    payment.amount)
                    paid = await payments.online_payment(session, callback.order_id)
                    assert paid is not None  # recorded just above, in this transaction
                    await payments.queue_paid_notice(session, paid, now)
                    log.info("liqpay order %s paid: %s UAH, payment %s", callback.order_id, callback.amount,
                             callback.payment_id)
                elif payment.payment_id not in (None, callback.payment_id):
                    log.error("liqpay order %s, already paid by payment %s, was paid again by payment %s (%s UAH):"
                              " the consumer paid twice; refund or book it by hand", callback.order_id,
                              payment.payment_id, callback.payment_id, callback.amount)
            elif callback.outcome is Outcome.FAILED:
                if await payments.record_failed(session, callback.order_id, callback.status, callback.error):
                    log.info("liqpay order %s failed: %s %s", callback.order_id, callback.status, callback.error or "")
            elif callback.outcome is Outcome.REVERSED:
                if await payments.record_reversed(session, callback.order_id, callback.status):
                    log.warning("liqpay order %s reversed: payment %s", callback.order_id, callback.payment_id)
        return web.Response(text="ok")


PAYMENTS = web.AppKey("liqpay_callback", LiqPayCallback)


async def liqpay_callback(request: web.Request) -> web.Response:
    route = request.app[PAYMENTS]
    form = form_fields(await read_body(request, BODY_LIMIT))
    if isinstance(form, str):
        return web.Response(status=400, text=form)
    try:
        callback = route.liqpay.verified(form.get("data"), form.get("signature"))
    except ForgedCallback as exc:
        log.warning("liqpay callback refused from %s: %s", request.remote or "-", exc)
        return web.Response(status=403, text=str(exc))
    except BadCallback as exc:
        log.warning("liqpay callback refused from %s: %s", request.remote or "-", exc)
        return web.Response(status=400, text=str(exc))
    return await route.record(callback)


def form_fields(body: bytes) -> dict[str, str] | str:
    """The callback's form fields, or why the body is not that form."""
    try:
        text = body.decode("ascii")  # base64 and a urlencoded form are ASCII
    except UnicodeDecodeError:
        return "the body is not a urlencoded form"
    try:
        parsed = parse_qs(text, keep_blank_values=True, max_num_fields=20)
    except ValueError:
        return "the body has too many fields"
    for name in FIELDS:
        if len(parsed.get(name, ())) > 1:
            return f"the {name} field is given twice"
    return {name: values[0] for name, values in parsed.items() if name in FIELDS}


class LiqPayCheckout:
    """What GET /payments/liqpay/pay needs: the links' key, the shop's keys, the database, the clock, the words."""

    def __init__(self, links: PayLinks, liqpay: LiqPay, database: Database, clock: Callable[[], datetime],
                 translator: Translator) -> None:
        self.links = links
        self.liqpay = liqpay
        self.database = database
        self.clock = clock
        self.translator = translator

    def page(self, status: int, key: str, language: str | None = None) -> web.Response:
        text = html.escape(self.translator(language or self.translator.default_language, key))
        body = (f'<!doctype html><html lang="{language or self.translator.default_language}"><meta charset="utf-8">'
                f'<meta name="viewport" content="width=device-width, initial-scale=1"><p>{text}</p></html>')
        return web.Response(status=status, text=body, content_type="text/html", headers=NOT_STORED)


CHECKOUTS = web.AppKey("liqpay_checkout", LiqPayCheckout)
NOT_STORED = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


async def liqpay_pay(request: web.Request) -> web.Response:
    route = request.app[CHECKOUTS]
    now = route.clock()
    try:
        order = route.links.opened(request.query, now)
    except ExpiredPayLink as exc:
        return route.page(410, "pay-link-expired", exc.language)
    except BadPayLink as exc:
        log.warning("pay link refused from %s: %s", request.remote or "-", exc)
        return route.page(403 if isinstance(exc, ForgedPayLink) else 400, "pay-link-broken")
    async with route.database.session() as session:
        payment = await payments.opened_order(session, order.order_id, order.account_id, order.amount, now,
                                              service_order=order.service_order)
    if payment is None:
        return route.page(410, "pay-link-expired", order.language)
    if payment.status in (payments.PAID, payments.REVERSED):
        return route.page(409, "pay-link-paid", order.language)
    if payment.service_order is not None:
        description = route.translator(PURPOSE_LANGUAGE, "order-payment-purpose", order=str(payment.service_order),
                                       account=payment.account)
    else:
        description = route.translator(PURPOSE_LANGUAGE, "payment-purpose", account=payment.account)
    checkout = route.liqpay.checkout(payment.order_id, payment.amount, description, language=order.language)
    raise web.HTTPFound(checkout.link, headers=NOT_STORED)


def mount(app: web.Application, liqpay: LiqPay, database: Database, clock: Callable[[], datetime],
          links: PayLinks | None = None, translator: Translator | None = None) -> None:
    """Add POST /payments/liqpay to the web app (bot/server.py does, when both LiqPay keys are set), and
    GET /payments/liqpay/pay when given the pay links."""
    app[PAYMENTS] = LiqPayCallback(liqpay, database, clock)
    app.router.add_post(PATH, liqpay_callback)
    if links is not None:
        app[CHECKOUTS] = LiqPayCheckout(links, liqpay, database, clock, translator or Translator())
        # GET only: a HEAD (a link preview, a checker) must not record an order.
        app.router.add_get(PAY_PATH, liqpay_pay, allow_head=False)
