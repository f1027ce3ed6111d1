"""Billing exchange format v1: import a folder of CSV files, export what consumers submitted.

Import is all-or-nothing: every file is read and checked first, every bad row is reported with its
file, line and reason, and only a clean folder is written, as upserts by natural key in one transaction.
"""
from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import literal, select, tuple_
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts import account_candidates
from core.invoice_files import NotAnInvoicePdf, copy_pdf, open_pdf
from core.model import CONTACT_KINDS
from core.readings import MAX_ZONES
from storage.models import (
    AccountRow, ContactRow, InvoiceRow, MeterRow, OutageRow, PaymentRow, PhotoRow, ReadingRow, ReplacedReadingRow, TariffRow,
    UtcDateTime, stored_node_key, stored_place_key,
)

SOURCES = ("telegram", "viber", "console", "cabinet", "controller", "receipt")
CHAT_SOURCES = ("telegram", "viber", "console")
CHUNK = 500


@dataclass(frozen=True)
class RowProblem:
    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


class ImportRefused(Exception):
    def __init__(self, problems: list[RowProblem]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


class BadValue(ValueError):
    pass


# ----- value parsers: each takes the cell text and returns a value or raises BadValue


def text(limit: int) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if len(value) > limit:
            raise BadValue(f"longer than {limit} characters")
        return value
    return parse


def iso_date(value: str) -> date:
    try:
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise BadValue(f"{value!r} is not a date YYYY-MM-DD")


def timestamp(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise BadValue(f"{value!r} is not a timestamp like 2026-11-16T09:00:00+02:00") from None
    if parsed.tzinfo is None:
        raise BadValue(f"{value!r} has no UTC offset")
    if not 1900 <= parsed.year <= 2200:
        raise BadValue(f"{value!r} is outside the years 1900..2200")
    return parsed


def amount(value: str) -> Decimal:
    """UAH with at most 2 decimals and 10 whole digits: what the money columns keep exactly."""
    if not re.fullmatch(r"-?[0-9]{1,10}(\.[0-9]{1,2})?", value):
        raise BadValue(f"{value!r} is not an amount like 1234.56 (at most 2 decimals)")
    return Decimal(value)


def quantity(value: str) -> Decimal:
    """kWh with at most 3 decimals and 10 whole digits."""
    if not re.fullmatch(r"-?[0-9]{1,10}(\.[0-9]{1,3})?", value):
        raise BadValue(f"{value!r} is not a quantity like 165 or 165.5 (at most 3 decimals)")
    return Decimal(value)


def positive_decimal(places: int) -> Callable[[str], Decimal]:
    """A positive number up to 100,000 with at most `places` decimals (what its column keeps exactly)."""
    def parse(value: str) -> Decimal:
        if not re.fullmatch(r"[0-9]{1,6}(\.[0-9]+)?", value):
            raise BadValue(f"{value!r} is not a number")
        number = Decimal(value)
        if number <= 0 or number > 100000:
            raise BadValue(f"{value!r} must be a positive number up to 100000")
        if -number.as_tuple().exponent > places and number != number.quantize(Decimal(1).scaleb(-places)):
            raise BadValue(f"{value!r} has more than {places} decimals")
        return number
    return parse


def whole(low: int, high: int) -> Callable[[str], int]:
    def parse(value: str) -> int:
        if not re.fullmatch(r"[0-9]{1,18}", value):
            raise BadValue(f"{value!r} is not a whole number")
        number = int(value)
        if not low <= number <= high:
            raise BadValue(f"{number} is outside {low}..{high}")
        return number
    return parse


def one_of(*choices: str) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if value not in choices:
            raise BadValue(f"{value!r} is not one of {', '.join(choices)}")
        return value
    return parse


def account_number(value: str) -> str:
    compact = re.sub(r"[\s\-]", "", value)
    if not re.fullmatch(r"[0-9]{4,20}", compact):
        raise BadValue(f"{value!r} is not an account number (digits only)")
    return compact


def eic_code(value: str) -> str:
    candidates = account_candidates(value)
    if len(candidates) != 1 or len(candidates[0]) != 16:
        raise BadValue(f"{value!r} is not a 16-character EIC code")
    return candidates[0]


def period(value: str) -> str:
    if not re.fullmatch(r"[0-9]{4}-(0[1-9]|1[0-2])", value):
        raise BadValue(f"{value!r} is not a period YYYY-MM")
    return value


def houses(value: str) -> str:
    for part in value.split(";"):
        if not re.fullmatch(r"\s*[0-9]+[^\s;,-]{0,3}\s*(-\s*[0-9]+[^\s;,-]{0,3}\s*)?", part):
            raise BadValue(f"{value!r} is not a house list like 1-15;17;19А")
    return value


@dataclass(frozen=True)
class Column:
    name: str
    parse: Callable[[str], Any]
    optional: bool = False
    added: bool = False  # added to format v1 later: a file written before may lack the whole column


FILES: dict[str, list[Column]] = {
    "accounts.csv": [
        Column("account", account_number), Column("eic", eic_code, True), Column("surname", text(100)),
        Column("full_name", text(200)), Column("address", text(300)), Column("settlement", text(100)),
        Column("street", text(200), True), Column("house", text(20), True), Column("grid_node", text(50), True),
        Column("consumer_type", one_of("household", "business")), Column("tariff_plan", text(50)),
        Column("balance", amount), Column("balance_on", iso_date),
    ],
    "meters.csv": [
        Column("account", account_number), Column("meter", text(50)), Column("type", text(100)),
        Column("digits", whole(4, 9)), Column("zones", whole(1, MAX_ZONES)), Column("k_factor", positive_decimal(3)),
        Column("installed_on", iso_date), Column("next_verification_on", iso_date, True),
        Column("tariff_plan", text(50), True, added=True),
    ],
    "readings.csv": [
        Column("account", account_number), Column("meter", text(50)), Column("taken_on", iso_date),
        Column("zone", whole(1, MAX_ZONES)), Column("value", whole(0, 999_999_999)), Column("source", one_of(*SOURCES)),
    ],
    "payments.csv": [
        Column("account", account_number), Column("paid_on", iso_date), Column("amount", amount),
        Column("purpose", text(200), True),
    ],
    "invoices.csv": [
        Column("account", account_number), Column("period", period), Column("issued_on", iso_date),
        Column("due_on", iso_date), Column("amount", amount), Column("kwh", quantity), Column("pdf", text(500), True),
    ],
    "tariffs.csv": [
        Column("tariff_plan", text(50)), Column("zone", whole(1, MAX_ZONES)), Column("price", positive_decimal(4)),
        Column("valid_from", iso_date),
    ],
    "outages.csv": [
        Column("outage", text(50)), Column("kind", one_of("planned", "emergency")), Column("starts_at", timestamp),
        Column("ends_at", timestamp, True), Column("reason", text(2000)), Column("settlement", text(100), True),
        Column("street", text(200), True), Column("houses", houses, True), Column("grid_nodes", text(2000), True),
    ],
    "contacts.csv": [
        Column("contact", text(50)), Column("kind", one_of(*CONTACT_KINDS)), Column("label", text(100)),
        Column("value", text(300)), Column("hours", text(200), True),
    ],
}


@dataclass
class ParsedFile:
    name: str
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    # Rows refused as malformed (their cells by column), and whether the file was read to its end: what other
    # files name in them is not reported "not known" as well.
    refused: list[dict[str, str]] = field(default_factory=list)
    complete: bool = True

    def refused_keys(self, *columns: str) -> set[tuple[str, ...]]:
        return {tuple(row.get(column, "") for column in columns) for row in self.refused}


def read_file(path: Path, columns: list[Column], problems: list[RowProblem]) -> ParsedFile:
    parsed = ParsedFile(path.name)
    try:
        content = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        problems.append(RowProblem(path.name, 0, f"not UTF-8 ({exc.reason} at byte {exc.start})"))
        parsed.complete = False
        return parsed
    reader = csv.reader(io.StringIO(content, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        problems.append(RowProblem(path.name, 1, f"not readable as CSV: {exc}"))
        parsed.complete = False
        return parsed
    if header is None:
        problems.append(RowProblem(path.name, 1, "empty file, the header row is missing"))
        parsed.complete = False
        return parsed
    header = [name.strip() for name in header]
    missing = [c.name for c in columns if c.name not in header and not c.added]
    unknown = [name for name in header if name not in {c.name for c in columns}]
    if missing or unknown:
        reason = "; ".join(filter(None, [
            f"missing column(s): {', '.join(missing)}" if missing else "",
            f"unknown column(s): {', '.join(unknown)}" if unknown else "",
        ]))
        problems.append(RowProblem(path.name, 1, reason))
        parsed.complete = False
        return parsed
    position = {name: index for index, name in enumerate(header)}
    line = reader.line_num
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # e.g. a field over the csv module's size limit: the rest cannot be read
            problems.append(RowProblem(path.name, line + 1, f"not readable as CSV: {exc}"))
            parsed.complete = False
            break
        row_line, line = line + 1, reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        raw = {name: cells[index].strip() for name, index in position.items() if index < len(cells)}
        if len(cells) != len(header):
            problems.append(RowProblem(path.name, row_line, f"{len(cells)} fields, the header has {len(header)}"))
            parsed.refused.append(raw)
            continue
        if any("\x00" in cell for cell in cells):
            problems.append(RowProblem(path.name, row_line, "contains a NUL character"))
            parsed.refused.append(raw)
            continue
        values: dict[str, Any] = {}
        for column in columns:
            cell = cells[position[column.name]].strip() if column.name in position else ""
            if not cell:
                if column.optional:
                    values[column.name] = None
                    continue
                problems.append(RowProblem(path.name, row_line, f"{column.name} is empty"))
                parsed.refused.append(raw)
                break
            try:
                values[column.name] = column.parse(cell)
            except BadValue as exc:
                problems.append(RowProblem(path.name, row_line, f"{column.name}: {exc}"))
                parsed.refused.append(raw)
                break
        else:
            parsed.rows.append((row_line, values))
    return parsed


@dataclass
class ImportReport:
    rows: dict[str, int] = field(default_factory=dict)
    new_invoices: list[tuple[int, str]] = field(default_factory=list)
    outages: list[str] = field(default_factory=list)


def read_folder(folder: Path, attachments: Path | None = None) -> tuple[dict[str, ParsedFile], list[RowProblem]]:
    """Every file read and checked: the rows that are well-formed, and the problems of the others. With
    `attachments` and no problem, the invoices' PDFs are copied there (see import_folder)."""
    if not folder.is_dir():
        raise ImportRefused([RowProblem(str(folder), 0, "not a folder")])
    problems: list[RowProblem] = []
    files = {
        name: read_file(folder / name, columns, problems)
        for name, columns in FILES.items()
        if (folder / name).is_file()
    }
    if not files:
        problems.append(RowProblem(str(folder), 0, f"none of {', '.join(FILES)} is there"))
    for name, parsed in files.items():
        _check_unique(parsed, NATURAL_KEYS[name], problems)
        if name == "accounts.csv":
            _check_unique(parsed, ("eic",), problems, only=lambda row: bool(row["eic"]))
        if name == "invoices.csv":
            for line, row in parsed.rows:
                if row["pdf"] and (reason := _pdf_problem(folder, row["pdf"])):
                    problems.append(RowProblem(name, line, f"pdf: {row['pdf']!r} {reason}"))
        if name == "outages.csv":
            for line, row in parsed.rows:
                if row["ends_at"] and row["ends_at"] < row["starts_at"]:
                    problems.append(RowProblem(name, line, "ends_at is before starts_at"))
    if not problems and "invoices.csv" in files:
        _take_pdfs(folder, files["invoices.csv"], attachments, problems)
    return files, problems


NATURAL_KEYS = {
    "accounts.csv": ("account",),
    "meters.csv": ("account", "meter"),
    "readings.csv": ("account", "meter", "taken_on", "zone", "source"),
    "payments.csv": ("account", "paid_on", "amount", "purpose"),
    "invoices.csv": ("account", "period"),
    "tariffs.csv": ("tariff_plan", "zone", "valid_from"),
    "outages.csv": ("outage",),
    "contacts.csv": ("contact",),
}


def _check_unique(parsed: ParsedFile, key: tuple[str, ...], problems: list[RowProblem],
                  only: Callable[[dict], bool] = lambda row: True) -> None:
    """A row repeating an earlier one's key (among the rows `only` picks) is a problem, and is dropped: one
    upsert statement may not touch a row twice."""
    seen: dict[tuple, int] = {}
    kept = []
    for line, row in parsed.rows:
        value = tuple(row[name] for name in key)
        if only(row) and value in seen:
            problems.append(RowProblem(parsed.name, line, f"repeats line {seen[value]} ({', '.join(key)})"))
            continue
        if only(row):
            seen[value] = line
        kept.append((line, row))
    parsed.rows = kept


def _inside(folder: Path, relative: str) -> bool:
    target = (folder / relative).resolve()
    return target.is_file() and folder.resolve() in target.parents


def _pdf_problem(folder: Path, relative: str) -> str | None:
    """Why the invoice's `pdf` cell cannot be sent to a consumer, or None: only a PDF file of the folder can."""
    if not relative.casefold().endswith(".pdf"):
        return "is not a .pdf file"
    path = folder / relative
    # A link is refused by open_pdf; a folder on the way must not lead out of the exchange folder.
    if not _inside(folder, relative) and not path.is_symlink():
        return "is not a file in the folder"
    try:
        os.close(open_pdf(path))
    except NotAnInvoicePdf as exc:
        return str(exc)
    return None


def _take_pdfs(folder: Path, invoices: ParsedFile, attachments: Path | None, problems: list[RowProblem]) -> None:
    """Point each invoice at its PDF: a copy under `attachments` (same relative path), or the file in place
    when `attachments` is None (the admin zip's folder, which is Kabinet's own copy already)."""
    for line, row in invoices.rows:
        if not row["pdf"]:
            continue
        source = folder / row["pdf"]
        if attachments is None:
            row["pdf"] = str(source.resolve())
            continue
        target = attachments / source.resolve().relative_to(folder.resolve())
        try:
            if not target.exists():  # two invoices may share one PDF
                copy_pdf(source, target)
        except (NotAnInvoicePdf, OSError) as exc:
            problems.append(RowProblem(invoices.name, line, f"pdf: {row['pdf']!r} cannot be copied ({exc})"))
            continue
        row["pdf"] = str(target.resolve())


async def import_folder(session: AsyncSession, folder: Path, attachments: Path | None = None) -> ImportReport:
    """Check the whole folder, then upsert it; raises ImportRefused with every problem and writes nothing.

    With `attachments` (a new folder in Kabinet's data directory), the invoices' PDFs are copied there and
    read from there, so nothing in the utility's folder is sent to a consumer; the caller removes it when
    the import is refused."""
    # Parsing and checking a large exchange takes seconds of CPU: in a thread, so a server importing
    # through the admin API keeps answering consumers meanwhile.
    files, problems = await asyncio.to_thread(read_folder, folder, attachments)
    report = ImportReport()
    try:
        await _write(session, files, problems, report)
    except DBAPIError:
        if not problems:
            raise
        # A file with problems may still upset a statement: those problems are what to fix first.
        raise ImportRefused(reported(problems)) from None
    if problems:
        raise ImportRefused(reported(problems))
    return report


async def _write(session: AsyncSession, files: dict[str, ParsedFile], problems: list[RowProblem],
                 report: ImportReport) -> None:
    """Upsert the well-formed rows, adding what the database refutes (unknown accounts and meters, …) to
    `problems`; the caller rolls all of it back when there is any."""
    insert = _dialect_insert(session)

    def count(name: str) -> list[tuple[int, dict]]:
        rows = files[name].rows if name in files else []
        report.rows[name] = len(rows)
        return rows

    # The rows that are well-formed are checked against the database too (and written, then rolled back when
    # anything is wrong), so one pass reports every problem of every file, not the format's first.
    owned_elsewhere = await _eic_owner_problems(session, files.get("accounts.csv"))
    problems.extend(owned_elsewhere)
    taken = {problem.line for problem in owned_elsewhere}
    for chunk in _chunks([(line, r) for line, r in count("accounts.csv") if line not in taken]):
        values = [{
            "number": r["account"], "eic": r["eic"], "surname": r["surname"], "full_name": r["full_name"],
            "address": r["address"], "settlement": r["settlement"], "street": r["street"], "house": r["house"],
            "grid_node": r["grid_node"], "consumer_type": r["consumer_type"], "tariff_plan": r["tariff_plan"],
            "balance": r["balance"], "balance_on": r["balance_on"],
            "place_key": stored_place_key(r["settlement"]), "node_key": stored_node_key(r["grid_node"]),
        } for _, r in chunk]
        statement = insert(AccountRow).values(values)
        await session.execute(statement.on_conflict_do_update(
            index_elements=["number"], set_={k: statement.excluded[k] for k in values[0] if k != "number"},
        ))

    referenced = {r["account"] for name in ("meters.csv", "readings.csv", "payments.csv", "invoices.csv")
                  for _, r in (files[name].rows if name in files else [])}
    account_ids = await _ids_by_number(session, referenced)
    accounts_file = files.get("accounts.csv", ParsedFile("accounts.csv"))
    malformed = {account for account, in accounts_file.refused_keys("account")}
    for name in ("meters.csv", "readings.csv", "payments.csv", "invoices.csv"):
        for line, row in files[name].rows if name in files and accounts_file.complete else []:
            if row["account"] not in account_ids and row["account"] not in malformed:
                problems.append(RowProblem(name, line, f"account {row['account']} is not known"))

    meter_rows = [(line, r) for line, r in count("meters.csv") if r["account"] in account_ids]
    for chunk in _chunks(meter_rows):
        values = [{
            "account_id": account_ids[r["account"]], "serial": r["meter"], "type": r["type"], "digits": r["digits"],
            "zones": r["zones"], "k_factor": r["k_factor"], "installed_on": r["installed_on"],
            "next_verification_on": r["next_verification_on"], "tariff_plan": r["tariff_plan"],
        } for _, r in chunk]
        statement = insert(MeterRow).values(values)
        await session.execute(statement.on_conflict_do_update(
            index_elements=["account_id", "serial"],
            set_={k: statement.excluded[k] for k in values[0] if k not in ("account_id", "serial")},
        ))

    reading_rows = count("readings.csv")
    meters = await _meters_by_key(session, {
        (account_ids[r["account"]], r["meter"]) for _, r in reading_rows if r["account"] in account_ids
    })
    meters_file = files.get("meters.csv", ParsedFile("meters.csv"))
    malformed_meters = meters_file.refused_keys("account", "meter")
    valid_readings = []
    for line, row in reading_rows:
        if row["account"] not in account_ids:
            continue
        meter = meters.get((account_ids[row["account"]], row["meter"]))
        if meter is None:
            if meters_file.complete and (row["account"], row["meter"]) not in malformed_meters:
                problems.append(
                    RowProblem("readings.csv", line, f"meter {row['meter']} of account {row['account']} is not known"))
        elif row["zone"] > meter[1]:
            problems.append(RowProblem("readings.csv", line, f"zone {row['zone']} but the meter has {meter[1]} zone(s)"))
        elif row["value"] >= 10 ** meter[2]:
            problems.append(RowProblem("readings.csv", line, f"value {row['value']} does not fit {meter[2]} digits"))
        else:
            valid_readings.append((line, row, meter[0]))
    for chunk in _chunks(valid_readings):
        values = [{"meter_id": meter_id, "zone": r["zone"], "taken_on": r["taken_on"], "value": r["value"],
                   "source": r["source"]} for _, r, meter_id in chunk]
        statement = insert(ReadingRow).values(values)
        await session.execute(statement.on_conflict_do_update(
            index_elements=["meter_id", "zone", "taken_on", "source"], set_={"value": statement.excluded.value},
        ))

    for chunk in _chunks([(l, r) for l, r in count("payments.csv") if r["account"] in account_ids]):
        values = [{"account_id": account_ids[r["account"]], "paid_on": r["paid_on"], "amount": r["amount"],
                   "purpose": r["purpose"] or ""} for _, r in chunk]
        await session.execute(insert(PaymentRow).values(values).on_conflict_do_nothing(
            index_elements=["account_id", "paid_on", "amount", "purpose"],
        ))

    invoice_rows = [(l, r) for l, r in count("invoices.csv") if r["account"] in account_ids]
    known_invoices = await _existing_invoices(session, {(account_ids[r["account"]], r["period"]) for _, r in invoice_rows})
    for chunk in _chunks(invoice_rows):
        values = [{"account_id": account_ids[r["account"]], "period": r["period"], "issued_on": r["issued_on"],
                   "due_on": r["due_on"], "amount": r["amount"], "kwh": r["kwh"],
                   "pdf": r["pdf"]} for _, r in chunk]
        statement = insert(InvoiceRow).values(values)
        await session.execute(statement.on_conflict_do_update(
            index_elements=["account_id", "period"],
            set_={k: statement.excluded[k] for k in ("issued_on", "due_on", "amount", "kwh", "pdf")},
        ))
        report.new_invoices.extend(
            (v["account_id"], v["period"]) for v in values if (v["account_id"], v["period"]) not in known_invoices
        )

    for chunk in _chunks(count("tariffs.csv")):
        values = [{"tariff_plan": r["tariff_plan"], "zone": r["zone"], "price": r["price"],
                   "valid_from": r["valid_from"]} for _, r in chunk]
        statement = insert(TariffRow).values(values)
        await session.execute(statement.on_conflict_do_update(
            index_elements=["tariff_plan", "zone", "valid_from"], set_={"price": statement.excluded.price},
        ))

    for chunk in _chunks(count("outages.csv")):
        values = [{"code": r["outage"], "kind": r["kind"], "starts_at": r["starts_at"], "ends_at": r["ends_at"],
                   "reason": r["reason"], "settlement": r["settlement"], "street": r["street"],
                   "houses": r["houses"], "grid_nodes": r["grid_nodes"]} for _, r in chunk]
        statement = insert(OutageRow).values(values)
        await session.execute(statement.on_conflict_do_update(
            index_elements=["code"], set_={k: statement.excluded[k] for k in values[0] if k != "code"},
        ))
        report.outages.extend(v["code"] for v in values)

    for chunk in _chunks(count("contacts.csv")):
        values = [{"code": r["contact"], "kind": r["kind"], "label": r["label"], "value": r["value"],
                   "hours": r["hours"]} for _, r in chunk]
        statement = insert(ContactRow).values(values)
        await session.execute(statement.on_conflict_do_update(
            index_elements=["code"], set_={k: statement.excluded[k] for k in values[0] if k != "code"},
        ))



MAX_REPORTED = 500  # problems listed in one refusal; the count of the rest follows them


def reported(problems: list[RowProblem]) -> list[RowProblem]:
    """The problems in file and line order, at most MAX_REPORTED of them and a last line counting the rest."""
    ordered = sorted(problems, key=lambda p: (p.file, p.line))
    if len(ordered) <= MAX_REPORTED:
        return ordered
    rest = len(ordered) - MAX_REPORTED
    return ordered[:MAX_REPORTED] + [RowProblem("(more)", 0, f"{rest} more problem(s) not listed")]


async def _eic_owner_problems(session: AsyncSession, accounts: ParsedFile | None) -> list[RowProblem]:
    """An EIC code that already belongs to another account number is refused."""
    if accounts is None:
        return []
    wanted = {row["eic"]: (line, row["account"]) for line, row in accounts.rows if row["eic"]}
    problems = []
    for chunk in _chunks(sorted(wanted)):
        rows = await session.execute(select(AccountRow.eic, AccountRow.number).where(AccountRow.eic.in_(chunk)))
        for eic, number in rows:
            line, account = wanted[eic]
            if number != account:
                problems.append(RowProblem("accounts.csv", line, f"eic {eic} belongs to account {number}"))
    return problems


def _dialect_insert(session: AsyncSession):
    from sqlalchemy.dialects import postgresql, sqlite

    return (postgresql if session.bind.dialect.name == "postgresql" else sqlite).insert


def _chunks(items: list, size: int = CHUNK) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


async def _ids_by_number(session: AsyncSession, numbers: set[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    ordered = sorted(numbers)
    for chunk in _chunks(ordered):
        rows = await session.execute(select(AccountRow.number, AccountRow.id).where(AccountRow.number.in_(chunk)))
        found.update(dict(rows.all()))
    return found


async def _meters_by_key(session: AsyncSession, keys: set[tuple[int, str]]) -> dict[tuple[int, str], tuple[int, int, int]]:
    found = {}
    for chunk in _chunks(sorted(keys)):
        rows = await session.execute(
            select(MeterRow.account_id, MeterRow.serial, MeterRow.id, MeterRow.zones, MeterRow.digits)
            .where(tuple_(MeterRow.account_id, MeterRow.serial).in_(chunk))
        )
        for account_id, serial, meter_id, zones, digits in rows:
            found[(account_id, serial)] = (meter_id, zones, digits)
    return found


async def _existing_invoices(session: AsyncSession, keys: set[tuple[int, str]]) -> set[tuple[int, str]]:
    found = set()
    for chunk in _chunks(sorted(keys)):
        rows = await session.execute(
            select(InvoiceRow.account_id, InvoiceRow.period).where(tuple_(InvoiceRow.account_id, InvoiceRow.period).in_(chunk))
        )
        found.update(tuple(row) for row in rows)
    return found


# ----- export

EXPORT_COLUMNS = (
    "id", "account", "eic", "meter", "zone", "taken_on", "value", "source", "submitted_at", "photo", "replaced_at",
)


async def submitted_readings(session: AsyncSession, since: date | None) -> list[dict[str, Any]]:
    """Readings consumers submitted through a chat, oldest first, as the export prints them: each submission,
    the replaced ones (a later one of the same meter, zone, day and channel took their place) with the time
    they were replaced and the id of the reading that holds the value now."""
    def submissions(table, replaced_at):
        query = (
            select(ReadingRow.id, AccountRow.number, AccountRow.eic, MeterRow.serial, ReadingRow.zone,
                   ReadingRow.taken_on, table.value, ReadingRow.source, table.submitted_at, PhotoRow.path,
                   replaced_at.label("replaced_at"))
            .select_from(ReadingRow)
            .join(MeterRow, MeterRow.id == ReadingRow.meter_id)
            .join(AccountRow, AccountRow.id == MeterRow.account_id)
            .where(ReadingRow.source.in_(CHAT_SOURCES))
        )
        if table is not ReadingRow:
            query = query.join(table, table.reading_id == ReadingRow.id)
        query = query.outerjoin(PhotoRow, PhotoRow.id == table.photo_id)
        return query.where(ReadingRow.taken_on >= since) if since is not None else query

    rows = [*await session.execute(submissions(ReadingRow, literal(None, UtcDateTime()))),
            *await session.execute(submissions(ReplacedReadingRow, ReplacedReadingRow.replaced_at))]
    rows.sort(key=lambda row: (row.submitted_at or _NEVER, row.id, row.replaced_at is None))
    return [{
        "id": row.id, "account": row.number, "eic": row.eic or "", "meter": row.serial, "zone": row.zone,
        "taken_on": row.taken_on.isoformat(), "value": row.value, "source": row.source,
        "submitted_at": row.submitted_at.isoformat() if row.submitted_at else "", "photo": row.path or "",
        "replaced_at": row.replaced_at.isoformat() if row.replaced_at else "",
    } for row in rows]


_NEVER = datetime.min.replace(tzinfo=UTC)


def write_export(rows: Iterable[dict[str, Any]], out: TextIO, fmt: str) -> None:
    if fmt == "json":
        json.dump(list(rows), out, ensure_ascii=False, indent=1)
        out.write("\n")
        return
    writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
