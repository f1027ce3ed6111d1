"""The views a turn reads in one statement: a chat's linked accounts for readings and for /balance."""
from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from core.model import Invoice, MeterReading, Payment
from tests.support.billing import DEC_1, LINKED, LONG_AGO, NEW_ACCOUNT, NOV_30, OCT_31, link_all

# Prices on each day asked, by account: the household price and a three-zone one change on 1 December.
HOUSEHOLD = {NOV_30: {1: "4.32"}, DEC_1: {1: "4.80"}, OCT_31: {1: "4.32"}, LONG_AGO: {}}
PRICES = {
    "020000054321": {NOV_30: {1: "8.40", 2: "6.72", 3: "3.36"}, DEC_1: {1: "8.40", 2: "5.10", 3: "3.36"},
                     OCT_31: {1: "8.40", 2: "6.72", 3: "3.36"}, LONG_AGO: {}},
    NEW_ACCOUNT: HOUSEHOLD,
    "010000012345": HOUSEHOLD,
    "1705339110": {day: {1: "4.32", 2: "2.16"} for day in (NOV_30, DEC_1, OCT_31)} | {LONG_AGO: {}},
}


def prices(number: str, on: date) -> dict[int, Decimal]:
    return {zone: Decimal(price) for zone, price in PRICES[number][on].items()}


def readings(*rows: tuple[int, int, date, str]) -> dict[int, MeterReading]:
    return {row[0]: MeterReading(*row) for row in rows}


async def test_linked_meters_are_the_linked_accounts_with_meters_readings_and_prices(demo_database, tmp_path):
    chat_id = await link_all(demo_database, tmp_path)
    sep_30, oct_31 = date(2026, 9, 30), OCT_31
    last = {  # meter serial -> day asked -> the last reading of each zone before it
        "55501": {NOV_30: readings((1, 101200, oct_31, "controller"), (2, 54300, oct_31, "controller"),
                                   (3, 70010, oct_31, "controller")), OCT_31: {}},
        "0123456": {NOV_30: readings((1, 12350, oct_31, "cabinet")), DEC_1: readings((1, 12500, NOV_30, "cabinet")),
                    OCT_31: readings((1, 12180, sep_30, "cabinet"))},
        "7701234": {NOV_30: readings((1, 23456, oct_31, "controller"), (2, 9870, oct_31, "controller")),
                    OCT_31: readings((1, 23280, sep_30, "controller"), (2, 9790, sep_30, "controller"))},
    }
    async with demo_database.transaction() as tx:
        accounts = await tx.linked_accounts(chat_id)
        assert [account.number for account in accounts] == LINKED
        for on in (NOV_30, DEC_1, OCT_31, LONG_AGO):
            linked = await tx.linked_meters(chat_id, on)
            assert [each.account for each in linked] == accounts
            for each in linked:
                assert list(each.meters) == await tx.meters([each.account.id])
                assert each.prices == prices(each.account.number, on)
                assert each.last_readings == {meter.id: await tx.last_readings(meter.id, on) for meter in each.meters}
                for meter in each.meters:
                    if on in last[meter.serial]:
                        assert each.last_readings[meter.id] == last[meter.serial][on], (meter.serial, on)
        assert [len(each.meters) for each in linked] == [1, 0, 1, 1]
        other, _ = await tx.chat_and_state("test", "c2", "en")
        assert await tx.linked_meters(other.id, NOV_30) == []


async def test_account_summaries_tell_the_last_payment_invoice_and_prices(demo_database, tmp_path):
    chat_id = await link_all(demo_database, tmp_path)
    invoice_day, due = date(2026, 11, 3), date(2026, 11, 20)
    payments = {
        "020000054321": Payment(date(2026, 11, 12), Decimal("15000.00"), "Оплата за рахунком 10/2026"),
        NEW_ACCOUNT: None,
        "010000012345": Payment(date(2026, 11, 10), Decimal("25.00"), "Пеня"),
        "1705339110": Payment(date(2026, 11, 5), Decimal("500.00")),
    }
    invoices = {
        "020000054321": Invoice("2026-10", invoice_day, due, Decimal("33250.40"), Decimal("88400")),
        NEW_ACCOUNT: None,
        "010000012345": Invoice("2026-10", invoice_day, due, Decimal("712.80"), Decimal("165")),
        "1705339110": Invoice("2026-10", invoice_day, due, Decimal("587.52"), Decimal("256")),
    }
    # After each balance's day (01.11): invoices issued, payments made (the demo's and link_all's 25,00 of 10.11).
    since = {
        "020000054321": ("33250.40", "15000.00"), NEW_ACCOUNT: ("0.00", "0.00"),
        "010000012345": ("712.80", "325.00"), "1705339110": ("587.52", "500.00"),
    }
    async with demo_database.transaction() as tx:
        for on in (NOV_30, DEC_1, LONG_AGO):
            summaries = await tx.account_summaries(chat_id, on)
            assert [summary.account for summary in summaries] == await tx.linked_accounts(chat_id)
            for summary in summaries:
                number = summary.account.number
                assert list(summary.meters) == await tx.meters([summary.account.id])
                assert summary.prices == prices(number, on)
                assert (summary.last_payment, summary.last_invoice) == (payments[number], invoices[number])
                assert (summary.invoiced_since, summary.paid_since) == tuple(map(Decimal, since[number]))
        other, _ = await tx.chat_and_state("test", "c2", "en")
        assert await tx.account_summaries(other.id, NOV_30) == []


async def test_the_views_a_turn_opens_with_are_the_views_read_alone(demo_database, tmp_path, database_url):
    chat_id = await link_all(demo_database, tmp_path)
    at = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    for n, (on, summaries) in enumerate((day, summaries) for day in (NOV_30, DEC_1, OCT_31, LONG_AGO)
                                        for summaries in (False, True)):
        async with demo_database.transaction() as tx:
            alone = (await tx.linked_meters(chat_id, on), await tx.account_summaries(chat_id, on))
        async with demo_database.transaction() as tx:
            chat, _ = await tx.open_turn("test", "c1", "en", f"views-{n}", at, on, summaries=summaries)
            assert chat.id == chat_id
            opened = (await tx.linked_meters(chat_id, on), await tx.account_summaries(chat_id, on))
            assert opened == alone, on
            if database_url.startswith("postgresql"):  # read by open_turn, not again
                assert tx._accounts is not None and tx._accounts[2] == ("summaries" if summaries else "meters")
    async with demo_database.transaction() as tx:  # a chat without accounts
        await tx.open_turn("test", "c2", "en", "views-c2", at, NOV_30)
        other, _ = await tx.chat_and_state("test", "c2", "en")
        assert await tx.linked_meters(other.id, NOV_30) == [] and await tx.account_summaries(other.id, NOV_30) == []
