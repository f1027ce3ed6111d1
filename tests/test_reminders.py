"""Reminder rules on imported demo data with a controlled clock; the outbox and the dispatcher."""
import asyncio
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select, update

from core.model import ChatSettings
from core.notifications import ChatUnreachable, RetryAfter, TransientFailure
from core.receipts import NBU_QR_LINK
from storage.models import AccountRow, ChatAccountRow, ChatRow, OutboxRow
from tests.support.console import Talk, linked
from tests.support.demo import KYIV
from tests.support.reminders import RecordingSender, dispatcher_for, two_chats


class ButtonRecordingSender:
    """The messenger's edge, keeping whole replies (with their buttons)."""

    def __init__(self):
        self.replies = []

    async def deliver(self, external_id, replies):
        self.replies.extend((external_id, reply) for reply in replies)


async def outbox_rows(database):
    async with database.session() as session:
        rows = await session.execute(select(OutboxRow.chat_id, OutboxRow.kind, OutboxRow.subject, OutboxRow.period,
                                            OutboxRow.status).order_by(OutboxRow.id))
        return [tuple(r) for r in rows]


async def test_reading_window_reminder_the_day_before_only(kabinet, planner, clock, demo_database, tmp_path):
    await two_chats(kabinet, tmp_path)
    clock.set(2026, 11, 27, 9, 0)
    assert (await planner.run("reading-window"))[0] == 0  # the window opens on the 29th
    clock.set(2026, 11, 28, 9, 0)
    assert (await planner.run("reading-window"))[0] == 3
    assert (await planner.run("reading-window"))[0] == 0  # planning twice plans once
    rows = await outbox_rows(demo_database)
    assert {(kind, subject, period) for _, kind, subject, period, _ in rows} == {
        ("reading-window", "010000012345", "2026-11-29"), ("reading-window", "1705339110", "2026-11-29"),
        ("reading-window", "020000054321", "2026-11-29")}


async def test_a_job_plans_its_rows_in_the_order_of_their_keys(kabinet, planner, clock, demo_database):
    """At a million chats the outbox's key index outgrows the server's cache: rows inserted in key order reach
    its pages one after another, not at random (docs/benchmarks.md, "Reminder planning")."""
    async with demo_database.session() as session:
        account_id = await session.scalar(select(AccountRow.id).where(AccountRow.number == "010000012345"))
        for n in range(1, 13):  # chat ids 1..12: "10:…" sorts before "2:…"
            session.add(ChatRow(id=n, channel="console", external_id=f"k{n}", language="uk", active=True,
                                created_at=clock()))
        await session.flush()
        session.add_all(ChatAccountRow(chat_id=n, account_id=account_id, linked_at=clock()) for n in range(1, 13))
    clock.set(2026, 11, 28, 9, 0)
    assert (await planner.run("reading-window"))[0] == 12
    async with demo_database.session() as session:
        in_order_planned = list(await session.scalars(select(OutboxRow.key).order_by(OutboxRow.id)))
        in_key_order = list(await session.scalars(select(OutboxRow.key).order_by(OutboxRow.key)))
    assert in_order_planned == in_key_order
    assert (await planner.run("reading-window"))[0] == 0


async def test_last_day_reminder_only_to_those_who_have_not_submitted(kabinet, planner, clock, demo_database, tmp_path):
    one, two = await two_chats(kabinet, tmp_path)
    clock.set(2026, 12, 2, 12, 0)
    assert "accepted" in await one.say("/reading 12500")
    clock.set(2026, 12, 3, 9, 0)  # the last day of the window that opened on 29.11
    assert (await planner.run("reading-last-day"))[0] == 2
    assert {subject for _, _, subject, _, _ in await outbox_rows(demo_database)} == {"1705339110", "020000054321"}


async def test_invoice_debt_and_verification_rules(kabinet, planner, clock, demo_database, tmp_path):
    await two_chats(kabinet, tmp_path)
    clock.set(2026, 11, 8, 9, 0)
    assert (await planner.run("invoices"))[0] == 3  # issued 03.11, within a week; 2026-09's is history
    clock.set(2026, 11, 21, 9, 0)
    assert (await planner.run("debts"))[0] == 2  # 245,60 and 18 250,40 owed after the 20.11 due date; not the overpaid
    assert (await planner.run("verifications"))[0] == 2  # 0123456 due 15.01.2027 (within 90 days), 55501 expired
    assert (await planner.run("verifications"))[0] == 0
    clock.set(2026, 12, 21, 9, 0)
    assert (await planner.run("verifications"))[0] == 1  # expired: again next month; the due one only once
    kinds = [kind for _, kind, *_ in await outbox_rows(demo_database)]
    assert kinds.count("invoice") == 3 and kinds.count("debt") == 2 and kinds.count("verification") == 3


async def test_dry_run_plans_nothing(kabinet, planner, clock, demo_database, tmp_path):
    await two_chats(kabinet, tmp_path)
    clock.set(2026, 11, 28, 9, 0)
    planned, rows, _ = await planner.run("reading-window", dry_run=True)
    assert planned == 3 and len(rows) == 3
    assert await outbox_rows(demo_database) == []
    # What `kabinet jobs run --dry-run` prints is read from the rows after the job's session is gone (issue 18.7).
    assert {(row.kind, row.period) for row in rows} == {("reading-window", "2026-11-29")}
    assert all(row.chat_id and row.subject for row in rows)


async def test_a_debt_is_what_is_owed_now_not_the_balance_as_of_its_day(kabinet, planner, clock, demo_database, tmp_path):
    """A balance of 0 on 01.11 with October's invoice unpaid after its due date is a debt (issue 18.3)."""
    await two_chats(kabinet, tmp_path)
    async with demo_database.session() as session:
        await session.execute(update(AccountRow).where(AccountRow.number == "010000012345").values(balance=0))
    clock.set(2026, 11, 21, 9, 0)
    await planner.run("debts")
    sender = RecordingSender()
    await dispatcher_for(demo_database, kabinet, clock, sender).run_once()
    assert ("c1", "❗ Account 010000012345 owes UAH 412.80: the payment was due on 20.11.2026.") in sender.sent


async def test_dispatcher_renders_in_the_chats_language_and_sends_once(kabinet, planner, clock, demo_database, tmp_path):
    await two_chats(kabinet, tmp_path)
    await Talk(kabinet, chat_id="c2", files=tmp_path).say("/language uk")
    clock.set(2026, 11, 21, 9, 0)
    await planner.run("debts")
    sender = RecordingSender()
    dispatcher = dispatcher_for(demo_database, kabinet, clock, sender)
    assert await dispatcher.run_once() == 2
    assert await dispatcher.run_once() == 0
    assert sorted(sender.sent) == [
        # The amount /balance calls "to pay now" (issue 18.3), not the balance as of its day.
        ("c1", "❗ Account 010000012345 owes UAH 658.40: the payment was due on 20.11.2026."),
        ("c2", "❗ За особовим рахунком 020000054321 заборгованість 36 500,80 грн: строк оплати минув 20.11.2026."),
    ]
    assert {status for *_, status in await outbox_rows(demo_database)} == {"sent"}


async def test_a_debt_paid_before_sending_is_skipped(kabinet, planner, clock, demo_database, tmp_path):
    await two_chats(kabinet, tmp_path)
    clock.set(2026, 11, 21, 9, 0)
    await planner.run("debts")
    async with demo_database.session() as session:  # the next import: nothing owed as of 20.11
        await session.execute(update(AccountRow).where(AccountRow.number == "010000012345")
                              .values(balance=0, balance_on=date(2026, 11, 20)))
    sender = RecordingSender()
    await dispatcher_for(demo_database, kabinet, clock, sender).run_once()
    assert [chat for chat, _ in sender.sent] == ["c2"]
    assert sorted(status for *_, status in await outbox_rows(demo_database)) == ["sent", "skipped"]


async def test_a_debt_reminder_pays_through_the_bank_app_and_by_card_only_where_liqpay_is(
        kabinet, planner, clock, demo_database, tmp_path):
    await two_chats(kabinet, tmp_path)
    clock.set(2026, 11, 21, 12, 0)
    await planner.run("debts")
    sender = ButtonRecordingSender()
    await dispatcher_for(demo_database, kabinet, clock, sender).run_once()
    buttons = {chat: [(b.label, b.url[:len(NBU_QR_LINK)]) for b in reply.all_buttons()] for chat, reply in sender.replies}
    assert buttons == {"c1": [("Pay UAH 658.40", NBU_QR_LINK)], "c2": [("Pay UAH 36,500.80", NBU_QR_LINK)]}
    kabinet.payee = None  # no payment details configured: nothing to pay with
    async with demo_database.session() as session:
        await session.execute(update(OutboxRow).values(status="queued"))
    sender = ButtonRecordingSender()
    await dispatcher_for(demo_database, kabinet, clock, sender).run_once()
    assert len(sender.replies) == 2 and not [reply for _, reply in sender.replies if reply.buttons]


async def test_switched_off_and_quiet_hours(kabinet, planner, clock, demo_database, tmp_path):
    await two_chats(kabinet, tmp_path)
    clock.set(2026, 11, 21, 23, 0)
    await planner.run("debts")
    async with demo_database.transaction() as tx:  # c1 turns debts off; c2 keeps the default quiet hours 22–08
        await tx.save_chat_settings(1, ChatSettings(switched_off=frozenset({"invoice"})), clock())
    sender = RecordingSender()
    dispatcher = dispatcher_for(demo_database, kabinet, clock, sender)
    await dispatcher.run_once()
    assert sender.sent == []
    clock.set(2026, 11, 22, 7, 59)
    assert await dispatcher.run_once() == 0  # held until 08:00
    clock.set(2026, 11, 22, 8, 0)
    await dispatcher.run_once()
    assert [chat for chat, _ in sender.sent] == ["c2"]


async def test_quiet_hours_switched_off_release_what_they_held(kabinet, planner, clock, demo_database, tmp_path):
    """Issue 18.8: a consumer who turns quiet hours off at night gets what they were holding, not at 08:00."""
    one, two = await two_chats(kabinet, tmp_path)
    clock.set(2026, 11, 21, 23, 0)
    await planner.run("debts")
    sender = RecordingSender()
    dispatcher = dispatcher_for(demo_database, kabinet, clock, sender)
    await dispatcher.run_once()
    assert sender.sent == []  # both held by the default quiet hours
    assert "Quiet hours: off" in await two.say("/settings quiet off")
    await dispatcher.run_once()
    assert [chat for chat, _ in sender.sent] == ["c2"]  # c1 still has its quiet hours
    assert "Quiet hours: 01:00–05:00" in await one.say("/settings quiet 1-5")
    await dispatcher.run_once()
    assert [chat for chat, _ in sender.sent] == ["c2", "c1"]  # 23:00 is outside c1's new hours


async def test_the_verification_reminder_opens_the_verification_order(kabinet, planner, clock, demo_database, tmp_path):
    """Issue 18.12: the reminder no longer says "/service" (where no service was verification): its button orders it."""
    one, _ = await two_chats(kabinet, tmp_path)
    clock.set(2026, 11, 21, 9, 0)
    await planner.run("verifications")
    sender = ButtonRecordingSender()
    await dispatcher_for(demo_database, kabinet, clock, sender).run_once()
    [(text, buttons)] = [(reply.text, reply.buttons) for chat, reply in sender.replies if chat == "c1"]
    assert "must be verified by 15.01.2027" in text and "/service" not in text
    [[order]] = buttons
    assert order.label == "Order a verification"
    assert "Meter verification. Enter a contact phone" in await one.press(action=order.action)


async def test_blocked_chat_is_marked_and_not_retried(kabinet, planner, clock, demo_database, tmp_path):
    await two_chats(kabinet, tmp_path)
    clock.set(2026, 11, 21, 9, 0)
    await planner.run("debts")
    sender = RecordingSender(fail=lambda chat, _: ChatUnreachable("blocked") if chat == "c1" else None)
    await dispatcher_for(demo_database, kabinet, clock, sender).run_once()
    async with demo_database.session() as session:
        active = dict((await session.execute(select(ChatRow.external_id, ChatRow.active))).all())
    assert active == {"c1": False, "c2": True}
    assert sorted(status for *_, status in await outbox_rows(demo_database)) == ["failed", "sent"]
    clock.set(2026, 12, 21, 9, 0)
    assert (await planner.run("verifications"))[0] == 1  # c2's expired 55501; c1's meter is not planned now
    assert [subject for _, kind, subject, *_ in await outbox_rows(demo_database) if kind == "verification"] == ["3"]


async def test_retry_after_and_transient_failures_are_retried(kabinet, planner, clock, demo_database, tmp_path):
    await two_chats(kabinet, tmp_path)
    clock.set(2026, 11, 21, 9, 0)
    await planner.run("debts")
    failures = iter([RetryAfter(0.05), TransientFailure("502")])
    sender = RecordingSender(fail=lambda chat, _: next(failures, None) if chat == "c1" else None)
    dispatcher = dispatcher_for(demo_database, kabinet, clock, sender)
    await dispatcher.run_once()
    assert [chat for chat, _ in sender.sent] == ["c2"]
    clock.now += timedelta(seconds=1)
    await dispatcher.run_once()  # the 429 does not count as an attempt; now a 502
    clock.now += timedelta(seconds=10)
    await dispatcher.run_once()
    assert sorted(chat for chat, _ in sender.sent) == ["c1", "c2"]
    assert dispatcher.stats.rate_limited == 1 and dispatcher.stats.retried == 1


async def test_a_dispatcher_killed_mid_run_loses_nothing_and_repeats_at_most_one(
        kabinet, planner, clock, demo_database, tmp_path):
    for number in range(12):
        talk = Talk(kabinet, chat_id=f"k{number}", files=tmp_path)
        await linked(talk)
    clock.set(2026, 11, 21, 9, 0)
    assert (await planner.run("debts"))[0] == 12
    sender = RecordingSender()
    started = asyncio.Event()

    class Slow(RecordingSender):
        async def deliver(self, external_id, replies):
            await sender.deliver(external_id, replies)
            if len(sender.sent) == 5:
                started.set()
                await asyncio.sleep(3600)  # killed here: sent, not yet recorded

    first = dispatcher_for(demo_database, kabinet, clock, Slow(), concurrency=1)
    task = asyncio.create_task(first.run_once())
    await asyncio.wait_for(started.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    clock.now += timedelta(minutes=3)  # the dead dispatcher's lease expires
    second = dispatcher_for(demo_database, kabinet, clock, sender)
    while await second.run_once():
        pass
    chats = [chat for chat, _ in sender.sent]
    assert set(chats) == {f"k{n}" for n in range(12)}
    assert len(chats) - len(set(chats)) <= 1
    # (the chats linking one account told each other so, on the 30th: those notices are not due yet)
    assert {status for _, kind, *_, status in await outbox_rows(demo_database) if kind == "debt"} == {"sent"}


async def test_two_dispatchers_share_the_outbox_without_duplicates(kabinet, planner, clock, demo_database, tmp_path):
    for number in range(30):
        await linked(Talk(kabinet, chat_id=f"m{number}", files=tmp_path))
    clock.set(2026, 11, 21, 9, 0)
    await planner.run("debts")
    sender = RecordingSender()

    class Unhurried(RecordingSender):
        async def deliver(self, external_id, replies):
            await asyncio.sleep(0.01)  # a network round trip, so that the two really overlap
            await sender.deliver(external_id, replies)

    one = dispatcher_for(demo_database, kabinet, clock, Unhurried(), batch=4)
    two = dispatcher_for(demo_database, kabinet, clock, Unhurried(), batch=4)

    async def drain(dispatcher):
        while [status for _, kind, *_, status in await outbox_rows(demo_database)
               if kind == "debt" and status in ("queued", "sending")]:
            await dispatcher.run_once()

    await asyncio.gather(drain(one), drain(two))
    chats = [chat for chat, _ in sender.sent]
    assert sorted(chats) == sorted(f"m{n}" for n in range(30))
    if not demo_database.is_sqlite:
        assert one.stats.sent > 0 and two.stats.sent > 0


async def test_outage_notices_reach_the_touched_chats_even_at_night_and_its_end(
        kabinet, planner, clock, demo_database, tmp_path):
    await two_chats(kabinet, tmp_path)
    clock.set(2026, 11, 22, 23, 30)  # inside the default quiet hours: outages still go out
    assert (await planner.run("outages"))[0] == 2
    assert (await planner.run("outages"))[0] == 0
    sender = RecordingSender()
    dispatcher = dispatcher_for(demo_database, kabinet, clock, sender)
    await dispatcher.run_once()
    assert sorted(sender.sent) == [
        ("c1", "🔌 Planned outage: from 25.11.2026 09:00 to 25.11.2026 17:00. Reason: Планова заміна опор ЛЕП-0.4 кВ."),
        ("c2", "⚡ Emergency outage since 22.11.2026 07:30, expected restoration: not known yet. "
               "Reason: Пошкодження кабельної лінії."),
    ]
    from storage.models import OutageRow

    async with demo_database.session() as session:
        await session.execute(update(OutageRow).where(OutageRow.code == "EM-2026-0412")
                              .values(ends_at=datetime(2026, 11, 22, 23, 0, tzinfo=KYIV)))
    assert (await planner.run("outages"))[0] == 1
    await dispatcher.run_once()
    assert sender.sent[-1] == ("c2", "✅ The outage is over, power is restored (Пошкодження кабельної лінії).")


async def test_order_status_changed_by_the_utility_reaches_the_consumer_once(
        kabinet, planner, clock, demo_database, tmp_path):
    from core.services import change_order_status
    from tests.support.console import order

    one, _ = await two_chats(kabinet, tmp_path)
    number = int(await order(one))
    assert (await planner.run("orders"))[0] == 0  # the consumer's own order is not news to them
    async with demo_database.transaction() as tx:
        await change_order_status(tx, number, "accepted", "Майстер зателефонує", clock())
    assert (await planner.run("orders"))[0] == 1
    assert (await planner.run("orders"))[0] == 0
    sender = RecordingSender()
    await dispatcher_for(demo_database, kabinet, clock, sender).run_once()
    assert sender.sent == [("c1", f"📋 Order No. {number} “Noise in the electricity meter”: Accepted.\n"
                                  "Comment: Майстер зателефонує")]


async def test_chats_linked_to_an_account_are_told_when_another_chat_links_it(kabinet, clock, demo_database,
                                                                                 tmp_path):
    owner = Talk(kabinet, chat_id="owner", language="uk", files=tmp_path)
    await owner.say("/link 010000012345 Шевченко")
    await owner.say("1")
    spouse = Talk(kabinet, chat_id="spouse", language="ru", files=tmp_path)
    await spouse.say("/link 010000012345 Шевченко")
    assert "подключён" in await spouse.say("1")
    clock.now += timedelta(minutes=5)
    stranger = Talk(kabinet, chat_id="stranger", files=tmp_path)
    await linked(stranger)
    await linked(stranger)  # linked already: nobody is told again
    await linked(stranger, "1705339110", "Дем'яненко")  # an account nobody else has
    sender = RecordingSender()
    dispatcher = dispatcher_for(demo_database, kabinet, clock, sender)
    while await dispatcher.run_once():
        pass
    assert sorted(sender.sent) == [
        ("owner", "🔐 Ваш особовий рахунок 010000012345 підключено з іншого чату через console 30.11.2026 10:00. "
                  "Якщо це були не ви, зверніться до контакт-центру: /appeal"),
        ("owner", "🔐 Ваш особовий рахунок 010000012345 підключено з іншого чату через console 30.11.2026 10:05. "
                  "Якщо це були не ви, зверніться до контакт-центру: /appeal"),
        ("spouse", "🔐 Ваш лицевой счёт 010000012345 подключён из другого чата через console 30.11.2026 10:05. "
                   "Если это были не вы, обратитесь в контакт-центр: /appeal"),
    ]
    while await dispatcher.run_once():
        pass
    assert len(sender.sent) == 3  # once
