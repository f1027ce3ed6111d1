"""E-mail (issue 19.3): the address and its confirmation code, the tables the /settings flow keeps them in, and
the SMTP sender against a real local SMTP server (aiosmtpd) that the tests start."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.email_address import (
    CODE_LIFETIME, CODE_TRIES, AddressRefused, PendingCode, Verdict, check_code, code_digest, code_limit,
    code_matches, new_code, normalise_address, shown_address, typed_code,
)

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
