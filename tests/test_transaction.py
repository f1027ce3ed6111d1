"""A consumer turn's unit of work: a Core connection in one transaction, the ORM session made on demand."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import event, func, select

from storage.models import ChatRow, DeliveryRow, LinkAttemptRow, MeterRow
from tests.support.demo import BOTH_PATHS

AT = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
pytestmark = BOTH_PATHS  # on PostgreSQL with the asyncpg fast path and without


async def counts(database) -> tuple[int, int, int]:
    async with database.session() as session:
        return tuple([await session.scalar(select(func.count()).select_from(table))
                      for table in (ChatRow, DeliveryRow, LinkAttemptRow)])


async def test_a_turn_commits_its_statements_and_what_the_orm_session_added(demo_database):
    before = await counts(demo_database)
    async with demo_database.transaction() as tx:
        assert await tx.first_delivery("test", "t1", AT)  # a built-once statement
        chat, _ = await tx.chat_and_state("test", "orm-chat", "en")
        tx.session.add(LinkAttemptRow(channel=chat.channel, external_id=chat.external_id, attempted_at=AT,
                                      succeeded=False))  # no flush of its own
    assert await counts(demo_database) == (before[0] + 1, before[1] + 1, before[2] + 1)


async def test_a_turn_that_fails_leaves_nothing_of_either(demo_database):
    before = await counts(demo_database)
    with pytest.raises(RuntimeError):
        async with demo_database.transaction() as tx:
            assert await tx.first_delivery("test", "t2", AT)
            chat, _ = await tx.chat_and_state("test", "failing-chat", "en")
            await tx.record_link_attempt(chat.channel, chat.external_id, [], AT, False)  # flushed: the row was written, then rolled back
            raise RuntimeError("a bug in the turn")
    assert await counts(demo_database) == before
    async with demo_database.transaction() as tx:
        assert await tx.first_delivery("test", "t2", AT)  # the key was rolled back with the rest


async def test_a_turn_without_orm_queries_makes_no_session(demo_database):
    async with demo_database.transaction() as tx:
        await tx.chat_and_state("test", "plain-chat", "en")
        assert tx._session is None


async def test_a_turn_opens_with_one_statement_on_postgresql(demo_database, database_url, fast_path, monkeypatch):
    from storage.fast_path import Driver

    ran = []
    run = Driver.run

    async def counted(driver, prepared, parameters):
        ran.append(prepared.sql.split()[0])
        return await run(driver, prepared, parameters)

    monkeypatch.setattr(Driver, "run", counted)
    through_sqlalchemy = []
    event.listen(demo_database.engine.sync_engine, "before_cursor_execute",
                 lambda *args: through_sqlalchemy.append(args[2].split()[0]))
    on = AT.date()
    async with demo_database.transaction() as tx:
        first, _ = await tx.open_turn("test", "opening-chat", "en", "o1", AT, on)  # first contact: the chat is made
        account = (await tx.find_accounts(["010000012345"]))[0]
        await tx.link(first.id, account.id, AT)
    ran.clear()
    through_sqlalchemy.clear()
    async with demo_database.transaction() as tx:
        assert await tx.open_turn("test", "opening-chat", "en", "o1", AT, on) is None  # a repeat
        again, state = await tx.open_turn("test", "opening-chat", "uk", "o2", AT, on)
        assert (again.id, again.language, state) == (first.id, "en", None)
        assert [each.account.number for each in await tx.linked_meters(first.id, on)] == ["010000012345"]
        assert await tx.open_turn("test", "opening-chat", "uk", "o3", AT, on, summaries=True) is not None
        assert [each.account.number for each in await tx.account_summaries(first.id, on)] == ["010000012345"]
        if database_url.startswith("postgresql"):
            # One statement a turn: the key, the chat and the accounts view it reads together (past SQLAlchemy or
            # not).
            opened = ["WITH"] * 3
            assert (ran, through_sqlalchemy) == ((opened, []) if fast_path else ([], opened))
        await tx.unlink(first.id, account.id)  # changes the view: read again
        assert await tx.linked_meters(first.id, on) == []


async def test_two_copies_of_one_update_at_once_are_handled_once(kabinet):
    import asyncio

    from core.messages import EventKind, Incoming, Outcome

    await kabinet.process(Incoming("test", "known-chat", EventKind.TEXT, text="/help", delivery_key="k-0"))
    for chat in ("known-chat", "new-chat"):  # the chat's row lock, or (first contact) the key, queues the copy
        copies = [Incoming("test", chat, EventKind.TEXT, text="/help", delivery_key=f"{chat}-1") for _ in range(2)]
        done, repeat = sorted(await asyncio.gather(*(kabinet.process(copy) for copy in copies)),
                              key=lambda handled: handled.outcome is Outcome.DUPLICATE)
        assert (done.outcome, repeat.outcome) == (Outcome.DONE, Outcome.DUPLICATE), chat
        assert done.replies and repeat.replies == []


async def test_the_opening_statement_locks_the_chat_before_it_writes_the_key(demo_database, database_url):
    import asyncio

    import asyncpg

    if not database_url.startswith("postgresql"):  # SQLite has one writer at a time: no order of locks
        return
    async with demo_database.transaction() as tx:
        await tx.open_turn("test", "locked-chat", "en", "l0", AT, AT.date())
    dsn = database_url.replace("postgresql+asyncpg://", "postgresql://")
    holder, other = await asyncpg.connect(dsn), await asyncpg.connect(dsn)
    try:
        holder_tx = holder.transaction()
        await holder_tx.start()
        await holder.execute("SELECT id FROM chats WHERE channel = 'test' AND external_id = 'locked-chat' FOR UPDATE")

        async def turn():
            async with demo_database.transaction() as tx:
                return await tx.open_turn("test", "locked-chat", "en", "l1", AT, AT.date())

        opening = asyncio.create_task(turn())
        await asyncio.sleep(0.3)
        assert not opening.done()  # waiting for the chat
        # The key is not written yet: another writer of it does not wait (it would, behind an uncommitted row).
        await other.execute("SET lock_timeout = '200ms'")
        await other.execute("INSERT INTO deliveries (channel, key, seen_at) VALUES ('test', 'l1', now())")
        await holder_tx.rollback()
        assert await opening is None  # the key was taken meanwhile: a repeat
    finally:
        await holder.close()
        await other.close()


async def test_a_chat_in_its_turn_does_not_hold_up_another_chat_replacing_its_reading(demo_database, database_url):
    """A turn locks its chat against the chat's other turns only: a row another turn writes that names the chat
    (the reading it replaces, kept with its chat) does not wait for it. Waiting there, a turn holding the
    reading's lock and a turn of that chat waiting for the reading deadlocked."""
    if not database_url.startswith("postgresql"):  # SQLite has one writer at a time
        return
    async with demo_database.session() as session:
        meter = await session.scalar(select(MeterRow.id).order_by(MeterRow.id).limit(1))
    async with demo_database.transaction() as tx:
        first, _ = await tx.chat_and_state("test", "first", "en")
        second, _ = await tx.chat_and_state("test", "second", "en")
        await tx.add_readings(meter, AT.date(), [12400], "test", first.id, AT, None)
    async with demo_database.transaction() as busy:  # the first chat's next turn, not finished
        assert await busy.open_turn("test", "first", "en", "r1", AT, AT.date()) is not None
        async with demo_database.transaction() as tx:
            await tx.chat_and_state("test", "second", "en")
            await (await tx.connection()).exec_driver_sql("SET LOCAL lock_timeout = '200ms'")
            submission = await tx.add_readings(meter, AT.date(), [12410], "test", second.id, AT, None)
    assert submission.replaced == {1: 12400}


async def test_a_turn_the_fast_path_answers_takes_a_pooled_connection_and_makes_no_sqlalchemy_one(
        kabinet, demo_database, database_url, fast_path):
    """A SQLAlchemy Connection (and the ORM session on it) costs its making, beginning, committing and closing, about
    60 us a turn: on PostgreSQL's fast path a turn whose statements all run on asyncpg makes none."""
    from core.messages import EventKind, Incoming, Outcome

    engine = demo_database.engine.sync_engine
    connections, checkouts = [], []
    event.listen(engine, "engine_connect", lambda connection: connections.append(connection))
    event.listen(engine.pool, "checkout", lambda *args: checkouts.append(args))
    keys = iter(range(1, 100))

    async def say(text: str | None = None, action: str | None = None) -> str:
        handled = await kabinet.process(Incoming("test", "pooled", EventKind.BUTTON if action else EventKind.TEXT,
                                                 text=text, action=action, language="en",
                                                 delivery_key=str(next(keys))))
        assert handled.outcome is Outcome.DONE
        assert engine.pool.checkedout() == 0  # back in the pool after every turn
        return "\n".join(reply.text for reply in handled.replies)

    await say("/link 010000012345 Шевченко")
    assert "is linked" in await say(action="consent:yes")
    connections.clear()
    checkouts.clear()
    assert "Confirm or enter it again" in await say("/reading 100")
    assert "Reading of meter" in await say(action="reading:confirm")
    assert "010000012345" in await say("/balance")
    direct = database_url.startswith("postgresql") and fast_path
    assert (len(checkouts), len(connections)) == (3, 0 if direct else 3)
    async with demo_database.transaction() as tx:  # what the turns wrote was committed
        chat, state = await tx.chat_and_state("test", "pooled", "en")
        kept = await tx.recent_turns(chat.id, AT.replace(year=2000), 10)
    assert state is None and [turn.said for turn in kept][-3:] == ["/reading 100", "[button] reading:confirm", "/balance"]


async def test_a_turn_that_needs_sqlalchemy_midway_runs_on_the_same_connection_and_transaction(demo_database):
    """The SQLAlchemy connection made for an ORM query after the fast path's statements is the same pooled connection,
    in the same transaction: it sees the turn's rows, and the turn's rows and its own are committed together, once."""
    engine = demo_database.engine.sync_engine
    before = await counts(demo_database)
    async with demo_database.transaction() as tx:
        assert await tx.first_delivery("test", "midway", AT)
        chat, _ = await tx.chat_and_state("test", "midway-chat", "en")
        assert await tx.chat_by_id(chat.id) is not None  # an ORM query: sees the row the fast path made
        await tx.record_link_attempt(chat.channel, chat.external_id, [], AT, False)
        await tx.save_state(chat.id, None)  # a built-once statement again, after the ORM's
        assert engine.pool.checkedout() == 1
    assert engine.pool.checkedout() == 0
    assert await counts(demo_database) == (before[0] + 1, before[1] + 1, before[2] + 1)


async def test_a_failed_statement_rolls_the_turn_back_and_the_connection_goes_back_to_the_pool_clean(demo_database):
    engine = demo_database.engine.sync_engine
    before = await counts(demo_database)
    with pytest.raises(Exception, match="naive datetime"):
        async with demo_database.transaction() as tx:
            assert await tx.first_delivery("test", "clean-1", AT)
            await tx.first_delivery("test", "clean-2", datetime(2026, 11, 30, 8, 0))  # refused by the driver
    assert engine.pool.checkedout() == 0
    for _ in range(engine.pool.size() + 1):  # every pooled connection taken again: none is left in a transaction
        async with demo_database.transaction() as tx:
            assert (await tx._run(select(func.count()).select_from(DeliveryRow), {})).one()[0] == before[1]
    assert await counts(demo_database) == before


async def test_a_commit_the_server_refuses_fails_the_turn_and_keeps_nothing(demo_database, database_url):
    if not database_url.startswith("postgresql"):  # SQLite has no deferred constraints to check at the commit
        return
    engine = demo_database.engine.sync_engine
    before = await counts(demo_database)
    with pytest.raises(Exception, match="duplicate key"):
        async with demo_database.transaction() as tx:
            assert await tx.first_delivery("test", "refused-commit", AT)
            # A unique constraint checked at the commit: the server refuses the commit, not a statement.
            sql = ["CREATE TEMPORARY TABLE refused (x int UNIQUE DEFERRABLE INITIALLY DEFERRED) ON COMMIT DROP",
                   "INSERT INTO refused VALUES (1), (1)"]
            for each in sql:
                if tx._driver is not None:  # the fast path's own asyncpg connection
                    await tx._driver.connection.execute(each)
                else:
                    await (await tx.connection()).exec_driver_sql(each)
    assert engine.pool.checkedout() == 0
    assert await counts(demo_database) == before
    async with demo_database.transaction() as tx:  # the connection went back to the pool fit for the next turn
        assert await tx.first_delivery("test", "refused-commit", AT)
