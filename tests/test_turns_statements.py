"""What a consumer's turn writes at its end, counted in statements on a real database: each one is a round trip
to PostgreSQL, paid in the bot's CPU and the server's alike (docs/benchmarks.md, "Turns alone")."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event, select

from core.messages import EventKind, Incoming
from core.recent_turns import HIDDEN
from storage.fast_path import Driver
from storage.models import ReadingRow, ReplacedReadingRow
from tests.support.demo import BOTH_PATHS

pytestmark = BOTH_PATHS  # on PostgreSQL with the asyncpg fast path and without


def statements_run(database, monkeypatch) -> list[str]:
    """The text of every statement the database runs from now on, past SQLAlchemy or through it."""
    ran: list[str] = []
    run = Driver.run

    async def counted(driver, prepared, parameters):
        ran.append(prepared.sql)
        return await run(driver, prepared, parameters)

    monkeypatch.setattr(Driver, "run", counted)
    event.listen(database.engine.sync_engine, "before_cursor_execute", lambda *args: ran.append(args[2]))
    return ran


def ending_writes(ran: list[str]) -> list[str]:
    """The statements that wrote the chat's step or its recent turns."""
    return [sql for sql in ran if "INTO conversations" in sql or "FROM conversations" in sql
            or "INTO recent_turns" in sql]


def messenger(kabinet):
    """Sends chat c1's updates as a messenger does, each with its delivery key; returns the bot's texts."""
    keys = iter(range(1, 100))

    async def send(text: str | None = None, action: str | None = None) -> str:
        handled = await kabinet.process(Incoming("test", "c1", EventKind.BUTTON if action else EventKind.TEXT,
                                                 text=text, action=action, language="en",
                                                 delivery_key=str(next(keys))))
        return "\n".join(reply.text for reply in handled.replies)
    return send


async def test_a_turn_that_moves_the_chat_to_a_step_or_out_of_one_keeps_itself_in_the_same_statement(
        kabinet, demo_database, database_url, clock, monkeypatch):
    send = messenger(kabinet)
    await send("/link 010000012345 Шевченко")
    assert "is linked" in await send(action="consent:yes")
    ran = statements_run(demo_database, monkeypatch)
    assert "Confirm or enter it again" in await send("/reading 100")  # below the last one: a step to confirm
    to_a_step = ending_writes(ran)
    async with demo_database.transaction() as tx:
        chat, state = await tx.chat_and_state("test", "c1", "en")
    assert state is not None and state.data
    ran.clear()
    assert "Reading of meter" in await send(action="reading:confirm")  # the step's data came back whole
    out_of_it = ending_writes(ran)
    ran.clear()
    await send("/balance")  # no step to save: the kept turn is the turn's one write
    alone = ending_writes(ran)

    together = 1 if database_url.startswith("postgresql") else 2  # SQLite writes nothing in a WITH
    assert (len(to_a_step), len(out_of_it), len(alone)) == (together, together, 1), (to_a_step, out_of_it)
    async with demo_database.transaction() as tx:
        chat, state = await tx.chat_and_state("test", "c1", "en")
        kept = await tx.recent_turns(chat.id, clock() - timedelta(days=1), 10)
    assert state is None
    assert [turn.said for turn in kept] == [f"/link 010000012345 {HIDDEN}", "[button] consent:yes", "/reading 100",
                                            "[button] reading:confirm", "/balance"]
    assert [turn.delivery for turn in kept] == ["1", "2", "3", "4", "5"]
    assert "Confirm or enter it again" in kept[2].answered and "Reading of meter" in kept[3].answered


async def test_a_second_reading_of_the_day_is_kept_and_replaced_in_one_statement_on_postgresql(
        kabinet, demo_database, database_url, clock, monkeypatch):
    send = messenger(kabinet)
    await send("/link 010000012345 Шевченко")
    await send(action="consent:yes")
    first = clock()
    assert "accepted: 12500" in await send("/reading 12500")
    clock.now += timedelta(minutes=5)
    ran = statements_run(demo_database, monkeypatch)
    text = await send("/reading 12600")
    assert "This replaces 12500 sent today at 10:00." in text  # the earlier reading, read back as it was
    # The new row refused (its key taken), then the earlier one read, kept as replaced and overwritten.
    writes = [sql for sql in ran if sql.startswith(("INSERT INTO readings", "SELECT readings.id", "WITH earlier",
                                                    "INSERT INTO replaced_readings", "UPDATE readings"))]
    assert len(writes) == (2 if database_url.startswith("postgresql") else 4), writes
    async with demo_database.session() as session:
        kept = (await session.execute(select(ReplacedReadingRow))).scalars().one()
        reading = await session.get(ReadingRow, kept.reading_id)
    assert (kept.value, kept.submitted_at, kept.replaced_at, kept.chat_id) == (12500, first, clock(), reading.chat_id)
    assert (reading.value, reading.submitted_at) == (12600, clock())


async def test_a_turn_opens_with_the_accounts_view_it_reads_and_no_other(kabinet, demo_database, database_url,
                                                                        monkeypatch):
    send = messenger(kabinet)
    await send("/link 010000012345 Шевченко")
    await send(action="consent:yes")
    ran = statements_run(demo_database, monkeypatch)
    opened = {}
    answers = {"/balance": "010000012345", "Balance": "010000012345", "cmd:balance": "010000012345",  # typed,
               "/reading": "Enter the reading", "12500": "12500"}  # its menu label, its button; a reading's steps
    for update, answer in answers.items():
        ran.clear()
        assert answer in await (send(action=update) if update.startswith("cmd:") else send(update)), update
        opened[update] = [sql for sql in ran if "FROM accounts" in sql]  # the statements that read the view
    if not database_url.startswith("postgresql"):  # SQLite opens with the chat alone, then reads the view
        return
    for update, statements in opened.items():
        assert len(statements) == 1 and statements[0].startswith("WITH fresh"), update  # the opening, nothing more
        summaries, meters = "last_payment" in statements[0], "reading_1" in statements[0]
        assert (summaries, meters) == (("balance" in update.lower()), "balance" not in update.lower()), update
