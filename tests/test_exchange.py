"""Billing exchange format v1: idempotent, all-or-nothing import with file:line reasons; the export."""
import io
import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.invoice_files import MAX_PDF_BYTES
from storage.exchange import ImportRefused, import_folder, submitted_readings, write_export
from storage.models import AccountRow, InvoiceRow, MeterRow, OutageRow, PaymentRow, ReadingRow, TariffRow
from tests.support.console import linked
from tests.support.demo import DEMO

TABLES = (AccountRow, MeterRow, ReadingRow, PaymentRow, InvoiceRow, TariffRow, OutageRow)


async def counts(database) -> dict[str, int]:
    async with database.session() as session:
        return {t.__tablename__: await session.scalar(select(func.count()).select_from(t)) for t in TABLES}


async def run_import(database, folder: Path):
    async with database.session() as session:
        return await import_folder(session, folder)


def demo_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "exchange"
    shutil.copytree(DEMO, folder)
    return folder


async def test_import_twice_changes_nothing_the_second_time(database):
    report = await run_import(database, DEMO)
    assert report.rows["accounts.csv"] == 3 and report.rows["readings.csv"] == 10
    first = await counts(database)
    assert first == {"accounts": 3, "meters": 3, "readings": 10, "payments": 4, "invoices": 4, "tariffs": 6,
                     "outages": 2}
    again = await run_import(database, DEMO)
    assert await counts(database) == first
    assert again.new_invoices == [] and len(report.new_invoices) == 4


async def test_import_updates_by_natural_key(database, tmp_path):
    await run_import(database, DEMO)
    folder = tmp_path / "update"
    folder.mkdir()
    (folder / "accounts.csv").write_text(
        (DEMO / "accounts.csv").read_text(encoding="utf-8").replace("245.60,2026-11-01", "10.00,2026-11-20"),
        encoding="utf-8",
    )
    await run_import(database, folder)  # the other files are absent: that is allowed
    async with database.session() as session:
        balance = await session.scalar(select(AccountRow.balance).where(AccountRow.number == "010000012345"))
    assert str(balance) == "10.00"
    assert (await counts(database))["readings"] == 10


async def test_the_contract_of_an_account_is_imported_when_given_and_may_be_left_out(database, tmp_path):
    await run_import(database, DEMO)

    async def contracts() -> dict[str, tuple]:
        async with database.session() as session:
            rows = await session.execute(select(AccountRow.number, AccountRow.contract_number, AccountRow.contract_date))
            return {number: (contract, str(on) if on else None) for number, contract, on in rows}

    assert await contracts() == {"010000012345": ("ЄР-12345/15", "2015-02-10"), "1705339110": (None, None),
                                 "020000054321": ("ЮР-0321", "2011-11-24")}
    folder = tmp_path / "older"  # a file written before the columns were added
    folder.mkdir()
    older = [line.rsplit(",", 2)[0] for line in (DEMO / "accounts.csv").read_text(encoding="utf-8").splitlines()]
    (folder / "accounts.csv").write_text("\n".join(older) + "\n", encoding="utf-8")
    await run_import(database, folder)
    assert set((await contracts()).values()) == {(None, None)}


@pytest.mark.parametrize("file, bad_line, replace, reason", [
    ("accounts.csv", 2, ("household,Побутовий,245.60", "household,Побутовий,245,60"), "fields, the header has"),
    ("accounts.csv", 3, ("-120.00", "-120.0.0"), "balance: '-120.0.0' is not an amount"),
    ("accounts.csv", 4, ("business", "corporate"), "consumer_type: 'corporate' is not one of"),
    ("accounts.csv", 2, ("2015-02-10", "10.02.2015"), "contract_date: '10.02.2015' is not a date"),
    ("meters.csv", 3, ("GAMA 100,6,2", "GAMA 100,6,4"), "zones: 4 is outside 1..3"),
    ("readings.csv", 5, ("2026-09-30,1,23280", "2026-09-31,1,23280"), "taken_on: '2026-09-31' is not a date"),
    ("readings.csv", 2, ("2026-08-31,1,12010", "2026-08-31,1,120100"), "value 120100 does not fit 5 digits"),
    ("readings.csv", 2, ("2026-08-31,1,12010,cabinet", "2026-08-31,1,12010,pigeon"), "source: 'pigeon'"),
    ("readings.csv", 2, ("010000012345,0123456,2026-08-31", "010000012345,9999999,2026-08-31"), "meter 9999999"),
    ("payments.csv", 2, ("010000012345,2026-10-14", "019999999999,2026-10-14"), "account 019999999999 is not known"),
    ("invoices.csv", 2, ("2026-09,2026-10-03", "2026-13,2026-10-03"), "period: '2026-13'"),
    ("outages.csv", 2, ("2026-11-25T09:00:00+02:00,2026-11-25T17:00", "2026-11-25T09:00:00,2026-11-25T17:00"),
     "has no UTC offset"),
    ("outages.csv", 2, ("1-15;17;19А", "1-15;;x y"), "houses"),
    ("tariffs.csv", 2, ("Побутовий,1,4.32", "Побутовий,1,-4.32"), "price: '-4.32' is not a number"),
])
async def test_a_bad_row_is_reported_and_nothing_is_imported(database, tmp_path, file, bad_line, replace, reason):
    folder = demo_copy(tmp_path)
    path = folder / file
    content = path.read_text(encoding="utf-8")
    assert replace[0] in content
    path.write_text(content.replace(replace[0], replace[1], 1), encoding="utf-8")
    with pytest.raises(ImportRefused) as refused:
        await run_import(database, folder)
    problems = [(p.file, p.line, p.reason) for p in refused.value.problems]
    assert any(f == file and line == bad_line and reason in text for f, line, text in problems), problems
    assert set((await counts(database)).values()) == {0}


async def test_every_problem_is_reported_at_once(database, tmp_path):
    folder = demo_copy(tmp_path)
    (folder / "meters.csv").write_text("account,meter,type\n1,2,3\n", encoding="utf-8")
    (folder / "tariffs.csv").write_text(
        "tariff_plan,zone,price,valid_from\nA,1,1.0,2026-01-01\nA,1,2.0,2026-01-01\n", encoding="utf-8")
    with pytest.raises(ImportRefused) as refused:
        await run_import(database, folder)
    text = [str(p) for p in refused.value.problems]
    assert "meters.csv:1: missing column(s): digits, zones, k_factor, installed_on, next_verification_on" in text
    assert "tariffs.csv:3: repeats line 2 (tariff_plan, zone, valid_from)" in text


async def test_not_utf8_and_empty_folder_are_refused(database, tmp_path):
    folder = tmp_path / "bad"
    folder.mkdir()
    with pytest.raises(ImportRefused, match="problem"):
        await run_import(database, folder)
    (folder / "accounts.csv").write_bytes("account,surname\n1,Шевченко\n".encode("cp1251"))
    with pytest.raises(ImportRefused) as refused:
        await run_import(database, folder)
    assert "not UTF-8" in str(refused.value.problems[0])


async def test_invoice_pdf_must_be_inside_the_folder(database, tmp_path):
    folder = demo_copy(tmp_path)
    (tmp_path / "outside.pdf").write_bytes(b"%PDF-1.4 not the utility's")
    with_invoice_pdf(folder, "../outside.pdf")
    assert await refusal_of(database, folder) == ["invoices.csv:2: pdf: '../outside.pdf' is not a file in the folder"]


def with_invoice_pdf(folder: Path, pdf: str) -> None:
    path = folder / "invoices.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("2026-10-20,734.40,170,", f"2026-10-20,734.40,170,{pdf}"),
                    encoding="utf-8")


async def refusal_of(database, folder: Path) -> list[str]:
    with pytest.raises(ImportRefused) as refused:
        await run_import(database, folder)
    return [str(problem) for problem in refused.value.problems]


async def test_an_invoice_pdf_that_is_not_a_pdf_is_refused_with_file_line_and_reason(database, tmp_path):
    folder = demo_copy(tmp_path)
    with_invoice_pdf(folder, "accounts.csv")  # the whole accounts file, sent to a consumer as "the invoice"
    assert await refusal_of(database, folder) == ["invoices.csv:2: pdf: 'accounts.csv' is not a .pdf file"]
    shutil.copy(DEMO / "invoices.csv", folder / "invoices.csv")
    shutil.copy(folder / "accounts.csv", folder / "accounts.pdf")
    with_invoice_pdf(folder, "accounts.pdf")
    assert await refusal_of(database, folder) == [
        "invoices.csv:2: pdf: 'accounts.pdf' does not start with %PDF- (not a PDF)"]
    assert (await counts(database))["accounts"] == 0


async def test_an_invoice_pdf_that_is_a_link_is_refused(database, tmp_path):
    folder = demo_copy(tmp_path)
    (folder / "pdf").mkdir()
    (folder / "pdf" / "real.pdf").write_bytes(b"%PDF-1.4 the invoice")
    (folder / "pdf" / "inside.pdf").symlink_to(folder / "pdf" / "real.pdf")
    (folder / "pdf" / "outside.pdf").symlink_to("/etc/hostname")
    for name in ("inside.pdf", "outside.pdf"):
        with_invoice_pdf(folder, f"pdf/{name}")
        assert await refusal_of(database, folder) == [f"invoices.csv:2: pdf: 'pdf/{name}' is a link, not a file"]
        shutil.copy(DEMO / "invoices.csv", folder / "invoices.csv")


async def test_an_invoice_pdf_over_the_size_cap_is_refused(database, tmp_path):
    folder = demo_copy(tmp_path)
    with open(folder / "big.pdf", "wb") as big:
        big.write(b"%PDF-1.4 ")
        big.truncate(MAX_PDF_BYTES + 1)
    with_invoice_pdf(folder, "big.pdf")
    assert await refusal_of(database, folder) == [
        f"invoices.csv:2: pdf: 'big.pdf' is {MAX_PDF_BYTES + 1} bytes, at most {MAX_PDF_BYTES}"]


async def test_invoice_pdfs_are_copied_into_kabinets_folder(database, tmp_path):
    folder = demo_copy(tmp_path)
    (folder / "pdf").mkdir()
    (folder / "pdf" / "2026-09.pdf").write_bytes(b"%PDF-1.4 the invoice")
    with_invoice_pdf(folder, "pdf/2026-09.pdf")
    kept = tmp_path / "data" / "imports" / "1"
    async with database.session() as session:
        await import_folder(session, folder, kept)
    (folder / "pdf" / "2026-09.pdf").unlink()  # the utility's folder may go after the import
    async with database.session() as session:
        stored = await session.scalar(select(InvoiceRow.pdf).where(InvoiceRow.period == "2026-09"))
    assert Path(stored) == (kept / "pdf" / "2026-09.pdf").resolve()
    assert Path(stored).read_bytes() == b"%PDF-1.4 the invoice"


async def test_export_lists_what_consumers_submitted(talk, demo_database):
    await linked(talk)
    await linked(talk, "1705339110", "Дем'яненко")
    await talk.say("/reading 12500")
    assert "accepted" in await talk.say("1")
    await talk.say("/reading 23600 9900")
    assert "accepted" in await talk.say("2")
    async with demo_database.session() as session:
        rows = await submitted_readings(session, None)
    assert [(r["account"], r["zone"], r["value"]) for r in rows] == [
        ("010000012345", 1, 12500), ("1705339110", 1, 23600), ("1705339110", 2, 9900)]
    csv_out = io.StringIO()
    write_export(rows, csv_out, "csv")
    lines = csv_out.getvalue().splitlines()
    assert lines[0] == "id,account,eic,meter,zone,taken_on,value,source,submitted_at,photo,replaced_at"
    assert lines[1].split(",")[1:8] == ["010000012345", "62Z4815162342001", "0123456", "1", "2026-11-30", "12500", "console"]
    json_out = io.StringIO()
    write_export(rows, json_out, "json")
    assert [r["value"] for r in json.loads(json_out.getvalue())] == [12500, 23600, 9900]
    async with demo_database.session() as session:
        assert await submitted_readings(session, __import__("datetime").date(2026, 12, 1)) == []
