"""/history: payments, consumption by month with its chart, and readings with their sources."""
import io
from datetime import date
from decimal import Decimal

from hypothesis import given, settings, strategies as st
from PIL import Image

from core.charts import ChartText, consumption_chart
from core.consumption import month_slots, monthly_consumption, next_month
from core.model import Invoice, Meter, MeterReading
from core.readings import ReadingWindow
from tests.support.billing import NEW_ACCOUNT, NEW_SURNAME, add_bare_account, import_files
from tests.support.console import linked


async def test_history_of_the_only_account(talk):
    await linked(talk)
    text = await talk.say("/history")
    assert "History of account 010000012345" in text and "2025–2026" in text
    assert "14.10.2026 — UAH 380.00 (Оплата за вересень)" in text
    assert "10.11.2026 — UAH 300.00 (Оплата за жовтень)" in text
    assert "September 2026: 170 kWh" in text and "October 2026: 165 kWh" in text
    assert "31.10.2026 — 12345 (receipt)" in text and "30.09.2026 — 12180 (web cabinet)" in text
    chart = next(reply.image for reply in talk.replies if reply.image is not None)
    assert chart.mime_type == "image/jpeg" and chart.filename == "consumption-010000012345.jpg"
    image = Image.open(io.BytesIO(chart.content))
    assert image.format == "JPEG" and image.width >= 1000
    assert "Balance" in talk.buttons  # the menu follows


async def test_two_zone_history_splits_consumption_and_names_sources(talk):
    await linked(talk, "1705339110", "Дем'яненко")
    text = await talk.say("/history")
    assert "October 2026: 256 kWh (day: 176, night: 80)" in text
    assert "31.10.2026 — day: 23456 / night: 9870 (meter inspector)" in text
    assert "No payments" not in text and "05.11.2026 — UAH 500.00" in text


async def test_a_reading_submitted_in_chat_shows_with_its_channel(talk):
    await linked(talk)
    await talk.say("/reading 12500")
    text = await talk.say("/history")
    assert "30.11.2026 — 12500 (console)" in text
    assert "November 2026: 155 kWh" in text


async def test_a_month_known_only_from_its_invoice(talk):
    await linked(talk, "020000054321", "Бондар")
    text = await talk.say("/history")
    # One reading only: October's consumption comes from its invoice, with no split by zone.
    assert "October 2026: 88,400 kWh (by invoice)" in text
    assert any(reply.image is not None for reply in talk.replies)


async def test_history_in_ukrainian(new_talk):
    talk = new_talk("u1", "uk")
    await talk.say("/link 010000012345 Шевченко")
    await talk.say("1")
    text = await talk.say("/history")
    assert "жовтень 2026: 165 кВт·год" in text
    assert "31.10.2026 — 12345 (квитанція)" in text


async def test_several_accounts_ask_which(talk):
    await linked(talk)
    await linked(talk, "1705339110", "Дем'яненко")
    assert "Which account's history" in await talk.say("/history")
    assert talk.buttons[1].startswith("1705339110 — ")
    assert "History of account 1705339110" in await talk.say("2")
    assert "History of account 010000012345" in await talk.say("/history 01 000 0012345")


async def test_an_account_not_linked_is_not_shown(talk):
    await linked(talk)
    text = await talk.say("/history 1705339110")
    assert "Account 1705339110 is not linked" in text and "History of" not in text
    assert "no longer active" in await talk.press(action="hist:2")
    assert "no longer active" in await talk.press(action="hist:x")


async def test_no_readings_no_payments_no_consumption(talk, clock):
    await linked(talk)
    clock.set(2029, 3, 1, 10, 0)  # the demo data is older than the previous year by now
    text = await talk.say("/history")
    assert "No payments in this time" in text
    assert "No consumption data" in text
    assert "No readings in this time" in text
    assert all(reply.image is None for reply in talk.replies)


async def test_history_needs_a_linked_account(talk):
    assert "No account is linked" in await talk.say("/history")


async def test_an_account_with_nothing_yet(talk, demo_database, tmp_path):
    await add_bare_account(demo_database, tmp_path / "exchange", meter=True)
    await linked(talk, NEW_ACCOUNT, NEW_SURNAME)
    text = await talk.say("/history")
    assert "No payments" in text and "No consumption data" in text and "No readings" in text


def test_consumption_through_zero_and_by_k_factor():
    meter = Meter(1, 1, "55501", "CE301", 5, 2, Decimal(40), date(2020, 1, 20))
    readings = [
        MeterReading(1, 99950, date(2024, 12, 31), "controller"),  # before the window: the baseline
        MeterReading(2, 500, date(2024, 12, 31), "controller"),
        MeterReading(1, 30, date(2025, 1, 31), "controller"),
        MeterReading(2, 510, date(2025, 1, 31), "controller"),
        MeterReading(1, 35, date(2025, 3, 2), "telegram"),  # in the window's opening days: closes February
        MeterReading(1, 38, date(2025, 3, 20), "cabinet"),
        MeterReading(1, 40, date(2025, 3, 31), "cabinet"),  # the month's last reading is its end
    ]
    invoices = [Invoice("2025-02", date(2025, 3, 3), date(2025, 3, 20), Decimal("100"), Decimal("400"))]
    months = monthly_consumption([(meter, readings)], invoices, "2025-01", ReadingWindow(2, 3).billing_month)
    assert [(m.month, m.parts) for m in months] == [
        ("2025-01", {(1, 1): Decimal(3200), (1, 2): Decimal(400)}),  # (10^5 + 30 − 99950) × 40, (510 − 500) × 40
        ("2025-02", {(1, 1): Decimal(200)}),  # from the readings: February's invoice is not counted again
        ("2025-03", {(1, 1): Decimal(200)}),
    ]


# ----- issue 18.1: a reading belongs to a billing month; a month is counted once; a month with neither is a gap


def consumption_lines(text: str) -> list[str]:
    """The lines of /history's consumption by month, up to the chart's caption."""
    lines = text.split("Consumption by month:\n")[1].splitlines()
    return lines[:next(i for i, line in enumerate(lines) if line.startswith("Consumption chart"))]


async def test_a_reading_in_the_windows_first_days_closes_the_month_before(talk, clock, demo_database, tmp_path):
    await linked(talk)
    clock.set(2026, 12, 2, 10, 0)
    assert "the reading counts for November 2026" in await talk.say("/reading 12600")
    text = await talk.say("/history")
    assert "November 2026: 255 kWh" in text and "December 2026" not in text.split("Reading history")[0]
    # The utility's November invoice arrives: November is already covered by the readings, not counted again.
    await import_files(demo_database, tmp_path / "exchange", {"invoices.csv": (
        "account,period,issued_on,due_on,amount,kwh,pdf\n"
        "010000012345,2026-11,2026-12-03,2026-12-20,669.60,155,\n"
    )})
    text = await talk.say("/history")
    assert "November 2026: 255 kWh" in consumption_lines(text)[-1]
    assert not any("by invoice" in line or "December" in line for line in consumption_lines(text))
    assert sum("November 2026" in line for line in consumption_lines(text)) == 1


async def test_a_reading_after_the_windows_first_days_belongs_to_its_own_month(talk, clock, demo_database, tmp_path):
    await import_files(demo_database, tmp_path / "exchange", {"readings.csv": (
        "account,meter,taken_on,zone,value,source\n"
        "010000012345,0123456,2026-11-04,1,12400,cabinet\n"  # day 4: past the window's 3 opening days
    )})
    await linked(talk)
    text = await talk.say("/history")
    assert "November 2026: 55 kWh" in text and "October 2026: 165 kWh" in text


async def test_the_demo_accounts_show_every_month_once_in_the_right_month(new_talk):
    expected = {
        ("010000012345", "Шевченко"): ["September 2026: 170 kWh", "October 2026: 165 kWh"],
        ("1705339110", "Дем'яненко"): ["October 2026: 256 kWh (day: 176, night: 80)"],
        ("020000054321", "Бондар"): ["October 2026: 88,400 kWh (by invoice)"],
    }
    for index, ((account, surname), months) in enumerate(expected.items()):
        talk = new_talk(f"demo{index}")
        await linked(talk, account, surname)
        text = await talk.say("/history")
        assert consumption_lines(text) == months, text


async def test_a_month_with_neither_readings_nor_invoice_is_a_gap(talk, demo_database, tmp_path):
    await import_files(demo_database, tmp_path / "exchange", {"invoices.csv": (
        "account,period,issued_on,due_on,amount,kwh,pdf\n"
        "010000012345,2026-06,2026-07-03,2026-07-20,648.00,150,\n"
    )})
    await linked(talk)
    text = await talk.say("/history")
    assert consumption_lines(text) == [
        "June 2026: 150 kWh (by invoice)",
        "July 2026: no data (no readings, no invoice)",
        "August 2026: no data (no readings, no invoice)",  # 31.08 is the first reading: nothing before it
        "September 2026: 170 kWh",
        "October 2026: 165 kWh",
    ]


def test_the_chart_has_a_place_for_every_month_gaps_included():
    meter = Meter(1, 1, "0123456", "НІК", 5, 1, Decimal(1), date(2016, 3, 10))
    readings = [MeterReading(1, 100, date(2025, 3, 31), "cabinet"), MeterReading(1, 150, date(2025, 4, 30), "cabinet")]
    invoices = [Invoice("2025-01", date(2025, 2, 3), date(2025, 2, 20), Decimal("100"), Decimal("90"))]
    months = monthly_consumption([(meter, readings)], invoices, "2025-01", ReadingWindow(2, 3).billing_month)
    assert [(slot, row.is_gap) for slot, row in month_slots(months, "2025-01")] == [
        ("2025-01", False), ("2025-02", True), ("2025-03", True), ("2025-04", False),
    ]
    chart = consumption_chart(months, [meter], ChartText(
        "Consumption", "Account", tuple(str(n) for n in range(1, 13)), {(1, 1): "by readings"},
        by_invoice="by invoice", no_data="no data",
    ), "2025-01")
    assert Image.open(io.BytesIO(chart)).format == "JPEG"


def test_readings_that_skip_months_cover_them_together_and_keep_their_invoices_out():
    meter = Meter(1, 1, "55501", "CE301", 6, 1, Decimal(1), date(2020, 1, 20))
    readings = [
        MeterReading(1, 1000, date(2025, 1, 31), "controller"),
        MeterReading(1, 1400, date(2025, 4, 30), "controller"),  # February to April in one step
    ]
    invoices = [Invoice("2025-03", date(2025, 4, 3), date(2025, 4, 20), Decimal("100"), Decimal("130"))]
    months = monthly_consumption([(meter, readings)], invoices, "2025-01", ReadingWindow(2, 3).billing_month)
    assert [(m.first, m.month, m.total, m.from_invoice) for m in months] == [("2025-02", "2025-04", Decimal(400), False)]


def test_with_an_always_open_window_a_reading_belongs_to_the_month_it_was_taken_in():
    always, default = ReadingWindow.parse("always"), ReadingWindow.parse("2,3")
    assert always.billing_month(date(2026, 12, 2)) == "2026-12"
    assert default.billing_month(date(2026, 12, 2)) == "2026-11"
    assert default.billing_month(date(2026, 1, 3)) == "2025-12"
    assert default.billing_month(date(2026, 1, 4)) == "2026-01"
    assert default.billing_month(date(2026, 11, 30)) == "2026-11"
    assert ReadingWindow.parse("5,0").billing_month(date(2026, 12, 1)) == "2026-12"



@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.dates(date(2024, 10, 1), date(2026, 12, 31)), st.integers(0, 500)), min_size=1, max_size=30),
    st.lists(st.dates(date(2024, 10, 1), date(2026, 12, 1)).map(lambda day: day.strftime("%Y-%m")), max_size=10),
    st.sampled_from(["2,3", "5,1", "3,0", "always"]),
)
def test_every_month_is_counted_once_and_readings_add_up(steps, periods, window_text):
    meter = Meter(7, 1, "0123456", "НІК", 9, 1, Decimal(2), date(2016, 3, 10))
    window = ReadingWindow.parse(window_text)
    readings, value = [], 0
    for day, step in sorted(steps):
        value += step
        readings.append(MeterReading(1, value, day, "cabinet"))
    invoices = [Invoice(period, date(2027, 1, 1), date(2027, 1, 20), Decimal(1), Decimal(1000)) for period in set(periods)]
    rows = monthly_consumption([(meter, readings)], invoices, "2025-01", window.billing_month)
    covered = [month for row in rows for month, _ in month_slots([row], "1900-01")]
    assert len(covered) == len(set(covered)), rows  # no month in two rows
    assert [row.month for row in rows] == sorted(row.month for row in rows)
    shown = [month for month, _ in month_slots(rows, "2025-01")]
    assert all(next_month(a) == b for a, b in zip(shown, shown[1:])), shown  # every month between, gaps too
    # What the readings count is the meter's advance from the window's baseline to its last reading, × K.
    closing = {window.billing_month(r.taken_on): r.value for r in readings}
    before = [v for month, v in sorted(closing.items()) if month < "2025-01"]
    inside = [v for month, v in sorted(closing.items()) if month >= "2025-01"]
    start = before[-1] if before else (inside[0] if inside else 0)
    expected = (inside[-1] - start) * 2 if inside else 0
    assert sum(row.total for row in rows if not row.from_invoice) == expected
    for row in rows:
        assert not (row.from_invoice and row.parts)


# ----- issue 18.2: several meters on one account: each its own zones and price, the account's total their sum

MULTI_ACCOUNT, MULTI_SURNAME = "030000000888", "Ткач"


async def add_two_meter_account(database, folder):
    await import_files(database, folder, {
        "accounts.csv": (
            "account,eic,surname,full_name,address,settlement,street,house,grid_node,consumer_type,tariff_plan,"
            "balance,balance_on\n"
            f"{MULTI_ACCOUNT},,{MULTI_SURNAME},ФОП Ткач Петро,\"м. Харків, вул. Заводська, 7\",Харків,Заводська,7,"
            "TP-101,business,Непобутовий тризонний,0.00,2026-11-01\n"
        ),
        "meters.csv": (
            "account,meter,type,digits,zones,k_factor,installed_on,next_verification_on\n"
            f"{MULTI_ACCOUNT},3300001,Energomera CE301,6,3,1,2020-01-20,2030-01-01\n"
            f"{MULTI_ACCOUNT},1100001,НІК 2104,6,1,1,2021-05-01,2031-05-01\n"
        ),
        "readings.csv": (
            "account,meter,taken_on,zone,value,source\n"
            f"{MULTI_ACCOUNT},3300001,2026-09-30,1,1000,controller\n"
            f"{MULTI_ACCOUNT},3300001,2026-09-30,2,2000,controller\n"
            f"{MULTI_ACCOUNT},3300001,2026-09-30,3,3000,controller\n"
            f"{MULTI_ACCOUNT},1100001,2026-09-30,1,5000,controller\n"
            f"{MULTI_ACCOUNT},3300001,2026-10-31,1,1100,controller\n"
            f"{MULTI_ACCOUNT},3300001,2026-10-31,2,2050,controller\n"
            f"{MULTI_ACCOUNT},3300001,2026-10-31,3,3020,controller\n"
            f"{MULTI_ACCOUNT},1100001,2026-10-31,1,5300,controller\n"
        ),
    })


async def test_each_meter_of_an_account_is_its_own_in_history(talk, demo_database, tmp_path):
    await add_two_meter_account(demo_database, tmp_path / "exchange")
    await linked(talk, MULTI_ACCOUNT, MULTI_SURNAME)
    text = await talk.say("/history")
    assert ("October 2026: 470 kWh (meter 3300001 — peak: 100, half-peak: 50, night: 20; meter 1100001 — 300)"
            in text), text
    assert any(reply.image is not None for reply in talk.replies)


async def test_a_one_zone_meter_is_not_priced_at_the_three_zone_peak(talk, demo_database, tmp_path):
    await add_two_meter_account(demo_database, tmp_path / "exchange")
    await linked(talk, MULTI_ACCOUNT, MULTI_SURNAME)
    await talk.say("/reading 5400")
    text = await talk.say("2")  # the second button: meter 1100001
    assert "Consumption: 100 kWh" in text
    assert "840,00" not in text and "peak" not in text  # not 100 kWh at the peak's 8,40
    assert "cost is not estimated" in text
    await talk.say("/reading 1200 2100 3050")
    text = await talk.say("1")
    # Its own zones at its own prices: 100 × 8,40 + 50 × 6,72 + 30 × 3,36.
    assert "Estimated cost: UAH 1,276.80" in text, text


async def test_a_meter_with_its_own_tariff_plan_is_priced_by_it(talk, demo_database, tmp_path):
    """Issue 18.2: each meter its own price: meters.csv's tariff_plan gives the one-zone meter a one-zone plan."""
    await add_two_meter_account(demo_database, tmp_path / "exchange")
    await import_files(demo_database, tmp_path / "plans", {
        "tariffs.csv": "tariff_plan,zone,price,valid_from\nНепобутовий однозонний,1,7.20,2026-01-01\n",
        "meters.csv": (
            "account,meter,type,digits,zones,k_factor,installed_on,next_verification_on,tariff_plan\n"
            f"{MULTI_ACCOUNT},1100001,НІК 2104,6,1,1,2021-05-01,2031-05-01,Непобутовий однозонний\n"
        ),
    })
    await linked(talk, MULTI_ACCOUNT, MULTI_SURNAME)
    await talk.say("/reading 5400")
    text = await talk.say("2")
    assert "Estimated cost: UAH 720.00 by the tariff “Непобутовий однозонний”" in text, text  # 100 × 7,20
    await talk.say("/reading 1200 2100 3050")
    assert "Estimated cost: UAH 1,276.80" in await talk.say("1")  # the three-zone meter keeps the account's plan


async def test_readings_that_skip_a_month_make_one_row_and_its_invoice_is_not_counted(talk, demo_database, tmp_path):
    await add_two_meter_account(demo_database, tmp_path / "exchange")
    await import_files(demo_database, tmp_path / "more", {
        "readings.csv": (
            "account,meter,taken_on,zone,value,source\n"
            f"{MULTI_ACCOUNT},3300001,2026-07-31,1,800,controller\n"
            f"{MULTI_ACCOUNT},3300001,2026-07-31,2,1900,controller\n"
            f"{MULTI_ACCOUNT},3300001,2026-07-31,3,2950,controller\n"
            f"{MULTI_ACCOUNT},1100001,2026-07-31,1,4500,controller\n"
        ),
        "invoices.csv": (
            "account,period,issued_on,due_on,amount,kwh,pdf\n"
            f"{MULTI_ACCOUNT},2026-08,2026-09-03,2026-09-20,3360.00,400,\n"  # inside the readings' span
        ),
    })
    await linked(talk, MULTI_ACCOUNT, MULTI_SURNAME)
    assert consumption_lines(await talk.say("/history")) == [
        "August – September 2026: 850 kWh (meter 3300001 — peak: 200, half-peak: 100, night: 50; meter 1100001 — 500)",
        "October 2026: 470 kWh (meter 3300001 — peak: 100, half-peak: 50, night: 20; meter 1100001 — 300)",
        "Months named together are covered by one pair of readings: none were sent in between, so their consumption"
        " is given together.",
    ]
