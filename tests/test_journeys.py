"""The product's promise: the same conversation in the console, Telegram and Viber, seen the same way.

Each journey is written once against ChatDriver and runs through every channel (the `consumer` fixture)
on every database backend: a consumer who speaks Ukrainian, typing, pressing buttons, sending a phone's
photo and their phone number, and getting a notice from the outbox.
"""
from __future__ import annotations

import base64
import dataclasses
import hashlib

import pytest

from core.pay_links import PayLinks
from core.receipts import NBU_QR_LINK
from storage.exchange import submitted_readings
from tests.support.chat import ChatDriver
from tests.support.drivers import CHANNELS, open_chat
from tests.support.pictures import phone_photo
from tests.support.reminders import notices_to

MENU = ["Баланс", "Передати показники", "Історія", "Рахунки за місяці", "Відключення", "Послуги", "Звернення",
        "Мої особові рахунки", "Налаштування", "Допомога"]


async def link(chat: ChatDriver) -> None:
    """The demo account linked the way a newcomer does it: /start, the button, consent, number, surname."""
    assert "Вітаємо в Кабінеті споживача електроенергії!" in await chat.say("/start")
    assert chat.buttons == ["Підключити особовий рахунок"]
    assert "потрібна ваша згода на обробку персональних даних" in await chat.press("Підключити особовий рахунок")
    assert chat.buttons == ["Погоджуюсь", "Не погоджуюсь"]
    await chat.press("Погоджуюсь")
    assert chat.replies == ["Згоду зафіксовано.", "Введіть номер особового рахунку (наприклад, 12 цифр «Єдиного "
                            "рахунку» з квитанції) або EIC-код (16 символів, починається з 62Z)."]
    assert await chat.say("01 000 0012345") == "Введіть прізвище власника особового рахунку."
    assert await chat.say("шевченко") == "Особовий рахунок 010000012345 підключено: м. Харків, вул. Сумська, 10, кв. 5."
    assert chat.buttons == MENU


async def test_link_an_account_and_see_its_balance(consumer):
    await link(consumer)
    again = await consumer.say("/link 010000012345 Шевченко")
    assert again == "Особовий рахунок 010000012345 уже підключено до цього чату."
    assert await consumer.press("Баланс") == (
        "Особовий рахунок 010000012345, м. Харків, вул. Сумська, 10, кв. 5\n"
        "До сплати зараз: 658,40 грн.\n"
        "Останній платіж: 300,00 грн, 10.11.2026.\n"
        "Рахунок за жовтень 2026: 712,80 грн за 165 кВт·год, сплатити до 20.11.2026.\n"
        "Тариф «Побутовий»: 4,32 грн/кВт·год.\n"
        "⚠ Повірка лічильника 0123456 — до 15.01.2027 (залишилося днів: 46)."
    )
    assert consumer.buttons == ["Як це пораховано?", *MENU]


async def test_a_reading_through_zero_is_confirmed_by_button(consumer):
    await link(consumer)
    asked = await consumer.say("/reading 100")
    assert "Якщо лічильник пройшов через нуль (5 цифр), споживання становить 87 755 кВт·год" in asked
    assert consumer.buttons == ["Підтверджую", "Ввести заново"]
    assert "Введіть показники лічильника 0123456" in await consumer.press("Ввести заново")
    assert "пройшов через нуль" in await consumer.say("100")
    accepted = await consumer.press("Підтверджую")
    assert accepted.startswith("✅ Показники лічильника 0123456 прийнято: 100 (30.11.2026).\n"
                               "Споживання: 87 755 кВт·год.")
    assert consumer.buttons == MENU


async def test_a_phone_photo_is_kept_with_the_reading_it_asks_for(consumer, kabinet, demo_database):
    photo = phone_photo()
    await link(consumer)
    assert await consumer.photo(photo) == (
        "Фото збережено як підтвердження показників.\n"
        "Введіть показники лічильника 0123456: ціле число, не більше 5 цифр.\n"
        "Попередні показники: 12345 (31.10.2026)."
    )
    assert "прийнято: 12480 (30.11.2026)" in await consumer.say("12480")
    [kept] = kabinet.photos.root.rglob("*.jpg")
    assert kept.read_bytes() == photo  # every byte of it: no channel shrank or cut it on the way
    async with demo_database.session() as session:
        [reading] = await submitted_readings(session, None)
    assert reading["value"] == 12480 and reading["source"] == consumer.channel
    assert reading["photo"].endswith(hashlib.sha256(photo).hexdigest() + ".jpg")


async def test_a_service_is_ordered_with_a_shared_phone_and_cancelled(consumer):
    await link(consumer)
    await consumer.press("Послуги")
    assert consumer.buttons[0] == "Шум у електролічильнику · безкоштовна" and consumer.buttons[-1] == "Мої заявки"
    assert "Введіть контактний номер телефону" in await consumer.press("Шум у електролічильнику · безкоштовна")
    assert "Додайте коментар для фахівця" in await consumer.contact("+380501234567")
    assert await consumer.press("Пропустити") == (
        "Заявку №1 надіслано: «Шум у електролічильнику», особовий рахунок 010000012345, телефон 0501234567. "
        "Статус: Надіслана. Я повідомлю, коли він зміниться.")
    await consumer.press("Послуги")
    assert "№1 Шум у електролічильнику — Надіслана (30.11.2026 10:00)" in await consumer.press("Мої заявки")
    assert "Статус: Надіслана" in await consumer.press("Заявка №1")
    assert consumer.buttons == ["Скасувати заявку", "Мої заявки"]
    assert await consumer.press("Скасувати заявку") == "Скасувати заявку №1 «Шум у електролічильнику»?"
    assert await consumer.press("Так, скасувати") == "Заявку №1 скасовано."
    assert "Статус: Скасована" in await consumer.press(action="order:1")


async def test_an_outage_notice_reaches_the_chat(consumer, kabinet, demo_database, clock):
    clock.set(2026, 11, 22, 9, 0)
    await link(consumer)
    assert await notices_to(consumer, "outages", kabinet, demo_database, clock) == 1
    assert await consumer.arrived() == (
        "🔌 Планове відключення: з 25.11.2026 09:00 до 25.11.2026 17:00. Причина: Планова заміна опор ЛЕП-0.4 кВ.")
    assert await notices_to(consumer, "outages", kabinet, demo_database, clock) == 0
    assert await consumer.arrived() == ""  # told once


async def test_a_debt_reminder_carries_the_pay_buttons(consumer, kabinet, demo_database, clock):
    """As /balance: the NBU payment link (the bank app opens it) and, LiqPay configured, the card payment page."""
    kabinet.payee = dataclasses.replace(kabinet.payee, card=PayLinks.for_shop("https://pay.example/liqpay", "key"))
    clock.set(2026, 11, 21, 12, 0)  # after the 20.11 due date
    await link(consumer)
    assert await notices_to(consumer, "debts", kabinet, demo_database, clock) == 1
    assert "заборгованість 658,40 грн" in await consumer.arrived()
    [(nbu, nbu_link), (card, card_link)] = consumer.links
    assert (nbu, card) == ("Сплатити 658,40 грн", "Сплатити карткою")
    data = base64.urlsafe_b64decode(nbu_link.removeprefix(NBU_QR_LINK) + "==").decode().split("\n")
    assert nbu_link.startswith(NBU_QR_LINK) and data[7] == "UAH658.40" and "010000012345" in data[11]
    assert card_link.startswith("https://pay.example/liqpay?order=") and "amount=658.40" in card_link


async def test_forget_erases_the_chat(consumer):
    await link(consumer)
    assert "Відключити всі особові рахунки й стерти дані цього чату" in await consumer.say("/forget")
    assert consumer.buttons == ["Так, стерти", "Ні"]
    assert "Дані чату стерто, особові рахунки відключено." in await consumer.press("Так, стерти")
    assert await consumer.say("/balance") == "До цього чату ще не підключено жодного особового рахунку."
    assert consumer.buttons == ["Підключити особовий рахунок"]


# What the consumer does in the conversation below, step by step; each step's messages and buttons are compared.
TOUR = [
    ("say", "/start"), ("press", "Підключити особовий рахунок"), ("press", "Погоджуюсь"), ("say", "010000012345"),
    ("say", "Шевченко"), ("press", "Баланс"), ("press", "Як це пораховано?"), ("say", "/reading"), ("say", "/cancel"),
    ("say", "/history"), ("say", "/invoices"), ("say", "/outages"), ("press", "Послуги"), ("press", "Мої заявки"),
    ("say", "/appeal"), ("say", "/cancel"), ("say", "/settings"), ("say", "/accounts"), ("say", "/help"),
    ("say", "/language"), ("say", "щось незрозуміле"), ("say", "/forget"), ("press", "Ні"),
]


# The channels render; the database does not take part in that, so one backend is enough here.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_every_channel_shows_the_same_conversation(kabinet, demo_database, tmp_path):
    transcripts = {}
    for channel in CHANNELS:
        async with open_chat(channel, kabinet, demo_database, tmp_path / channel) as chat:
            transcripts[channel] = [(step, await getattr(chat, kind)(arg), chat.buttons)
                                    for step, (kind, arg) in enumerate(TOUR)]
    console = transcripts["console"]
    assert all(text for _, text, _ in console)  # every step was answered
    for channel in ("telegram", "viber"):
        assert transcripts[channel] == console, channel
