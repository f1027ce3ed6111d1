"""/service: ordering, my orders, cancelling; the order's legal status changes and the events they leave."""
from datetime import timedelta

import pytest

from core.conversation import Kabinet
from core.messages import EventKind, Incoming
from core.services import (
    ORDER_STATUSES, IllegalTransition, change_order_status, normalise_phone, order_can_go,
)
from tests.support.console import Talk, linked, order


@pytest.mark.parametrize("typed, phone", [
    ("0501234567", "0501234567"), ("+380501234567", "0501234567"), ("380501234567", "0501234567"),
    ("+38 (050) 123-45-67", "0501234567"), ("050 123 45 67", "0501234567"),
    ("501234567", None), ("05012345678", None), ("+48501234567", None), ("phone", None), ("", None),
    ("1501234567", None),
])
def test_phone_numbers(typed, phone):
    assert normalise_phone(typed) == phone


def test_order_transitions():
    assert order_can_go("sent", "accepted") and order_can_go("accepted", "awaiting_confirmation")
    assert order_can_go("awaiting_confirmation", "awaiting_payment") and order_can_go("awaiting_payment", "in_progress")
    assert order_can_go("awaiting_confirmation", "in_progress")  # a free service never awaits payment
    assert order_can_go("awaiting_confirmation", "accepted")  # re-examined, as the seeds' history shows
    assert order_can_go("in_progress", "done")
    assert not order_can_go("accepted", "sent") and not order_can_go("in_progress", "awaiting_payment")
    for status in ORDER_STATUSES[:-2]:
        assert order_can_go(status, "cancelled")
    for final in ("done", "cancelled"):
        assert not any(order_can_go(final, status) for status in ORDER_STATUSES)
    assert not order_can_go("sent", "sent")


# ----- the conversation


async def test_order_a_service_then_follow_and_cancel_it(talk, kabinet, clock):
    await linked(talk)
    await talk.say("/service")
    # Each service says whether it is free (issue 18.12); verification (повірка) is one, and paid.
    assert talk.buttons[:2] == ["Noise in the electricity meter · free", "Extraordinary technical check of the meter · free"]
    assert "Meter verification · paid" in talk.buttons
    assert talk.buttons[-1] == "My orders"
    assert "Enter a contact phone" in await talk.say("1")
    assert talk.replies[-1].request_contact
    assert "Add a comment" in await talk.say("050-123-45-67")
    text = await talk.say("Гуде вночі")
    assert "Order No. 1 is sent: “Noise in the electricity meter”, account 010000012345, phone 0501234567" in text
    assert "Status: Sent" in text
    assert "Services" in talk.buttons

    await talk.say("/service")
    await talk.say("My orders")
    assert "No. 1 Noise in the electricity meter — Sent (30.11.2026 10:00)" in talk.text
    text = await talk.say("Order No. 1")
    assert "Comment: Гуде вночі" in text and "30.11.2026 10:00 — Sent" in text
    assert talk.buttons == ["Cancel the order", "My orders"]
    assert "Cancel order No. 1" in await talk.say("Cancel the order")
    clock.now += timedelta(minutes=5)
    assert "Order No. 1 is cancelled" in await talk.say("Yes, cancel")
    text = await talk.press(action="order:1")
    assert "Status: Cancelled" in text and "30.11.2026 10:05 — Cancelled" in text
    assert "Cancel the order" not in talk.buttons
    assert "already cancelled" in await talk.press(action="ordercancel:1:yes")


async def test_unknown_service_and_bad_phone_are_refused(talk):
    await linked(talk)
    assert "There is no such service" in await talk.say("/service a pizza")
    assert "There is no such service" in await talk.say("a pizza")
    assert "Enter a contact phone" in await talk.say("/service meter-check")
    for bad in ("12345", "+48 501 234 567", "05012345678"):
        assert "not a Ukrainian phone number" in await talk.say(bad)
        assert talk.replies[-1].request_contact
    assert "Add a comment" in await talk.say("0501234567")
    assert "too long" in await talk.say("x" * 1500)
    assert "Order No. 1 is sent" in await talk.say("Skip")


async def test_a_shared_contact_is_the_phone(talk, kabinet):
    await linked(talk)
    await talk.say("/service Шум у електролічильнику")  # a name in another language works too
    replies = await kabinet.handle(Incoming("console", "c1", EventKind.CONTACT, phone="380671112233", language="en"))
    assert "Add a comment" in replies[0].text
    assert "phone 0671112233" in await talk.say("Skip")


async def test_only_the_services_the_utility_offers(demo_database, tmp_path, clock):
    from storage.photos import FilePhotoArchive

    kabinet = Kabinet(store=demo_database, photos=FilePhotoArchive(tmp_path), clock=clock,
                      services=("meter-noise", "reconciliation-act"))
    talk = Talk(kabinet, files=tmp_path)
    await linked(talk)
    await talk.say("/service")
    assert talk.buttons == ["Noise in the electricity meter · free", "Reconciliation act · free", "My orders"]
    assert "There is no such service" in await talk.say("/service meter-check")


async def test_several_accounts_choose_the_account(talk):
    await linked(talk)
    await linked(talk, "1705339110", "Дем'яненко")
    await talk.say("/service reconciliation-act")
    assert "For which account?" in talk.text
    assert talk.buttons[1].startswith("1705339110")
    assert "Enter a contact phone" in await talk.say("2")
    await talk.say("0501234567")
    assert "account 1705339110" in await talk.say("Skip")


async def test_a_done_order_cannot_be_cancelled(talk, kabinet, clock):
    await linked(talk)
    number = int(await order(talk))
    async with kabinet.store.transaction() as tx:
        for status in ("accepted", "awaiting_confirmation", "in_progress", "done"):
            clock.now += timedelta(hours=1)
            await change_order_status(tx, number, status, "Лічильник замінено" if status == "done" else None,
                                      clock())
    await talk.say("/service")
    await talk.say("My orders")
    text = await talk.say(f"Order No. {number}")
    assert "Status: Done" in text and "30.11.2026 14:00 — Done: Лічильник замінено" in text
    assert talk.buttons == ["My orders"]
    assert "already done; a done order cannot be cancelled" in await talk.press(action=f"ordercancel:{number}:yes")


async def test_orders_of_accounts_not_linked_here_are_not_shown(talk, new_talk):
    await linked(talk)
    number = await order(talk)
    other = new_talk("c2")
    await linked(other, "1705339110", "Дем'яненко")
    assert "No such order" in await other.press(action=f"order:{number}")
    assert "No such order" in await other.press(action=f"ordercancel:{number}:yes")
    assert "no service orders yet" in await other.press(action="orders:")
    assert "Cancelled" not in await talk.press(action=f"order:{number}")


async def test_status_changes_are_checked_and_recorded_as_events(talk, kabinet, clock):
    await linked(talk)
    number = int(await order(talk))
    async with kabinet.store.transaction() as tx:
        with pytest.raises(IllegalTransition, match="order .* cannot go from 'sent' to 'sent'"):
            await change_order_status(tx, number, "sent", None, clock())
        with pytest.raises(LookupError):
            await change_order_status(tx, number, "lost", None, clock())
        with pytest.raises(LookupError):
            await change_order_status(tx, 999, "accepted", None, clock())
        change = await change_order_status(tx, number, "accepted", "Прийнято", clock())
        assert (change.previous, change.status, change.by) == ("sent", "accepted", "operator")
        assert change.comment == "Прийнято"
    async with kabinet.store.transaction() as tx:
        changes = await tx.order_changes_after(0)
        assert [(c.order_id, c.status, c.by) for c in changes] == [(number, "sent", "consumer"),
                                                                    (number, "accepted", "operator")]
        assert changes[1].chat_id is not None and changes[1].service == "meter-noise"
        assert await tx.order_changes_after(changes[-1].id) == []
        await change_order_status(tx, number, "cancelled", None, clock(), by="consumer")
        with pytest.raises(IllegalTransition):
            await change_order_status(tx, number, "in_progress", None, clock())
        assert [c.status for c in await tx.order_changes_after(changes[-1].id)] == ["cancelled"]


async def test_forget_keeps_the_order_without_the_chat(talk, kabinet):
    await linked(talk)
    number = int(await order(talk))
    await talk.say("/forget")
    assert "erased" in await talk.say("1")
    async with kabinet.store.transaction() as tx:
        kept = await tx.service_order(number)
        assert kept is not None and kept.chat_id is None
        assert all(change.chat_id is None for change in await tx.order_changes_after(0))


async def test_service_without_a_linked_account(talk):
    assert "No account is linked" in await talk.say("/service")
    assert "No account is linked" in await talk.press(action="orders:")


DEMO_CONVERSATION = """\
/link 1705339110 Дем'яненко
1
/outages
/service
1
+380501234567
Пропустити
/service
Мої заявки
Заявка №1
Скасувати заявку
Так, скасувати
/appeal
Відсутня електроенергія
Немає світла з ранку, сусіди теж без світла
/appeal
Мої звернення
"""


def test_scripted_console_conversation_on_the_demo_data(tmp_path):
    """The issue's done-when: on imported demo data a piped console conversation sees its outage, orders and
    cancels a service, and files an appeal."""
    import os
    import subprocess
    import sys

    environment = {k: v for k, v in os.environ.items() if not k.startswith("KABINET_")}
    environment.update(KABINET_DATA_DIR=str(tmp_path / "var"),
                       KABINET_DATABASE_URL=f"sqlite:///{tmp_path / 'var' / 'kabinet.db'}")

    def kabinet(*args: str, stdin: str = "") -> str:
        done = subprocess.run([sys.executable, "-m", "bot", *args], input=stdin, capture_output=True, text=True,
                              env=environment, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    kabinet("demo", "--no-shell")
    out = kabinet("shell", stdin=DEMO_CONVERSATION)
    assert "Особовий рахунок 1705339110 підключено" in out
    # EM-2026-0412 at the account's grid node TP-102 has no end yet, so it is current whatever the day.
    assert "Аварійне відключення з 22.11.2026 07:30" in out and "Очікуване відновлення: поки невідомо" in out
    assert "Причина: Пошкодження кабельної лінії" in out
    assert "[1] Шум у електролічильнику" in out
    assert "Заявку №1 надіслано: «Шум у електролічильнику», особовий рахунок 1705339110, телефон 0501234567" in out
    assert "Скасувати заявку №1" in out and "Заявку №1 скасовано" in out
    assert "Звернення №1 надіслано до контакт-центру: «Відсутня електроенергія»" in out
    assert "№1 від" in out and "Відсутня електроенергія — Нове" in out and "Немає світла з ранку" in out
    assert "помилка" not in out


async def test_one_order_event_by_id_for_the_outbox(talk, kabinet, clock):
    await linked(talk)
    number = int(await order(talk))
    async with kabinet.store.transaction() as tx:
        change = await change_order_status(tx, number, "accepted", None, clock())
        assert await tx.order_event(change.id) == change
        assert await tx.order_event(change.id + 100) is None


async def test_a_service_typed_by_its_number_in_a_messenger(talk, kabinet):
    await linked(talk)
    await talk.say("/service")
    replies = await kabinet.handle(Incoming.typed("console", "c1", "3", "en"))
    assert replies[0].text.startswith("Reconciliation act.") and replies[0].request_contact
    replies = await kabinet.handle(Incoming.typed("console", "c1", "/service 11", "en"))  # ten services
    assert "There is no such service" in replies[0].text


def test_every_message_of_these_flows_is_in_all_three_languages():
    from pathlib import Path

    from fluent.syntax import FluentParser, ast
    from fluent.syntax.visitor import Visitor

    def messages(language: str) -> dict[str, set[str]]:
        text = (Path(__file__).parent.parent / "locales" / language / "services.ftl").read_text(encoding="utf-8")
        found = {}
        for entry in FluentParser().parse(text).body:
            assert not isinstance(entry, ast.Junk), entry.content
            if isinstance(entry, ast.Message):
                names: set[str] = set()

                class Variables(Visitor):
                    def visit_VariableReference(self, node):
                        names.add(node.id.name)  # noqa: B023 (the visitor runs within this iteration)

                Variables().visit(entry)
                found[entry.id.name] = names
        return found

    ukrainian = messages("uk")
    assert messages("en") == ukrainian and messages("ru") == ukrainian


async def test_another_chat_of_the_account_sees_the_order_masked_and_cannot_cancel_it(talk, new_talk):
    await linked(talk)
    number = await order(talk)
    family = new_talk("family")
    await linked(family)
    await family.say("/service")
    assert f"No. {number} Noise in the electricity meter — Sent" in await family.say("My orders")
    text = await family.say(f"Order No. {number}")
    assert "Phone: 050***67" in text and "0501234567" not in text
    assert family.buttons == ["My orders"]
    assert "Only the chat that placed order" in await family.press(action=f"ordercancel:{number}:yes")
    assert "Only the chat that placed order" in await family.press(action=f"ordercancel:{number}")
    text = await talk.press(action=f"order:{number}")
    assert "Phone: 0501234567" in text and "Status: Sent" in text
    assert "Cancel the order" in [button.label for button in talk.replies[-1].all_buttons()]
    assert f"Order No. {number} is cancelled" in await talk.press(action=f"ordercancel:{number}:yes")
