"""A schema-driven fuzz of the admin API: requests built from the route table's own models (valid, nearly
valid and wild), on both databases; no answer may be a 500, and every answer must be one the document lists
(or the router's 404/405) with a body of the documented shape."""
from __future__ import annotations

import asyncio
import json
import threading
from datetime import date, datetime, timedelta
from typing import get_args

from hypothesis import HealthCheck, given, settings, strategies as st
from pydantic import BaseModel

from bot.admin import ROUTES, document
from bot.admin_schema import Error
from core.conversation import Kabinet
from core.i18n import Translator
from core.readings import ReadingWindow
from storage.database import Database
from storage.exchange import import_folder
from storage.models import Base
from storage.photos import FilePhotoArchive
from tests.support.admin import AUTH, linked_chat, start
from tests.support.demo import DEMO, FAST_PATH, KYIV, Clock

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=40),
    st.sampled_from(["", " ", "2026-12-01", "2026-12-01T09:00:00+02:00", "2026-12-01T09:00:00", "Харків",
                     "TP-101", "1-15;17;19А", "accepted", "answered", "done", "planned", "\x00", "../x"]),
)
JSON = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)), max_leaves=8)


def field_values(annotation) -> st.SearchStrategy:
    """Values a field's type admits, mixed with values of every other type."""
    choices = [SCALARS]
    for option in get_args(annotation) or (annotation,):
        literal = get_args(option)
        if literal and all(isinstance(value, str) for value in literal):
            choices.append(st.sampled_from(literal))
        elif isinstance(option, type) and issubclass(option, BaseModel):
            choices.append(bodies(option))
        elif option in (datetime,) or "Datetime" in str(option):
            choices.append(st.datetimes(timezones=st.just(KYIV)).map(datetime.isoformat))
        elif option is date:
            choices.append(st.dates().map(date.isoformat))
        elif option is int:
            choices.append(st.integers(min_value=-5, max_value=600))
    return st.one_of(*choices)


def bodies(model: type[BaseModel]) -> st.SearchStrategy:
    fields = {name: field_values(info.annotation) for name, info in model.model_fields.items()}
    return st.fixed_dictionaries({}, optional={**fields, "unknown": JSON})


def queries(model) -> st.SearchStrategy:
    if model is None:
        return st.one_of(st.just({}), st.dictionaries(st.text(max_size=6), st.text(max_size=6), max_size=2))
    fields = {name: field_values(info.annotation).map(lambda v: v if isinstance(v, str) else json.dumps(v))
              for name, info in model.model_fields.items()}
    return st.fixed_dictionaries({}, optional={**fields, "colour": st.text(max_size=6)})


@st.composite
def requests(draw):
    route = draw(st.sampled_from(ROUTES))
    path = route.template
    for name, integer in route.path_parameters:
        value = draw(st.one_of(st.integers(min_value=0, max_value=2**64), st.text(
            alphabet=st.characters(blacklist_characters="/?#%", blacklist_categories=("Cs",)), min_size=1,
            max_size=12)) if integer else st.text(alphabet="ABCPL-0123456789\x00Я ", min_size=1, max_size=60))
        path = path.replace(f"{{{name}}}", str(value))
    method = draw(st.sampled_from([route.method, route.method, route.method, "GET", "POST", "PATCH", "DELETE"]))
    if isinstance(route.body, type):
        body = draw(st.one_of(bodies(route.body).map(lambda b: json.dumps(b).encode()),
                              JSON.map(lambda b: json.dumps(b).encode()), st.binary(max_size=64)))
    else:
        body = draw(st.binary(max_size=64))
    query = draw(queries(route.query))
    headers = draw(st.sampled_from([AUTH, AUTH, AUTH, {}, {"Authorization": "Bearer nope"}]))
    return route, method, path, query, body, headers


class LoopThread:
    """An event loop in a thread, so hypothesis (synchronous) can drive an async client."""

    def __enter__(self) -> "LoopThread":
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        return self

    def run(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=60)

    def __exit__(self, *exc_info) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


async def _open(database_url: str, tmp_path):
    database = Database(database_url, fast_path=FAST_PATH)
    if not database.is_sqlite:
        tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
        async with database.engine.begin() as connection:
            await connection.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    async with database.session() as session:
        await import_folder(session, DEMO)
    clock = Clock()
    chat = await linked_chat(database, "010000012345", clock())
    async with database.transaction() as tx:
        account = (await tx.find_accounts(["010000012345"]))[0]
        await tx.add_service_order(account.id, chat, "meter-noise", "0501234567", None, clock())
        await tx.add_appeal(account.id, chat, "other", "Питання", clock())
    kabinet = Kabinet(store=database, photos=FilePhotoArchive(tmp_path / "photos"), translator=Translator("uk"),
                      window=ReadingWindow.parse("2,3"), timezone=KYIV, clock=clock)
    return database, clock, await start(database, kabinet, tmp_path / "data")


async def _send(client, method, path, query, body, headers):
    response = await client.request(method, path, params=query, data=body,
                                    headers={**headers, "Content-Type": "application/json"})
    content = await response.read()
    return response.status, response.headers.get("Content-Type", ""), content


def test_the_admin_api_never_answers_500(database_url, tmp_path):
    documented = document()["paths"]
    seen: set[int] = set()
    with LoopThread() as loop:
        database, clock, client = loop.run(_open(database_url, tmp_path))
        try:
            @settings(max_examples=250, deadline=None, database=None,
                      suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
            @given(requests())
            def check(request):
                route, method, path, query, body, headers = request
                # Ten failed authentications a minute would shut the gate (429) on the rest of the fuzz.
                clock.now += timedelta(seconds=10)
                status, content_type, content = loop.run(_send(client, method, path, query, body, headers))
                assert status < 500, (method, path, query, body, content)
                seen.add(status)
                if status >= 400:
                    Error.model_validate_json(content)
                elif route.answer is not None and method == route.method:
                    route.answer.model_validate_json(content)  # the documented shape
                operation = documented[route.template].get(method.lower()) if path.startswith("/admin/") else None
                if operation is not None and status not in (404, 405):
                    assert str(status) in operation["responses"], (method, path, status, content)

            check()
            assert {200, 400, 401, 404} <= seen, seen  # the fuzz reached past the gate and the validation
        finally:
            loop.run(client.close())
            loop.run(database.close())


# ----- zips that once answered 500, and the import's own body limit (issue 16, items 3 and 5)


async def test_a_zip_holding_a_file_and_a_folder_of_one_name_is_refused_with_400(
        demo_database, kabinet, tmp_path, logged):
    from tests.support.admin import zipped

    admin = await start(demo_database, kabinet, tmp_path / "data")
    try:
        for files in ({"accounts.csv": "x", "accounts.csv/x": "y"}, {"a.csv/x": "y", "A.CSV": "x"}):
            response = await admin.post("/admin/import", headers=AUTH, data=zipped(files))
            assert response.status == 400
            assert "is both a file and a folder" in (await response.json())["error"]
        response = await admin.post("/admin/import", headers=AUTH, data=zipped({"x" * 300 + ".csv": "x"}))
        assert response.status == 400 and "File name too long" in (await response.json())["error"]
    finally:
        await admin.close()
    assert logged.tracebacks == []
    assert not any((tmp_path / "data" / "imports").glob("2*"))  # nothing unpacked is left


async def test_the_import_still_takes_a_zip_over_the_webhooks_1_mb(demo_database, kabinet, tmp_path):
    import os

    from tests.support.admin import zipped

    files = {path.name: path.read_bytes() for path in DEMO.iterdir() if path.is_file()}
    files["scans/2026-11.pdf"] = b"%PDF-1.4\n" + os.urandom(3 * 1024 * 1024)  # does not compress
    body = zipped(files)
    assert len(body) > 3 * 1024 * 1024
    admin = await start(demo_database, kabinet, tmp_path / "data")
    try:
        response = await admin.post("/admin/import", headers=AUTH, data=body)
        assert response.status == 200, await response.text()
    finally:
        await admin.close()
