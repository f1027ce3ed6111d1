"""Bad input at volume for the conversation: random commands, presses, texts, photos and contacts in a row.

Whatever a consumer sends, the answer is never the apology for an error of ours: anything a consumer can
cause gets a clear message (DESIGN.md's rule), on SQLite and on PostgreSQL.
"""
from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from core.messages import EventKind, Incoming
from tests.support.console import Talk, linked
from tests.support.demo import BACKENDS

SORRY = "Sorry, something went wrong on our side"
COMMANDS = ["/start", "/help", "/link 010000012345 Шевченко", "/link", "/link 1705339110 Дем'яненко", "/accounts",
            "/balance", "/reading", "/reading 12500", "/reading 23600 9900", "/history", "/invoices", "/meter",
            "/outages", "/service", "/appeal", "/settings", "/language", "/language en", "/forget", "/cancel"]
chat_ids = itertools.count(1)

# A NUL character is left out: PostgreSQL refuses it in text (pinned below, until core drops it on entry).
texts = st.one_of(
    st.text(max_size=40).map(lambda text: text.replace("\x00", "")),
    st.sampled_from(["1", "2", "3", "4", "5", "12500", "99999", "0501234567", "+380501234567", "22:00-07:00",
                     "Шевченко", "010000012345", "я" * 2500, "Other", "Yes", "Skip"]),
)
steps = st.lists(st.one_of(
    st.sampled_from(COMMANDS).map(lambda text: ("text", text)),
    st.integers(1, 6).map(lambda number: ("text", str(number))),  # presses the Nth button of the last reply
    texts.map(lambda text: ("text", text)),
    st.binary(max_size=64).map(lambda content: ("photo", content)),
    st.sampled_from(["+380501234567", "0501234567", "12", ""]).map(lambda phone: ("contact", phone)),
), min_size=1, max_size=8)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps)
@example([("text", "/start"), ("text", "¹")])  # found in CI: "¹".isdigit(), yet int("¹") fails
async def test_nothing_a_consumer_sends_is_answered_with_our_apology(kabinet, tmp_path, actions):
    talk = Talk(kabinet, chat_id=f"fuzz{next(chat_ids)}", files=tmp_path / "out")
    for kind, value in actions:
        if kind == "text":
            text = await talk.say(value)
        else:
            event = Incoming("console", talk.channel.chat_id, EventKind.PHOTO if kind == "photo" else EventKind.CONTACT,
                             photo=value if kind == "photo" else None, phone=value if kind == "contact" else "",
                             language="en")
            text = "\n".join(reply.text for reply in await kabinet.handle(event))
        assert SORRY not in text, (kind, value, actions)


@pytest.mark.skipif("postgresql" not in BACKENDS, reason="SQLite keeps a NUL character; PostgreSQL refuses it")
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_nul_character_in_an_appeal_gets_a_clear_answer(kabinet, talk):
    await linked(talk)
    await talk.say("/appeal")
    await talk.say("Other")
    assert SORRY not in await talk.say("Світло\x00блимає")


@pytest.mark.parametrize("action", ["unlink:¹", "meter:²", "cmd:³"])
async def test_a_button_with_a_digit_int_cannot_read_is_not_our_error(talk, action):
    await linked(talk)
    await talk.say("/reading")
    assert SORRY not in await talk.press(action=action)
