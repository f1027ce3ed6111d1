"""What one `kabinet run` process holds resident: after start-up, through rounds of the full mix, after a receipt.

    .venv/bin/python benchmarks/bot_memory.py [--backend postgresql|sqlite] [--chats 8] [--rounds 60] [--every 20]
                                              [--code DIR]

One bot process with Telegram (the stand-in Bot API of the tests) and its recognition workers. Stages: started (no
turn yet), then rounds in which every chat sends the full mix at once (/balance, /reading, a value, the confirm
button, /history with its chart; a 12 MP meter photo and its "yes" every fifth round), then one /invoices (the
receipt PDF Kabinet draws), then a minute and a bit idle (the server trims its heaps once a minute). At each, the
bot's VmRSS, its anonymous and file-backed parts (RssAnon: heaps and Python objects; RssFile: the pages of shared
libraries and modules in use) and its threads, and the workers' RSS. Memory, unlike CPU, hardly depends on how
busy the machine is. `--code DIR`: measure the `kabinet run` of another checkout (main's, side by side), with
this script's harness.
"""
from __future__ import annotations

import argparse
import asyncio
import csv
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.load import (  # noqa: E402
    PYTHON, Process, QuietBotAPI, bot_environment, exchange_folder, free_port, link_users, virtual_users,
)
from benchmarks.open_loop import PHOTO_READING, meter_photo  # noqa: E402
from benchmarks.photo_flood import descendants, proc_status  # noqa: E402
from benchmarks.scratch import scratch_database  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PHOTO_EVERY = 5  # rounds; as the load benchmark's closed loop
IDLE_SECONDS = 70  # longer than bot.server's TRIM_EVERY


def status(pid: int) -> dict[str, float]:
    """VmRSS, RssAnon, RssFile and VmHWM in MB and the thread count of a process, from /proc."""
    figures: dict[str, float] = {key: kb / 1024 for key, kb in
                                 proc_status(pid, ("VmRSS", "RssAnon", "RssFile", "VmHWM")).items()}
    figures.update(proc_status(pid, ("Threads",)))
    return figures


def report(stage: str, bot: Process) -> None:
    mine = status(bot.popen.pid)
    workers = []
    for pid in descendants(bot.popen.pid):
        try:
            figures = status(pid)
        except OSError:  # ended meanwhile
            continue
        if "VmRSS" in figures:  # not a zombie
            workers.append(figures["VmRSS"])
    print(f"{stage:28} {mine['VmRSS']:7.1f} {mine['RssAnon']:7.1f} {mine['RssFile']:7.1f} {mine['VmHWM']:7.1f} "
          f"{mine['Threads']:7.0f}   {', '.join(f'{rss:.0f}' for rss in workers) or '-'}", flush=True)


def with_invoices(folder: Path, numbers: list[str]) -> None:
    """Two months' invoices of each account, without the utility's PDF: /invoices draws Kabinet's receipt."""
    with open(folder / "invoices.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["account", "period", "issued_on", "due_on", "amount", "kwh", "pdf"])
        writer.writerows([n, f"2026-{month:02d}", f"2026-{month + 1:02d}-03", f"2026-{month + 1:02d}-20", "648.00",
                          150, ""] for n in numbers for month in (9, 10))


def start_bot(code: Path, env: dict) -> Process:
    port = free_port()
    environment = dict(env, KABINET_HTTP_PORT=str(port),
                       KABINET_TELEGRAM_WEBHOOK_URL=f"http://127.0.0.1:{port}/webhook/telegram")
    popen = subprocess.Popen([PYTHON, "-m", "bot", "run"], cwd=code, env=environment,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return Process(popen, port)


async def main(args) -> None:
    code = Path(args.code or ROOT).resolve()
    folder, numbers = exchange_folder(args.chats)
    with_invoices(folder, numbers)
    api = await QuietBotAPI().start()
    photos = [meter_photo(PHOTO_READING, seed) for seed in range(2)]
    files = [(api.add_file(content), len(content)) for content in photos]
    data_dir = Path(tempfile.mkdtemp(prefix="kabinet-memory-"))
    print(f"`kabinet run` of {code}, {args.backend}, {args.chats} chats, photos of "
          f"{', '.join(f'{len(p) / 1e6:.1f}' for p in photos)} MB")
    print(f"{'stage':28} {'RSS MB':>7} {'anon':>7} {'file':>7} {'peak':>7} {'threads':>7}   workers' RSS MB")
    try:
        async with scratch_database(args.backend) as url:
            env = bot_environment(url, data_dir, api, KABINET_PHOTO_QUOTA_MB="0")
            subprocess.run([PYTHON, "-m", "bot", "import", str(folder)], cwd=code, env=env, check=True,
                           stdout=subprocess.DEVNULL)
            ids = await link_users(url, numbers, args.chats)
            bot = start_bot(code, env)
            try:
                async with virtual_users([bot], ids, files, api, timeout=120) as users:
                    await asyncio.sleep(2)
                    report("started, no turn yet", bot)
                    for number in range(1, args.rounds + 1):
                        await asyncio.gather(*(one_round(user, number) for user in users))
                        if number % args.every == 0 or number == 1:
                            report(f"after {number} rounds", bot)
                    await users[0].post(users[0].text("/invoices"), time.perf_counter())
                    report("after one /invoices", bot)
                    await asyncio.sleep(IDLE_SECONDS)
                    report(f"{IDLE_SECONDS} s idle (trimmed)", bot)
                    errors = sum(user.errors for user in users)
                    print(f"errors: {errors}")
            finally:
                bot.stop()
    finally:
        await api.close()
        shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(data_dir, ignore_errors=True)


async def one_round(user, number: int) -> None:
    """The closed loop's full mix (benchmarks/load.py, VirtualUser.run): one update after the other's answer."""
    user.value -= 1
    updates = [user.text("/balance"), user.text("/reading"), user.text(str(user.value)),
               user.press("reading:confirm"), user.text("/history")]
    if number % PHOTO_EVERY == 0:
        updates += [user.photo(), user.press("photo:yes")]
    for update in updates:
        await user.post(update, time.perf_counter())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--chats", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--every", type=int, default=20, help="report after every this many rounds")
    parser.add_argument("--code", help="the checkout whose `kabinet run` is measured (default: this one)")
    asyncio.run(main(parser.parse_args()))
