"""Words a consumer reads (issue 18.11): months as words, amounts per language, order notices that name the
service and the next step, and every key in every language."""
import re
from decimal import Decimal
from pathlib import Path

from fluent.syntax import FluentParser, ast
from fluent.syntax.visitor import Visitor

from core import i18n
from core.flows.wording import READING_SOURCES
from core.i18n import LANGUAGES, Translator
from core.services import APPEAL_KINDS, APPEAL_STATUSES, ORDER_STATUSES, SERVICES, change_order_status
from tests.support.console import Talk, order
from tests.support.reminders import RecordingSender, dispatcher_for, two_chats

ROOT = Path(__file__).parent.parent
# A payment's purpose is read by the bank and the utility in Ukrainian whatever the chat's language.
UKRAINIAN_ONLY = {"receipt-purpose", "payment-purpose", "order-payment-purpose"}


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
        kabinet, planner, clock, demo_database, tmp_path):
    await two_chats(kabinet, tmp_path)
    await Talk(kabinet, chat_id="c2", files=tmp_path).say("/language uk")
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
    await talk.say("/link 010000012345 Шевченко")
    await talk.say("1")
    text = (await talk.say("/balance")).replace("\xa0", " ")
    assert "Лицевой счёт 010000012345" in text
    assert "Счёт за октябрь 2026: 712,80 грн за 165 кВт·ч, оплатить до 20.11.2026." in text


async def test_an_order_notice_names_the_service_and_says_what_to_do_next(
        kabinet, planner, clock, demo_database, tmp_path):
    talk = Talk(kabinet, chat_id="c1", files=tmp_path)
    await talk.say("/link 010000012345 Шевченко")
    await talk.say("1")
    number = int(await order(talk, "Meter verification"))
    await talk.say("/language uk")
    sender = RecordingSender()
    for status, comment in (("awaiting_confirmation", "Договір надіслано на пошту"),
                            ("awaiting_payment", "350,00 грн, IBAN UA00…"), ("done", None)):
        async with demo_database.transaction() as tx:
            amount = Decimal("350.00") if status == "awaiting_confirmation" else None  # a paid service's price
            await change_order_status(tx, number, status, comment, clock(), amount=amount)
        await planner.run("orders")
        while await dispatcher_for(demo_database, kabinet, clock, sender).run_once():
            pass
    assert [text for _, text in sender.sent] == [
        f"📋 Заявка №{number} «Повірка лічильника»: Очікує підтвердження.\n"
        "Коментар: Договір надіслано на пошту\n"
        "Що далі: ознайомтеся з договором (умови, строки, вартість) і приєднайтеся до нього або відмовтеся від "
        "послуги — без вашої згоди роботу не почнуть. Запитання: /appeal",
        f"📋 Заявка №{number} «Повірка лічильника»: Очікує оплати.\n"
        "Коментар: 350,00 грн, IBAN UA00…\n"
        "Що далі: оплатіть послугу — суму й кнопку оплати покаже заявка. Роботу почнуть, щойно кошти надійдуть "
        "(1–3 робочі дні).",
        f"📋 Заявка №{number} «Повірка лічильника»: Виконана.",
    ]


# ----- every key in every language


def messages(language: str) -> dict[str, ast.Message]:
    found = {}
    for path in sorted((ROOT / "locales" / language).glob("*.ftl")):
        for entry in FluentParser().parse(path.read_text(encoding="utf-8")).body:
            assert not isinstance(entry, ast.Junk), f"{path}: {entry.annotations[0].message}"
            if isinstance(entry, ast.Message):
                assert entry.id.name not in found, f"{path}: {entry.id.name} twice"
                found[entry.id.name] = entry
    return found


def variables(message: ast.Message) -> set[str]:
    names: set[str] = set()

    class Collect(Visitor):
        def visit_VariableReference(self, node):
            names.add(node.id.name)

    Collect().visit(message)
    return names


def test_every_language_has_every_key_with_the_same_placeables():
    ukrainian = messages("uk")
    for language in LANGUAGES:
        found = messages(language)
        assert set(ukrainian) - UKRAINIAN_ONLY - set(found) == set(), f"missing in {language}"
        assert set(found) - set(ukrainian) == set(), f"in {language} but not in Ukrainian"
        for key in set(found) & set(ukrainian):
            assert variables(found[key]) == variables(ukrainian[key]), f"{language} {key}"


def test_an_amount_gets_its_currency_only_from_the_money_message():
    for path in (ROOT / "locales").glob("*/*.ftl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.startswith("money ="):
                assert not re.search(r"\{ \$amount \} (грн|UAH)|UAH \{ \$amount \}", line), f"{path}: {line}"


KEY_CALL = re.compile(r'(?:\bt|\.say|\.button|translator)\(\s*(?:[\w.]+,\s*)?"([a-z][a-z0-9-]*)"')


def test_every_key_the_code_names_is_in_every_language():
    used = {key for folder in ("core", "bot", "handlers", "scheduler")
            for path in (ROOT / folder).rglob("*.py") for key in KEY_CALL.findall(path.read_text(encoding="utf-8"))}
    assert {"notice-order", "due-header", "help"} <= used  # the pattern finds them
    # Keys picked by an amount's sign (core/flows/balance.py by_sign), named in tuples the pattern misses.
    used |= {f"due-{kind}" for kind in ("to-pay", "overpaid", "nothing", "how-balance-owed", "how-balance-overpaid",
                                        "how-balance-zero", "how-to-pay", "how-overpaid", "how-nothing")}
    families = ([f"order-status-{s}" for s in ORDER_STATUSES] + [f"service-name-{s}" for s in SERVICES]
                + [f"appeal-status-{s}" for s in APPEAL_STATUSES] + [f"appeal-kind-{k}" for k in APPEAL_KINDS]
                + [f"month-{n}" for n in range(1, 13)] + [f"month-short-{n}" for n in range(1, 13)]
                + [f"reading-source-{s}" for s in READING_SOURCES] + [f"language-name-{c}" for c in LANGUAGES])
    translator = Translator()
    for language in LANGUAGES:
        missing = {key for key in used | set(families)
                   if not translator.has(language, key) and not (key in UKRAINIAN_ONLY and language != "uk")}
        assert missing == set(), f"missing in {language}"
