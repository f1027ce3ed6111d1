"""E-mail (issue 19.3): the address and its confirmation code, the tables the /settings flow keeps them in, and
the SMTP sender against a real local SMTP server (aiosmtpd) that the tests start."""
from __future__ import annotations

import asyncio
import re
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from aiosmtpd.smtp import AuthResult
from alembic import command

from benchmarks.scratch import scratch_database

from bot.cli import _export
from bot.settings import Settings, SettingsError, load_settings
from core import i18n

from core.email_address import (
    CODE_LIFETIME, CODE_TRIES, AddressRefused, ChatEmail, PaperInvoiceChoice, PendingCode, Verdict, check_code,
    code_digest, code_limit, code_matches, new_code, normalise_address, shown_address, typed_code,
)
from core.i18n import Translator
from core.messages import Attachment, Button, Reply
from core.notifications import ChatUnreachable, DeliveryError, TransientFailure
from handlers.email import Email, EmailSender, MailboxRefused, SmtpServer, email_of
from storage.migrate import alembic_config, upgrade
from storage.repositories import SqlTransaction
from tests.support.console import linked
from tests.support.schema import inspected
from tests.support.smtp import SmtpStandIn
from tests.support.demo import BACKENDS

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
                  (Attachment("Рахунок 2026-10.pdf", pdf, "application/pdf"),))
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


async def test_our_from_address_refused_is_retried_later_not_dropped(smtp_server, mailer):
    smtp_server.mailbox.refuse_sender = "553 5.7.1 Sender address rejected: not owned by you"
    with pytest.raises(TransientFailure, match="553"):  # the operator mends KABINET_SMTP_FROM; the outbox tries again
        await mailer.send(Email("olena@ukr.net", "Тема", "Текст"))
    smtp_server.mailbox.refuse_sender = ""
    await mailer.send(Email("olena@ukr.net", "Тема", "Текст"))
    assert len(smtp_server.mailbox.messages) == 1


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


def test_replies_become_one_e_mail_with_the_pay_link_and_the_pdf():
    pdf = Attachment("invoice-010000012345-2026-10.pdf", b"%PDF-1.7 ...", "application/pdf")
    replies = [
        Reply("Рахунок за жовтень 2026: 712,80 грн", [[Button("Сплатити", "pay:1", url="https://bank.gov.ua/qr/abc"),
                                                       Button("Усі рахунки", "invoices")]], document=pdf),
        Reply("Усього до сплати: 712,80 грн"),
    ]
    email = email_of("olena@ukr.net", "Рахунок за жовтень 2026", replies, footer="—\n/settings")
    assert email == Email("olena@ukr.net", "Рахунок за жовтень 2026",
                          "Рахунок за жовтень 2026: 712,80 грн\nСплатити: https://bank.gov.ua/qr/abc\n\n"
                          "Усього до сплати: 712,80 грн\n\n—\n/settings", (pdf,))


async def test_messages_sent_at_once_share_the_one_connection_in_turn(smtp_server, mailer):
    await asyncio.gather(*(mailer.send(Email("olena@ukr.net", f"Лист {n}", str(n))) for n in range(5)))
    assert sorted(str(message["Subject"]) for message in smtp_server.mailbox.messages) == [
        f"Лист {n}" for n in range(5)]
    assert len(set(smtp_server.mailbox.peers)) == 1


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # plain text on 127.0.0.1 only
async def test_the_sender_logs_in_and_a_wrong_password_is_retried_later_not_dropped():
    def authenticator(server, session, envelope, mechanism, auth_data):
        given = [part.decode() if isinstance(part, bytes) else part for part in (auth_data.login, auth_data.password)]
        return AuthResult(success=given == ["kabinet", "smtp-secret"], handled=False)  # handled=False: answer 535

    stand_in = SmtpStandIn(authenticator=authenticator, auth_required=True, auth_require_tls=False)
    stand_in.start()
    try:
        for password, sent in (("wrong", False), ("smtp-secret", True)):
            sender = EmailSender(SmtpServer("127.0.0.1", stand_in.port, "rahunky@demo-energo.ua", "kabinet",
                                            password, tls="none", timeout=5))
            try:
                if sent:
                    await sender.send(Email("olena@ukr.net", "Вхід", "1"))
                else:
                    with pytest.raises(TransientFailure, match="535"):
                        await sender.send(Email("olena@ukr.net", "Вхід", "1"))
            finally:
                await sender.close()
    finally:
        stand_in.stop()
    assert len(stand_in.mailbox.messages) == 1


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


# ----- the tables (SQLite and PostgreSQL)


@asynccontextmanager
async def transaction(database):
    async with database.engine.connect() as connection, connection.begin():
        tx = SqlTransaction(connection=connection)
        yield tx
        await tx.finish()


async def test_a_confirmed_address_its_notices_a_change_a_refusal_and_removal(database):
    async with transaction(database) as tx:
        chat = await tx.chat("telegram", "501", "uk")
        assert await tx.chat_email(chat.id) is None
        first = await tx.confirm_email(chat.id, "olena@ukr.net", NOW)
        assert first == ChatEmail("olena@ukr.net", NOW, frozenset({"invoice"}))
        assert first.wants("invoice") and not first.wants("outages")
        await tx.set_email_notices(chat.id, frozenset({"invoice", "outages"}))
    async with transaction(database) as tx:
        await tx.refuse_email(chat.id, "old@ukr.net", NOW)  # not the address it has now: nothing changes
        assert (await tx.chat_email(chat.id)).refused_at is None
        await tx.refuse_email(chat.id, "olena@ukr.net", NOW + timedelta(hours=1))
        refused = await tx.chat_email(chat.id)
        assert refused.refused_at == NOW + timedelta(hours=1) and not refused.wants("invoice")
        changed = await tx.confirm_email(chat.id, "olena.koval@gmail.com", NOW + timedelta(hours=2))
        assert changed == ChatEmail("olena.koval@gmail.com", NOW + timedelta(hours=2),
                                    frozenset({"invoice", "outages"}))  # the choice stays, the refusal goes
    async with transaction(database) as tx:
        assert await tx.remove_email(chat.id) == "olena.koval@gmail.com"
        assert await tx.remove_email(chat.id) is None
        assert await tx.chat_email(chat.id) is None


async def test_only_the_last_code_is_pending_and_its_tries_are_kept(database):
    async with transaction(database) as tx:
        await tx.save_email_code("viber", "v1", "olena@ukr.net", code_digest("111111"), NOW)
        await tx.save_email_code("viber", "v1", "olena@gmail.com", code_digest("222222"), NOW + timedelta(minutes=1))
        await tx.save_email_code("viber", "v2", "other@ukr.net", code_digest("333333"), NOW)
    async with transaction(database) as tx:
        pending_code = await tx.pending_email_code("viber", "v1")
        assert (pending_code.address, pending_code.sent_at, pending_code.tries) == (
            "olena@gmail.com", NOW + timedelta(minutes=1), 0)
        assert code_matches("222222", pending_code.digest)
        check = check_code(pending_code, "999999", NOW + timedelta(minutes=2))
        await tx.spend_email_code_tries("viber", "v1", CODE_TRIES - check.tries_left)
    async with transaction(database) as tx:
        assert (await tx.pending_email_code("viber", "v1")).tries == 1
        await tx.close_email_code("viber", "v1", NOW + timedelta(minutes=3))
        assert await tx.pending_email_code("viber", "v1") is None
        assert (await tx.pending_email_code("viber", "v2")).address == "other@ukr.net"


async def test_the_code_limits_count_by_chat_and_by_address_and_outlive_forget(database):
    async with transaction(database) as tx:
        chat = await tx.chat("telegram", "777", "uk")
        for minutes in (50, 30, 10):
            await tx.save_email_code("telegram", "777", "stranger@ukr.net", code_digest("123456"),
                                     NOW - timedelta(minutes=minutes))
        await tx.save_email_code("viber", "v9", "stranger@ukr.net", code_digest("123456"), NOW - timedelta(hours=5))
        await tx.save_email_code("viber", "v9", "stranger@ukr.net", code_digest("123456"), NOW - timedelta(days=2))
        await tx.confirm_email(chat.id, "me@ukr.net", NOW)
    async with transaction(database) as tx:
        await tx.forget_chat_email(chat.id)
        await tx.forget_chat(chat.id)
    async with transaction(database) as tx:
        by_chat = await tx.email_codes_sent_by("telegram", "777", NOW - timedelta(hours=1))
        to_address = await tx.email_codes_sent_to("stranger@ukr.net", NOW - timedelta(days=1))
        assert (len(by_chat), len(to_address)) == (3, 4)
        limit = code_limit(by_chat, to_address, NOW)
        assert (limit.reason, limit.again_at) == ("email-code-limit-chat", NOW + timedelta(minutes=10))
        assert await tx.sweep_email_codes(NOW - timedelta(days=1)) == 1
        assert len(await tx.email_codes_sent_to("stranger@ukr.net", NOW - timedelta(days=3))) == 4


async def test_the_paper_invoice_choice_is_kept_per_account_and_listed_for_the_export(demo_database):
    async with transaction(demo_database) as tx:
        chat = await tx.chat("telegram", "501", "uk")
        first, second = await tx.find_accounts(["010000012345", "020000054321"])
        assert await tx.paper_invoice(first.id) is None
        await tx.choose_paper_invoice(first.id, False, chat.id, NOW)
        await tx.choose_paper_invoice(second.id, False, chat.id, NOW)
        await tx.choose_paper_invoice(second.id, True, chat.id, NOW + timedelta(days=1))  # changed their mind
    async with transaction(demo_database) as tx:
        await tx.forget_chat_email(chat.id)
        await tx.forget_chat(chat.id)
    async with transaction(demo_database) as tx:
        assert (await tx.paper_invoice(first.id), await tx.paper_invoice(second.id)) == (False, True)
        assert await tx.paper_invoice_choices() == [
            PaperInvoiceChoice("010000012345", False, NOW),
            PaperInvoiceChoice("020000054321", True, NOW + timedelta(days=1)),
        ]
        assert await tx.paper_invoice_choices(since=NOW + timedelta(hours=1)) == [
            PaperInvoiceChoice("020000054321", True, NOW + timedelta(days=1))]


@pytest.mark.parametrize("backend", BACKENDS)
async def test_migration_0011_goes_down_and_up(backend):
    async def tables(url: str) -> set[str]:
        return set(await inspected(url, lambda schema: schema.get_table_names()))

    email_tables = {"chat_emails", "email_codes", "paper_invoices"}
    async with scratch_database(backend) as url:
        await asyncio.to_thread(upgrade, url)
        assert email_tables <= await tables(url)
        await asyncio.to_thread(command.downgrade, alembic_config(url), "0010")
        assert not email_tables & await tables(url)
        await asyncio.to_thread(upgrade, url)
        assert email_tables <= await tables(url)


# ----- the /settings flow, in the console channel, the code mailed through a real SMTP server


@pytest.fixture
async def mailing(kabinet, mailer):
    """The Kabinet with e-mail configured (bot.app.build_kabinet gives it an EmailSender when SMTP is set)."""
    kabinet.mailer = mailer
    return kabinet


def mailed_code(smtp_server) -> str:
    body = smtp_server.mailbox.messages[-1].get_body(("plain",)).get_content()
    return re.search(r"\b(\d{6})\b", body).group(1)


def wrong_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


async def stored_email(kabinet, external_id: str = "c1") -> tuple[ChatEmail | None, dict[str, bool | None]]:
    async with kabinet.store.transaction() as tx:
        chat = await tx.chat("console", external_id, "en")
        accounts = await tx.find_accounts(["010000012345", "020000054321"])
        return await tx.chat_email(chat.id), {a.number: await tx.paper_invoice(a.id) for a in accounts}


async def test_no_smtp_configured_no_e_mail_button(talk, kabinet):
    assert kabinet.mailer is None
    await talk.say("/settings")
    assert not [label for label in talk.buttons if "E-mail" in label]
    await talk.press(action="email:menu")  # a button from when e-mail was configured
    assert talk.text == i18n.Translator()("en", "button-stale")


async def test_an_address_is_confirmed_by_the_mailed_code_and_the_paper_invoice_recorded(
        talk, mailing, smtp_server):
    await linked(talk)
    await talk.say("/settings")
    assert "E-mail: not set" in talk.buttons
    assert "Type your e-mail address" in await talk.say("E-mail: not set")
    assert "no spaces" in await talk.say("olena koval@ukr.net")
    assert smtp_server.mailbox.messages == []
    assert "sent a confirmation code to Olena.Koval@ukr.net" in await talk.say(" Olena.Koval@Ukr.NET ")
    [message] = smtp_server.mailbox.messages
    assert smtp_server.mailbox.envelopes[0][1] == ["Olena.Koval@ukr.net"]
    assert message["Subject"] == "Your e-mail confirmation code for the personal cabinet"
    code = mailed_code(smtp_server)
    async with mailing.store.transaction() as tx:
        pending_code = await tx.pending_email_code("console", "c1")
    assert code not in pending_code.digest and code_matches(code, pending_code.digest)  # only its hash is kept
    assert (await stored_email(mailing))[0] is None
    assert "The address Olena.Koval@ukr.net is confirmed" in await talk.say(f"{code[:3]} {code[3:]}")
    assert "paper invoice for account 010000012345" in talk.text
    assert "Recorded: no more paper invoices for account 010000012345" in await talk.press("No, electronic only")
    address, paper = await stored_email(mailing)
    assert address.address == "Olena.Koval@ukr.net" and paper == {"010000012345": False, "020000054321": None}
    await talk.say("/settings")
    assert "E-mail: Olena.Koval@ukr.net" in talk.buttons


async def test_a_wrong_code_counts_its_tries_and_the_last_one_spends_the_code(talk, mailing, smtp_server):
    await talk.say("/settings")
    await talk.say("E-mail: not set")
    await talk.say("olena@ukr.net")
    code = mailed_code(smtp_server)
    wrong = wrong_code(code)
    assert "6 digits from the e-mail" in await talk.say("which code?")  # not a code: no try spent
    for left in range(CODE_TRIES - 1, 0, -1):
        assert f"Wrong code. Tries left: {left}" in await talk.say(wrong)
    assert "No tries left" in await talk.say(wrong)
    assert "No tries left" in await talk.say(code)
    assert (await stored_email(mailing))[0] is None
    assert "sent a confirmation code" in await talk.press("Send a new code")
    assert "confirmed" in await talk.say(mailed_code(smtp_server))
    assert (await stored_email(mailing))[0].address == "olena@ukr.net"


async def test_a_code_not_mailed_is_said_and_closed(talk, mailing, smtp_server):
    smtp_server.stop()
    await talk.say("/settings")
    await talk.say("E-mail: not set")
    assert "could not send an e-mail to olena@ukr.net" in await talk.say("olena@ukr.net")
    async with mailing.store.transaction() as tx:
        assert await tx.pending_email_code("console", "c1") is None
    assert "did not understand" in await talk.say("123456")  # no code is awaited
    smtp_server.start()


async def test_the_address_is_removed_and_forget_removes_it(talk, new_talk, mailing, smtp_server):
    for chat in (talk, other := new_talk("c2")):
        await chat.say("/settings")
        await chat.say("E-mail: not set")
        await chat.say(f"{chat.channel.chat_id}@ukr.net")
        await chat.say(mailed_code(smtp_server))
    await talk.say("/settings")
    await talk.say("E-mail: c1@ukr.net")
    assert talk.buttons == ["What goes by e-mail", "Change e-mail", "Remove e-mail"]
    assert "The address c1@ukr.net is removed" in await talk.press("Remove e-mail")
    assert (await stored_email(mailing))[0] is None
    assert (await stored_email(mailing, "c2"))[0].address == "c2@ukr.net"
    async with mailing.store.transaction() as tx:
        forgotten = (await tx.chat("console", "c2", "en")).id
    await other.say("/forget")
    await other.say("Yes, erase")
    async with mailing.store.transaction() as tx:
        assert await tx.chat_email(forgotten) is None


async def test_a_chat_gets_three_codes_an_hour(talk, mailing, smtp_server, clock):
    await talk.say("/settings")
    await talk.say("E-mail: not set")
    await talk.say("olena@ukr.net")
    await talk.press("Send a new code")
    await talk.press("Send a new code")
    assert "Too many codes this hour. You can ask for a new one at 11:00" in await talk.press("Send a new code")
    assert len(smtp_server.mailbox.messages) == 3


async def test_kabinet_export_paper_invoices_writes_paper_invoices_csv(demo_database, tmp_path):
    async with transaction(demo_database) as tx:
        first, second = await tx.find_accounts(["010000012345", "020000054321"])
        await tx.choose_paper_invoice(second.id, True, None, NOW - timedelta(days=3))
        await tx.choose_paper_invoice(first.id, False, None, NOW)
    settings = Settings(_env_file=None, data_dir=tmp_path, database_url=demo_database.url)
    out = tmp_path / "paper_invoices.csv"
    assert await _export(settings, "paper-invoices", None, "csv", out) == 0
    assert out.read_text(encoding="utf-8") == (
        "account,paper_invoice,chosen_at\n"
        "010000012345,no,2026-12-03T10:00:00+00:00\n"
        "020000054321,yes,2026-11-30T10:00:00+00:00\n")
    assert await _export(settings, "paper-invoices", date(2026, 12, 1), "csv", out) == 0
    assert out.read_text(encoding="utf-8").splitlines()[1:] == ["010000012345,no,2026-12-03T10:00:00+00:00"]


async def test_a_mailbox_its_server_refuses_is_asked_again(talk, mailing, smtp_server):
    await talk.say("/settings")
    await talk.say("E-mail: not set")
    smtp_server.mailbox.answers = ["550 5.1.1 No such user here"]
    assert "does not take e-mail for olena@ukr.nte.ua" in await talk.say("olena@ukr.nte.ua")
    assert "sent a confirmation code to olena@ukr.net" in await talk.say("olena@ukr.net")  # asked again: typed again
    assert "confirmed" in await talk.say(mailed_code(smtp_server))


async def test_an_address_gets_five_codes_a_day_from_all_chats(new_talk, mailing, smtp_server):
    for n in range(6):
        chat = new_talk(f"s{n}")
        await chat.say("/settings")
        await chat.say("E-mail: not set")
        answer = await chat.say("stranger@ukr.net")
    assert len(smtp_server.mailbox.messages) == 5
    assert answer == ("Too many codes have been sent to this address today. "
                      "You can ask for a new one 01.12.2026 10:00.")


async def test_e_mail_in_settings_in_every_channel(mailing, consumer, smtp_server):
    """The same flow in the console, Telegram and Viber: the core's, with no channel code."""
    await consumer.say("/link 010000012345 Шевченко")
    await consumer.press("Погоджуюсь")
    await consumer.say("/settings")
    assert "E-mail: не вказано" in consumer.buttons
    assert "Введіть адресу електронної пошти" in await consumer.press("E-mail: не вказано")
    assert "Ми надіслали код підтвердження на olena@пошта.укр" in await consumer.say("olena@Пошта.укр")
    assert smtp_server.mailbox.envelopes == [("rahunky@demo-energo.ua", ["olena@xn--80a1acn3a.xn--j1amh"])]
    assert "Код неправильний. Залишилося спроб: 4." in await consumer.say(wrong_code(mailed_code(smtp_server)))
    assert "Адресу olena@пошта.укр підтверджено" in await consumer.say(mailed_code(smtp_server))
    assert consumer.buttons == ["Так, паперовий теж", "Ні, лише електронний"]
    assert "паперовий рахунок надходитиме й надалі" in await consumer.press("Так, паперовий теж")
    await consumer.say("/settings")
    await consumer.press("E-mail: olena@пошта.укр")
    assert "Що надсилати також на olena@пошта.укр?" in await consumer.press("Що надсилати на e-mail")
    assert consumer.buttons[:2] == ["✅ Рахунки за місяць (з PDF)", "⬜ Нагадування про борг"]
    assert "«Нагадування про борг» надсилатимемо й на e-mail." in await consumer.press("⬜ Нагадування про борг")
    async with mailing.store.transaction() as tx:
        chat = await tx.chat(consumer.channel, consumer.external_id, "uk")
        assert (await tx.chat_email(chat.id)).address == "olena@xn--80a1acn3a.xn--j1amh"
        assert (await tx.chat_email(chat.id)).notices == {"invoice", "debt"}
    assert (await stored_email(mailing))[1] == {"010000012345": True, "020000054321": None}



async def test_one_mailbox_in_any_letter_case_counts_as_one_address_for_the_daily_limit(database):
    """Reviewed: Name@ and name@ reach one mailbox; counted apart, each would get its own five codes a day."""
    async with transaction(database) as tx:
        for number, address in enumerate(("victim@ukr.net", "Victim@ukr.net", "vIctim@ukr.net", "VICTIM@ukr.net")):
            await tx.save_email_code("telegram", str(number), address, code_digest("123456"),
                                     NOW - timedelta(minutes=10))
    async with transaction(database) as tx:
        assert len(await tx.email_codes_sent_to("Victim@ukr.net", NOW - timedelta(days=1))) == 4
