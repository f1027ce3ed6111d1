"""Words a consumer reads (issue 18.11): months as words, amounts per language, order notices that name the
service and the next step, and every key in every language."""
from decimal import Decimal

from core import i18n
from core.i18n import Translator
from core.services import change_order_status
from tests.conftest import Talk
from tests.test_reminders import RecordingSender, dispatcher_for, planner, two_chats  # noqa: F401 (a fixture)
from tests.test_services import order


def test_amounts_and_numbers_are_written_the_way_each_language_writes_them():
    translator = Translator()
    assert translator.text("en", i18n.money(Decimal("1234.5"))) == "UAH 1,234.50"
    assert translator.text("uk", i18n.money(Decimal("1234.5"))) == "1\u00a0234,50 грн"
    assert translator.text("ru", i18n.money(Decimal("120"))) == "120,00 грн"
    assert (i18n.kwh(Decimal("88400"), "en"), i18n.kwh(Decimal("12.5"), "en")) == ("88,400", "12.5")
    assert (i18n.kwh(Decimal("88400"), "uk"), i18n.kwh(Decimal("12.5"), "ru")) == ("88\u00a0400", "12,5")
    assert translator.text("uk", i18n.month("2026-10")) == "жовтень 2026"
    assert translator.text("en", i18n.month("2026-01")) == "January 2026"
    assert translator.text("ru", i18n.month("2026-12")) == "декабрь 2026"


async def test_the_invoice_notice_names_the_month_in_words_and_the_personal_account(
        kabinet, planner, clock, demo_database, tmp_path):  # noqa: F811
    await two_chats(kabinet, tmp_path)
    await Talk(kabinet, chat_id="c2", files=tmp_path)("/language uk")
    clock.set(2026, 11, 8, 9, 0)
    assert (await planner.run("invoices"))[0] == 3
    sender = RecordingSender()
    while await dispatcher_for(demo_database, kabinet, clock, sender).run_once():
        pass
    assert sorted(sender.sent) == [
        ("c1", "🧾 The invoice for October 2026 for account 010000012345: UAH 712.80 for 165 kWh, due by 20.11.2026. "
               "PDF with a payment QR code: /invoices"),
        ("c2", "🧾 Рахунок за жовтень 2026, особовий рахунок 020000054321: 33 250,40 грн за 88 400 кВт·год, "
               "сплатити до 20.11.2026. PDF з QR-кодом для оплати: /invoices"),
        ("c2", "🧾 Рахунок за жовтень 2026, особовий рахунок 1705339110: 587,52 грн за 256 кВт·год, "
               "сплатити до 20.11.2026. PDF з QR-кодом для оплати: /invoices"),
    ]


async def test_balance_names_the_invoice_month_in_words(kabinet, tmp_path):
    talk = Talk(kabinet, chat_id="c1", language="ru", files=tmp_path)
    await talk("/link 010000012345 Шевченко")
    await talk("1")
    text = (await talk("/balance")).replace("\xa0", " ")
    assert "Лицевой счёт 010000012345" in text
    assert "Счёт за октябрь 2026: 712,80 грн за 165 кВт·ч, оплатить до 20.11.2026." in text


async def test_an_order_notice_names_the_service_and_says_what_to_do_next(
        kabinet, planner, clock, demo_database, tmp_path):  # noqa: F811
    talk = Talk(kabinet, chat_id="c1", files=tmp_path)
    await talk("/link 010000012345 Шевченко")
    await talk("1")
    number = int(await order(talk, "Meter verification"))
    await talk("/language uk")
    sender = RecordingSender()
    for status, comment in (("awaiting_confirmation", "Договір надіслано на пошту"),
                            ("awaiting_payment", "350,00 грн, IBAN UA00…"), ("done", None)):
        async with demo_database.transaction() as tx:
            await change_order_status(tx, number, status, comment, clock())
        await planner.run("orders")
        while await dispatcher_for(demo_database, kabinet, clock, sender).run_once():
            pass
    assert [text for _, text in sender.sent] == [
        f"📋 Заявка №{number} «Повірка лічильника»: Очікує підтвердження.\n"
        "Коментар: Договір надіслано на пошту\n"
        "Що далі: ознайомтеся з пропозицією (умови, строки, вартість) і погодьте її — без вашого підтвердження "
        "роботу не почнуть. Запитання: /appeal",
        f"📋 Заявка №{number} «Повірка лічильника»: Очікує оплати.\n"
        "Коментар: 350,00 грн, IBAN UA00…\n"
        "Що далі: оплатіть послугу (суму й реквізити вказано в коментарі, а якщо їх немає — уточніть у "
        "контакт-центрі: /appeal). Роботу почнуть після оплати.",
        f"📋 Заявка №{number} «Повірка лічильника»: Виконана.",
    ]
