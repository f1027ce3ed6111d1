"""/details (an account's personal information), the balance of a month or a year (/balance 2026-10, «Фінансова
інформація») and the payments of one (/history 2026), in every channel; what a period typed means."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings, strategies as st

from core.flows.account_choice import month_stems
from core.flows.details import masked_name
from core.i18n import Translator
from core.model import Account, Invoice, Payment
from core.periods import Period, history_start, parse_period, period_balance
from tests.support.admin import linked_chat
from tests.support.chat import ChatDriver

MENU = ["Баланс", "Передати показники", "Історія", "Рахунки за місяці", "Відключення", "Послуги", "Звернення",
        "Мої особові рахунки", "Налаштування", "Допомога"]
DETAILS = (
    "Персональна інформація, особовий рахунок 010000012345\n"
    "Код EIC: 62Z4815162342001\n"
    "Договір: № ЄР-12345/15 від 10.02.2015\n"
    "Тип споживача: побутовий\n"
    "{owner}\n"
    "Адреса: м. Харків, вул. Сумська, 10, кв. 5\n"
    "Тарифний план: Побутовий\n"
    "Лічильники:\n"
    "• 0123456 — НІК 2102-02, розрядність 5, зон: 1, наступна повірка до 15.01.2027"
)
OCTOBER = (
    "Фінансова інформація, особовий рахунок 010000012345, жовтень 2026:\n"
    "Дані постачальника про рахунки й оплати є лише з 03.10.2026, тож пораховано з цього дня.\n"
    "На початок 03.10.2026: переплата 108,80 грн\n"
    "Нараховано: 734,40 грн\n"
    "• рахунок за вересень 2026 від 03.10.2026: 734,40 грн\n"
    "Сплачено: 380,00 грн\n"
    "• 14.10.2026: 380,00 грн\n"
    "На кінець 31.10.2026: борг 245,60 грн"
)


async def link(chat: ChatDriver, account: str = "010000012345", surname: str = "Шевченко") -> None:
    answer = await chat.say(f"/link {account} {surname}")
    if "згода на обробку персональних даних" in answer:  # asked once per chat
        answer = await chat.press("Погоджуюсь")
    assert f"{account} підключено" in answer


async def test_the_details_of_an_account_and_from_them_its_balance_and_payments_of_a_period(consumer):
    await link(consumer)
    assert await consumer.say("/details") == DETAILS.format(owner="Споживач: Шевченко Тарас Григорович")
    assert consumer.buttons == ["Фінансова інформація", "Історія оплат", *MENU]

    assert await consumer.press("Фінансова інформація") == (
        "Фінансова інформація, особовий рахунок 010000012345: за який місяць чи рік? Напишіть, наприклад, 2025, "
        "2025-03 або березень 2025.")
    assert await consumer.say("тринадцятий") == (
        "Не зрозумів, який це місяць чи рік: «тринадцятий». Напишіть, наприклад, 2025, 2025-03 або березень 2025.")
    assert await consumer.say("за жовтень 2026 року") == OCTOBER
    assert consumer.buttons == MENU

    await consumer.say("/details")
    assert "за який місяць чи рік?" in await consumer.press("Історія оплат")
    assert await consumer.say("2026") == (
        "Історія оплат за 2026 рік, особовий рахунок 010000012345:\n"
        "14.10.2026 — 380,00 грн (Оплата за вересень)\n"
        "10.11.2026 — 300,00 грн (Оплата за жовтень)\n"
        "Разом: 680,00 грн\n"
        "Дані постачальника про оплати є лише з 03.10.2026."
    )
    assert consumer.buttons == MENU


async def test_the_details_are_also_a_button_of_the_accounts_list(consumer):
    await link(consumer)
    await consumer.say("/accounts")
    assert consumer.buttons[:2] == ["Персональна інформація 010000012345", "Відключити 010000012345"]
    assert (await consumer.press("Персональна інформація 010000012345")).startswith(
        "Персональна інформація, особовий рахунок 010000012345\nКод EIC: 62Z4815162342001")


async def test_the_owner_is_named_in_full_only_to_the_chat_that_linked_the_account_first(consumer, demo_database, clock):
    first = await linked_chat(demo_database, "010000012345", clock() - timedelta(days=30), "family", "uk")
    await link(consumer)
    masked = ("Споживач: Шевченко Т. Г. (повністю ім'я видно лише в чаті, який підключив особовий рахунок першим)")
    assert await consumer.say("/details") == DETAILS.format(owner=masked)
    async with demo_database.transaction() as tx:
        assert await tx.first_linked_chat((await tx.find_accounts(["010000012345"]))[0].id) == first
        await tx.forget_chat(first)
    assert await consumer.say("/details") == DETAILS.format(owner="Споживач: Шевченко Тарас Григорович")


async def test_an_account_without_contract_or_eic_says_so(consumer):
    await link(consumer, "1705339110", "Дем'яненко")
    text = await consumer.say("/details")
    assert "Код EIC: постачальник не надав\nДоговір: постачальник не надав даних\n" in text
    assert "• 7701234 — GAMA 100, розрядність 6, зон: 2, наступна повірка до 01.06.2035" in text


async def test_a_period_typed_after_balance_and_history(consumer):
    await link(consumer)
    assert await consumer.say("/balance 2026-10") == OCTOBER
    assert await consumer.say("/balance 010000012345 жовтень 2026") == OCTOBER
    year = await consumer.say("/balance 2026")
    assert year.startswith("Фінансова інформація, особовий рахунок 010000012345, 2026 рік:\n")
    assert "Нараховано: 1 447,20 грн\n" in year and "Сплачено: 680,00 грн\n" in year
    # the closing balance of today is /balance's amount to pay
    assert year.endswith("На кінець 30.11.2026: борг 658,40 грн")
    assert await consumer.say("/balance 2025") == (
        "За 2025 рік порахувати баланс особового рахунку 010000012345 не можна: дані постачальника про рахунки й "
        "оплати є лише з 03.10.2026.")
    assert await consumer.say("/balance 2027") == "Ще не настав період, який ви обрали: 2027 рік."

    assert await consumer.say("/history листопад") == (
        "Історія оплат за листопад 2026, особовий рахунок 010000012345:\n"
        "10.11.2026 — 300,00 грн (Оплата за жовтень)\n"
        "Разом: 300,00 грн"
    )
    assert await consumer.say("/history 03.2026") == (
        "Оплат за березень 2026 за особовим рахунком 010000012345 у даних постачальника немає: вони є лише з "
        "03.10.2026.")
    assert await consumer.say("/history 2026-13") == (
        "Не зрозумів, який це місяць чи рік: «2026-13». Напишіть, наприклад, 2025, 2025-03 або березень 2025.")
    assert consumer.buttons == MENU
    assert await consumer.say("/history 0100 0001 9999") == "Особовий рахунок 0100 0001 9999 не підключено до цього чату."


async def test_with_two_accounts_the_period_waits_for_the_account_chosen(consumer):
    await link(consumer)
    await link(consumer, "1705339110", "Дем'яненко")
    assert await consumer.say("/history 2026-11") == "Історію якого особового рахунку показати?"
    text = await consumer.press("1705339110 — м. Харків, вул. Пушкінська, 45")
    # its first invoice came after its balance's day (01.11): its data starts the day after that
    assert text == ("Історія оплат за листопад 2026, особовий рахунок 1705339110:\n05.11.2026 — 500,00 грн\n"
                    "Разом: 500,00 грн\nДані постачальника про оплати є лише з 02.11.2026.")
    both = await consumer.say("/balance 2026-11")
    assert "особовий рахунок 010000012345, листопад 2026" in both and "особовий рахунок 1705339110, листопад 2026" in both


# ----- what a period typed means


TODAY = date(2026, 11, 30)
STEMS = month_stems(Translator())


@pytest.mark.parametrize("typed, meant", [
    ("2025", (2025, None)), (" 2025 ", (2025, None)), ("2025-03", (2025, 3)), ("2025-3", (2025, 3)),
    ("03.2025", (2025, 3)), ("3/2025", (2025, 3)), ("2025.12", (2025, 12)),
    ("березень 2025", (2025, 3)), ("за березня 2025 року", (2025, 3)), ("у березні 2025 р.", (2025, 3)),
    ("Березень", (2026, 3)), ("грудень", (2025, 12)), ("листопад", (2026, 11)),  # the last one begun
    ("March 2025", (2025, 3)), ("in mar 2025", (2025, 3)), ("may 2024", (2024, 5)), ("2025 year", (2025, None)),
    ("мая 2025", (2025, 5)), ("в мае 2025", (2025, 5)), ("марта 2025 г.", (2025, 3)), ("за 2025 год", (2025, None)),
    ("2025 рік", (2025, None)), ("липня 2025", (2025, 7)), ("листопада 2025", (2025, 11)),
])
def test_a_month_or_a_year_as_typed(typed, meant):
    assert parse_period(typed, TODAY, STEMS) == Period(*meant)


@pytest.mark.parametrize("typed", [
    "", "abc", "2025-13", "13.2025", "2025-00", "1899", "2201", "25", "202512", "березень 2025 2026",
    "березень квітень 2025", "2025 оплати", "12345678", "2025--03",
])
def test_what_is_not_a_month_or_a_year(typed):
    assert parse_period(typed, TODAY, STEMS) is None


def test_a_period_runs_from_its_first_to_its_last_day():
    assert (Period(2024, 2).first, Period(2024, 2).last, Period(2024, 2).code) == (date(2024, 2, 1), date(2024, 2, 29),
                                                                                  "2024-02")
    assert (Period(2025).first, Period(2025).last, Period(2025).code) == (date(2025, 1, 1), date(2025, 12, 31), "2025")


def test_other_chats_see_the_surname_and_initials():
    assert masked_name("Шевченко Тарас Григорович", "Шевченко") == "Шевченко Т. Г."
    assert masked_name("Дем'яненко Олена Петрівна", "Дем’яненко") == "Дем'яненко О. П."
    assert masked_name("ТОВ «Світанок», директор Бондар Іван Миколайович", "Бондар") == "Т. «С.», д. Бондар І. М."
    assert masked_name("Іваненко-Петренко Анна", "іваненко-петренко") == "Іваненко-Петренко А."


# ----- the balance of a period, from the balance of a day and the invoices and payments around it


def account(balance: str, on: date) -> Account:
    return Account(1, "010000000001", None, "Коваль", "Коваль І.", "адреса", "Харків", "household", "flat",
                   Decimal(balance), on)


def invoice(period: str, issued_on: date, amount: str) -> Invoice:
    return Invoice(period, issued_on, issued_on + timedelta(days=17), Decimal(amount), Decimal(100))


def test_the_balance_of_a_period_before_and_after_the_balances_day():
    owner = account("100.00", date(2026, 3, 1))
    invoices = [invoice("2026-01", date(2026, 2, 3), "500.00"), invoice("2026-02", date(2026, 3, 3), "400.00"),
                invoice("2025-12", date(2026, 1, 3), "300.00")]
    payments = [Payment(date(2026, 2, 10), Decimal("450.00")), Payment(date(2026, 3, 1), Decimal("50.00")),
                Payment(date(2026, 3, 15), Decimal("420.00"))]
    assert history_start(owner, invoices) == date(2026, 1, 3)
    february = period_balance(owner, invoices, payments, Period(2026, 2), date(2026, 4, 20))
    # 100.00 at the end of 1 March, which paid 50.00: 150.00 at the end of February; take off February's 500 and
    # add back its 450 paid: 100.00 at its start
    assert (february.first, february.last, february.opening, february.charged, february.paid, february.closing) == (
        date(2026, 2, 1), date(2026, 2, 28), Decimal("100.00"), Decimal("500.00"), Decimal("450.00"), Decimal("150.00"))
    march = period_balance(owner, invoices, payments, Period(2026, 3), date(2026, 3, 20))
    assert (march.opening, march.closing, march.last) == (Decimal("150.00"), Decimal("80.00"), date(2026, 3, 20))
    assert period_balance(owner, invoices, payments, Period(2025, 12), date(2026, 4, 20)) is None
    january = period_balance(owner, invoices, payments, Period(2026, 1), date(2026, 4, 20))
    assert (january.first, january.opening, january.closing) == (date(2026, 1, 3), Decimal("-200.00"),
                                                                 Decimal("100.00"))
    assert period_balance(owner, invoices, payments, Period(2026, 5), date(2026, 4, 20)) is None


def test_without_an_invoice_before_its_balances_day_an_account_is_counted_from_the_next_day():
    owner = account("-20.00", date(2026, 11, 1))
    assert history_start(owner, []) == date(2026, 11, 2)
    assert history_start(owner, [invoice("2026-11", date(2026, 12, 3), "99.00")]) == date(2026, 11, 2)
    november = period_balance(owner, [], [Payment(date(2026, 11, 1), Decimal("70.00"))], Period(2026, 11),
                              date(2026, 11, 30))
    assert (november.first, november.opening, november.payments, november.closing) == (
        date(2026, 11, 2), Decimal("-20.00"), (), Decimal("-20.00"))


days = st.dates(min_value=date(2025, 1, 1), max_value=date(2026, 12, 31))


@settings(max_examples=200, deadline=None)
@given(balance_on=days, today=days,
       invoices=st.lists(st.tuples(days, st.integers(0, 100_000)), max_size=8),
       payments=st.lists(st.tuples(days, st.integers(0, 100_000)), max_size=8),
       months=st.lists(st.tuples(st.integers(2025, 2026), st.integers(1, 12)), min_size=1, max_size=4))
def test_one_period_ends_where_the_next_begins_and_the_balances_day_ends_at_its_balance(
        balance_on, today, invoices, payments, months):
    owner = account("123.45", balance_on)
    bills = [invoice(f"{day:%Y-%m}-{i}", day, str(Decimal(amount) / 100)) for i, (day, amount) in enumerate(invoices)]
    paid = [Payment(day, Decimal(amount) / 100) for day, amount in payments]
    start = history_start(owner, bills)
    for year, month in months:
        statement = period_balance(owner, bills, paid, Period(year, month), today)
        if statement is None:
            assert max(Period(year, month).first, start) > min(Period(year, month).last, today)
            continue
        assert statement.closing == statement.opening + statement.charged - statement.paid
        if statement.first <= balance_on <= statement.last:
            on_the_day = period_balance(owner, bills, paid, Period(year, month), balance_on)
            assert on_the_day is not None and on_the_day.closing == owner.balance
        after = statement.last + timedelta(days=1)
        if after.day == 1 and after <= today:
            following = period_balance(owner, bills, paid, Period(after.year, after.month), today)
            assert following is not None and following.opening == statement.closing
