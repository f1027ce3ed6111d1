"""The `kabinet` command line: shell, run, import, export, db upgrade, demo."""
from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import shutil
import sys
from datetime import UTC, date, datetime
from pathlib import Path

from bot.logs import redact_secrets, secrets_of
from bot.settings import Settings, SettingsError, load_settings

DEMO_DATA = Path(__file__).parent / "demo"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kabinet", description="The electricity consumer's cabinet in chat.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    commands = parser.add_subparsers(dest="command", required=True)

    shell = commands.add_parser("shell", help="talk to Kabinet in this terminal (the console channel)")
    shell.add_argument("--chat", default="console", help="the console chat id (default: console)")
    shell.add_argument("--language", help="the language the chat starts in (uk, en, ru)")
    shell.set_defaults(func=cmd_shell)

    run = commands.add_parser("run", help="web server, Telegram, Viber and scheduler, as configured")
    run.set_defaults(func=cmd_run)

    importer = commands.add_parser("import", help="import a folder of billing exchange files (format v1)")
    importer.add_argument("folder", type=Path)
    importer.set_defaults(func=cmd_import)

    export = commands.add_parser("export", help="export what consumers submitted, chose or paid online")
    export.add_argument("what", choices=["readings", "payments", "paper-invoices"])
    export.add_argument("--since", type=date.fromisoformat,
                        help="only readings taken, payments paid, or paper invoice choices made on or after YYYY-MM-DD")
    export.add_argument("--format", choices=["csv", "json"], default="csv")
    export.add_argument("--out", type=Path, help="write to this file instead of standard output")
    export.set_defaults(func=cmd_export)

    db = commands.add_parser("db", help="database maintenance")
    db.add_argument("action", choices=["upgrade"])
    db.set_defaults(func=cmd_db)

    demo = commands.add_parser("demo", help="make a fresh demo database, then open the shell")
    demo.add_argument("--no-shell", action="store_true", help="only make the database")
    demo.set_defaults(func=cmd_demo)

    jobs = commands.add_parser("jobs", help="reminder jobs")
    jobs_actions = jobs.add_subparsers(dest="jobs_action", required=True)
    jobs_actions.add_parser("list", help="the jobs and when they run").set_defaults(func=cmd_jobs_list)
    run_job = jobs_actions.add_parser("run", help="plan one job now")
    run_job.add_argument("name")
    run_job.add_argument("--dry-run", action="store_true", help="print what would go out, plan nothing")
    run_job.set_defaults(func=cmd_jobs_run)

    box = commands.add_parser("outbox", help="the outbox of reminders and notifications")
    box.add_argument("action", choices=["status"])
    box.set_defaults(func=cmd_outbox_status)

    try:
        from bot import recognize
    except ImportError:
        pass
    else:
        recognize.add_command(commands)

    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    needs_settings = args.func in (
        cmd_shell, cmd_run, cmd_import, cmd_export, cmd_db, cmd_demo, cmd_jobs_list, cmd_jobs_run, cmd_outbox_status,
    )
    if needs_settings:
        try:
            args.settings = load_settings()
        except SettingsError as exc:
            print(f"kabinet: bad settings: {exc}", file=sys.stderr)
            return 2
        redact_secrets(secrets_of(args.settings))
    return args.func(args)


def cmd_shell(args) -> int:
    return asyncio.run(_shell(args.settings, args.chat, args.language))


async def _shell(settings: Settings, chat: str = "console", language: str | None = None) -> int:
    from bot.app import build_kabinet, open_database, recognition_pool
    from handlers.console.channel import ConsoleChannel
    from handlers.email import EmailSender

    database = await open_database(settings)
    try:
        async with recognition_pool(settings, workers=0) as reader:  # one person at a terminal: read in-process
            kabinet = build_kabinet(settings, database, reader=reader)
            channel = ConsoleChannel(kabinet, chat_id=chat, language=language, files_dir=settings.output_dir)
            try:
                await channel.run()
            finally:
                if isinstance(kabinet.mailer, EmailSender):
                    await kabinet.mailer.close()
    finally:
        await database.close()
    return 0


def cmd_run(args) -> int:
    from bot.server import serve

    return asyncio.run(serve(args.settings))


def cmd_import(args) -> int:
    return asyncio.run(_import(args.settings, args.folder))


async def _import(settings: Settings, folder: Path) -> int:
    from bot.admin_import import import_folder_for
    from bot.app import open_database
    from scheduler.jobs import Planner, plan_after_import
    from storage.exchange import ImportRefused, import_folder
    from storage.scheduling import SqlOutbox, SqlOutboxTransaction

    database = await open_database(settings)
    # The invoices' PDFs are copied into the data directory: the utility's folder may change or go later.
    now = datetime.now(UTC)
    attachments = import_folder_for(settings.data_dir, now)
    try:
        async with database.session() as session:
            report = await import_folder(session, folder, attachments, timezone=settings.zone, now=now)
            planner = Planner(SqlOutbox(database), settings.window, settings.zone)
            notified = await plan_after_import(planner, SqlOutboxTransaction(session))
    except ImportRefused as refusal:
        shutil.rmtree(attachments, ignore_errors=True)
        print(f"kabinet import: nothing imported, {len(refusal.problems)} problem(s):", file=sys.stderr)
        for problem in refusal.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    except BaseException:
        shutil.rmtree(attachments, ignore_errors=True)
        raise
    finally:
        await database.close()
    for name, count in report.rows.items():
        print(f"{name}: {count} row(s)")
    if report.reconciled:
        print(f"online payments reconciled: {report.reconciled} (brought by payments.csv)")
    print(f"notices planned: {notified} (new invoices, current outages)")
    return 0


def cmd_export(args) -> int:
    return asyncio.run(_export(args.settings, args.what, args.since, args.format, args.out))


async def _export(settings: Settings, what: str, since: date | None, fmt: str, out: Path | None) -> int:
    from bot.app import open_database
    from storage import queries_payments
    from storage.exchange import EXPORT_COLUMNS, submitted_readings, write_export
    from storage.exchange.export import PAPER_INVOICE_COLUMNS, paper_invoice_rows
    from storage.repositories import SqlTransaction

    columns: tuple[str, ...]
    database = await open_database(settings)
    try:
        async with database.session() as session:
            # from the day's start where the utility is: a payment at 00:30 in Kyiv is that day's
            start = None if since is None else datetime.combine(since, datetime.min.time(), settings.zone)
            if what == "paper-invoices":
                rows = paper_invoice_rows(await SqlTransaction(session).paper_invoice_choices(start))
                columns = PAPER_INVOICE_COLUMNS
            elif what == "payments":
                rows, columns = await queries_payments.exported_payments(session, start), queries_payments.EXPORT_COLUMNS
            else:
                rows, columns = await submitted_readings(session, since), EXPORT_COLUMNS
    finally:
        await database.close()
    if out is None:
        write_export(rows, sys.stdout, fmt, columns)
    else:
        with open(out, "w", encoding="utf-8", newline="") as handle:
            write_export(rows, handle, fmt, columns)
    return 0


def cmd_jobs_list(args) -> int:
    from scheduler.jobs import DAILY, NIGHTLY, Planner

    settings: Settings = args.settings
    planner = Planner(None, settings.window, settings.zone)  # type: ignore[arg-type]  # listing reads no store
    for name in planner.jobs():
        when = f"daily at {settings.reminders_at} {settings.timezone}" if name in DAILY else \
            f"daily at {NIGHTLY[name]} {settings.timezone}" if name in NIGHTLY else \
            f"every {settings.events_every:g} s"
        print(f"{name:20} {when}")
    return 0


def cmd_jobs_run(args) -> int:
    return asyncio.run(_jobs_run(args.settings, args.name, args.dry_run))


async def _jobs_run(settings: Settings, name: str, dry_run: bool) -> int:
    from bot.app import build_kabinet, open_database
    from core.notifications import render
    from scheduler.jobs import RETENTION, Planner
    from storage.scheduling import SqlOutbox

    database = await open_database(settings)
    try:
        planner = Planner(SqlOutbox(database), settings.window, settings.zone, retention=settings.retention)
        if name not in planner.jobs():
            print(f"kabinet jobs run: no job {name!r}; see `kabinet jobs list`", file=sys.stderr)
            return 2
        planned, rows, expanding = await planner.run(name, dry_run=dry_run)
        if name == RETENTION:
            print(f"{name}: nothing deleted (a dry run)" if dry_run else f"{name}: {planned} row(s) and file(s) deleted")
            return 0
        rest = " now, the rest as they are sent" if expanding else ""
        print(f"{name}: {planned} message(s) {'would be' if dry_run else ''} planned{rest}".replace("  ", " "))
        if dry_run and rows:
            kabinet = build_kabinet(settings, database)
            async with database.transaction() as tx:
                for row in rows:
                    chat = await tx.chat_by_id(row.chat_id)
                    item = dataclasses.replace(row, language=chat.language if chat else "uk")
                    replies = await render(tx, kabinet.translator, item, planner.today(), settings.window,
                                           payee=kabinet.payee)
                    target = f"{chat.channel}:{chat.external_id}" if chat else row.chat_id
                    for reply in replies or []:
                        print(f"  to {target}: {reply.text}")
    finally:
        await database.close()
    return 0


def cmd_outbox_status(args) -> int:
    return asyncio.run(_outbox_status(args.settings))


async def _outbox_status(settings: Settings) -> int:
    from datetime import UTC, datetime, timedelta

    from bot.app import open_database
    from storage import outbox, plans

    database = await open_database(settings)
    try:
        async with database.session() as session:
            counts = await outbox.status_counts(session)
            recent = await outbox.sent_since(session, datetime.now(UTC) - timedelta(minutes=5))
            planning = await plans.unfinished(session)
    finally:
        await database.close()
    kinds = sorted({kind for kind, _ in counts})
    statuses = ("queued", "sending", "sent", "failed", "skipped")
    print(f"{'kind':20}" + "".join(f"{s:>10}" for s in statuses))
    for kind in kinds:
        print(f"{kind:20}" + "".join(f"{counts.get((kind, s), 0):>10}" for s in statuses))
    waiting = sum(counts.get((kind, s), 0) for kind in kinds for s in ("queued", "sending"))
    rate = recent / 300
    print(f"waiting: {waiting}; sent in the last 5 minutes: {recent} ({rate:.1f}/s)")
    if planning:  # their chats not reached yet are in no count above
        print("still planning as they are sent: " + ", ".join(f"{kind} ({n} plan(s))" for kind, n in sorted(planning.items())))
    if waiting:
        print(f"time to drain at the current rate: {waiting / rate:.0f} s" if rate else
              "time to drain: unknown (nothing sent in the last 5 minutes)")
    return 0


def cmd_db(args) -> int:
    from storage.migrate import upgrade

    upgrade(args.settings.database_url)
    print("database is at the newest schema")
    return 0


def cmd_demo(args) -> int:
    settings: Settings = args.settings
    if not settings.database_url.startswith("sqlite"):
        print("kabinet demo: the demo makes a fresh SQLite database; KABINET_DATABASE_URL names another kind",
              file=sys.stderr)
        return 2
    path = Path(settings.database_url.split("///", 1)[1])
    for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        stale.unlink(missing_ok=True)
    shutil.rmtree(settings.photo_dir, ignore_errors=True)
    status = asyncio.run(_import(settings, DEMO_DATA))
    if status:
        return status
    print(f"Demo database ready: {path}. Try /link 010000012345 Шевченко (one zone), "
          "/link 1705339110 Дем'яненко (two zones), /link 020000054321 Бондар (business, three zones). "
          "In the demo, readings are accepted on any day.")
    if args.no_shell:
        return 0
    demo_settings = settings.model_copy(update={"reading_window": "always"})
    return asyncio.run(_shell(demo_settings))


if __name__ == "__main__":
    sys.exit(main())
