"""E-mail (issue 19.3): the address and its confirmation code, the tables the /settings flow keeps them in, and
the SMTP sender against a real local SMTP server (aiosmtpd) that the tests start."""
from __future__ import annotations

import asyncio
import socket
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from bot.settings import SettingsError, load_settings
from core import i18n

from core.email_address import (
    CODE_LIFETIME, CODE_TRIES, AddressRefused, PendingCode, Verdict, check_code, code_digest, code_limit,
    code_matches, new_code, normalise_address, shown_address, typed_code,
)
from core.i18n import Translator
from core.notifications import ChatUnreachable, DeliveryError, TransientFailure
from handlers.email import Attachment, Email, EmailSender, MailboxRefused, SmtpServer

NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


# ----- the address


@pytest.mark.parametrize("typed, normal", [
    ("  Ivan.Petrenko@Ukr.NET ", "Ivan.Petrenko@ukr.net"),
    ("mailto:olena+bills@gmail.com", "olena+bills@gmail.com"),
    ("<o.koval@energo.kharkiv.ua>", "o.koval@energo.kharkiv.ua"),
    ("info@пошта.укр", "info@xn--80a1acn3a.xn--j1amh"),
    ("user@example.com.", "user@example.com"),
])
def test_an_address_is_normalised_to_what_smtp_carries(typed, normal):
    assert normalise_address(typed) == normal


def test_a_cyrillic_domain_is_shown_in_its_own_letters():
    assert shown_address(normalise_address("info@Пошта.укр")) == "info@пошта.укр"


@pytest.mark.parametrize("typed, reason", [
    ("", "email-bad-empty"),
    ("   ", "email-bad-empty"),
    ("ivan petrenko@ukr.net", "email-bad-spaces"),
    ("ivan.ukr.net", "email-bad-no-at"),
    ("@ukr.net", "email-bad-no-at"),
    ("ivan@", "email-bad-no-at"),
    ("ivan..p@ukr.net", "email-bad-name"),
    (".ivan@ukr.net", "email-bad-name"),
    ("іван@ukr.net", "email-bad-name"),  # a Cyrillic mailbox name needs SMTPUTF8, which few servers take
    ("a@b@ukr.net", "email-bad-name"),
    ("x" * 65 + "@ukr.net", "email-bad-name"),
    ("ivan@localhost", "email-bad-domain"),
    ("ivan@ukr", "email-bad-domain"),
    ("ivan@-ukr.net", "email-bad-domain"),
    ("ivan@ukr..net", "email-bad-domain"),
    ("ivan@ukr.n3t", "email-bad-domain"),
    ("ivan@192.168.0.1", "email-bad-domain"),
    ("ivan@" + "a" * 64 + ".net", "email-bad-domain"),
    ("ivan@" + ".".join(["a" * 60] * 5) + ".net", "email-bad-too-long"),
])
def test_a_bad_address_is_refused_with_a_reason(typed, reason):
    with pytest.raises(AddressRefused) as refused:
        normalise_address(typed)
    assert refused.value.reason == reason


# ----- the code


def test_a_code_is_six_random_digits_and_only_its_salted_hash_is_kept():
    codes = {new_code() for _ in range(200)}
    assert all(len(code) == 6 and code.isdigit() for code in codes)
    assert len(codes) > 190  # random, not a counter or a clock
    digest = code_digest("042917")
    assert "042917" not in digest
    assert code_matches("042917", digest) and not code_matches("042918", digest)
    assert code_digest("042917") != digest  # salted: the same code hashes differently each time


@pytest.mark.parametrize("typed, code", [
    ("123456", "123456"), (" 123 456 ", "123456"), ("123-456", "123456"), ("012345", "012345"),
    ("12345", None), ("1234567", None), ("12345a", None), ("١٢٣٤٥٦", None), ("", None),
])
def test_a_typed_code_is_six_digits_spaces_and_dashes_ignored(typed, code):
    assert typed_code(typed) == code


def pending(code: str = "531902", tries: int = 0, sent_at: datetime = NOW) -> PendingCode:
    return PendingCode("olena@ukr.net", code_digest(code), sent_at, tries)


def test_the_right_code_confirms_and_a_wrong_one_spends_a_try():
    assert check_code(pending(), "531 902", NOW + timedelta(minutes=3)).verdict is Verdict.CONFIRMED
    wrong = check_code(pending(), "531903", NOW + timedelta(minutes=3))
    assert (wrong.verdict, wrong.tries_left) == (Verdict.WRONG, CODE_TRIES - 1)


def test_text_that_is_not_a_code_spends_no_try():
    check = check_code(pending(tries=2), "what code?", NOW)
    assert (check.verdict, check.tries_left) == (Verdict.NOT_A_CODE, CODE_TRIES - 2)


def test_after_five_wrong_tries_even_the_right_code_is_refused():
    assert check_code(pending(tries=CODE_TRIES - 2), "000000", NOW).verdict is Verdict.WRONG
    last = check_code(pending(tries=CODE_TRIES - 1), "000000", NOW)
    assert (last.verdict, last.tries_left) == (Verdict.SPENT, 0)
    assert check_code(pending(tries=CODE_TRIES), "531902", NOW).verdict is Verdict.SPENT


def test_a_code_expires_after_fifteen_minutes():
    assert check_code(pending(), "531902", NOW + CODE_LIFETIME - timedelta(seconds=1)).verdict is Verdict.CONFIRMED
    assert check_code(pending(), "531902", NOW + CODE_LIFETIME).verdict is Verdict.EXPIRED


def test_a_chat_may_ask_for_three_codes_an_hour():
    sent = [NOW - timedelta(minutes=50), NOW - timedelta(minutes=20), NOW - timedelta(minutes=5)]
    assert code_limit(sent[1:], [], NOW) is None
    limit = code_limit(sent, [], NOW)
    assert limit.reason == "email-code-limit-chat"
    assert limit.again_at == NOW + timedelta(minutes=10)  # when the oldest of the three is an hour old
    assert code_limit(sent, [], limit.again_at) is None
    assert code_limit([NOW - timedelta(hours=2)] * 10, [], NOW) is None


def test_an_address_receives_at_most_five_codes_a_day_from_all_chats():
    to_address = [NOW - timedelta(hours=hours) for hours in (23, 12, 6, 3, 1)]
    assert code_limit([], to_address[1:], NOW) is None
    limit = code_limit([], to_address, NOW)
    assert (limit.reason, limit.again_at) == ("email-code-limit-address", NOW + timedelta(hours=1))


# ----- the SMTP sender, against a real SMTP server on 127.0.0.1


class Mailbox:
    """aiosmtpd's handler: keeps what arrives; answers the next RCPTs from `answers` when there are any."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.answers: list[str] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        answer = self.answers.pop(0) if self.answers else "250 OK"
        if answer.startswith("250"):
            envelope.rcpt_tos.append(address)
        return answer

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 2.0.0 Accepted"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpStandIn:
    """A local SMTP server the test can stop and start again on the same port."""

    def __init__(self, **smtp_options) -> None:
        self.mailbox = Mailbox()
        self.port = free_port()
        self.options = smtp_options
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port, **self.options)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp_server():
    stand_in = SmtpStandIn()
    stand_in.start()
    yield stand_in
    stand_in.stop()


@pytest.fixture
async def mailer(smtp_server):
    sender = EmailSender(SmtpServer("127.0.0.1", smtp_server.port, "АТ «Демообленерго» <rahunky@demo-energo.ua>",
                                    tls="none", timeout=5))
    yield sender
    await sender.close()


def code_email(translator: Translator, language: str, to: str, code: str) -> Email:
    return Email(to, translator(language, "email-code-subject"),
                 translator(language, "email-code-body", code=code, minutes=15))


async def test_the_confirmation_mail_arrives_with_the_code_and_a_ukrainian_subject(smtp_server, mailer):
    translator = Translator()
    await mailer.send(code_email(translator, "uk", "olena@ukr.net", "042917"))
    [message] = smtp_server.mailbox.messages
    assert smtp_server.mailbox.envelopes == [("rahunky@demo-energo.ua", ["olena@ukr.net"])]
    assert message["Subject"] == translator("uk", "email-code-subject")
    assert any("\u0400" <= char <= "\u04ff" for char in message["Subject"])  # Cyrillic, decoded from the wire
    assert str(message["From"]) == "АТ «Демообленерго» <rahunky@demo-energo.ua>"
    assert message["Message-ID"].endswith("@demo-energo.ua>")
    body = message.get_content()
    assert "042917" in body and "15" in body
    assert message.get_content_charset() == "utf-8"


async def test_an_invoice_mail_carries_the_pdf_byte_for_byte(smtp_server, mailer):
    pdf = b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"  # every byte value, CR and LF among them
    translator = Translator()
    email = Email("olena@ukr.net",
                  translator("uk", "email-invoice-subject", month=i18n.month("2026-10"), account="010000012345"),
                  translator("uk", "email-invoice-body", month=i18n.month("2026-10"), account="010000012345",
                             amount=i18n.money(Decimal("712.8")), kwh="165", due="20.11.2026"),
                  (Attachment("Рахунок 2026-10.pdf", pdf),))
    await mailer.send(email)
    [message] = smtp_server.mailbox.messages
    assert message["Subject"] == "Рахунок за жовтень 2026, особовий рахунок 010000012345"
    assert "712,80 грн" in message.get_body(("plain",)).get_content()
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == "Рахунок 2026-10.pdf"
    assert attachment.get_content() == pdf


async def test_a_451_is_tried_again_and_a_550_refuses_the_mailbox(smtp_server, mailer):
    smtp_server.mailbox.answers = ["451 4.3.0 Mailbox busy, try later"]
    with pytest.raises(TransientFailure, match="451"):
        await mailer.send(Email("olena@ukr.net", "Тема", "Текст"))
    await mailer.send(Email("olena@ukr.net", "Тема", "Текст"))  # the outbox's next try: 250
    smtp_server.mailbox.answers = ["550 5.1.1 No such user here"]
    with pytest.raises(MailboxRefused, match="550"):
        await mailer.send(Email("nobody@ukr.net", "Тема", "Текст"))
    await mailer.send(Email("olena@ukr.net", "Тема 2", "Текст"))  # the connection serves the next message
    assert [str(message["Subject"]) for message in smtp_server.mailbox.messages] == ["Тема", "Тема 2"]


def test_a_refused_mailbox_is_a_refusal_for_good_not_a_retry_nor_an_unreachable_chat():
    # The dispatcher retries TransientFailure and marks the messenger chat unreachable on ChatUnreachable;
    # a dead mailbox must do neither.
    assert issubclass(MailboxRefused, DeliveryError)
    assert not issubclass(MailboxRefused, (TransientFailure, ChatUnreachable))


async def test_a_connection_the_server_closed_while_idle_is_opened_again_unnoticed():
    stand_in = SmtpStandIn(timeout=0.3)  # aiosmtpd closes a connection idle that long
    stand_in.start()
    sender = EmailSender(SmtpServer("127.0.0.1", stand_in.port, "rahunky@demo-energo.ua", tls="none", timeout=5))
    try:
        await sender.send(Email("olena@ukr.net", "Перший", "1"))
        await asyncio.sleep(0.8)
        await sender.send(Email("olena@ukr.net", "Другий", "2"))
    finally:
        await sender.close()
        stand_in.stop()
    assert [str(message["Subject"]) for message in stand_in.mailbox.messages] == ["Перший", "Другий"]


async def test_the_server_going_away_is_a_retry_and_its_return_is_reconnected(smtp_server, mailer):
    await mailer.send(Email("olena@ukr.net", "До", "1"))
    smtp_server.stop()
    with pytest.raises(TransientFailure):
        await mailer.send(Email("olena@ukr.net", "Під час", "2"))
    smtp_server.start()
    await mailer.send(Email("olena@ukr.net", "Після", "3"))
    assert [str(message["Subject"]) for message in smtp_server.mailbox.messages] == ["До", "Після"]


def test_every_refusal_core_names_is_told_in_every_language():
    reasons = set()
    for typed in ("", "a b@c.ua", "abc", ".a@b.ua", "a@b", "a@" + ".".join(["b" * 60] * 5) + ".ua"):
        with pytest.raises(AddressRefused) as refused:
            normalise_address(typed)
        reasons.add(refused.value.reason)
    reasons |= {code_limit([NOW] * 3, [], NOW).reason, code_limit([], [NOW] * 5, NOW).reason}
    assert len(reasons) == 8
    translator = Translator()
    for language in i18n.LANGUAGES:
        assert all(translator.has(language, reason) for reason in reasons), language


async def test_a_server_restarted_under_the_kept_connection_takes_the_next_message(smtp_server, mailer):
    await mailer.send(Email("olena@ukr.net", "До", "1"))
    smtp_server.stop()
    smtp_server.start()  # no await between: the kept connection's end is not yet seen when the next one is sent
    await mailer.send(Email("olena@ukr.net", "Після", "2"))
    assert [str(message["Subject"]) for message in smtp_server.mailbox.messages] == ["До", "Після"]


# ----- settings: no e-mail configured, no e-mail offered


def test_e_mail_is_offered_only_when_the_smtp_host_and_from_are_set(monkeypatch):
    assert load_settings().smtp is None
    monkeypatch.setenv("KABINET_SMTP_HOST", "smtp.oblenergo.ua")
    monkeypatch.setenv("KABINET_SMTP_FROM", "АТ «Обленерго» <Rahunky@Oblenergo.UA>")
    monkeypatch.setenv("KABINET_SMTP_USERNAME", "kabinet")
    monkeypatch.setenv("KABINET_SMTP_PASSWORD", "smtp-secret-password")
    settings = load_settings()
    assert settings.smtp == SmtpServer("smtp.oblenergo.ua", 587, "АТ «Обленерго» <Rahunky@oblenergo.ua>",
                                       "kabinet", "smtp-secret-password", "starttls")
    assert "smtp-secret-password" not in repr(settings)
    monkeypatch.setenv("KABINET_SMTP_TLS", "tls")
    assert load_settings().smtp.port == 465
    monkeypatch.setenv("KABINET_SMTP_PORT", "2525")
    assert load_settings().smtp.port == 2525


@pytest.mark.parametrize("variables, named", [
    ({"KABINET_SMTP_HOST": "smtp.oblenergo.ua"}, "KABINET_SMTP_FROM: .*must be set when KABINET_SMTP_HOST is"),
    ({"KABINET_SMTP_FROM": "rahunky@oblenergo.ua"}, "KABINET_SMTP_FROM: .*KABINET_SMTP_HOST must be set"),
    ({"KABINET_SMTP_HOST": "h.ua", "KABINET_SMTP_FROM": "rahunky at oblenergo"}, "KABINET_SMTP_FROM: .*not an e-mail"),
    ({"KABINET_SMTP_HOST": "h.ua", "KABINET_SMTP_FROM": "a@h.ua", "KABINET_SMTP_USERNAME": "kabinet"},
     "KABINET_SMTP_PASSWORD: .*must be set"),
    ({"KABINET_SMTP_TLS": "ssl"}, "KABINET_SMTP_TLS"),
    ({"KABINET_SMTP_PORT": "0"}, "KABINET_SMTP_PORT"),
    ({"KABINET_SMTP_RATE": "0"}, "KABINET_SMTP_RATE"),
])
def test_a_bad_smtp_setting_is_named(monkeypatch, variables, named):
    for variable, value in variables.items():
        monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=named):
        load_settings()
