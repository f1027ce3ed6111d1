"""Notices by e-mail (issue 19.3): invoices with their PDF and the notices a chat chose go to its confirmed address
too, through the outbox, with e-mail's own pace and tries; against a real local SMTP server (aiosmtpd), on SQLite
and PostgreSQL."""
from __future__ import annotations

import asyncio
import io
import logging
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from pypdf import PdfReader
from sqlalchemy import select, update

from benchmarks.scratch import scratch_database
from core.i18n import Translator
from core.receipts import NBU_QR_LINK
from storage.migrate import alembic_config, upgrade
from storage.models import OutboxRow
from tests.support.demo import BACKENDS
from tests.support.schema import inspected
from tests.support.reminders import RecordingSender, dispatcher_for, two_chats

NOW = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


async def confirmed(kabinet, external_id: str, address: str, notices: set[str] | None = None) -> int:
    """The chat's address, as /settings leaves it once the code is typed back; returns the chat's id."""
    async with kabinet.store.transaction() as tx:
        chat = await tx.chat("console", external_id, "en")
        await tx.confirm_email(chat.id, address, NOW)
        if notices is not None:
            await tx.set_email_notices(chat.id, frozenset(notices))
        return chat.id


async def drain(dispatcher) -> None:
    """Rounds until nothing is due: a chat's row plans its e-mail row, which the next round sends."""
    while await dispatcher.run_once():
        pass


async def outbox(database, via: str | None = "email") -> list[OutboxRow]:
    async with database.session() as session:
        return list(await session.scalars(select(OutboxRow).where(
            OutboxRow.via == via if via is not None else OutboxRow.via.is_(None)).order_by(OutboxRow.id)))


def body(message) -> str:
    return message.get_body(("plain",)).get_content().replace("\xa0", " ")


async def test_an_invoice_reaches_the_chat_and_the_confirmed_address_with_its_pdf(
        kabinet, planner, clock, demo_database, tmp_path, smtp_server, mailer):
    await two_chats(kabinet, tmp_path)
    await confirmed(kabinet, "c1", "olena@ukr.net")
    clock.set(2026, 11, 8, 9, 0)
    assert (await planner.run("invoices"))[0] == 3
    chats = RecordingSender()
    await drain(dispatcher_for(demo_database, kabinet, clock, chats, mailer=mailer))
    assert len(chats.sent) == 3  # the chats' own notices, as without e-mail
    [message] = smtp_server.mailbox.messages
    assert smtp_server.mailbox.envelopes == [("rahunky@demo-energo.ua", ["olena@ukr.net"])]
    assert message["Subject"] == "The invoice for October 2026, account 010000012345"
    text = body(message)
    assert "The invoice for October 2026 for account 010000012345: UAH 712.80 for 165 kWh, due by 20.11.2026" in text
    assert f"Pay UAH 658.40: {NBU_QR_LINK}" in text  # what is still unpaid of it, payable from the e-mail
    assert "/settings" in text  # the footer: why this e-mail comes and where to stop it
    [attachment] = list(message.iter_attachments())
    assert (attachment.get_content_type(), attachment.get_filename()) == (
        "application/pdf", "invoice-010000012345-2026-10.pdf")
    pdf = PdfReader(io.BytesIO(attachment.get_content()))
    page = pdf.pages[0].extract_text()
    assert "010000012345" in page and "October 2026" in page and "658.40" in page
    [row] = await outbox(demo_database)
    assert (row.kind, row.subject, row.period, row.status, row.key) == (
        "invoice", "010000012345", "2026-10", "sent", f"{row.chat_id}:invoice:010000012345:2026-10:email")
    assert message["Message-ID"] == f"<kabinet-outbox-{row.id}@demo-energo.ua>"


async def test_only_the_notices_the_chat_chose_go_by_e_mail(
        kabinet, planner, clock, demo_database, tmp_path, smtp_server, mailer):
    await two_chats(kabinet, tmp_path)
    await confirmed(kabinet, "c1", "olena@ukr.net", {"debt"})  # not the invoices any more
    clock.set(2026, 11, 8, 9, 0)
    await planner.run("invoices")
    clock.set(2026, 11, 21, 12, 0)
    await planner.run("debts")
    chats = RecordingSender()
    await drain(dispatcher_for(demo_database, kabinet, clock, chats, mailer=mailer))
    assert len(chats.sent) == 5  # 3 invoices, 2 debts: the chats' own switches, untouched by e-mail's
    [message] = smtp_server.mailbox.messages
    assert message["Subject"] == "Debt on account 010000012345"
    text = body(message)
    assert "Account 010000012345 owes UAH 658.40: the payment was due on 20.11.2026." in text
    assert f"Pay UAH 658.40: {NBU_QR_LINK}" in text
    assert list(message.iter_attachments()) == []
    assert [row.kind for row in await outbox(demo_database)] == ["debt"]


async def test_a_refused_send_is_retried_with_backoff_and_the_chat_is_not_held_up(
        kabinet, planner, clock, demo_database, tmp_path, smtp_server, mailer):
    await two_chats(kabinet, tmp_path)
    await confirmed(kabinet, "c1", "olena@ukr.net")
    clock.set(2026, 11, 8, 9, 0)
    await planner.run("invoices")
    chats = RecordingSender()
    dispatcher = dispatcher_for(demo_database, kabinet, clock, chats, mailer=mailer)
    smtp_server.stop()  # the mail server is down
    await drain(dispatcher)
    assert len(chats.sent) == 3 and {row.status for row in await outbox(demo_database, None)} == {"sent"}
    [row] = await outbox(demo_database)
    assert (row.status, row.attempts, row.outcome.startswith("retrying")) == ("queued", 1, True)
    assert row.not_before == clock() + timedelta(seconds=5)
    smtp_server.start()
    smtp_server.mailbox.answers = ["451 4.3.0 Mailbox busy, try later"]  # back, and busy
    clock.now += timedelta(seconds=5)
    await drain(dispatcher)
    [row] = await outbox(demo_database)
    assert (row.status, row.attempts, row.outcome) == ("queued", 2, "retrying: 451 4.3.0 Mailbox busy, try later")
    assert row.not_before == clock() + timedelta(seconds=10)  # backing off as a messenger's send does
    clock.now += timedelta(seconds=10)
    await drain(dispatcher)
    [row] = await outbox(demo_database)
    assert (row.status, row.attempts) == ("sent", 2)
    assert [message["Subject"] for message in smtp_server.mailbox.messages] == [
        "The invoice for October 2026, account 010000012345"]
    assert len(chats.sent) == 3  # nothing sent to the chats again


async def invoice_mailed(kabinet, planner, clock, database, tmp_path, mailer, caplog, address: str):
    """c1's October invoice mailed to `address` (invoices and debts chosen), the dispatcher's warnings caught;
    returns c1's id, the dispatcher and c1's console chat."""
    one, _ = await two_chats(kabinet, tmp_path)
    chat_id = await confirmed(kabinet, "c1", address, {"invoice", "debt"})
    clock.set(2026, 11, 8, 9, 0)
    await planner.run("invoices")
    dispatcher = dispatcher_for(database, kabinet, clock, RecordingSender(), mailer=mailer)
    with caplog.at_level(logging.WARNING, logger="scheduler.dispatcher"):
        await drain(dispatcher)
    return chat_id, dispatcher, one


async def test_a_mailbox_refused_for_good_stops_the_tries_and_is_logged(
        kabinet, planner, clock, demo_database, tmp_path, smtp_server, mailer, caplog):
    smtp_server.mailbox.answers = ["550 5.1.1 No such user here"]
    chat_id, dispatcher, c1 = await invoice_mailed(kabinet, planner, clock, demo_database, tmp_path, mailer, caplog,
                                                   "gone@ukr.net")
    [row] = await outbox(demo_database)
    assert (row.status, row.attempts, row.outcome) == ("failed", 1, "refused: 550 5.1.1 No such user here")
    assert any("refused the address" in line and "550" in line for line in caplog.messages)
    async with kabinet.store.transaction() as tx:
        assert (await tx.chat_email(chat_id)).refused_at is not None
    clock.set(2026, 11, 21, 12, 0)
    await planner.run("debts")
    await drain(dispatcher)  # the chat's debt reminder: nothing for the refused address
    assert len(await outbox(demo_database)) == 1 and smtp_server.mailbox.messages == []
    kabinet.mailer = mailer
    await c1.say("/settings")  # the consumer sees why nothing comes, and what to do
    assert "E-mail: gone@ukr.net ⚠" in c1.buttons
    assert "does not take e-mail for gone@ukr.net, so we send nothing there" in await c1.press("E-mail: gone@ukr.net ⚠")
    assert c1.buttons == ["Change e-mail", "Remove e-mail"]


async def test_a_message_refused_for_good_is_not_tried_again_and_the_address_stays(
        kabinet, planner, clock, demo_database, tmp_path, smtp_server, mailer, caplog):
    smtp_server.mailbox.refuse_data = "554 5.7.1 Message rejected as spam"
    chat_id, dispatcher, _ = await invoice_mailed(kabinet, planner, clock, demo_database, tmp_path, mailer, caplog,
                                                  "olena@ukr.net")
    [row] = await outbox(demo_database)
    assert (row.status, row.outcome) == ("failed", "refused: 554 5.7.1 Message rejected as spam")
    assert any("refused outbox row" in line and "554" in line for line in caplog.messages)
    async with kabinet.store.transaction() as tx:
        assert (await tx.chat_email(chat_id)).refused_at is None  # this message, not the mailbox
    clock.set(2026, 11, 21, 12, 0)
    await planner.run("debts")
    await drain(dispatcher)
    assert [message["Subject"] for message in smtp_server.mailbox.messages] == ["Debt on account 010000012345"]


async def test_no_smtp_configured_nothing_is_queued_for_e_mail(kabinet, planner, clock, demo_database, tmp_path):
    await two_chats(kabinet, tmp_path)
    await confirmed(kabinet, "c1", "olena@ukr.net", {"invoice", "debt"})  # given while e-mail was configured
    clock.set(2026, 11, 8, 9, 0)
    await planner.run("invoices")
    clock.set(2026, 11, 21, 12, 0)
    await planner.run("debts")
    chats = RecordingSender()
    await drain(dispatcher_for(demo_database, kabinet, clock, chats))
    assert len(chats.sent) == 5 and await outbox(demo_database) == []


async def test_a_notice_is_mailed_once_when_its_chat_row_is_handled_again(
        kabinet, planner, clock, demo_database, tmp_path, smtp_server, mailer):
    """A dispatcher that dies after sending to the chat, before recording it: its lease runs out, another
    dispatcher sends the chat's row again (the messenger's at-least-once), but the e-mail is planned once."""
    await two_chats(kabinet, tmp_path)
    await confirmed(kabinet, "c1", "olena@ukr.net")
    clock.set(2026, 11, 8, 9, 0)
    await planner.run("invoices")
    await drain(dispatcher_for(demo_database, kabinet, clock, RecordingSender(), mailer=mailer))
    async with demo_database.session() as session:
        await session.execute(update(OutboxRow).where(OutboxRow.via.is_(None))
                              .values(status="sending", claimed_until=clock() - timedelta(seconds=1)))
    restarted = dispatcher_for(demo_database, kabinet, clock, RecordingSender(), mailer=mailer)
    await drain(restarted)
    assert restarted.stats.sent == 3  # the chats' rows, again
    assert len(await outbox(demo_database)) == 1 and len(smtp_server.mailbox.messages) == 1


async def test_an_outage_and_the_reading_window_go_by_e_mail_when_chosen(
        kabinet, planner, clock, demo_database, tmp_path, smtp_server, mailer):
    await two_chats(kabinet, tmp_path)
    await confirmed(kabinet, "c1", "olena@ukr.net", {"reading", "outages"})
    dispatcher = dispatcher_for(demo_database, kabinet, clock, RecordingSender(), mailer=mailer)
    clock.set(2026, 11, 22, 9, 0)
    await planner.run("outages")
    await drain(dispatcher)
    clock.set(2026, 11, 28, 9, 0)
    await planner.run("reading-window")
    await drain(dispatcher)
    outage, reading = smtp_server.mailbox.messages
    assert outage["Subject"] == "Power outage" and "25.11.2026 09:00" in body(outage)
    assert reading["Subject"] == "Time to submit meter readings, account 010000012345"
    assert "Tomorrow, 29.11.2026, the window for meter readings opens" in body(reading)
    assert [row.kind for row in await outbox(demo_database)] == ["outage", "reading-window"]


# ----- the chooser in /settings


@pytest.fixture
async def mailing(kabinet, mailer):
    kabinet.mailer = mailer
    return kabinet


async def test_the_chooser_turns_kinds_of_notices_on_and_off_for_the_address(talk, mailing):
    await talk.say("/settings")
    await talk.say("E-mail: not set")
    assert "What goes by e-mail" not in talk.buttons  # no address, no chooser
    assert Translator()("en", "button-stale") in await talk.press(action="mailnotice:debt")
    chat_id = await confirmed(mailing, "c1", "olena@ukr.net")
    await talk.say("/settings")
    await talk.press("E-mail: olena@ukr.net")
    assert "What should also go to olena@ukr.net?" in await talk.press("What goes by e-mail")
    assert talk.buttons == ["✅ Monthly invoices (with the PDF)", "⬜ Debt reminders", "⬜ Reading window",
                            "⬜ Meter verification", "⬜ Outages", "⬜ Order status"]
    assert "“Debt reminders” will come by e-mail too." in await talk.press("⬜ Debt reminders")
    assert "“Monthly invoices (with the PDF)” will no longer come by e-mail." in await talk.press(
        "✅ Monthly invoices (with the PDF)")
    assert talk.buttons[:2] == ["⬜ Monthly invoices (with the PDF)", "✅ Debt reminders"]
    async with mailing.store.transaction() as tx:
        assert (await tx.chat_email(chat_id)).notices == {"debt"}
        await tx.remove_email(chat_id)
    assert Translator()("en", "button-stale") in await talk.press("✅ Debt reminders")  # the address is gone
    assert Translator()("en", "button-stale") in await talk.press(action="mailnotice:everything")


# ----- the migration


@pytest.mark.parametrize("backend", BACKENDS)
async def test_migration_0015_goes_down_and_up(backend):
    async def columns(url: str) -> set[str]:
        return {column["name"] for column in await inspected(url, lambda schema: schema.get_columns("outbox"))}

    async with scratch_database(backend) as url:
        await asyncio.to_thread(upgrade, url)
        assert "via" in await columns(url)
        await asyncio.to_thread(command.downgrade, alembic_config(url), "0011")
        assert "via" not in await columns(url)
        await asyncio.to_thread(upgrade, url)
        assert "via" in await columns(url)
