"""Load benchmark: real `kabinet run` processes on 127.0.0.1 receiving Telegram webhook updates from a
closed-loop load generator, replies going to a stand-in Bot API server; beside it a bare aiogram echo bot
on the same harness (the ceiling).

    .venv/bin/python benchmarks/load.py [--seconds 30] [--users 64] [--accounts 500] [--configs all] [--mix full|text]

Configs: echo-1 (the ceiling), sqlite-1, sqlite-2, postgresql-1, postgresql-2 (backend and processes;
several processes sit behind a round-robin "load balancer": the generator spreads the users over them).
The mix per virtual user, repeated: balance (/balance); a reading with confirmation (/reading, a value
below the previous one, then the confirm button); history (/history: the text and a chart image); a meter
photo (getFile, recognition, the confirm button) every fifth round; `--mix text` keeps only the balance
and the reading (the database path without pictures). Reports updates/s, p50/p99 latency
(webhook POST to its answer, which waits for the replies to be sent), CPU seconds per update and peak
memory per process, the harness's own CPU per update (the load generator and the stand-in Bot API share
this script's process), PostgreSQL's (every postgres process: backends, WAL writer) and how busy the whole
machine was (/proc/stat: every core).

`--open-loop RATE[,RATE...]` sends updates at set rates instead (Poisson arrivals over many chats), `--find-knee`
raises the rate until p99 crosses 250 ms, `--photos-per-second` adds a stream of phone-sized meter photos:
p50/p99/p99.9 per rate and the resident memory of each kind of process (benchmarks/open_loop.py says how).

`--profile DIR` also samples every `kabinet run` process with py-spy (`pip install py-spy`) for the
measured seconds and writes DIR/<config>-<n>.txt, collapsed stacks (one line per stack and its sample
count: the input of flame-graph tools, and readable with grep and sort).
"""
from __future__ import annotations

import argparse
import asyncio
import csv
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import asynccontextmanager
from pathlib import Path
from typing import AsyncIterator

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp  # noqa: E402

from benchmarks.scratch import TICKS, cpu_seconds, postgres_cpu, postgres_cpu_since, scratch_database  # noqa: E402
from tests.telegram_api import TOKEN, BotAPI, call_answer, method_in_response  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
SECRET = "load-benchmark-secret"


class QuietBotAPI(BotAPI):
    """The stand-in server, keeping no history (a long run would fill memory with recorded calls)."""

    async def on_method(self, request):
        response = await super().on_method(request)
        self.calls.clear()
        return response


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def exchange_folder(accounts: int) -> Path:
    """Billing data for the benchmark's accounts: one meter each with a year of monthly readings."""
    folder = Path(tempfile.mkdtemp(prefix="kabinet-load-"))

    def write(name: str, header: list[str], rows) -> None:
        with open(folder / name, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)

    numbers = [f"{30_000_000_000 + i:012d}" for i in range(accounts)]
    write("accounts.csv", ["account", "eic", "surname", "full_name", "address", "settlement", "street", "house",
                           "grid_node", "consumer_type", "tariff_plan", "balance", "balance_on"],
          [[n, "", "Навантаження", "Навантаження Н.", "м. Харків", "Харків", "", "", "", "household", "Побутовий",
            "100.00", "2026-11-01"] for n in numbers])
    write("meters.csv", ["account", "meter", "type", "digits", "zones", "k_factor", "installed_on",
                         "next_verification_on"],
          [[n, f"M{n[-6:]}", "НІК", 5, 1, 1, "2016-01-01", "2030-01-01"] for n in numbers])
    write("readings.csv", ["account", "meter", "taken_on", "zone", "value", "source"],
          [[n, f"M{n[-6:]}", f"2026-{month:02d}-01", 1, 10_000 + month * 150, "cabinet"]
           for n in numbers for month in range(1, 12)])
    write("payments.csv", ["account", "paid_on", "amount", "purpose"],
          [[n, f"2026-{month:02d}-10", "600.00", ""] for n in numbers for month in range(1, 11)])
    write("tariffs.csv", ["tariff_plan", "zone", "price", "valid_from"], [["Побутовий", 1, "4.32", "2024-06-01"]])
    return folder, numbers


class Process:
    def __init__(self, popen: subprocess.Popen, port: int) -> None:
        self.popen, self.port = popen, port

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.popen.pid)

    def peak_mb(self) -> float:
        for line in Path(f"/proc/{self.popen.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


async def wait_ready(port: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            try:
                async with http.post(f"http://127.0.0.1:{port}/webhook/telegram", data=b"{}") as response:
                    if response.status in (200, 400, 401):
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.5)
    raise RuntimeError(f"nothing listens on {port}")


def start_kabinet(env: dict, count: int) -> list[Process]:
    processes = []
    for _ in range(count):
        port = free_port()
        environment = dict(env, KABINET_HTTP_PORT=str(port),
                           KABINET_TELEGRAM_WEBHOOK_URL=f"http://127.0.0.1:{port}/webhook/telegram")
        # benchmarks/traced_bot.py: the same `kabinet run`, with tracemalloc snapshots (open loop's --tracemalloc)
        command = [PYTHON, str(ROOT / "benchmarks" / "traced_bot.py")] if "TRACEMALLOC_SNAPSHOTS" in env \
            else [PYTHON, "-m", "bot", "run"]
        popen = subprocess.Popen(command, cwd=ROOT, env=environment,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        processes.append(Process(popen, port))
    return processes


def bot_environment(url: str, data_dir: Path, api: BotAPI, **settings: str) -> dict:
    """This environment without its KABINET_ settings, then a bot's on `url` talking to the stand-in `api`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KABINET_")}
    # A virtual user sends many updates a second: under the per-chat limit (20 a minute) nearly all would be
    # answered "slow down" and dropped, and the benchmark would measure the drops.
    env.update(KABINET_DATABASE_URL=url, KABINET_DATA_DIR=str(data_dir), KABINET_TELEGRAM_TOKEN=TOKEN,
               KABINET_TELEGRAM_API_BASE=api.base, KABINET_TELEGRAM_WEBHOOK_SECRET=SECRET,
               KABINET_READING_WINDOW="always", KABINET_HTTP_HOST="127.0.0.1",
               KABINET_CHAT_UPDATES_PER_MINUTE="100000", **settings)
    return env


async def start_bots(backend: str, count: int, env: dict, api: BotAPI, folder: Path, numbers: list[str],
                     chats: int) -> tuple[list[Process], list[int]]:
    """`count` processes of the config's bot and the ids of `chats` chats for it (linked to accounts for Kabinet)."""
    if backend == "echo":
        return start_echo(api.base), list(range(8_000_000, 8_000_000 + chats))
    subprocess.run([PYTHON, "-m", "bot", "import", str(folder)], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    ids = await link_users(env["KABINET_DATABASE_URL"], numbers, chats)
    return start_kabinet(env, count), ids


def start_echo(api_base: str) -> list[Process]:
    port = free_port()
    popen = subprocess.Popen([PYTHON, str(ROOT / "benchmarks" / "echo_bot.py"), str(port), api_base, TOKEN, SECRET],
                             cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return [Process(popen, port)]


@asynccontextmanager
async def virtual_users(processes: list[Process], ids: list[int], photos: list[tuple[str, int]], api: BotAPI,
                        timeout: float) -> AsyncIterator[list[VirtualUser]]:
    """Once every process answers, a VirtualUser for each chat id: round robin over the processes and the photos
    (a file id and its size each)."""
    for process in processes:
        await wait_ready(process.port)
    update_ids = iter(range(1, 10**9))
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0),
                                     timeout=aiohttp.ClientTimeout(total=timeout)) as http:
        yield [VirtualUser(uid, processes[n % len(processes)].port, *photos[n % len(photos)], http, update_ids, api)
               for n, uid in enumerate(ids)]


class VirtualUser:
    """One consumer in a private chat, sending the mix round after round, each update after the last answer."""

    def __init__(self, user_id: int, port: int, photo_file: str, photo_size: int, http: aiohttp.ClientSession,
                 update_ids, api: BotAPI) -> None:
        self.id, self.port, self.http, self.update_ids, self.api = user_id, port, http, update_ids, api
        self.photo_file, self.photo_size = photo_file, photo_size
        self.latencies: list[float] = []
        self.errors = 0
        self.message_id = 0
        self.value = 12_000

    def _message(self, **content) -> dict:
        self.message_id += 1
        user = {"id": self.id, "is_bot": False, "first_name": "Load", "language_code": "uk"}
        return {"message": {"message_id": self.message_id, "from": user, "date": int(time.time()),
                            "chat": {"id": self.id, "type": "private", "first_name": "Load"}, **content}}

    def text(self, text: str) -> dict:
        content = {"text": text}
        if text.startswith("/"):
            content["entities"] = [{"offset": 0, "length": len(text.split()[0]), "type": "bot_command"}]
        return self._message(**content)

    def press(self, data: str) -> dict:
        user = {"id": self.id, "is_bot": False, "first_name": "Load", "language_code": "uk"}
        message = {"message_id": 1, "date": int(time.time()), "chat": {"id": self.id, "type": "private"},
                   "from": {"id": 1, "is_bot": True, "first_name": "Kabinet"}, "text": "…"}
        return {"callback_query": {"id": str(random.getrandbits(60)), "from": user, "message": message,
                                   "chat_instance": "1", "data": data}}

    def photo(self) -> dict:
        return self._message(photo=[{"file_id": self.photo_file, "file_unique_id": "u1", "file_size": self.photo_size,
                                     "width": 640, "height": 200}])

    async def send(self, update: dict, until: float) -> None:
        if time.monotonic() > until:
            raise TimeoutError
        self.latencies.append(await self.post(update, time.perf_counter()))

    async def post(self, update: dict, started: float) -> float:
        """Delivers one update; returns the seconds from `started` (a perf_counter time) to the webhook's answer."""
        update = {"update_id": next(self.update_ids), **update}
        try:
            async with self.http.post(f"http://127.0.0.1:{self.port}/webhook/telegram", json=update,
                                      headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}) as response:
                answer = await method_in_response(response)
                ok = response.status == 200
        except aiohttp.ClientError:
            ok, answer = False, None
        latency = time.perf_counter() - started
        if answer is not None:  # a method answered in the webhook's response: Telegram carries it out
            await call_answer(self.http, self.api, answer)
        self.errors += not ok
        return latency

    async def run(self, until: float, mix: str) -> None:
        rounds = 0
        try:
            while True:
                rounds += 1
                await self.send(self.text("/balance"), until)
                self.value -= 1  # below the previous reading: the bot warns and asks to confirm
                await self.send(self.text("/reading"), until)
                await self.send(self.text(str(self.value)), until)
                await self.send(self.press("reading:confirm"), until)
                if mix == "full":
                    await self.send(self.text("/history"), until)
                    if rounds % 5 == 0:
                        await self.send(self.photo(), until)
                        await self.send(self.press("photo:yes"), until)
        except TimeoutError:
            return

    async def warm_up(self) -> None:
        """One of each update before the clock starts: the recognizer's digit shapes are built on first use."""
        for update in (self.text("/balance"), self.text("/history"), self.photo(), self.text("/cancel")):
            await self.send(update, time.monotonic() + 300)
        self.latencies.clear()
        self.errors = 0


async def link_users(url: str, numbers: list[str], users: int) -> list[int]:
    """Chats of the virtual users, each linked to its own account with consent, as if it had done /link."""
    from datetime import UTC, datetime

    from sqlalchemy import insert

    from storage.database import Database
    from storage.models import AccountRow, ChatAccountRow, ChatRow
    from sqlalchemy import select

    database = Database(url)
    now = datetime.now(UTC)
    ids = [7_000_000 + i for i in range(users)]
    async with database.session() as session:
        account_ids = dict((await session.execute(select(AccountRow.number, AccountRow.id))).all())
        await session.execute(insert(ChatRow), [
            {"channel": "telegram", "external_id": str(i), "language": "uk", "consent_at": now, "active": True,
             "created_at": now} for i in ids])
        chat_ids = dict((await session.execute(select(ChatRow.external_id, ChatRow.id))).all())
        await session.execute(insert(ChatAccountRow), [
            {"chat_id": chat_ids[str(i)], "account_id": account_ids[numbers[n]], "linked_at": now}
            for n, i in enumerate(ids)])
    await database.close()
    return ids


async def run_config(name: str, args, api: BotAPI, folder: Path, numbers: list[str], photo: tuple[str, int]) -> dict:
    backend, count = name.rsplit("-", 1)
    count = int(count)
    async with scratch_database("postgresql" if backend == "postgresql" else "sqlite") as url:
        return await measure_config(name, backend, count, url, args, api, folder, numbers, photo)


async def measure_config(name: str, backend: str, count: int, url: str, args, api: BotAPI, folder: Path,
                         numbers: list[str], photo: tuple[str, int]) -> dict:
    data_dir = Path(tempfile.mkdtemp(prefix="kabinet-load-data-"))
    processes, users = await start_bots(backend, count, bot_environment(url, data_dir, api), api, folder, numbers,
                                        args.users)
    try:
        async with virtual_users(processes, users, [photo], api, timeout=120) as virtual:
            await asyncio.gather(*(user.warm_up() for user in virtual[:count]))
            profilers = profile(processes, name, args) if args.profile and backend != "echo" else []
            cpu_before = [p.cpu_seconds() for p in processes]
            harness_before, machine_before, server_before = time.process_time(), machine_busy_seconds(), postgres_cpu()
            started = time.monotonic()
            until = started + args.seconds
            await asyncio.gather(*(user.run(until, args.mix) for user in virtual))
            elapsed = time.monotonic() - started
            cpu = [p.cpu_seconds() - before for p, before in zip(processes, cpu_before)]
            harness = time.process_time() - harness_before
            machine = machine_busy_seconds() - machine_before
            server = postgres_cpu_since(server_before)
            for profiler in profilers:
                profiler.wait()
        latencies = sorted(l for user in virtual for l in user.latencies)
        errors = sum(user.errors for user in virtual)
        count_updates = len(latencies)
        return {
            "config": name, "updates": count_updates, "rate": count_updates / elapsed,
            "p50": statistics.median(latencies) * 1000 if latencies else 0,
            "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else 0,
            "errors": errors, "cpu_per_update": sum(cpu) / max(count_updates, 1) * 1000,
            "cpu": "/".join(f"{c / elapsed:.0%}" for c in cpu),
            "peak": "/".join(f"{p.peak_mb():.0f}" for p in processes),
            "harness": harness / max(count_updates, 1) * 1000,
            "postgres": server / max(count_updates, 1) * 1000 if backend == "postgresql" else None,
            "machine": machine / (elapsed * (os.cpu_count() or 1)),
        }
    finally:
        for process in processes:
            process.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent on anything but idling, from /proc/stat: the bots, PostgreSQL, this
    harness (the load generator and the stand-in Bot API) and whatever else runs."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle and iowait
    return (sum(fields[:8]) - idle) / TICKS


def profile(processes: list[Process], name: str, args) -> list[subprocess.Popen]:
    Path(args.profile).mkdir(parents=True, exist_ok=True)
    spy = shutil.which("py-spy", path=str(Path(PYTHON).parent)) or "py-spy"
    return [subprocess.Popen([spy, "record", "--pid", str(process.popen.pid), "--duration",
                              str(int(args.seconds)), "--rate", "250", "--format", "raw", "--nonblocking", "--gil",
                              "--output", str(Path(args.profile) / f"{name}-{n}.txt")],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for n, process in enumerate(processes, 1)]


async def main(args) -> None:
    if args.open_loop or args.find_knee:
        from benchmarks import open_loop

        await open_loop.main(args, (args.configs or "echo-1,postgresql-2").split(","))
        return
    from tests.test_recognition import draw_counter, jpeg

    folder, numbers = exchange_folder(args.accounts)
    api = await QuietBotAPI().start()
    content = jpeg(draw_counter("11999"))
    photo = (api.add_file(content), len(content))
    configs = ["echo-1", "sqlite-1", "sqlite-2", "postgresql-1", "postgresql-2"] if args.configs in (None, "all") \
        else args.configs.split(",")
    args.mix = args.mix or "full"
    print(f"{args.users} virtual users, {args.seconds:g} s per config, mix {args.mix}, {os.cpu_count()} cores")
    print(f"{'config':14} {'updates':>8} {'upd/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} "
          f"{'CPU ms/upd':>11} {'CPU/process':>12} {'peak MB/process':>16} {'harness ms/upd':>15} "
          f"{'PostgreSQL ms/upd':>18} {'machine busy':>13}")
    try:
        for name in configs:
            result = await run_config(name, args, api, folder, numbers, photo)
            print(f"{result['config']:14} {result['updates']:>8} {result['rate']:>7.1f} {result['p50']:>8.0f} "
                  f"{result['p99']:>8.0f} {result['errors']:>7} {result['cpu_per_update']:>11.1f} "
                  f"{result['cpu']:>12} {result['peak']:>16} {result['harness']:>15.1f} "
                  f"{'-' if result['postgres'] is None else format(result['postgres'], '.1f'):>18} "
                  f"{result['machine']:>13.0%}", flush=True)
    finally:
        await api.close()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    from benchmarks.open_loop import add_arguments as add_open_loop_arguments

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--users", type=int, default=64)
    parser.add_argument("--accounts", type=int, default=500)
    parser.add_argument("--configs", help="comma-separated; default: all for the closed loop, echo-1,postgresql-2 "
                                          "for the open loop")
    parser.add_argument("--mix", choices=["full", "text"],
                        help="full: balance, reading, history with its chart, photos; text: balance and readings only "
                             "(default: full for the closed loop; text for the open loop, where full adds /history to "
                             "each text chat's round and photos come from --photos-per-second)")
    parser.add_argument("--profile", metavar="DIR", help="sample each kabinet process with py-spy into DIR")
    add_open_loop_arguments(parser)
    asyncio.run(main(parser.parse_args()))
