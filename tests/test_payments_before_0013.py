"""Payments imported before migration 0013 were stored without their payments.csv `reference`: a billing that sends
its history again after the upgrade, references and all, gets each of them once, not twice; on SQLite and
PostgreSQL, from a database made at 0011 and upgraded."""
from __future__ import annotations

import asyncio
import shutil
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import AsyncIterator

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from core.conversation import Kabinet
from core.i18n import Translator
from core.readings import ReadingWindow
from storage import queries_payments as payments
from storage.database import Database
from storage.exchange import import_folder
from storage.migrate import upgrade
from storage.models import OnlinePaymentRow, PaymentRow
from storage.photos import FilePhotoArchive
from tests.support.console import Talk, linked
from tests.support.demo import BACKENDS, DEMO, KYIV, Clock

ACCOUNT = "010000012345"
HEADER = "account,paid_on,amount,purpose,reference"
ACCOUNT_SQL = (
    "INSERT INTO accounts (number, surname, full_name, address, settlement, consumer_type, tariff_plan, balance,"
    f" balance_on) VALUES ('{ACCOUNT}', 'Шевченко', 'Шевченко Т. Г.', 'адреса', 'Харків', 'household', 'flat',"
    " 245.60, '2026-11-01')")
ACCOUNT_ID = f"(SELECT id FROM accounts WHERE number = '{ACCOUNT}')"


def payment_sql(paid_on: str, amount: str, purpose: str) -> str:
    """A payment as the import stored it before 0013: no reference, whatever its file row had."""
    return (f"INSERT INTO payments (account_id, paid_on, amount, purpose) VALUES ({ACCOUNT_ID}, '{paid_on}', {amount},"
            f" '{purpose}')")


def online_sql(order_id: str, payment_id: str, amount: str, paid_at: str, reconciled_to: str | None) -> str:
    """A LiqPay payment of the account paid at `paid_at` (UTC), reconciled to the payment of the day `reconciled_to`
    (as the import named it), or pending."""
    reconciled = (f"'{paid_at}', 'payments.csv #' || (SELECT id FROM payments WHERE paid_on = '{reconciled_to}')"
                  if reconciled_to else "NULL, NULL")
    return ("INSERT INTO online_payments (order_id, provider, account_id, amount, currency, status, provider_status,"
            " payment_id, created_at, paid_at, reconciled_at, reconciled_ref) VALUES"
            f" ('{order_id}', 'liqpay', {ACCOUNT_ID}, {amount}, 'UAH', 'paid', 'success', '{payment_id}', '{paid_at}',"
            f" '{paid_at}', {reconciled})")


@asynccontextmanager
async def upgraded(backend: str, tmp_path: Path, *rows_before_0013: str) -> AsyncIterator[Database]:
    """A database made at 0011 with `rows_before_0013` (SQL), upgraded to the head, the demo's other files imported."""
    from benchmarks.scratch import scratch_database

    async with scratch_database(backend) as url:
        await asyncio.to_thread(upgrade, url, "0011")
        engine = create_async_engine(url)
        try:
            async with engine.begin() as connection:
                for sql in (ACCOUNT_SQL, *rows_before_0013):
                    await connection.exec_driver_sql(sql)
        finally:
            await engine.dispose()
        await asyncio.to_thread(upgrade, url)
        database = Database(url)
        try:
            others = tmp_path / "demo-without-payments"
            shutil.copytree(DEMO, others, ignore=shutil.ignore_patterns("payments.csv"))
            async with database.session() as session:
                await import_folder(session, others)
            yield database
        finally:
            await database.close()


async def bring(database: Database, tmp_path: Path, lines: list[str]) -> None:
    """The billing's payments.csv, imported the way `kabinet import` does."""
    folder = tmp_path / f"billing-{len(list(tmp_path.glob('billing-*')))}"
    folder.mkdir()
    (folder / "payments.csv").write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    async with database.session() as session:
        await import_folder(session, folder, timezone=KYIV, now=datetime(2026, 12, 1, 9, 0, tzinfo=KYIV))


async def stored(database: Database) -> list[tuple[str, str, str, str]]:
    async with database.session() as session:
        rows = await session.execute(select(PaymentRow.paid_on, PaymentRow.amount, PaymentRow.purpose,
                                            PaymentRow.reference).order_by(PaymentRow.paid_on, PaymentRow.id))
        return [(str(paid_on), str(amount), purpose, reference) for paid_on, amount, purpose, reference in rows]


async def reconciled(database: Database) -> dict[str, tuple[str, str] | None]:
    """Each online payment, by its payment id: the billing payment that settled it (its day and reference), or
    None while it is pending."""
    async with database.session() as session:
        rows = await session.execute(select(OnlinePaymentRow.payment_id, OnlinePaymentRow.reconciled_ref))
        billing = {payments.billing_row(id_): (str(paid_on), reference) for id_, paid_on, reference in
                   await session.execute(select(PaymentRow.id, PaymentRow.paid_on, PaymentRow.reference))}
        return {payment_id: billing[ref] if ref else None for payment_id, ref in rows}


def talk_to(database: Database, tmp_path: Path) -> Talk:
    kabinet = Kabinet(store=database, photos=FilePhotoArchive(tmp_path / "photos"), translator=Translator("uk"),
                      window=ReadingWindow.parse("2,3"), timezone=KYIV, clock=Clock())
    return Talk(kabinet, files=tmp_path / "out")


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_history_sent_again_with_its_references_after_the_upgrade_doubles_no_payment(backend, tmp_path):
    history = [
        f"{ACCOUNT},2026-10-14,380.00,Оплата за вересень,ПД-1014",  # bank document numbers
        f"{ACCOUNT},2026-11-10,300.00,Оплата за жовтень,ПД-1110",
        f"{ACCOUNT},2026-11-20,658.40,LiqPay,2500001",  # the online payment it settled, by LiqPay's payment id
        f"{ACCOUNT},2026-11-25,100.00,Оплата,",
    ]
    async with upgraded(backend, tmp_path,
                        payment_sql("2026-10-14", "380.00", "Оплата за вересень"),
                        payment_sql("2026-11-10", "300.00", "Оплата за жовтень"),
                        payment_sql("2026-11-20", "658.40", "LiqPay"),
                        payment_sql("2026-11-25", "100.00", "Оплата"),
                        online_sql("kb-1", "2500001", "658.40", "2026-11-20 08:00:00", "2026-11-20")) as database:
        talk = talk_to(database, tmp_path)
        await linked(talk)

        await bring(database, tmp_path, history)

        expected = [("2026-10-14", "380.00", "Оплата за вересень", "ПД-1014"),
                    ("2026-11-10", "300.00", "Оплата за жовтень", "ПД-1110"),
                    ("2026-11-20", "658.40", "LiqPay", "2500001"), ("2026-11-25", "100.00", "Оплата", "")]
        assert await stored(database) == expected
        assert await reconciled(database) == {"2500001": ("2026-11-20", "2500001")}
        shown = await talk.say("/history")
        for line in ("14.10.2026 — UAH 380.00", "10.11.2026 — UAH 300.00", "20.11.2026 — UAH 658.40",
                     "25.11.2026 — UAH 100.00"):
            assert shown.count(line) == 1, shown
        await talk.say("/balance")
        assert await talk.say("How is it counted?") == (
            f"How the amount to pay on account {ACCOUNT} is counted:\n"
            "Owed on 01.11.2026: UAH 245.60\n"
            "Invoice for October 2026 of 03.11.2026: +UAH 712.80\n"
            "Payment of 10.11.2026: \u2212UAH 300.00\n"
            "Payment of 20.11.2026: \u2212UAH 658.40\n"
            "Payment of 25.11.2026: \u2212UAH 100.00\n"
            "Overpaid now: UAH 100.00, nothing to pay")

        await bring(database, tmp_path, history)  # and again: a payment's reference is its own now
        assert await stored(database) == expected


@pytest.mark.parametrize("backend", BACKENDS)
async def test_payments_stored_as_one_before_the_upgrade_are_two_once_brought_again(backend, tmp_path):
    """Before 0013 two payments that differ only by their reference were stored as one. Brought again, the stored
    payment keeps the reference of the online payment it settled, and the other is added (and settles its own)."""
    async with upgraded(backend, tmp_path,
                        payment_sql("2026-11-20", "245.60", "LiqPay"),  # paid online twice in a day
                        payment_sql("2026-11-30", "658.40", "Оплата"),  # a bank payment, and one paid online
                        online_sql("kb-2", "2500002", "245.60", "2026-11-20 07:00:00", None),
                        online_sql("kb-3", "2500003", "245.60", "2026-11-20 08:00:00", "2026-11-20"),
                        online_sql("kb-1", "2500001", "658.40", "2026-11-30 08:00:00", "2026-11-30")) as database:
        talk = talk_to(database, tmp_path)
        await linked(talk)
        # 245.60 + 712.80 owed, 245.60 + 658.40 in the billing's history, 245.60 paid online and pending
        assert "Overpaid by UAH 191.20" in await talk.say("/balance")

        history = [f"{ACCOUNT},2026-11-20,245.60,LiqPay,2500002", f"{ACCOUNT},2026-11-20,245.60,LiqPay,2500003",
                   f"{ACCOUNT},2026-11-30,658.40,Оплата,", f"{ACCOUNT},2026-11-30,658.40,Оплата,kb-1"]
        await bring(database, tmp_path, history)

        expected = [("2026-11-20", "245.60", "LiqPay", "2500003"), ("2026-11-20", "245.60", "LiqPay", "2500002"),
                    ("2026-11-30", "658.40", "Оплата", "kb-1"), ("2026-11-30", "658.40", "Оплата", "")]
        assert await stored(database) == expected
        assert await reconciled(database) == {"2500001": ("2026-11-30", "kb-1"), "2500002": ("2026-11-20", "2500002"),
                                              "2500003": ("2026-11-20", "2500003")}
        assert "Overpaid by UAH 849.60" in await talk.say("/balance")  # 958.40 - 2 x 245.60 - 2 x 658.40, none pending
        shown = await talk.say("/history")
        assert (shown.count("20.11.2026 — UAH 245.60"), shown.count("30.11.2026 — UAH 658.40")) == (2, 2), shown
        await bring(database, tmp_path, history)
        assert await stored(database) == expected


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_payment_brought_since_the_upgrade_is_not_taken_for_a_later_one_with_a_reference(backend, tmp_path):
    """Only payments stored before 0013 can get a reference from a later file: a bank payment brought since (or
    brought again since, without a reference) and a later file's online payment of the same day, amount and purpose
    are two payments, as 0013 made them, even when the later file leaves the bank payment out."""
    async with upgraded(backend, tmp_path, payment_sql("2026-11-25", "100.00", "Оплата")) as database:
        await bring(database, tmp_path, [f"{ACCOUNT},2026-11-25,100.00,Оплата,", f"{ACCOUNT},2026-11-30,658.40,Оплата,"])
        await bring(database, tmp_path, [f"{ACCOUNT},2026-11-25,100.00,Оплата,2500004",
                                         f"{ACCOUNT},2026-11-30,658.40,Оплата,2500001"])
        assert await stored(database) == [
            ("2026-11-25", "100.00", "Оплата", ""), ("2026-11-25", "100.00", "Оплата", "2500004"),
            ("2026-11-30", "658.40", "Оплата", ""), ("2026-11-30", "658.40", "Оплата", "2500001")]
