"""The contract of an order (issue 19.4): the operator attaches it through the admin API at "awaiting confirmation";
the consumer sees the PDF with Accept / Decline in every channel, and either answer is an event of the order."""
from __future__ import annotations

from storage.models import ServiceOrderFileRow, ServiceOrderRow
from tests.support.admin import AUTH, linked_chat
from tests.support.chat import ChatDriver
from tests.support.drivers import link_demo_account
from tests.support.console import linked, order
from tests.support.reminders import notices_to

CONTRACT = b"%PDF-1.4 the contract of the service\n%%EOF\n"


async def ordered(chat: ChatDriver) -> None:
    await chat.press("Послуги")
    await chat.press("Шум у електролічильнику · безкоштовна")
    await chat.contact("+380501234567")
    assert "Заявку №1 надіслано" in await chat.press("Пропустити")


async def test_the_consumer_reads_the_contract_and_accepts_it_in_every_channel(
        consumer: ChatDriver, admin, kabinet, demo_database, clock):
    await link_demo_account(consumer)
    await ordered(consumer)
    attached = await admin.put("/admin/orders/1/contract", headers=AUTH, data=CONTRACT)
    assert attached.status == 200, await attached.text()
    assert (await attached.json())["notified"] == 0  # told with the change that asks for confirmation
    changed = await admin.patch("/admin/orders/1", headers=AUTH, json={"status": "awaiting_confirmation"})
    assert changed.status == 200
    assert (await changed.json())["notified"] == 1
    await notices_to(consumer, "orders", kabinet, demo_database, clock)
    notice = await consumer.arrived()
    assert "Заявка №1 «Шум у електролічильнику»: Очікує підтвердження." in notice
    assert consumer.documents == ["contract-1.pdf"]
    assert consumer.buttons == ["Приєднатися до договору", "Відмовитися від послуги"]
    assert await consumer.press("Приєднатися до договору") == (
        "Ви приєдналися до договору. Заявка №1: У роботі.")
    order_seen = await (await admin.get("/admin/orders/1", headers=AUTH)).json()
    assert order_seen["status"] == "in_progress"
    assert [(e["status"], e["by"]) for e in order_seen["history"]][-1] == ("in_progress", "consumer")
    [contract] = order_seen["files"]
    assert contract["kind"] == "contract" and contract["size"] == len(CONTRACT)
    download = await admin.get(contract["download"], headers=AUTH)
    assert download.status == 200 and await download.read() == CONTRACT
    assert "Заявка №1 уже не очікує підтвердження. Статус: У роботі." in await consumer.press(action="orderaccept:1")


async def test_declining_the_service_cancels_the_order(talk, admin, demo_database):
    await linked(talk)
    number = await order(talk)
    for status in ("accepted", "awaiting_confirmation"):
        assert (await admin.patch(f"/admin/orders/{number}", headers=AUTH, json={"status": status})).status == 200
    text = await talk.press(action=f"order:{number}")
    assert "Read the contract and accept it" in text
    assert talk.buttons == ["Accept the contract", "Decline the service", "My orders"]
    assert talk.replies[-1].document is None  # no contract attached: the offer is the service's terms
    assert await talk.press("Decline the service") == (
        f"You have declined the service. Order No. {number} is cancelled.")
    listed = await (await admin.get("/admin/orders?status=cancelled", headers=AUTH)).json()
    assert [item["id"] for item in listed["items"]] == [int(number)]
    seen = await (await admin.get(f"/admin/orders/{number}", headers=AUTH)).json()
    assert seen["history"][-1]["by"] == "consumer" and seen["history"][-1]["previous"] == "awaiting_confirmation"


async def test_a_contract_attached_while_awaiting_confirmation_is_sent_at_once(talk, admin, kabinet, demo_database,
                                                                                clock):
    from tests.support.reminders import RecordingSender, dispatcher_for

    await linked(talk)
    number = await order(talk)
    assert (await admin.patch(f"/admin/orders/{number}", headers=AUTH,
                              json={"status": "awaiting_confirmation"})).status == 200
    attached = await admin.put(f"/admin/orders/{number}/contract", headers=AUTH, data=CONTRACT)
    assert (await attached.json())["notified"] == 1

    class Keeping(RecordingSender):
        async def deliver(self, external_id, replies):
            self.replies = getattr(self, "replies", []) + replies

    sender = Keeping()
    await dispatcher_for(demo_database, kabinet, clock, sender).run_once()
    contract = sender.replies[-1]
    assert contract.text.startswith(f"📎 The contract for order No. {number} “Noise in the electricity meter”")
    assert contract.document.content == CONTRACT
    assert [b.action for b in contract.all_buttons()] == [f"orderaccept:{number}", f"orderdecline:{number}"]


async def test_a_contract_is_refused_when_it_is_not_a_pdf_too_large_or_too_late(talk, admin, demo_database):
    await linked(talk)
    number = await order(talk)
    refused = await admin.put(f"/admin/orders/{number}/contract", headers=AUTH, data=b"<html>a contract</html>")
    assert refused.status == 400 and "not a PDF" in (await refused.json())["error"]
    refused = await admin.put(f"/admin/orders/{number}/contract", headers=AUTH,
                              data=b"%PDF-" + b"0" * (10 * 1024 * 1024))
    assert refused.status == 413
    assert (await admin.put("/admin/orders/4242/contract", headers=AUTH, data=CONTRACT)).status == 404
    for status in ("accepted", "awaiting_confirmation", "in_progress"):
        assert (await admin.patch(f"/admin/orders/{number}", headers=AUTH, json={"status": status})).status == 200
    refused = await admin.put(f"/admin/orders/{number}/contract", headers=AUTH, data=CONTRACT)
    assert refused.status == 409 and "is 'in_progress'" in (await refused.json())["error"]
    async with demo_database.session() as session:
        from sqlalchemy import func, select
        assert await session.scalar(select(func.count()).select_from(ServiceOrderFileRow)) == 0
    assert (await admin.get(f"/admin/orders/{number}/files/1", headers=AUTH)).status == 404


async def test_only_the_chat_that_placed_the_order_answers_its_contract(talk, new_talk, admin, demo_database):
    await linked(talk)
    number = await order(talk)
    assert (await admin.patch(f"/admin/orders/{number}", headers=AUTH,
                              json={"status": "awaiting_confirmation"})).status == 200
    other = new_talk("c2")
    await linked(other)
    await other.press(action=f"order:{number}")
    assert "Accept the contract" not in other.buttons
    assert "Only the chat the order was placed from" in await other.press(action=f"orderaccept:{number}")
    async with demo_database.session() as session:
        assert (await session.get(ServiceOrderRow, int(number))).status == "awaiting_confirmation"


async def test_a_paid_service_without_a_price_needs_the_orders_amount(admin, demo_database, clock):
    chat = await linked_chat(demo_database, "010000012345", clock())
    async with demo_database.transaction() as tx:
        account = (await tx.find_accounts(["010000012345"]))[0]
        paid = (await tx.add_service_order(account.id, chat, "meter-verification", "0501234567", None, clock())).id
        free = (await tx.add_service_order(account.id, chat, "meter-noise", "0501234567", None, clock())).id
    refused = await admin.patch(f"/admin/orders/{paid}", headers=AUTH, json={"status": "awaiting_confirmation"})
    assert refused.status == 409 and "has no price: name the order's amount" in (await refused.json())["error"]
    changed = await admin.patch(f"/admin/orders/{paid}", headers=AUTH,
                                json={"status": "awaiting_confirmation", "amount": "350.00"})
    assert changed.status == 200 and (await changed.json())["order"]["amount"] == "350.00"
    refused = await admin.patch(f"/admin/orders/{free}", headers=AUTH, json={"status": "accepted", "amount": "10"})
    assert refused.status == 400 and "meter-noise is a free service" in (await refused.json())["error"]
    refused = await admin.patch(f"/admin/orders/{free}", headers=AUTH, json={"status": "accepted", "amount": "1e3"})
    assert refused.status == 400
    async with demo_database.session() as session:
        assert (await session.get(ServiceOrderRow, free)).status == "sent"
