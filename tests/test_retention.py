"""Issue 20.1 and 20.2: the retention job deletes what has outlived its period, and /metrics stays cheap."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from functools import partial

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import event, insert, select, text

import bot.metrics
from bot.metrics import OUTBOX_DEPTH, OutboxDepth
from bot.server import make_web_app
from handlers.viber.media import sweep
from scheduler.jobs import Planner, Retention
from storage import outbox
from storage.models import (
    AccountRow, ChatRow, DeliveryRow, LinkAttemptRow, MeterRow, OutboxRow, PhotoRow, ReadingRow, ServiceOrderFileRow,
    ServiceOrderRow,
)
from storage.scheduling import SqlOutbox
from tests.support.demo import KYIV

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def _outbox(chat_id: int, kind: str, subject: str, period: str, status: str, created: datetime) -> dict:
    return {"key": f"{chat_id}:{kind}:{subject}:{period}", "chat_id": chat_id, "kind": kind, "subject": subject,
            "period": period, "status": status, "attempts": 0, "not_before": created, "created_at": created}


async def _chat(session, external_id: str = "1") -> int:
    return (await session.execute(insert(ChatRow).values(
        channel="telegram", external_id=external_id, language="uk", active=True, created_at=NOW - 400 * DAY,
    ).returning(ChatRow.id))).scalar_one()


async def test_the_retention_job_deletes_what_is_older_than_each_period_and_keeps_the_rest(demo_database, tmp_path):
    database = demo_database
    photos = tmp_path / "photos"
    photos.mkdir()
    async with database.session() as session:
        chat = await _chat(session)
        rows = [
            # A newer row before older ones (clocks of several processes): the walk goes on past it.
            _outbox(chat, "reading-window", "a", "new-sent", "sent", NOW - 29 * DAY),
            _outbox(chat, "reading-window", "a", "old-sent", "sent", NOW - 31 * DAY),
            _outbox(chat, "invoice", "a", "old-skipped", "skipped", NOW - 40 * DAY),
            _outbox(chat, "invoice", "a", "old-failed", "failed", NOW - 40 * DAY),
            _outbox(chat, "invoice", "a", "old-queued", "queued", NOW - 40 * DAY),
            # A debt reminded twice: the older row goes, the newest stays so the planner does not remind again.
            _outbox(chat, "debt", "010000012345", "2026-09", "sent", NOW - 70 * DAY),
            _outbox(chat, "debt", "010000012345", "2026-10", "sent", NOW - 35 * DAY),
        ]
        await session.execute(insert(OutboxRow), rows)
        await session.execute(insert(DeliveryRow), [
            {"channel": "telegram", "key": "old", "seen_at": NOW - 31 * DAY},
            {"channel": "telegram", "key": "older", "seen_at": NOW - 300 * DAY},
            {"channel": "telegram", "key": "new", "seen_at": NOW - 29 * DAY},
        ])
        await session.execute(insert(LinkAttemptRow), [
            {"channel": "telegram", "external_id": "1", "attempted_at": NOW - 25 * timedelta(hours=1),
             "succeeded": False},
            {"channel": "telegram", "external_id": "1", "attempted_at": NOW - 23 * timedelta(hours=1),
             "succeeded": False},
        ])
        meter = await session.scalar(select(MeterRow.id).order_by(MeterRow.id).limit(1))
        photo_ids = {}
        for name, age in (("old", 3 * 365 + 1), ("new", 3 * 365 - 1)):
            path = photos / f"{name}.jpg"
            path.write_bytes(b"\xff\xd8\xff" + name.encode())
            photo_ids[name] = (await session.execute(insert(PhotoRow).values(
                chat_id=chat, meter_id=meter, path=str(path), sha256=name * 8, size=5, received_at=NOW - age * DAY,
            ).returning(PhotoRow.id))).scalar_one()
        await session.execute(insert(ReadingRow), [
            {"meter_id": meter, "zone": 1, "taken_on": (NOW - (3 * 365 + 1) * DAY).date(), "value": 11111,
             "source": "telegram", "chat_id": chat, "photo_id": photo_ids["old"], "submitted_at": NOW},
            {"meter_id": meter, "zone": 1, "taken_on": (NOW - 2 * DAY).date(), "value": 22222,
             "source": "telegram", "chat_id": chat, "photo_id": photo_ids["new"], "submitted_at": NOW},
        ])
    media = tmp_path / "viber-media"
    (media / "chatfolder").mkdir(parents=True)
    (media / ".key").write_bytes(b"k" * 32)
    stale, fresh = media / "chatfolder" / "stale.jpg", media / "chatfolder" / "fresh.jpg"
    stale.write_bytes(b"1")
    fresh.write_bytes(b"2")
    four_days_ago = (datetime.now(UTC) - 4 * DAY).timestamp()
    os.utime(stale, (four_days_ago, four_days_ago))

    # A batch of 2 makes every table take several batches.
    retention = Retention(media_sweep=partial(sweep, media), batch=2)
    planner = Planner(SqlOutbox(database), None, KYIV, clock=lambda: NOW, retention=retention)
    deleted = (await planner.run("retention")).planned

    async with database.session() as session:
        periods = set(await session.scalars(select(OutboxRow.period)))
        deliveries = set(await session.scalars(select(DeliveryRow.key)))
        attempts = list(await session.scalars(select(LinkAttemptRow.attempted_at)))
        kept_photos = set(await session.scalars(select(PhotoRow.id)))
        readings = dict((await session.execute(select(ReadingRow.value, ReadingRow.photo_id)
                                               .where(ReadingRow.value.in_([11111, 22222])))).all())
    assert periods == {"old-failed", "old-queued", "new-sent", "2026-10"}
    assert deliveries == {"new"}
    assert [at.astimezone(UTC) for at in attempts] == [NOW - 23 * timedelta(hours=1)]
    assert kept_photos == {photo_ids["new"]}
    assert readings == {11111: None, 22222: photo_ids["new"]}  # the value stays, its photo goes
    assert not (photos / "old.jpg").exists() and (photos / "new.jpg").exists()
    assert not stale.exists() and fresh.exists() and (media / ".key").exists()
    assert deleted == 3 + 2 + 1 + 1 + 1


async def test_a_reminders_e_mail_row_does_not_let_its_chat_row_be_pruned(database):
    """The newest row of a replanned reminder stays, or the planner plans it again: per way to the chat, so the
    debt's e-mail copy, newer than its chat row, does not make the chat row look superseded."""
    async with database.session() as session:
        chat = await _chat(session)
        chat_row = _outbox(chat, "debt", "010000012345", "2026-10", "sent", NOW - 35 * DAY)
        email_row = {**chat_row, "key": chat_row["key"] + ":email", "via": "email"}
        await session.execute(insert(OutboxRow), [
            _outbox(chat, "debt", "010000012345", "2026-09", "sent", NOW - 70 * DAY), chat_row, email_row])
    planner = Planner(SqlOutbox(database), None, KYIV, clock=lambda: NOW, retention=Retention(batch=2))
    await planner.run("retention")
    async with database.session() as session:
        kept = set((await session.execute(select(OutboxRow.period, OutboxRow.via))).all())
    assert kept == {("2026-10", None), ("2026-10", "email")}


async def test_a_photo_file_shared_by_two_rows_stays_while_one_of_them_does(database, tmp_path):
    path = tmp_path / "same.jpg"
    path.write_bytes(b"\xff\xd8\xff")
    async with database.session() as session:
        await session.execute(insert(PhotoRow), [
            {"path": str(path), "sha256": "s" * 64, "size": 3, "received_at": NOW - 4 * 365 * DAY},
            {"path": str(path), "sha256": "s" * 64, "size": 3, "received_at": NOW - DAY},
        ])
    planner = Planner(SqlOutbox(database), None, KYIV, clock=lambda: NOW)
    assert (await planner.run("retention"))[0] == 1
    assert path.exists()


async def test_an_expired_photo_leaves_the_file_an_order_still_holds(demo_database, tmp_path):
    """A file the consumer sent to an order is stored as photos are, by its content: the same picture sent as a meter
    photo years ago and to an order now is one file, which the order still needs."""
    path = tmp_path / "same.jpg"
    path.write_bytes(b"\xff\xd8\xff")
    async with demo_database.session() as session:
        account = await session.scalar(select(AccountRow.id).order_by(AccountRow.id).limit(1))
        await session.execute(insert(PhotoRow), [
            {"path": str(path), "sha256": "s" * 64, "size": 3, "received_at": NOW - 4 * 365 * DAY}])
        order = (await session.execute(insert(ServiceOrderRow).values(
            account_id=account, service="reconnection", phone="0671234567", status="sent", created_at=NOW,
            updated_at=NOW).returning(ServiceOrderRow.id))).scalar_one()
        await session.execute(insert(ServiceOrderFileRow).values(
            order_id=order, kind="consumer", path=str(path), sha256="s" * 64, size=3, mime_type="image/jpeg",
            received_at=NOW))
    planner = Planner(SqlOutbox(demo_database), None, KYIV, clock=lambda: NOW)
    assert (await planner.run("retention"))[0] == 1  # the photo's row
    assert path.exists()


def _kabinet(args, env):
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True, env=env, timeout=120)


async def test_the_retention_job_is_listed_and_runs_from_the_command_line(database, tmp_path):
    async with database.session() as session:
        chat = await _chat(session)
        await session.execute(insert(OutboxRow), [
            _outbox(chat, "invoice", "a", "ancient", "sent", datetime.now(UTC) - 400 * DAY),
            _outbox(chat, "invoice", "a", "recent", "sent", datetime.now(UTC) - DAY),
        ])
    env = {k: v for k, v in os.environ.items() if not k.startswith("KABINET_")}
    env.update(KABINET_DATA_DIR=str(tmp_path / "var"), KABINET_DATABASE_URL=database.url,
               KABINET_OUTBOX_RETENTION_DAYS="90")
    listed = await asyncio.to_thread(_kabinet, ["jobs", "list"], env)
    assert "retention" in listed.stdout and "03:30" in listed.stdout
    ran = await asyncio.to_thread(_kabinet, ["jobs", "run", "retention"], env)
    assert ran.returncode == 0, ran.stderr
    assert "retention: 1 " in ran.stdout
    async with database.session() as session:
        assert set(await session.scalars(select(OutboxRow.period))) == {"recent"}


@pytest.mark.parametrize("name, value", [("OUTBOX_RETENTION_DAYS", "7"), ("PHOTO_RETENTION_DAYS", "0"),
                                         ("DELIVERIES_RETENTION_DAYS", "forever")])
def test_a_retention_period_out_of_bounds_is_refused_by_name(name, value, monkeypatch):
    from bot.settings import SettingsError, load_settings

    monkeypatch.setenv(f"KABINET_{name}", value)
    with pytest.raises(SettingsError, match=f"KABINET_{name}"):
        load_settings()


# ----- the outbox depth of /metrics


async def _fill(database, sent: int, waiting: dict[tuple[str, str], int]) -> None:
    async with database.session() as session:
        chat = await _chat(session)
        rows = [_outbox(chat, "invoice", str(n), "p", "sent", NOW) for n in range(sent)]
        for (kind, status), count in waiting.items():
            rows += [_outbox(chat, kind, f"{status}{n}", "p", status, NOW) for n in range(count)]
        await session.execute(insert(OutboxRow), rows)


def _gauge(kind: str) -> float:
    return OUTBOX_DEPTH.labels(kind=kind)._value.get()


async def test_the_outbox_depth_counts_the_rows_still_to_send(database):
    await _fill(database, 50, {("debt", "queued"): 3, ("debt", "sending"): 2, ("broadcast", "queued"): 4,
                               ("invoice", "failed"): 5})
    async with database.session() as session:
        assert await outbox.depth(session) == {"debt": 5, "broadcast": 4}
    await OutboxDepth().refresh(database)
    assert (_gauge("debt"), _gauge("broadcast"), _gauge("invoice"), _gauge("reading-window")) == (5, 4, 0, 0)


async def test_a_counted_depth_is_served_a_while_for_its_own_database_only(database):
    depth = OutboxDepth()
    await _fill(database, 0, {("debt", "queued"): 1})
    await depth.refresh(database)
    async with database.session() as session:
        chat = await session.scalar(select(ChatRow.id))
        await session.execute(insert(OutboxRow), [_outbox(chat, "debt", "more", "p", "queued", NOW)])
    await depth.refresh(database)
    assert _gauge("debt") == 1  # counted moments ago: not counted again
    other = type(database)(database.url)  # another process's view, or the next test's
    try:
        await depth.refresh(other)
    finally:
        await other.close()
    assert _gauge("debt") == 2


async def test_many_concurrent_scrapes_take_at_most_one_connection_and_none_from_a_busy_pool(
        demo_database, kabinet, monkeypatch):
    database = demo_database
    await _fill(database, 10, {("debt", "queued"): 1})
    checkouts = []
    event.listen(database.engine.sync_engine, "checkout", lambda *_: checkouts.append(1))
    monkeypatch.setattr(bot.metrics, "OUTBOX", OutboxDepth())
    server = TestServer(make_web_app(database, kabinet))
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as client:
            async def scrape() -> str:
                async with client.get(server.make_url("/metrics")) as response:
                    assert response.status == 200
                    return await response.text()

            pages = await asyncio.gather(*(scrape() for _ in range(32)))
            assert len(checkouts) == 1
            assert any('kabinet_outbox_depth{kind="debt"} 1.0' in page for page in pages)

            # Every pooled connection busy with turns: a scrape does not queue for one.
            monkeypatch.setattr(bot.metrics, "OUTBOX", OutboxDepth())
            held = [await database.engine.connect() for _ in range(database.engine.pool.size())]
            checkouts.clear()
            try:
                await asyncio.wait_for(asyncio.gather(*(scrape() for _ in range(16))), 30)
            finally:
                for connection in held:
                    await connection.close()
            assert checkouts == []
    finally:
        await server.close()


async def test_the_depth_reads_an_index_of_the_waiting_rows_and_postgresql_the_partial_one(database):
    if database.is_sqlite:
        async with database.session() as session:
            statement = outbox.depth_query().compile(database.engine, compile_kwargs={"literal_binds": True})
            plan = " ".join(str(row) for row in await session.execute(text(f"EXPLAIN QUERY PLAN {statement}")))
        assert "SEARCH outbox USING" in plan and "SCAN outbox" not in plan, plan  # the waiting rows only
        return
    async with database.session() as session:
        chat = await _chat(session)
        await session.execute(text(
            "INSERT INTO outbox (key, chat_id, kind, subject, period, status, attempts, not_before, created_at) "
            "SELECT 'k' || n, :chat, 'invoice', n::text, 'p', 'sent', 0, now(), now() "
            "FROM generate_series(1, 50000) AS n"), {"chat": chat})
        await session.execute(insert(OutboxRow), [_outbox(chat, "debt", str(n), "p", "queued", NOW) for n in range(5)])
    async with database.engine.connect() as connection:
        await connection.execute(text("ANALYZE outbox"))
        await connection.commit()
        statement = outbox.depth_query().compile(database.engine, compile_kwargs={"literal_binds": True})
        plan = "\n".join(row[0] for row in await connection.execute(text(f"EXPLAIN {statement}")))
    assert "ix_outbox_waiting" in plan, plan
