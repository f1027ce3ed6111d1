"""The admin API, call by call, with each refusal: on SQLite and PostgreSQL through aiohttp's test client."""
from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.admin import ADMIN
from bot.metrics import REGISTRY, install
from core.i18n import Translator
from core.notifications import render
from core.readings import ReadingWindow
from storage import queries_payments
from storage.exchange.export import paper_invoice_rows
from storage.models import AccountRow, OutboxRow, ServiceOrderRow
from tests.support.admin import AUTH, TOKEN, every_page, linked_chat, start, zipped, zipped_folder
from tests.support.demo import DEMO, KYIV


async def outbox_rows(database, kind: str | None = None) -> list[OutboxRow]:
    async with database.session() as session:
        query = select(OutboxRow).order_by(OutboxRow.id)
        if kind is not None:
            query = query.where(OutboxRow.kind == kind)
        return list(await session.scalars(query))


async def rendered(database, row: OutboxRow, language: str = "en") -> str:
    row.language = language
    async with database.transaction() as tx:
        replies = await render(tx, Translator("uk"), row, date(2026, 11, 30), ReadingWindow.parse("2,3"), KYIV)
    return "\n".join(reply.text for reply in replies or [])


async def new_order(database, clock, chat_id: int, account: str = "010000012345", service: str = "meter-noise") -> int:
    async with database.transaction() as tx:
        found = await tx.find_accounts([account])
        order = await tx.add_service_order(found[0].id, chat_id, service, "0501234567", "гудить", clock())
        return order.id


async def new_appeal(database, clock, chat_id: int, account: str = "010000012345") -> int:
    async with database.transaction() as tx:
        found = await tx.find_accounts([account])
        appeal = await tx.add_appeal(found[0].id, chat_id, "invoice", "Чому рахунок такий великий?", clock())
        return appeal.id


# ----- the gate


async def test_without_the_token_setting_every_admin_path_is_off(demo_database, kabinet, tmp_path):
    client = await start(demo_database, kabinet, tmp_path / "data", token=None)
    try:
        for method, path in [("GET", "/admin/stats"), ("POST", "/admin/broadcast"), ("GET", "/admin/nothing")]:
            response = await client.request(method, path, headers=AUTH, json={"text": {"uk": "Привіт"}})
            assert response.status == 503, path
            assert "KABINET_ADMIN_TOKEN" in (await response.json())["error"]
        assert await outbox_rows(demo_database) == []
    finally:
        await client.close()


@pytest.mark.parametrize("headers, query", [
    ({}, ""),
    ({"Authorization": "Bearer wrong-token"}, ""),
    ({"Authorization": f"Basic {TOKEN}"}, ""),
    ({"Authorization": TOKEN}, ""),
    ({"Authorization": f"Bearer {TOKEN}x"}, ""),
    ({}, f"?token={TOKEN}"),
    (AUTH, f"?access_token={TOKEN}"),  # even with the right header: the URL has leaked it
    (AUTH, f"?q={TOKEN}"),
])
async def test_no_token_a_wrong_one_or_one_in_the_url_is_refused_and_nothing_is_done(
        admin, demo_database, headers, query):
    response = await admin.post("/admin/broadcast" + query, headers=headers, json={"text": {"uk": "Привіт"}})
    assert response.status == 401
    assert "Bearer" in (await response.json())["error"]
    assert await outbox_rows(demo_database) == []
    unknown = await admin.get("/admin/no-such-thing" + query, headers=headers)
    assert unknown.status == 401  # nothing is said about paths before the token is checked


def failures_counted(outcome: str) -> float:
    return REGISTRY.get_sample_value("kabinet_admin_auth_failures_total", {"outcome": outcome}) or 0.0


async def test_an_address_that_fails_ten_times_a_minute_waits_even_with_the_right_token(admin, clock):
    install()
    refused, blocked = failures_counted("refused"), failures_counted("blocked")
    for attempt in range(10):
        wrong = await admin.get("/admin/stats", headers={"Authorization": f"Bearer guess-{attempt}"})
        assert wrong.status == 401
        clock.now += timedelta(seconds=3)
    response = await admin.get("/admin/stats", headers=AUTH)
    assert response.status == 429 and response.headers["Retry-After"] == "30"  # the first failure was 30 s ago
    assert "too many failed authentications" in (await response.json())["error"]
    assert (await admin.get("/admin/no-such-thing", headers=AUTH)).status == 429
    assert failures_counted("refused") - refused == 10 and failures_counted("blocked") - blocked == 2
    text = await (await admin.get("/metrics")).text()
    assert 'kabinet_admin_auth_failures_total{outcome="refused"}' in text
    # Another address is not held up by this one's failures.
    assert admin.server.app[ADMIN].auth_failures.retry_after("192.0.2.7", clock()) is None
    clock.now += timedelta(seconds=31)  # the first failure is over a minute old: nine in the last minute
    assert (await admin.get("/admin/stats", headers=AUTH)).status == 200
    assert (await admin.get("/admin/stats")).status == 401
    assert (await admin.get("/admin/stats", headers=AUTH)).status == 429  # ten again in the last minute


async def test_unknown_paths_and_methods(admin):
    response = await admin.get("/admin/no-such-thing", headers=AUTH)
    assert response.status == 404 and "openapi.json" in (await response.json())["error"]
    response = await admin.delete("/admin/orders/1", headers=AUTH)
    assert response.status == 405 and set(response.headers["Allow"].split(", ")) == {"GET", "PATCH"}
    response = await admin.get("/admin/orders/abc", headers=AUTH)
    assert response.status == 404
    response = await admin.get("/admin/orders/99999999999999999999", headers=AUTH)
    assert response.status == 404


@pytest.mark.parametrize("body, field", [
    (b'{"status": "accepted"', None),
    (b'[]', None),
    (b'{"status": "accepted", "colour": "red"}', "colour"),
    (b'{"status": 5}', "status"),
    (b'{"status": "shipped"}', "status"),
    (b'{"status": "accepted", "comment": 5}', "comment"),
    (b'{"comment": "x"}', "status"),
])
async def test_bad_json_unknown_fields_and_wrong_types_are_400_naming_the_field(
        admin, demo_database, clock, body, field):
    chat = await linked_chat(demo_database, "010000012345", clock())
    order = await new_order(demo_database, clock, chat)
    response = await admin.patch(f"/admin/orders/{order}", headers={**AUTH, "Content-Type": "application/json"},
                                 data=body)
    assert response.status == 400
    answer = await response.json()
    if field is not None:
        assert answer["problems"][0]["field"] == field
        assert field in answer["error"]
    assert await outbox_rows(demo_database) == []


async def test_a_nul_character_is_refused_before_it_reaches_the_database(admin, demo_database):
    response = await admin.post("/admin/outages", headers=AUTH, json={**OUTAGE, "reason": "a\x00b"})
    assert response.status == 400 and (await response.json())["problems"][0]["field"] == "reason"
    response = await admin.post("/admin/broadcast", headers=AUTH, json={"text": {"uk": "a\x00b"}})
    assert response.status == 400 and (await response.json())["problems"][0]["field"] == "text.uk"
    assert (await admin.patch("/admin/outages/A%00B", headers=AUTH, json={"reason": "x"})).status == 404
    assert await outbox_rows(demo_database) == []


async def test_bad_query_parameters_are_400_naming_them(admin):
    for query, field in [("limit=0", "limit"), ("limit=501", "limit"), ("limit=x", "limit"), ("cursor=-1", "cursor"),
                         ("since=yesterday", "since"), ("colour=red", "colour"), ("limit=1&limit=2", "limit")]:
        response = await admin.get(f"/admin/readings?{query}", headers=AUTH)
        assert response.status == 400, query
        assert (await response.json())["problems"][0]["field"] == field, query
    response = await admin.get("/admin/stats?x=1", headers=AUTH)
    assert response.status == 400


async def test_a_json_body_over_the_limit_is_413(admin, demo_database):
    response = await admin.post("/admin/broadcast", headers=AUTH, json={"text": {"uk": "я" * 70_000}})
    assert response.status == 413
    assert await outbox_rows(demo_database) == []


async def test_admin_actions_are_logged_with_who_and_masked_accounts(admin, demo_database, clock, caplog):
    chat = await linked_chat(demo_database, "010000012345", clock())
    order = await new_order(demo_database, clock, chat)
    with caplog.at_level(logging.INFO, logger="bot.admin"):
        response = await admin.patch(f"/admin/orders/{order}", headers=AUTH, json={"status": "accepted"})
    assert response.status == 200
    logged = caplog.text
    assert "olena" in logged and "0100****2345" in logged and "sent -> accepted" in logged
    assert "010000012345" not in logged and TOKEN not in logged
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="bot.admin"):
        await admin.get("/admin/stats", headers={**AUTH, "X-Operator": "x\tFAKE=LOG;LINE"})
    assert "FAKE" not in caplog.text and "stats: 200 by - (token" in caplog.text


# ----- import


async def test_import_a_zip_and_plan_the_new_invoices_and_outages(admin, demo_database, clock, tmp_path):
    chat = await linked_chat(demo_database, "010000012345", clock())
    on_tp102 = await linked_chat(demo_database, "1705339110", clock(), external_id="c2")
    files = {f"billing/{path.name}": path.read_bytes() for path in DEMO.iterdir()}
    files["billing/invoices.csv"] += b"010000012345,2026-12,2026-11-28,2026-12-20,300.00,200,pdf/2026-12.pdf\n"
    files["billing/pdf/2026-12.pdf"] = b"%PDF-1.4 the invoice"
    response = await admin.post("/admin/import", headers={**AUTH, "Content-Type": "application/zip"},
                                data=zipped(files))
    assert response.status == 200, await response.text()
    answer = await response.json()
    assert answer["rows"]["accounts.csv"] == 3 and answer["new_invoices"] == 1
    planned = {(row.chat_id, row.kind, row.subject, row.period) for row in await outbox_rows(demo_database)}
    assert planned == {
        (chat, "invoice", "010000012345", "2026-12"),
        (on_tp102, "outage", "EM-2026-0412", "start"),  # still on; PL-2026-1187 ended on the 25th
    }
    assert answer["notified"] == 2
    async with demo_database.transaction() as tx:
        account = (await tx.find_accounts(["010000012345"]))[0]
        pdf = (await tx.invoice(account.id, "2026-12")).pdf
    assert Path(pdf).read_bytes() == b"%PDF-1.4 the invoice"  # kept where the invoice points
    assert [path.name for path in (tmp_path / "data" / "imports").rglob("*") if path.is_file()] == ["2026-12.pdf"]
    again = await admin.post("/admin/import", headers=AUTH, data=zipped_folder(DEMO))
    assert (await again.json())["new_invoices"] == 0 and (await again.json())["notified"] == 0


async def test_a_refused_import_names_file_line_and_reason_and_writes_nothing(admin, demo_database, tmp_path):
    accounts = ("account,eic,surname,full_name,address,settlement,street,house,grid_node,consumer_type,tariff_plan,"
                "balance,balance_on\n"
                "030000000001,,Коваль,Коваль Ігор,\"Харків\",Харків,,,,household,Побутовий,10.00,2026-11-01\n"
                "030000000002,,Гончар,Гончар Ігор,\"Харків\",Харків,,,,household,Побутовий,lots,2026-11-01\n")
    response = await admin.post("/admin/import", headers=AUTH, data=zipped({"accounts.csv": accounts}))
    assert response.status == 400
    answer = await response.json()
    assert answer["problems"] == [{"field": None, "file": "accounts.csv", "line": 3,
                                   "reason": "balance: 'lots' is not an amount like 1234.56 (at most 2 decimals)"}]
    async with demo_database.session() as session:
        assert await session.scalar(select(func.count()).select_from(AccountRow)) == 3
    assert not any((tmp_path / "data" / "imports").glob("2*"))  # the unpacked folder went with it


@pytest.mark.parametrize("pdf, content, reason", [
    ("accounts.csv", None, "pdf: 'accounts.csv' is not a .pdf file"),  # the accounts of everyone, as "the invoice"
    ("accounts.pdf", b"account,eic,surname\n", "pdf: 'accounts.pdf' does not start with %PDF- (not a PDF)"),
])
async def test_an_import_whose_invoice_pdf_is_not_a_pdf_is_refused(admin, demo_database, tmp_path, pdf, content,
                                                                    reason):
    files = {path.name: path.read_bytes() for path in DEMO.iterdir()}
    files["invoices.csv"] += f"010000012345,2026-12,2026-11-28,2026-12-20,300.00,200,{pdf}\n".encode()
    if content is not None:
        files[pdf] = content
    response = await admin.post("/admin/import", headers=AUTH, data=zipped(files))
    assert response.status == 400
    assert (await response.json())["problems"] == [{"field": None, "file": "invoices.csv", "line": 6, "reason": reason}]
    assert not any((tmp_path / "data" / "imports").glob("2*"))


@pytest.mark.parametrize("files, reason", [
    ({"../accounts.csv": "x"}, "outside the folder"),
    ({"/etc/accounts.csv": "x"}, "outside the folder"),
    ({"a/../../accounts.csv": "x"}, "outside the folder"),
    ({"notes.txt": "x"}, "none of accounts.csv"),
])
async def test_a_zip_whose_entries_escape_or_hold_nothing_is_refused(admin, files, reason, tmp_path):
    response = await admin.post("/admin/import", headers=AUTH, data=zipped(files))
    assert response.status == 400
    assert reason in str(await response.json())
    assert not (tmp_path / "data" / "accounts.csv").exists()


async def test_a_link_in_the_zip_is_refused(admin):
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        link = zipfile.ZipInfo("accounts.csv")
        link.external_attr = (0o120777 << 16)
        bundle.writestr(link, "/etc/passwd")
    response = await admin.post("/admin/import", headers=AUTH, data=buffer.getvalue())
    assert response.status == 400 and "link" in (await response.json())["error"]


async def test_zip_bombs_and_oversized_uploads_are_refused(admin, monkeypatch):
    from bot import admin_import

    bomb = zipped({"accounts.csv": b"0" * (5 * 1024 * 1024)})  # 5 MiB of zeros: about 5 KiB packed
    response = await admin.post("/admin/import", headers=AUTH, data=bomb)
    assert response.status == 400 and "unpacks to more" in (await response.json())["error"]
    monkeypatch.setattr(admin_import, "MAX_UNPACKED_BYTES", 1000)
    response = await admin.post("/admin/import", headers=AUTH, data=zipped({"accounts.csv": "a" * 2000}))
    assert response.status == 400 and "at most 1000" in (await response.json())["error"]
    monkeypatch.setattr(admin_import, "MAX_ZIP_BYTES", 100)
    response = await admin.post("/admin/import", headers=AUTH, data=b"x" * 1000)
    assert response.status == 413
    response = await admin.post("/admin/import", headers=AUTH, data=b"not a zip")
    assert response.status == 400 and "not a zip" in (await response.json())["error"]


# ----- readings


async def test_readings_are_paged_filtered_and_their_photos_served(admin, demo_database, clock, tmp_path):
    chat = await linked_chat(demo_database, "010000012345", clock())
    photo = tmp_path / "meter.jpg"
    photo.write_bytes(b"\xff\xd8\xff photo bytes")
    async with demo_database.transaction() as tx:
        account = (await tx.find_accounts(["010000012345"]))[0]
        meter = (await tx.meters([account.id]))[0]
        photo_id = await tx.add_photo(chat, str(photo), "0" * 64, clock(), photo.stat().st_size)
        with_photo = (await tx.add_readings(meter.id, date(2026, 11, 30), [12500], "console", chat, clock(),
                                            photo_id)).ids
        typed = (await tx.add_readings(meter.id, date(2026, 10, 30), [12300], "telegram", chat, clock(), None)).ids
    response = await admin.get("/admin/readings?limit=1", headers=AUTH)
    first = await response.json()
    assert [item["id"] for item in first["items"]] == [with_photo[0]]
    assert first["items"][0]["account"] == "010000012345" and first["items"][0]["value"] == 12500
    second = await (await admin.get(f"/admin/readings?limit=1&cursor={first['next_cursor']}", headers=AUTH)).json()
    assert [item["id"] for item in second["items"]] == typed and second["items"][0]["photo"] is None
    third = await (await admin.get(f"/admin/readings?limit=1&cursor={second['next_cursor']}", headers=AUTH)).json()
    assert third == {"items": [], "next_cursor": None}
    since = await (await admin.get("/admin/readings?since=2026-11-01", headers=AUTH)).json()
    assert [item["id"] for item in since["items"]] == with_photo and since["next_cursor"] is None
    picture = await admin.get(first["items"][0]["photo"], headers=AUTH)
    assert picture.status == 200 and await picture.read() == photo.read_bytes()
    assert (await admin.get(f"/admin/readings/{typed[0]}/photo", headers=AUTH)).status == 404
    assert (await admin.get("/admin/readings/999999/photo", headers=AUTH)).status == 404
    photo.unlink()
    assert (await admin.get(first["items"][0]["photo"], headers=AUTH)).status == 404


async def test_a_replaced_submission_keeps_its_photo_in_the_listing(admin, demo_database, clock, tmp_path):
    chat = await linked_chat(demo_database, "010000012345", clock())
    photo = tmp_path / "meter.jpg"
    photo.write_bytes(b"\xff\xd8\xff first photo")
    first_at = clock()
    async with demo_database.transaction() as tx:
        account = (await tx.find_accounts(["010000012345"]))[0]
        meter = (await tx.meters([account.id]))[0]
        photo_id = await tx.add_photo(chat, str(photo), "0" * 64, first_at, photo.stat().st_size)
        first = await tx.add_readings(meter.id, date(2026, 11, 30), [12500], "console", chat, first_at, photo_id)
    clock.now += timedelta(minutes=30)
    async with demo_database.transaction() as tx:
        second = await tx.add_readings(meter.id, date(2026, 11, 30), [12510], "console", chat, clock(), None)
    assert first.replaced == {} and second.replaced == {1: 12500} and second.replaced_at == first_at
    assert second.ids == first.ids  # the same reading, now holding the later value
    [item] = (await (await admin.get("/admin/readings", headers=AUTH)).json())["items"]
    assert item["value"] == 12510 and item["photo"] is None
    [earlier] = item["replaced"]
    assert earlier["value"] == 12500 and earlier["photo"].startswith(f"/admin/readings/{item['id']}/replaced/")
    assert datetime.fromisoformat(earlier["submitted_at"]) == first_at
    assert datetime.fromisoformat(earlier["replaced_at"]) == clock()
    picture = await admin.get(earlier["photo"], headers=AUTH)
    assert picture.status == 200 and await picture.read() == photo.read_bytes()
    assert (await admin.get(f"/admin/readings/{item['id'] + 1}/replaced/1/photo", headers=AUTH)).status == 404


# ----- orders


async def test_an_order_moves_along_its_workflow_and_the_consumer_is_told(admin, demo_database, clock):
    chat = await linked_chat(demo_database, "010000012345", clock())
    order = await new_order(demo_database, clock, chat)
    listed = await (await admin.get("/admin/orders?status=sent", headers=AUTH)).json()
    assert [item["id"] for item in listed["items"]] == [order] and listed["items"][0]["phone"] == "0501234567"
    assert (await (await admin.get("/admin/orders?status=done", headers=AUTH)).json())["items"] == []
    response = await admin.patch(f"/admin/orders/{order}", headers=AUTH,
                                 json={"status": "accepted", "comment": "Майстер прийде 2 грудня"})
    assert response.status == 200
    answer = await response.json()
    assert answer["notified"] == 1 and answer["order"]["status"] == "accepted"
    assert [event["status"] for event in answer["order"]["history"]] == ["sent", "accepted"]
    [notice] = await outbox_rows(demo_database, "order")
    assert (notice.chat_id, notice.subject) == (chat, str(order))
    text = await rendered(demo_database, notice)
    assert f"Order No. {order}" in text and "Майстер прийде 2 грудня" in text
    one = await (await admin.get(f"/admin/orders/{order}", headers=AUTH)).json()
    assert one["status"] == "accepted" and len(one["history"]) == 2


async def test_an_illegal_order_change_is_409_and_changes_nothing(admin, demo_database, clock):
    chat = await linked_chat(demo_database, "010000012345", clock())
    order = await new_order(demo_database, clock, chat)
    assert (await admin.patch(f"/admin/orders/{order}", headers=AUTH, json={"status": "done"})).status == 200
    response = await admin.patch(f"/admin/orders/{order}", headers=AUTH, json={"status": "cancelled"})
    assert response.status == 409
    assert "cannot go from 'done' to 'cancelled'" in (await response.json())["error"]
    async with demo_database.session() as session:
        assert (await session.get(ServiceOrderRow, order)).status == "done"
    assert len(await outbox_rows(demo_database, "order")) == 1
    assert (await admin.patch("/admin/orders/424242", headers=AUTH, json={"status": "done"})).status == 404
    assert (await admin.get("/admin/orders/424242", headers=AUTH)).status == 404


async def test_a_free_service_never_awaits_payment_and_a_paid_one_does(admin, demo_database, clock):
    """Issue 18.12: the operator cannot ask the consumer to pay for a free service (409), only for a paid one."""
    chat = await linked_chat(demo_database, "010000012345", clock())
    free = await new_order(demo_database, clock, chat)
    response = await admin.patch(f"/admin/orders/{free}", headers=AUTH, json={"status": "awaiting_payment"})
    assert response.status == 409 and "meter-noise is a free service" in (await response.json())["error"]
    async with demo_database.session() as session:
        assert (await session.get(ServiceOrderRow, free)).status == "sent"
    assert await outbox_rows(demo_database, "order") == []
    paid = await new_order(demo_database, clock, chat, service="meter-verification")
    response = await admin.patch(f"/admin/orders/{paid}", headers=AUTH,
                                 json={"status": "awaiting_payment", "amount": "350.00"})  # the default has no price
    assert response.status == 200


async def test_orders_are_paged(admin, demo_database, clock):
    chat = await linked_chat(demo_database, "010000012345", clock())
    orders = [await new_order(demo_database, clock, chat) for _ in range(5)]
    seen, cursor = [], ""
    while True:
        page = await (await admin.get(f"/admin/orders?limit=2{cursor}", headers=AUTH)).json()
        seen += [item["id"] for item in page["items"]]
        if page["next_cursor"] is None:
            break
        cursor = f"&cursor={page['next_cursor']}"
    assert seen == orders


# ----- payments made online


async def test_online_payments_are_the_exports_rows_paged_and_from_a_day_in_the_utilitys_time_zone(
        admin, demo_database):
    kyiv = [datetime(2026, 11, 29, 12, 0, tzinfo=KYIV), datetime(2026, 12, 1, 0, 30, tzinfo=KYIV),
            datetime(2026, 12, 2, 9, 0, tzinfo=KYIV)]
    async with demo_database.session() as session:
        account_id = (await session.scalar(select(AccountRow.id).where(AccountRow.number == "010000012345")))
        for n, at in enumerate(kyiv):
            await queries_payments.order_payment(session, f"kb-{n}", account_id, Decimal("100.50"), at)
            assert await queries_payments.record_paid(session, f"kb-{n}", str(700 + n), Decimal("100.50"), "success", at)
        await queries_payments.order_payment(session, "kb-never-paid", account_id, Decimal("5"), kyiv[0])
        assert await queries_payments.record_reversed(session, "kb-2", "reversed")
        exported = await queries_payments.exported_payments(session, datetime(2026, 12, 1, tzinfo=KYIV))

    seen = await every_page(admin, "/admin/payments?since=2026-12-01&limit=1")
    assert [{k: v for k, v in item.items() if k != "id"} for item in seen] == [
        {**row, "paid_at": row["paid_at"].replace("+00:00", "Z"), "service_order": None} for row in exported]
    assert [(item["order_id"], item["payment_id"], item["amount"], item["status"]) for item in seen] == [
        ("kb-1", "701", "100.50", "paid"), ("kb-2", "702", "100.50", "reversed")]
    everything = await (await admin.get("/admin/payments", headers=AUTH)).json()
    assert [item["order_id"] for item in everything["items"]] == ["kb-0", "kb-1", "kb-2"]
    assert (await admin.get("/admin/payments?since=yesterday", headers=AUTH)).status == 400
    assert (await admin.get("/admin/payments")).status == 401


# ----- paper invoices


async def test_paper_invoice_choices_are_the_exports_rows_paged_and_from_a_day_in_the_utilitys_time_zone(
        admin, demo_database):
    chosen = {"010000012345": (False, datetime(2026, 11, 30, 23, 30, tzinfo=KYIV)),
              "020000054321": (True, datetime(2026, 12, 1, 0, 30, tzinfo=KYIV)),
              "1705339110": (False, datetime(2026, 12, 2, 9, 0, tzinfo=KYIV))}
    async with demo_database.transaction() as tx:
        for account in await tx.find_accounts(list(chosen)):
            paper, at = chosen[account.number]
            await tx.choose_paper_invoice(account.id, paper, None, at)
        exported = paper_invoice_rows(await tx.paper_invoice_choices(datetime(2026, 12, 1, tzinfo=KYIV)))

    seen = await every_page(admin, "/admin/paper-invoices?since=2026-12-01&limit=1")
    assert sorted(({k: v for k, v in item.items() if k != "id"} for item in seen), key=lambda row: row["account"]) == [
        {**row, "chosen_at": row["chosen_at"].replace("+00:00", "Z")} for row in exported]
    assert {item["account"]: item["paper_invoice"] for item in seen} == {"020000054321": "yes", "1705339110": "no"}
    everything = await (await admin.get("/admin/paper-invoices", headers=AUTH)).json()
    assert len(everything["items"]) == 3 and everything["next_cursor"] is None
    assert (await admin.get("/admin/paper-invoices?since=2026-13-01", headers=AUTH)).status == 400
    assert (await admin.get("/admin/paper-invoices?paper=yes", headers=AUTH)).status == 400
    assert (await admin.get("/admin/paper-invoices")).status == 401


# ----- appeals


async def test_an_appeal_is_answered_and_the_answer_reaches_the_consumer(admin, demo_database, clock):
    chat = await linked_chat(demo_database, "010000012345", clock(), language="uk")
    appeal = await new_appeal(demo_database, clock, chat)
    listed = await (await admin.get("/admin/appeals?status=new", headers=AUTH)).json()
    assert [item["id"] for item in listed["items"]] == [appeal]
    response = await admin.patch(f"/admin/appeals/{appeal}", headers=AUTH, json={"status": "answered"})
    assert response.status == 400 and (await response.json())["problems"][0]["field"] == "answer"
    response = await admin.patch(f"/admin/appeals/{appeal}", headers=AUTH,
                                 json={"status": "answered", "answer": "Нараховано за показами 30.11."})
    assert response.status == 200
    answer = await response.json()
    assert answer["appeal"]["status"] == "answered" and answer["notified"] == 1
    [notice] = await outbox_rows(demo_database, "appeal")
    assert (notice.chat_id, notice.subject, notice.period) == (chat, str(appeal), "answered")
    text = await rendered(demo_database, notice, "uk")
    assert f"Звернення №{appeal}" in text and "Нараховано за показами 30.11." in text
    assert (await admin.patch(f"/admin/appeals/{appeal}", headers=AUTH, json={"status": "closed"})).status == 200
    response = await admin.patch(f"/admin/appeals/{appeal}", headers=AUTH, json={"status": "in_progress"})
    assert response.status == 409 and "'closed'" in (await response.json())["error"]
    assert (await admin.get(f"/admin/appeals/{appeal}", headers=AUTH)).status == 200
    assert (await admin.get("/admin/appeals/424242", headers=AUTH)).status == 404
    assert (await admin.patch("/admin/appeals/424242", headers=AUTH, json={"status": "closed"})).status == 404


# ----- outages


OUTAGE = {"code": "PL-77", "kind": "planned", "starts_at": "2026-12-02T09:00:00+02:00",
          "ends_at": "2026-12-02T17:00:00+02:00", "reason": "Заміна опор", "settlement": "м. Харків",
          "street": "вул. Сумська", "houses": "1-15"}


async def test_an_outage_published_changed_and_ended_reaches_the_consumers_it_touches(admin, demo_database, clock):
    touched = await linked_chat(demo_database, "010000012345", clock())  # Сумська 10
    await linked_chat(demo_database, "1705339110", clock(), external_id="c2")  # Пушкінська 45
    response = await admin.post("/admin/outages", headers=AUTH, json=OUTAGE)
    assert response.status == 201
    assert (await response.json())["notified"] == 1
    assert [(r.chat_id, r.period) for r in await outbox_rows(demo_database, "outage")] == [(touched, "start")]
    assert (await admin.post("/admin/outages", headers=AUTH, json=OUTAGE)).status == 409
    listed = await (await admin.get("/admin/outages", headers=AUTH)).json()
    assert "PL-77" in [item["code"] for item in listed["items"]]

    response = await admin.patch("/admin/outages/PL-77", headers=AUTH, json={"ends_at": "2026-12-02T19:00:00+02:00"})
    assert response.status == 200 and (await response.json())["notified"] == 1
    first, change = await outbox_rows(demo_database, "outage")
    assert first.period == "start" and change.period.startswith("update-")
    # A change is announced as a change, with the new times (issue 18.8), the first notice as news.
    assert (await rendered(demo_database, first)).startswith("🔌 Planned outage: from 02.12.2026 09:00 to")
    assert await rendered(demo_database, change) == (
        "🔁 Planned outage changed: now from 02.12.2026 09:00 to 02.12.2026 19:00. Reason: Заміна опор.")

    clock.set(2026, 12, 2, 15, 0)
    response = await admin.patch("/admin/outages/PL-77", headers=AUTH,
                                 json={"ends_at": "2026-12-02T14:30:00+02:00", "reason": "Заміну опор завершено"})
    assert response.status == 200
    [end] = await outbox_rows(demo_database, "outage-end")
    assert end.chat_id == touched and "Заміну опор завершено" in await rendered(demo_database, end)


@pytest.mark.parametrize("change, field", [
    ({"settlement": None, "street": None}, None),
    ({"ends_at": "2026-12-01T09:00:00+02:00"}, None),
    ({"starts_at": "2026-12-02T09:00:00"}, "starts_at"),
    ({"houses": "1 - 15 - 20"}, "houses"),
    ({"kind": "sudden"}, "kind"),
    ({"code": ""}, "code"),
])
async def test_a_bad_outage_is_refused(admin, demo_database, change, field):
    response = await admin.post("/admin/outages", headers=AUTH, json={**OUTAGE, **change})
    assert response.status == 400
    assert (await response.json())["problems"][0]["field"] == field
    assert await outbox_rows(demo_database) == []


async def test_changing_an_unknown_outage_or_with_nothing_is_refused(admin):
    assert (await admin.patch("/admin/outages/NOPE", headers=AUTH, json={"reason": "x"})).status == 404
    assert (await admin.patch("/admin/outages/PL-2026-1187", headers=AUTH, json={})).status == 400
    response = await admin.patch("/admin/outages/PL-2026-1187", headers=AUTH,
                                 json={"ends_at": "2020-01-01T00:00:00+00:00"})
    assert response.status == 400 and (await response.json())["problems"][0]["field"] == "ends_at"
    assert (await admin.patch("/admin/outages/PL-2026-1187", headers=AUTH, json={"reason": None})).status == 400


# ----- broadcast


async def test_a_broadcast_goes_to_everyone_or_to_a_settlement_or_grid_node(admin, demo_database, clock):
    kharkiv = await linked_chat(demo_database, "010000012345", clock())
    chuhuiv = await linked_chat(demo_database, "020000054321", clock(), external_id="c2", language="uk")
    texts = {"uk": "Шановні споживачі!", "en": "Dear consumers!"}
    response = await admin.post("/admin/broadcast", headers=AUTH, json={"text": texts})
    assert response.status == 201
    everyone = await response.json()
    assert everyone["planned"] == 2
    rows = await outbox_rows(demo_database, "broadcast")
    assert {row.chat_id for row in rows} == {kharkiv, chuhuiv} and rows[0].text == texts
    assert {row.subject for row in rows} == {everyone["broadcast"]}
    assert await rendered(demo_database, rows[0], "en") == "Dear consumers!"
    assert await rendered(demo_database, rows[0], "ru") == "Шановні споживачі!"

    response = await admin.post("/admin/broadcast", headers=AUTH, json={"text": texts, "settlement": "м. чугуїв"})
    assert (await response.json())["planned"] == 1
    response = await admin.post("/admin/broadcast", headers=AUTH, json={"text": texts, "grid_node": "tp 101"})
    planned = await response.json()
    assert planned["planned"] == 1
    assert [row.chat_id for row in await outbox_rows(demo_database, "broadcast")
            if row.subject == planned["broadcast"]] == [kharkiv]
    response = await admin.post("/admin/broadcast", headers=AUTH, json={"text": texts, "settlement": "Атлантида"})
    assert response.status == 404
    response = await admin.post("/admin/broadcast", headers=AUTH,
                                json={"text": texts, "settlement": "Харків", "grid_node": "TP-101"})
    assert response.status == 400
    response = await admin.post("/admin/broadcast", headers=AUTH, json={"text": {"en": "English only"}})
    assert response.status == 400 and (await response.json())["problems"][0]["field"] == "text.uk"
    response = await admin.post("/admin/broadcast", headers=AUTH, json={"text": {"uk": "x", "de": "y"}})
    assert response.status == 400 and (await response.json())["problems"][0]["field"] == "text.de"
    assert len(await outbox_rows(demo_database, "broadcast")) == 4


# ----- stats


async def test_stats_count_accounts_chats_readings_orders_appeals_and_the_outbox(admin, demo_database, clock):
    chat = await linked_chat(demo_database, "010000012345", clock())
    await linked_chat(demo_database, "1705339110", clock(), external_id="v1", channel="viber")
    await new_order(demo_database, clock, chat)
    await new_appeal(demo_database, clock, chat)
    async with demo_database.transaction() as tx:
        account = (await tx.find_accounts(["010000012345"]))[0]
        meter = (await tx.meters([account.id]))[0]
        await tx.add_readings(meter.id, date(2026, 11, 30), [12500], "console", chat, clock(), None)
        await tx.add_readings(meter.id, date(2026, 11, 29), [12400], "console", chat, clock() - timedelta(days=1),
                              None)
    await admin.post("/admin/broadcast", headers=AUTH, json={"text": {"uk": "Привіт"}})
    response = await admin.get("/admin/stats", headers=AUTH)
    assert response.status == 200
    assert await response.json() == {
        "accounts": 3,
        "linked_chats": {"console": 1, "viber": 1},
        "readings": {"today": 1, "window": 2},  # the window opened on the 29th
        "orders": {"sent": 1},
        "appeals": {"new": 1},
        "outbox": {"queued": 2},
        "planning": {},
    }
    clock.set(2026, 11, 15, 10, 0)
    assert (await (await admin.get("/admin/stats", headers=AUTH)).json())["readings"]["window"] is None


# ----- what reaches the consumer


async def test_what_the_operator_does_reaches_the_chat_through_the_dispatcher(admin, demo_database, kabinet, clock):
    from tests.support.reminders import RecordingSender, dispatcher_for

    chat = await linked_chat(demo_database, "010000012345", clock(), external_id="c1", language="en")
    order = await new_order(demo_database, clock, chat)
    appeal = await new_appeal(demo_database, clock, chat)
    await admin.patch(f"/admin/orders/{order}", headers=AUTH, json={"status": "in_progress", "comment": "Tomorrow"})
    await admin.patch(f"/admin/appeals/{appeal}", headers=AUTH, json={"status": "answered", "answer": "By reading"})
    await admin.post("/admin/outages", headers=AUTH, json=OUTAGE)
    await admin.post("/admin/broadcast", headers=AUTH, json={"text": {"uk": "Привіт", "en": "Hello"}})
    sender = RecordingSender()
    while await dispatcher_for(demo_database, kabinet, clock, sender).run_once():
        pass
    texts = sorted(text for external_id, text in sender.sent if external_id == "c1")  # sent concurrently
    assert texts == [
        f"Appeal No. {appeal}: Answered. By reading",
        "Hello",
        f"📋 Order No. {order} “Noise in the electricity meter”: In progress.\nComment: Tomorrow",
        "🔌 Planned outage: from 02.12.2026 09:00 to 02.12.2026 17:00. Reason: Заміна опор.",
    ]
    assert {row.status for row in await outbox_rows(demo_database)} == {"sent"}


async def test_a_chunked_json_body_is_read_whole(admin, demo_database):
    async def body():
        yield b'{"text": '
        yield b'{"uk": "chunked"}}'

    response = await admin.post("/admin/broadcast", headers={**AUTH, "Content-Type": "application/json"},
                                data=body())
    assert response.status == 201


# ----- link failures (issue 16.1)


async def test_the_operator_lets_a_guessed_at_account_be_linked_again(admin, kabinet, new_talk):
    for number in range(2):
        guesser = new_talk(f"guesser{number}")
        await guesser.say("/link 1705339110 Petrenko")
        await guesser.say("1")
        for _ in range(4):
            await guesser.say("/link 1705339110 Petrenko")
    owner = new_talk("owner")
    await owner.say("/link 1705339110 Дем'яненко")
    assert "No account with this number and surname" in await owner.say("1")
    response = await admin.delete("/admin/accounts/1705339110/link-failures", headers=AUTH)
    assert response.status == 200 and await response.json() == {"account": "1705339110", "cleared": 11}
    assert "Account 1705339110 is linked" in await owner.say("/link 1705339110 Дем'яненко")
    assert "Too many failed attempts" in await new_talk("guesser0").say("/link 1705339110 Дем'яненко")  # its own limit
    assert (await admin.delete("/admin/accounts/1705339111/link-failures", headers=AUTH)).status == 404
    assert (await admin.delete("/admin/accounts/1705339110/link-failures")).status == 401
