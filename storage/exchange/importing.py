"""Importing an exchange folder: checked first (storage/exchange/files.py), then written as upserts by natural
key in the caller's transaction; all of it or, with any problem, none."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path

from sqlalchemy import select, tuple_
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from core.reconciliation import BroughtPayment
from storage import queries_payments
from storage.dialect import chunks, insert_of
from storage.exchange.columns import ImportRefused, RowProblem, reported
from storage.exchange.files import ParsedFile, read_folder
from storage.models import (
    AccountRow, ContactRow, InvoiceRow, MeterRow, OutageRow, PaymentRow, ReadingRow, ServiceRow, TariffRow,
    stored_node_key, stored_place_key,
)


@dataclass
class ImportReport:
    rows: dict[str, int] = field(default_factory=dict)
    new_invoices: list[tuple[int, str]] = field(default_factory=list)
    outages: list[str] = field(default_factory=list)
    reconciled: int = 0  # online payments the billing's payments brought (no longer pending)


async def import_folder(session: AsyncSession, folder: Path, attachments: Path | None = None, *,
                        timezone: tzinfo = UTC, now: datetime | None = None) -> ImportReport:
    """Check the whole folder, then upsert it; raises ImportRefused with every problem and writes nothing.

    The online payments its payments bring are reconciled in the same transaction (core/reconciliation.py; its
    days are in `timezone`, the utility's), marked so at `now`.

    With `attachments` (a new folder in Kabinet's data directory), the invoices' PDFs are copied there and
    read from there, so nothing in the utility's folder is sent to a consumer; the caller removes it when
    the import is refused."""
    # Parsing and checking a large exchange takes seconds of CPU: in a thread, so a server importing
    # through the admin API keeps answering consumers meanwhile.
    files, problems = await asyncio.to_thread(read_folder, folder, attachments)
    report = ImportReport()
    try:
        await _write(session, files, problems, report, timezone, now or datetime.now(UTC))
    except DBAPIError:
        if not problems:
            raise
        # A file with problems may still upset a statement: those problems are what to fix first.
        raise ImportRefused(reported(problems)) from None
    if problems:
        raise ImportRefused(reported(problems))
    return report


async def _write(session: AsyncSession, files: dict[str, ParsedFile], problems: list[RowProblem],
                 report: ImportReport, timezone: tzinfo, now: datetime) -> None:
    """Upsert the well-formed rows, adding what the database refutes (unknown accounts and meters, …) to
    `problems`; the caller rolls all of it back when there is any."""
    insert = insert_of(session)

    def count(name: str) -> list[tuple[int, dict]]:
        rows = files[name].rows if name in files else []
        report.rows[name] = len(rows)
        return rows

    # The rows that are well-formed are checked against the database too (and written, then rolled back when
    # anything is wrong), so one pass reports every problem of every file, not the format's first.
    owned_elsewhere = await _eic_owner_problems(session, files.get("accounts.csv"))
    problems.extend(owned_elsewhere)
    taken = {problem.line for problem in owned_elsewhere}
    for chunk in chunks([(line, r) for line, r in count("accounts.csv") if line not in taken]):
        values = [{
            "number": r["account"], "eic": r["eic"], "surname": r["surname"], "full_name": r["full_name"],
            "address": r["address"], "settlement": r["settlement"], "street": r["street"], "house": r["house"],
            "grid_node": r["grid_node"], "consumer_type": r["consumer_type"], "tariff_plan": r["tariff_plan"],
            "balance": r["balance"], "balance_on": r["balance_on"],
            "contract_number": r["contract_number"], "contract_date": r["contract_date"],
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
    for chunk in chunks(meter_rows):
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
    for chunk in chunks(valid_readings):
        values = [{"meter_id": meter_id, "zone": r["zone"], "taken_on": r["taken_on"], "value": r["value"],
                   "source": r["source"]} for _, r, meter_id in chunk]
        statement = insert(ReadingRow).values(values)
        await session.execute(statement.on_conflict_do_update(
            index_elements=["meter_id", "zone", "taken_on", "source"], set_={"value": statement.excluded.value},
        ))

    payment_rows = [(l, r) for l, r in count("payments.csv") if r["account"] in account_ids]
    await _fill_references(session, [_payment_key(account_ids, r) for _, r in payment_rows])
    pending = await queries_payments.pending_of(session, {account_ids[r["account"]] for _, r in payment_rows})
    # Only the accounts with a payment pending can reconcile one: their billing payments before and after.
    paying = {payment.account_id for payment in pending}
    before = await queries_payments.billing_payments(session, paying) if paying else {}
    for chunk in chunks(payment_rows):
        values = [{"account_id": account_ids[r["account"]], "paid_on": r["paid_on"], "amount": r["amount"],
                   "purpose": r["purpose"] or "", "reference": r["reference"] or ""} for _, r in chunk]
        await session.execute(insert(PaymentRow).values(values).on_conflict_do_nothing(
            index_elements=["account_id", "paid_on", "amount", "purpose", "reference"],
        ))
    if paying:
        after = await queries_payments.billing_payments(session, paying)
        brought = []
        for _, r in payment_rows:
            key = _payment_key(account_ids, r)
            if key[0] in paying:
                brought.append(BroughtPayment(queries_payments.billing_row(after[key]), key[0], r["paid_on"],
                                              r["amount"], r["reference"], key not in before))
        report.reconciled = await queries_payments.reconcile(session, brought, pending, timezone, now)

    invoice_rows = [(l, r) for l, r in count("invoices.csv") if r["account"] in account_ids]
    known_invoices = await _existing_invoices(session, {(account_ids[r["account"]], r["period"]) for _, r in invoice_rows})
    for chunk in chunks(invoice_rows):
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

    for chunk in chunks(count("tariffs.csv")):
        values = [{"tariff_plan": r["tariff_plan"], "zone": r["zone"], "price": r["price"],
                   "valid_from": r["valid_from"]} for _, r in chunk]
        statement = insert(TariffRow).values(values)
        await session.execute(statement.on_conflict_do_update(
            index_elements=["tariff_plan", "zone", "valid_from"], set_={"price": statement.excluded.price},
        ))

    for chunk in chunks(count("outages.csv")):
        values = [{"code": r["outage"], "kind": r["kind"], "starts_at": r["starts_at"], "ends_at": r["ends_at"],
                   "reason": r["reason"], "settlement": r["settlement"], "street": r["street"],
                   "houses": r["houses"], "grid_nodes": r["grid_nodes"]} for _, r in chunk]
        statement = insert(OutageRow).values(values)
        await session.execute(statement.on_conflict_do_update(
            index_elements=["code"], set_={k: statement.excluded[k] for k in values[0] if k != "code"},
        ))
        report.outages.extend(v["code"] for v in values)

    for chunk in chunks(count("contacts.csv")):
        values = [{"code": r["contact"], "kind": r["kind"], "label": r["label"], "value": r["value"],
                   "hours": r["hours"]} for _, r in chunk]
        statement = insert(ContactRow).values(values)
        await session.execute(statement.on_conflict_do_update(
            index_elements=["code"], set_={k: statement.excluded[k] for k in values[0] if k != "code"},
        ))

    for chunk in chunks(count("services.csv")):
        values = [{"code": r["service"], "name_uk": r["name_uk"], "name_en": r["name_en"], "name_ru": r["name_ru"],
                   "paid": r["price"][0], "price": r["price"][1], "attach_uk": r["attach_uk"],
                   "attach_en": r["attach_en"], "attach_ru": r["attach_ru"],
                   "steps": ";".join(sorted(r["statuses"] or ())), "offered": r["offered"]} for _, r in chunk]
        statement = insert(ServiceRow).values(values)
        await session.execute(statement.on_conflict_do_update(
            index_elements=["code"], set_={k: statement.excluded[k] for k in values[0] if k != "code"},
        ))


def _payment_key(account_ids: dict[str, int], row: dict) -> tuple:
    """A payments.csv row's natural key as stored: (account_id, paid_on, amount, purpose, reference)."""
    return account_ids[row["account"]], row["paid_on"], row["amount"], row["purpose"] or "", row["reference"] or ""


async def _fill_references(session: AsyncSession, brought: list[tuple]) -> None:
    """Payments stored before migration 0013 lost their file row's reference; the import that brings one again gives
    it back, rather than adding the payment a second time under its full key.

    A stored payment whose reference is not known is the same payment as a row of the file with its day, amount
    and purpose: the row whose reference names the online payment it settled, else the row without a reference
    (a bank payment and an online one of the same day, amount and purpose were stored as one before 0013: the
    other is added as a payment of its own), else the first row with a reference no stored payment has. From then
    on its reference is known, and only the full key decides, as for every payment imported since 0013."""
    unknown = await queries_payments.references_unknown(session, {key[0] for key in brought})
    again: dict[tuple, list[str]] = {}  # the file's references of each payment whose reference is not known
    for key in brought:
        if key[:4] in unknown:
            again.setdefault(key[:4], []).append(key[4])
    if not again:
        return
    taken = await queries_payments.billing_payments(session, {key[0] for key in again}, PaymentRow.reference != "")
    settled = await queries_payments.settled_by(session, [unknown[key] for key in again])
    filled = {}
    for key, references in again.items():
        stored = unknown[key]
        free = [reference for reference in references if (*key, reference) not in taken]
        named = [reference for reference in free if reference in settled.get(stored, ())]
        chosen = named or [reference for reference in free if reference == ""] or free
        if chosen:
            filled[stored] = chosen[0]
    await queries_payments.fill_references(session, filled)


async def _eic_owner_problems(session: AsyncSession, accounts: ParsedFile | None) -> list[RowProblem]:
    """An EIC code that already belongs to another account number is refused."""
    if accounts is None:
        return []
    wanted = {row["eic"]: (line, row["account"]) for line, row in accounts.rows if row["eic"]}
    problems = []
    for chunk in chunks(sorted(wanted)):
        rows = await session.execute(select(AccountRow.eic, AccountRow.number).where(AccountRow.eic.in_(chunk)))
        for eic, number in rows:
            line, account = wanted[eic]
            if number != account:
                problems.append(RowProblem("accounts.csv", line, f"eic {eic} belongs to account {number}"))
    return problems


async def _ids_by_number(session: AsyncSession, numbers: set[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    ordered = sorted(numbers)
    for chunk in chunks(ordered):
        rows = await session.execute(select(AccountRow.number, AccountRow.id).where(AccountRow.number.in_(chunk)))
        found.update(dict(rows.all()))
    return found


async def _meters_by_key(session: AsyncSession, keys: set[tuple[int, str]]) -> dict[tuple[int, str], tuple[int, int, int]]:
    found = {}
    for chunk in chunks(sorted(keys)):
        rows = await session.execute(
            select(MeterRow.account_id, MeterRow.serial, MeterRow.id, MeterRow.zones, MeterRow.digits)
            .where(tuple_(MeterRow.account_id, MeterRow.serial).in_(chunk))
        )
        for account_id, serial, meter_id, zones, digits in rows:
            found[(account_id, serial)] = (meter_id, zones, digits)
    return found


async def _existing_invoices(session: AsyncSession, keys: set[tuple[int, str]]) -> set[tuple[int, str]]:
    found = set()
    for chunk in chunks(sorted(keys)):
        rows = await session.execute(
            select(InvoiceRow.account_id, InvoiceRow.period).where(tuple_(InvoiceRow.account_id, InvoiceRow.period).in_(chunk))
        )
        found.update(tuple(row) for row in rows)
    return found
