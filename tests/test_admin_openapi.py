"""The admin API's OpenAPI document, /healthz and /metrics."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from aiohttp.test_utils import TestClient, TestServer
from openapi_spec_validator import validate

from bot import admin
from bot.metrics import install
from bot.server import DISPATCHER, REMINDERS, make_web_app
from storage.database import Database
from tests.support.admin import AUTH, admin_settings, start


async def test_the_openapi_document_is_valid_and_describes_exactly_the_routes(demo_database, kabinet, tmp_path):
    client = await start(demo_database, kabinet, tmp_path)
    try:
        response = await client.get("/admin/openapi.json")
        assert response.status == 200
        document = await response.json()
    finally:
        await client.close()
    validate(document)
    documented = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    app = make_web_app(demo_database, kabinet, admin_settings(tmp_path))
    mounted = set()
    for route in app.router.routes():
        info = route.resource.get_info()
        path = info.get("path") or info.get("formatter")
        if path.startswith("/admin/") and route.method != "*" and path != "/admin/openapi.json":
            mounted.add((route.method, path))
    assert mounted == documented
    for path, item in document["paths"].items():
        for operation in item.values():
            assert {"400", "401", "503"} <= set(operation["responses"]), path
            parameters = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert parameters == {part.strip("{}") for part in path.split("/") if part.startswith("{")}


def test_every_list_is_paged_with_limit_and_cursor():
    lists = 0
    for path, item in admin.document()["paths"].items():
        answer = item.get("get", {}).get("responses", {}).get("200", {}).get("content", {})
        if "Page_" not in answer.get("application/json", {}).get("schema", {}).get("$ref", ""):
            continue
        lists += 1
        parameters = {p["name"]: p for p in item["get"]["parameters"]}
        assert {"limit", "cursor"} <= set(parameters), path
        assert parameters["limit"]["schema"]["maximum"] == 500
    assert lists == 6  # readings, orders, appeals, outages, payments, paper invoices


async def test_healthz_reports_the_database_scheduler_and_dispatcher(demo_database, kabinet, tmp_path):
    app = make_web_app(demo_database, kabinet, admin_settings(tmp_path))
    now = datetime.now(UTC)
    dispatcher = SimpleNamespace(alive_at=now, clock=lambda: now)
    app[DISPATCHER] = dispatcher
    app[REMINDERS] = SimpleNamespace(alive=True, leadership=SimpleNamespace(held=True))
    async with TestClient(TestServer(app)) as client:
        response = await client.get("/healthz")
        assert response.status == 200
        assert await response.json() == {
            "status": "ok", "database": True,
            "dispatcher": {"alive": True, "alive_at": now.isoformat()},
            "scheduler": {"alive": True, "leading": True},
        }
        dispatcher.alive_at = now - timedelta(minutes=10)
        report = await (await client.get("/healthz")).json()
        assert report["status"] == "degraded" and report["dispatcher"]["alive"] is False


async def test_healthz_without_messengers_and_503_when_the_database_is_down(demo_database, kabinet, tmp_path):
    async with TestClient(TestServer(make_web_app(demo_database, kabinet, admin_settings(tmp_path)))) as client:
        response = await client.get("/healthz")
        assert response.status == 200 and await response.json() == {"status": "ok", "database": True}
    down = Database("postgresql+asyncpg://nobody@127.0.0.1:9/nothing")
    try:
        async with TestClient(TestServer(make_web_app(down, kabinet, admin_settings(tmp_path)))) as client:
            response = await client.get("/healthz")
            assert response.status == 503
            assert (await response.json())["database"] is False
            assert (await client.get("/metrics")).status == 200  # a scrape still answers
    finally:
        await down.close()


async def test_metrics_show_outbox_depth_and_admin_requests(demo_database, kabinet, tmp_path, clock):
    install()
    async with TestClient(TestServer(make_web_app(demo_database, kabinet, admin_settings(tmp_path)))) as client:
        from tests.support.admin import linked_chat

        await linked_chat(demo_database, "010000012345", clock())
        assert (await client.post("/admin/broadcast", headers=AUTH, json={"text": {"uk": "Привіт"}})).status == 201
        assert (await client.get("/admin/stats")).status == 401
        text = await (await client.get("/metrics")).text()
    assert 'kabinet_outbox_depth{kind="broadcast"} 1.0' in text
    assert 'kabinet_outbox_depth{kind="invoice"} 0.0' in text
    assert 'kabinet_admin_requests_total{route="broadcast",status="201"}' in text
    assert 'kabinet_admin_requests_total{route="stats",status="401"}' in text
