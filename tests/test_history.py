"""/history: payments, consumption by month with its chart, and readings with their sources."""
import io
from datetime import date
from decimal import Decimal

from PIL import Image

from core.consumption import TOTAL_ONLY, monthly_consumption
from core.model import Invoice, Meter, MeterReading
from tests.billing_data import NEW_ACCOUNT, NEW_SURNAME, add_bare_account
from tests.conftest import linked


async def test_history_of_the_only_account(talk):
    await linked(talk)
    text = await talk("/history")
    assert "History of account 010000012345" in text and "2025–2026" in text
    assert "14.10.2026 — 380,00 UAH (Оплата за вересень)" in text
    assert "10.11.2026 — 300,00 UAH (Оплата за жовтень)" in text
    assert "September 2026: 170 kWh" in text and "October 2026: 165 kWh" in text
    assert "31.10.2026 — 12345 (receipt)" in text and "30.09.2026 — 12180 (web cabinet)" in text
    chart = next(reply.image for reply in talk.replies if reply.image is not None)
    assert chart.mime_type == "image/jpeg" and chart.filename == "consumption-010000012345.jpg"
    image = Image.open(io.BytesIO(chart.content))
    assert image.format == "JPEG" and image.width >= 1000
    assert "Balance" in talk.buttons  # the menu follows


async def test_two_zone_history_splits_consumption_and_names_sources(talk):
    await linked(talk, "1705339110", "Дем'яненко")
    text = await talk("/history")
    assert "October 2026: 256 kWh (day: 176, night: 80)" in text
    assert "31.10.2026 — day: 23456 / night: 9870 (meter inspector)" in text
    assert "No payments" not in text and "05.11.2026 — 500,00 UAH" in text


async def test_a_reading_submitted_in_chat_shows_with_its_channel(talk):
    await linked(talk)
    await talk("/reading 12500")
    text = await talk("/history")
    assert "30.11.2026 — 12500 (console)" in text
    assert "November 2026: 155 kWh" in text


async def test_a_month_known_only_from_its_invoice(talk):
    await linked(talk, "020000054321", "Бондар")
    text = await talk("/history")
    # One reading only: October's consumption comes from its invoice, with no split by zone.
    assert "October 2026: 88 400 kWh (by invoice)" in text
    assert any(reply.image is not None for reply in talk.replies)


async def test_history_in_ukrainian(new_talk):
    talk = new_talk("u1", "uk")
    await talk("/link 010000012345 Шевченко")
    await talk("1")
    text = await talk("/history")
    assert "жовтень 2026: 165 кВт·год" in text
    assert "31.10.2026 — 12345 (квитанція)" in text


async def test_several_accounts_ask_which(talk):
    await linked(talk)
    await linked(talk, "1705339110", "Дем'яненко")
    assert "Which account's history" in await talk("/history")
    assert talk.buttons[1].startswith("1705339110 — ")
    assert "History of account 1705339110" in await talk("2")
    assert "History of account 010000012345" in await talk("/history 01 000 0012345")


async def test_an_account_not_linked_is_not_shown(talk):
    await linked(talk)
    text = await talk("/history 1705339110")
    assert "Account 1705339110 is not linked" in text and "History of" not in text
    assert "no longer active" in await talk.press("hist:2")
    assert "no longer active" in await talk.press("hist:x")


async def test_no_readings_no_payments_no_consumption(talk, clock):
    await linked(talk)
    clock.set(2029, 3, 1, 10, 0)  # the demo data is older than the previous year by now
    text = await talk("/history")
    assert "No payments in this time" in text
    assert "No consumption data" in text
    assert "No readings in this time" in text
    assert all(reply.image is None for reply in talk.replies)


async def test_history_needs_a_linked_account(talk):
    assert "No account is linked" in await talk("/history")


async def test_an_account_with_nothing_yet(talk, demo_database, tmp_path):
    await add_bare_account(demo_database, tmp_path / "exchange", meter=True)
    await linked(talk, NEW_ACCOUNT, NEW_SURNAME)
    text = await talk("/history")
    assert "No payments" in text and "No consumption data" in text and "No readings" in text


def test_consumption_through_zero_and_by_k_factor():
    meter = Meter(1, 1, "55501", "CE301", 5, 2, Decimal(40), date(2020, 1, 20))
    readings = [
        MeterReading(1, 99950, date(2024, 12, 31), "controller"),  # before the window: the baseline
        MeterReading(2, 500, date(2024, 12, 31), "controller"),
        MeterReading(1, 30, date(2025, 1, 31), "controller"),
        MeterReading(2, 510, date(2025, 1, 31), "controller"),
        MeterReading(1, 35, date(2025, 3, 2), "telegram"),  # February skipped: March counts from January
        MeterReading(1, 40, date(2025, 3, 31), "cabinet"),  # the month's last reading is its end
    ]
    invoices = [Invoice("2025-02", date(2025, 3, 3), date(2025, 3, 20), Decimal("100"), Decimal("400"))]
    months = monthly_consumption([(meter, readings)], invoices, "2025-01")
    assert [(m.month, m.zones) for m in months] == [
        ("2025-01", {1: Decimal(3200), 2: Decimal(400)}),  # (10^5 + 30 − 99950) × 40, (510 − 500) × 40
        ("2025-02", {TOTAL_ONLY: Decimal(400)}),
        ("2025-03", {1: Decimal(400)}),
    ]
