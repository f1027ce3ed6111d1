"""Services as the utility defines them (issue 19.4): the catalogue from services.csv, the default one without it."""
from __future__ import annotations

import pytest

from core.services import IllegalTransition, change_order_status
from storage.exchange import ImportRefused
from tests.support.billing import import_files
from tests.support.chat import ChatDriver
from tests.support.drivers import link_demo_account
from tests.support.console import linked, order
from tests.support.reminders import notices_to

HEADER = "service,name_uk,name_en,name_ru,price,attach_uk,attach_en,attach_ru,statuses,offered\n"
CATALOGUE = HEADER + (
    "meter-noise,Шум у лічильнику,Noise in the meter,Шум в счётчике,free,,,,accepted;awaiting_confirmation,yes\n"
    "reconnection,Повторне підключення,Reconnection,Повторное подключение,paid,"
    "Скан чека про оплату боргу,A scan of the debt's payment receipt,,"
    "accepted;awaiting_confirmation;awaiting_payment,yes\n"
    "meter-check,Технічна перевірка лічильника,Meter check,Техническая проверка,350.00,,,,"
    "awaiting_confirmation;awaiting_payment,yes\n"
    "old-service,Стара послуга,Old service,Старая услуга,free,,,,,no\n"
)


async def test_without_a_catalogue_the_default_one_has_the_two_services_of_seed_002(talk):
    await linked(talk)
    await talk.say("/service")
    assert "Documents to the commission (disputed debt or charges) · free" in talk.buttons
    assert "Installing a multifunction meter · paid" in talk.buttons
    assert len(talk.buttons) == 10 + 1  # ten services and "My orders"


async def test_the_default_reconnection_asks_for_the_debts_receipt(talk):
    await linked(talk)
    await talk.say("/service reconnection")
    await talk.say("0501234567")
    text = await talk.say("Skip")
    assert ("Order No. 1: add a scan of the receipt for the paid debt, if the power was cut off for a debt. "
            "Send a photo or a PDF file") in text
    assert talk.buttons == ["Done"]
    assert "Files in order No. 1: 0" in await talk.say("Done")


async def test_the_imported_catalogue_is_the_menu_in_the_chats_language(talk, new_talk, demo_database, tmp_path):
    await import_files(demo_database, tmp_path / "exchange", {"services.csv": CATALOGUE})
    await linked(talk)
    await talk.say("/service")
    assert talk.buttons == ["Noise in the meter · free", "Reconnection · paid", "Meter check · UAH 350.00",
                            "My orders"]  # the withdrawn one is not offered
    russian = new_talk("c2", language="ru")
    await russian.say("/link 1705339110 Дем'яненко")
    assert "подключён" in await russian.say("1")  # the consent
    await russian.say("/service")
    assert russian.buttons[:3] == ["Шум в счётчике · бесплатная", "Повторное подключение · платная",
                                   "Техническая проверка · 350,00 грн"]
    # a name typed in another language, and one the catalogue no longer offers
    assert "Техническая проверка. Введите контактный номер" in await russian.say("Технічна перевірка лічильника")
    assert "Такой услуги нет" in await russian.say("/service old-service")
    assert "Такой услуги нет" in await russian.say("/service meter-verification")  # not in this catalogue


async def test_an_order_keeps_its_services_name_when_it_is_withdrawn(talk, demo_database, tmp_path):
    await import_files(demo_database, tmp_path / "exchange", {"services.csv": CATALOGUE})
    await linked(talk)
    number = await order(talk, service="Noise in the meter")
    await import_files(demo_database, tmp_path / "exchange2", {"services.csv": CATALOGUE.replace(
        "awaiting_confirmation,yes\nreconnection", "awaiting_confirmation,no\nreconnection")})
    await talk.say("/service")
    assert "Noise in the meter · free" not in talk.buttons
    assert f"Order No. {number}: Noise in the meter" in await talk.press(action=f"order:{number}")


async def test_an_order_goes_only_through_the_statuses_its_service_has(talk, kabinet, demo_database, tmp_path,
                                                                       clock):
    await import_files(demo_database, tmp_path / "exchange", {"services.csv": CATALOGUE})
    await linked(talk)
    number = int(await order(talk, service="Meter check"))
    async with kabinet.store.transaction() as tx:
        with pytest.raises(IllegalTransition, match="meter-check does not go through 'accepted'"):
            await change_order_status(tx, number, "accepted", None, clock())
        await change_order_status(tx, number, "awaiting_confirmation", None, clock())


@pytest.mark.parametrize("row, reason", [
    ("Meter Noise,Шум,,,free,,,,,yes", "service: 'Meter Noise' is not a code"),
    ("noise,Шум,,,cheap,,,,,yes", "price: 'cheap' is not free, paid or a price"),
    ("noise,Шум,,,0,,,,awaiting_payment,yes", "price: '0' is not free, paid or a price"),
    ("noise,Шум,,,free,,,,awaiting_payment,yes", "a free service never awaits payment"),
    ("noise,Шум,,,120.50,,,,accepted,yes", "a paid service goes through awaiting_payment"),
    ("noise,Шум,,,free,,,,done,yes", "statuses: 'done' is not one of accepted, awaiting_confirmation"),
    ("noise,,Noise,,free,,,,,yes", "name_uk is empty"),
    ("noise,Шум,,,free,,,,,maybe", "offered: 'maybe' is not yes or no"),
])
async def test_a_bad_service_row_is_named_by_file_and_line_and_nothing_is_imported(
        talk, demo_database, tmp_path, row, reason):
    contacts = "contact,kind,label,value,hours\ncc,call-centre,Контакт-центр,0 800 300 000,\n"
    with pytest.raises(ImportRefused) as refused:
        await import_files(demo_database, tmp_path / "exchange", {
            "services.csv": HEADER + "fine,Добре,,,free,,,,,yes\n" + row + "\n", "contacts.csv": contacts})
    assert [(p.file, p.line) for p in refused.value.problems] == [("services.csv", 3)]
    assert reason in refused.value.problems[0].reason
    await linked(talk)
    await talk.say("/service")
    assert "Noise in the electricity meter · free" in talk.buttons  # still the default catalogue
    assert "have not been loaded yet" in await talk.say("/contacts")


async def test_a_repeated_service_code_is_refused(demo_database, tmp_path):
    with pytest.raises(ImportRefused) as refused:
        await import_files(demo_database, tmp_path / "exchange", {
            "services.csv": HEADER + "fine,Добре,,,free,,,,,yes\nfine,Знову,,,free,,,,,yes\n"})
    assert [str(p) for p in refused.value.problems] == ["services.csv:3: repeats line 2 (service)"]


async def test_the_catalogue_in_every_channel(consumer: ChatDriver, kabinet, demo_database, tmp_path, clock):
    await import_files(demo_database, tmp_path / "exchange", {"services.csv": CATALOGUE})
    await link_demo_account(consumer)
    await consumer.press("Послуги")
    assert consumer.buttons == ["Шум у лічильнику · безкоштовна", "Повторне підключення · платна",
                                "Технічна перевірка лічильника · 350,00 грн", "Мої заявки"]
    assert "Технічна перевірка лічильника. Введіть контактний номер" in await consumer.press(
        "Технічна перевірка лічильника · 350,00 грн")
    await consumer.contact("+380501234567")
    assert "Заявку №1 надіслано: «Технічна перевірка лічильника»" in await consumer.press("Пропустити")
    async with kabinet.store.transaction() as tx:
        await change_order_status(tx, 1, "awaiting_confirmation", None, clock())
    assert await notices_to(consumer, "orders", kabinet, demo_database, clock) == 1
    assert "Заявка №1 «Технічна перевірка лічильника»: Очікує підтвердження" in await consumer.arrived()
