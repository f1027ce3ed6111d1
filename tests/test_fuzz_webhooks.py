"""Bad input at volume for the webhooks: random and mutated bodies, with the right secret or signature.

A body never causes a 5xx; a refused body (4xx) changes nothing in the database. Photos are left out of
the Telegram mutations on purpose: a photo Telegram cannot serve is answered 500 by design (so Telegram
delivers it again; tests/test_telegram.py), whatever the body looks like.
"""
from __future__ import annotations

import copy
import json

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tests.fault_support import snapshot
from tests.telegram_api import TelegramUser
from tests.telegram_api import bot_api  # noqa: F401  (a fixture)
from tests.test_telegram import SECRET, Webhook
from tests.test_viber import serve
from tests.viber_api import StandInViber, callback, profile, sign

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
odd_values = st.one_of(
    json_values,
    st.sampled_from([None, "", 0, -1, 2**63, 2**70, "x" * 5000, "\x00", "/start", "/reading 12500", "cmd:balance",
                     "unlink:999999", "consent:yes", [], {}, True, 1.5, "\ud7ff", "🙂" * 100]),
)


def paths(value, prefix=()):
    """Every place in a JSON document: (path, value)."""
    yield prefix, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from paths(item, prefix + (index,))


@st.composite
def mutated(draw, documents: list[dict]) -> dict:
    document = copy.deepcopy(draw(st.sampled_from(documents)))
    for _ in range(draw(st.integers(1, 4))):
        places = [path for path, _ in paths(document) if path]
        if not places:
            break
        path = draw(st.sampled_from(places))
        parent = document
        for step in path[:-1]:
            parent = parent[step]
        if draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(odd_values)
    return document



def body_of(document) -> bytes:
    return document if isinstance(document, bytes) else json.dumps(document).encode()


# ----- Telegram

USER = TelegramUser(id=5_558_001)
TELEGRAM_UPDATES = [
    {"update_id": 1, **USER.text("/reading 12500")},
    {"update_id": 2, **USER.text("/link 010000012345 Шевченко")},
    {"update_id": 3, **USER.contact("+380501234567")},
    {"update_id": 4, **USER.sticker()},
    {"update_id": 5, **USER.membership("member", "kicked")},
    {"update_id": 6, "callback_query": {
        "id": "4382bfdwdsb323b2d9", "from": USER.user, "chat_instance": "-7289318460385510812", "data": "cmd:balance",
        "message": {"message_id": 1001, "date": 1763800000, "chat": USER.chat, "text": "Balance", "from": USER.user},
    }},
]
telegram_bodies = st.one_of(
    mutated(TELEGRAM_UPDATES),
    json_values,
    st.text(max_size=64).map(str.encode),  # not JSON; bytes that are not UTF-8 are pinned below
)


@pytest.fixture
async def telegram_hook(bot_api, kabinet, demo_database):
    async with Webhook(bot_api, kabinet, demo_database) as hook:
        async with aiohttp.ClientSession() as http:
            yield hook, http


@SETTINGS
@given(telegram_bodies)
async def test_telegram_webhook_answers_any_body_without_a_5xx_and_a_refusal_changes_nothing(
        telegram_hook, demo_database, document):
    hook, http = telegram_hook
    before = await snapshot(demo_database)
    async with http.post(hook.url, data=body_of(document), headers={
        "X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json",
    }) as response:
        status = response.status
    assert status < 500, document
    if status >= 400:
        assert await snapshot(demo_database) == before


# ----- Viber

VIBER_USER = "fuzz0000000000A="
VIBER_CALLBACKS = [
    callback("message", sender=profile(VIBER_USER), message={"type": "text", "text": "/reading 12500"}, silent=False),
    callback("message", sender=profile(VIBER_USER), message={"type": "contact",
                                                             "contact": {"name": "A", "phone_number": "+380501234567"}}),
    callback("message", sender=profile(VIBER_USER), message={"type": "sticker", "sticker_id": 46105}),
    callback("conversation_started", type="open", context="", user=profile(VIBER_USER), subscribed=False),
    callback("subscribed", user=profile(VIBER_USER)),
    callback("unsubscribed", user_id=VIBER_USER),
    callback("failed", user_id=VIBER_USER, desc="failure"),
    callback("delivered", user_id=VIBER_USER),
]
viber_bodies = st.one_of(mutated(VIBER_CALLBACKS), json_values, st.binary(max_size=64))


@pytest.fixture
async def viber_hook(kabinet, demo_database, tmp_path):
    viber = await StandInViber().start()
    channel, runner, base = await serve(kabinet, demo_database, tmp_path, viber)
    async with aiohttp.ClientSession() as http:
        yield f"{base}/webhook/viber", http
    await channel.stop()
    await runner.cleanup()
    await viber.stop()


@SETTINGS
@given(viber_bodies)
async def test_viber_webhook_answers_any_signed_body_without_a_5xx_and_a_refusal_changes_nothing(
        viber_hook, demo_database, document):
    url, http = viber_hook
    body = body_of(document)
    before = await snapshot(demo_database)
    async with http.post(url, data=body, headers={
        "X-Viber-Content-Signature": sign(body), "Content-Type": "application/json",
    }) as response:
        status = response.status
    assert status < 500, document
    if status >= 400:
        assert await snapshot(demo_database) == before


async def test_a_telegram_body_that_is_not_utf8_is_refused_with_a_400(telegram_hook, demo_database):
    hook, http = telegram_hook
    async with http.post(hook.url, data=b'{"update_id": 1, "message": "\x80"}', headers={
        "X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json",
    }) as response:
        assert response.status == 400
