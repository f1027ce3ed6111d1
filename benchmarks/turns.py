"""CPU per consumer turn in the core and storage alone, no messenger and no HTTP.

    .venv/bin/python benchmarks/turns.py [--backend sqlite|postgresql] [--turns 2000] [--chats 20] [--profile FILE] [--sample]
                                         [--translator]
                                         [--no-fast-path] [--compare-recent-turns] [--idle-polls N]

A scratch database with the demo data; `--chats` consoles each link the demo account, then take turns
round robin: /balance, /reading with a value below the last one (the bot asks to confirm), the confirm
button. Reports turns/s and CPU milliseconds per turn of this one process, the SQL statements per turn,
and on PostgreSQL the server's own CPU per turn (every `postgres` process on this machine: the backends,
the WAL writer; nothing else should use the server meanwhile) and, beside it, the CPU of the benchmark
database's own backends alone (what another user of the server does not add to). It isolates what the load benchmark's
processes spend outside aiogram and aiohttp, with less noise than a whole-stack run. `--profile` writes cProfile figures of
the measured turns alone (the set-up left out) to FILE, for `python -m pstats`; it charges each Python call
a fixed cost, so code of many small calls looks dearer than it is (Fluent's resolver looked 25 times dearer).
`--sample` prints instead where the turns' CPU goes by sampling the stack every few milliseconds of CPU (SIGPROF):
each function's share of the samples, with what it calls and on its own. `--translator` records the messages the
measured turns format (key, language, arguments) and then times formatting them all again, alone: the CPU of the
consumer's sentences per turn, free of the database's noise. `--no-fast-path` runs every statement
through SQLAlchemy (KABINET_DATABASE_FAST_PATH=off), none straight on asyncpg. `--compare-recent-turns` measures
the same turns with no recent turns kept and with them (core/recent_turns.py), alternating in four rounds so that
the machine's load falls on both alike, and reports each. `--idle-polls N` then times N of the outbox dispatcher's
looks for reminder plans to expand with none open (SqlOutbox.expand_plans, on every poll), this process's CPU and
PostgreSQL's.
"""
from __future__ import annotations

import argparse
import asyncio
import cProfile
import collections
import dataclasses
import signal
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event  # noqa: E402

from benchmarks.scratch import backends_cpu, postgres_cpu, postgres_cpu_since, scratch_database  # noqa: E402
from core.conversation import Kabinet  # noqa: E402
from core.i18n import Translator  # noqa: E402
from core.messages import EventKind, Incoming  # noqa: E402
from core.readings import ReadingWindow  # noqa: E402
from storage.database import Database  # noqa: E402
from storage.fast_path import Driver  # noqa: E402
from storage.exchange import import_folder  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.photos import FilePhotoArchive  # noqa: E402
from storage.scheduling import SqlOutbox  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
KYIV = ZoneInfo("Europe/Kyiv")


class Sampler:
    """The Python stack every few milliseconds of this process's CPU, counted by function while `on`."""

    def __init__(self) -> None:
        self.on = False
        self.samples = 0
        self.within: collections.Counter[str] = collections.Counter()  # the function or what it calls
        self.own: collections.Counter[str] = collections.Counter()  # the function itself

    def start(self) -> None:
        signal.signal(signal.SIGPROF, self._sample)
        signal.setitimer(signal.ITIMER_PROF, 0.001, 0.001)

    def stop(self) -> None:
        signal.setitimer(signal.ITIMER_PROF, 0, 0)

    def _sample(self, _signal, frame) -> None:
        if not self.on:
            return
        self.samples += 1
        seen: set[str] = set()
        while frame is not None:
            code = frame.f_code
            name = "/".join(code.co_filename.rsplit("/", 2)[-2:]) + ":" + code.co_name  # cheap: the handler's CPU counts
            if not seen:
                self.own[name] += 1
            if name not in seen:
                self.within[name] += 1
                seen.add(name)
            frame = frame.f_back

    def report(self, top: int = 30) -> None:
        print(f"{self.samples} samples of the measured turns")
        for title, counts in (("with what it calls", self.within), ("on its own", self.own)):
            print(f"-- {title}")
            for name, count in counts.most_common(top):
                print(f"{count / max(1, self.samples) * 100:5.1f} % {name}")


async def main(args) -> None:
    async with scratch_database(args.backend) as url:
        await asyncio.to_thread(upgrade, url)
        database = Database(url, fast_path=args.fast_path)
        async with database.session() as session:
            await import_folder(session, ROOT / "bot" / "demo")
        translator = Translator("uk")
        kabinet = Kabinet(store=database, photos=FilePhotoArchive(Path("/tmp/kabinet-turns-photos")),
                          translator=translator, window=ReadingWindow.parse("always"), timezone=KYIV,
                          clock=lambda: datetime.now(KYIV))
        kept = {"kept": kabinet, "none kept": dataclasses.replace(kabinet, kept_turns=0)}
        keys = iter(range(1, 10**9))

        async def turn(chat: str, text: str | None = None, action: str | None = None) -> str:
            kind = EventKind.BUTTON if action else EventKind.TEXT
            handled = await kabinet_now.process(Incoming("bench", chat, kind, text=text, action=action,
                                                     language="en", delivery_key=str(next(keys))))
            return " ".join(reply.text for reply in handled.replies)

        kabinet_now = kabinet
        chats = [f"chat{n}" for n in range(args.chats)]
        for chat in chats:
            await turn(chat, "/link 010000012345 Шевченко")
            await turn(chat, action="consent:yes")
        statements = 0

        direct = 0

        @event.listens_for(database.engine.sync_engine, "before_cursor_execute")
        def count(*_args) -> None:
            nonlocal statements
            statements += 1

        run_directly = Driver.run

        async def count_direct(driver, prepared, parameters):  # the hot statements on asyncpg, past SQLAlchemy
            nonlocal statements, direct
            statements, direct = statements + 1, direct + 1
            return await run_directly(driver, prepared, parameters)

        Driver.run = count_direct

        async def user(chat: str, rounds: int) -> None:
            for _ in range(rounds):
                await turn(chat, "/balance")
                answer = await turn(chat, "/reading 100")
                assert "confirm" in answer.lower() or "lower" in answer.lower(), answer
                await turn(chat, action="reading:confirm")

        rounds = max(1, args.turns // (3 * len(chats)))
        formatted: list[tuple[str, str, dict]] = []
        if args.translator:
            format_now = type(translator).__call__

            depth = 0  # the messages the turns ask for, not those the translator formats for their arguments

            def recording(self, language: str, key: str, **arguments: object) -> str:
                nonlocal depth
                if not depth:
                    formatted.append((language, key, arguments))
                depth += 1
                try:
                    return format_now(self, language, key, **arguments)
                finally:
                    depth -= 1

            type(translator).__call__ = recording  # type: ignore[method-assign]
        # CPU time, not wall time: on a busy machine a descheduled send would otherwise look like the cost.
        profile = cProfile.Profile(time.process_time) if args.profile else None
        sampler = Sampler() if args.sample else None
        if sampler:
            sampler.start()
        modes = ["none kept", "kept"] * 2 if args.compare_recent_turns else ["kept"]
        # cpu, wall, statements, direct, server, turns, the benchmark database's backends
        totals = {mode: [0.0, 0.0, 0, 0, 0.0, 0, 0.0] for mode in modes}
        name = url.rsplit("/", 1)[1] if args.backend == "postgresql" else None
        for mode in modes:
            kabinet_now = kept[mode]
            statements = direct = 0
            server, backends = postgres_cpu(), backends_cpu(name) if name else 0.0
            cpu, wall = time.process_time(), time.perf_counter()
            if profile:
                profile.enable()
            if sampler:
                sampler.on = True
            part = max(1, rounds // 2) if args.compare_recent_turns else rounds
            await asyncio.gather(*(user(chat, part) for chat in chats))
            if profile:
                profile.disable()
            if sampler:
                sampler.on = False
            total = totals[mode]
            total[0] += time.process_time() - cpu
            total[1] += time.perf_counter() - wall
            total[2] += statements
            total[3] += direct
            total[4] += postgres_cpu_since(server)
            total[5] += part * 3 * len(chats)
            total[6] += backends_cpu(name) - backends if name else 0.0
        if profile:
            profile.dump_stats(args.profile)
        if sampler:
            sampler.stop()
            sampler.report()
        if args.translator:
            type(translator).__call__ = format_now  # type: ignore[method-assign]
            best = float("inf")
            for _ in range(7):
                cpu = time.process_time()
                for language, key, arguments in formatted:
                    translator(language, key, **arguments)
                best = min(best, time.process_time() - cpu)
            done = sum(total[5] for total in totals.values())
            print(f"the turns' messages formatted again, alone: {best / done * 1e6:.1f} us CPU a turn "
                  f"({len(formatted)} messages, best of 7)")
        for mode, (cpu, wall, counted, straight, server, done, own) in totals.items():
            print(f"{args.backend}{f' ({mode})' if args.compare_recent_turns else ''}: {done} turns by {len(chats)} "
                  f"chats in {wall:.1f} s: {done / wall:.0f} turns/s, "
                  f"{cpu / done * 1000:.2f} ms CPU per turn, {counted / done:.1f} statements per turn "
                  f"({straight / done:.1f} of them straight on asyncpg)"
                  + (f", PostgreSQL {server / done * 1000:.2f} ms CPU per turn (its backends of this database "
                     f"{own / done * 1000:.2f})" if args.backend == "postgresql" else ""))
        if args.idle_polls:
            outbox, polls = SqlOutbox(database), args.idle_polls
            server, cpu = postgres_cpu(), time.process_time()
            for _ in range(polls):
                await outbox.expand_plans(datetime.now(KYIV), 5000, 5000)
            print(f"the dispatcher's look for plans to expand, none open: {(time.process_time() - cpu) / polls * 1e6:.1f} "
                  f"us CPU a poll" + (f", PostgreSQL {postgres_cpu_since(server) / polls * 1e6:.1f} us"
                                      if args.backend == "postgresql" else ""))
        await database.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="postgresql")
    parser.add_argument("--turns", type=int, default=2000)
    parser.add_argument("--chats", type=int, default=20)
    parser.add_argument("--profile", metavar="FILE", help="cProfile the measured turns into FILE (slows them)")
    parser.add_argument("--translator", action="store_true", help="time the turns' messages formatted again, alone")
    parser.add_argument("--sample", action="store_true", help="where the turns' CPU goes, by sampling the stack")
    parser.add_argument("--no-fast-path", dest="fast_path", action="store_false",
                        help="every statement through SQLAlchemy, none straight on asyncpg")
    parser.add_argument("--compare-recent-turns", action="store_true",
                        help="the same turns with no recent turns kept and with them, alternating")
    parser.add_argument("--idle-polls", type=int, default=0, metavar="N",
                        help="then time N of the dispatcher's looks for reminder plans, none open")
    asyncio.run(main(parser.parse_args()))
