"""The `kabinet` command as a newcomer uses it: a demo database, a conversation piped into the shell, the export."""
import csv
from datetime import date
import io
import os
import shutil

import pytest

from tests.support.cli import kabinet

CONVERSATION = """\
/start
/link 010000012345 Шевченко
1
/balance
/reading 12500
/reading 00100
2
/reading 123456
12510
"""


@pytest.fixture
def env(tmp_path, database):
    # `database`, not the bare URL: PostgreSQL is one database for the whole run, emptied by that fixture.
    environment = {k: v for k, v in os.environ.items() if not k.startswith("KABINET_")}
    environment.update(KABINET_DATA_DIR=str(tmp_path / "var"), KABINET_DATABASE_URL=database.url,
                       KABINET_READING_WINDOW="always")
    return environment


def test_demo_then_piped_shell_then_export(tmp_path):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("KABINET_")}
    environment.update(KABINET_DATA_DIR=str(tmp_path / "var"),
                       KABINET_DATABASE_URL=f"sqlite:///{tmp_path / 'var' / 'kabinet.db'}")
    made = kabinet(["demo", "--no-shell"], environment)
    assert made.returncode == 0, made.stderr
    assert "Demo database ready" in made.stdout

    environment["KABINET_READING_WINDOW"] = "always"
    shell = kabinet(["shell"], environment, CONVERSATION)
    assert shell.returncode == 0, shell.stderr
    out = shell.stdout.replace("\xa0", " ")
    assert "[1] Погоджуюсь" in out and "[2] Не погоджуюсь" in out
    assert "Особовий рахунок 010000012345 підключено" in out
    assert "До сплати зараз: 658,40 грн" in out
    assert "Показники лічильника 0123456 прийнято: 12500" in out
    assert "Споживання: 155 кВт·год." in out and "Орієнтовна вартість: 669,60 грн" in out
    assert "пройшов через нуль (5 цифр), споживання становить 87 755 кВт·год" in out
    assert "[1] Підтверджую" in out
    assert "не вміщуються в 5 цифр" in out
    assert "прийнято: 12510" in out  # "Ввести заново" (button 2), then the right value
    assert "Вони замінюють показники 12500, передані сьогодні о " in out

    export = kabinet(["export", "readings"], environment)
    assert export.returncode == 0, export.stderr
    rows = list(csv.DictReader(io.StringIO(export.stdout)))
    # The same day's 12500 was replaced by 12510: kept, marked, with the id of the reading that replaced it.
    assert [(r["account"], r["meter"], r["value"], r["source"], bool(r["replaced_at"])) for r in rows] == [
        ("010000012345", "0123456", "12500", "console", True), ("010000012345", "0123456", "12510", "console", False)]
    assert rows[0]["id"] == rows[1]["id"]


def test_import_reports_file_line_and_reason_and_exits_non_zero(env, tmp_path):
    folder = tmp_path / "exchange"
    folder.mkdir()
    (folder / "accounts.csv").write_text(
        "account,eic,surname,full_name,address,settlement,street,house,grid_node,consumer_type,tariff_plan,"
        "balance,balance_on\n"
        "010000000001,,Іваненко,Іваненко І.,Адреса,Харків,,,,household,Побутовий,12.50,2026-11-01\n"
        "010000000002,,Петренко,Петренко П.,Адреса,Харків,,,,household,Побутовий,12.50,2026-13-01\n",
        encoding="utf-8")
    result = kabinet(["import", str(folder)], env)
    assert result.returncode == 1
    assert "nothing imported" in result.stderr
    assert "accounts.csv:3: balance_on: '2026-13-01' is not a date YYYY-MM-DD" in result.stderr
    good = kabinet(["import", "bot/demo"], env)
    assert good.returncode == 0, good.stderr
    assert "accounts.csv: 3 row(s)" in good.stdout


def test_import_reports_every_problem_of_every_file_in_one_pass(env, tmp_path):
    """Issue 18.10: a format problem in one file no longer hides the others' (here an unknown account)."""
    folder = tmp_path / "exchange"
    shutil.copytree("bot/demo", folder)
    accounts = (folder / "accounts.csv").read_text(encoding="utf-8").splitlines()
    accounts[1] = accounts[1].replace("2026-11-01", "2026-13-01")  # a bad balance_on on line 2
    (folder / "accounts.csv").write_text("\n".join(accounts) + "\n", encoding="utf-8")
    with open(folder / "payments.csv", "a", encoding="utf-8") as payments:
        payments.write("999900000001,2026-11-05,10.00,\n")
    lines = (folder / "payments.csv").read_text(encoding="utf-8").count("\n")
    result = kabinet(["import", str(folder)], env)
    assert result.returncode == 1
    assert "accounts.csv:2: balance_on: '2026-13-01' is not a date YYYY-MM-DD" in result.stderr
    assert f"payments.csv:{lines}: account 999900000001 is not known" in result.stderr
    assert "payments.csv:2:" not in result.stderr  # the malformed account's own rows are not "unknown"
    assert kabinet(["jobs", "list"], env).returncode == 0
    status = kabinet(["outbox", "status"], env)
    assert "invoice" not in status.stdout  # nothing imported, nothing planned


def test_import_plans_the_notices_of_new_invoices_like_the_admin_api(env, tmp_path):
    """Issue 18.10: `kabinet import` tells linked chats of a new invoice, as POST /admin/import does."""
    assert kabinet(["import", "bot/demo"], env).returncode == 0
    shell = kabinet(["shell"], env, stdin="/link 010000012345 Шевченко\n1\n")
    assert "is linked" in shell.stdout or "підключено" in shell.stdout, shell.stdout
    today = date.today()
    folder = tmp_path / "november"
    folder.mkdir()
    (folder / "invoices.csv").write_text(
        "account,period,issued_on,due_on,amount,kwh,pdf\n"
        f"010000012345,{today:%Y-%m},{today.isoformat()},{today.isoformat()},640.80,150,\n", encoding="utf-8")
    result = kabinet(["import", str(folder)], env)
    assert result.returncode == 0, result.stderr
    assert "notices planned: 1" in result.stdout
    status = kabinet(["outbox", "status"], env)
    assert "invoice" in status.stdout, status.stdout


def test_import_copies_the_invoice_pdfs_into_the_data_directory(env, tmp_path):
    folder = tmp_path / "exchange"
    shutil.copytree("bot/demo", folder)
    (folder / "2026-09.pdf").write_bytes(b"%PDF-1.4 the invoice")
    invoices = (folder / "invoices.csv").read_text(encoding="utf-8")
    invoices = invoices.replace("2026-10-20,734.40,170,", "2026-10-20,734.40,170,2026-09.pdf")
    (folder / "invoices.csv").write_text(invoices, encoding="utf-8")
    result = kabinet(["import", str(folder)], env)
    assert result.returncode == 0, result.stderr
    copies = list((tmp_path / "var" / "imports").glob("*/2026-09.pdf"))
    assert len(copies) == 1 and copies[0].read_bytes() == b"%PDF-1.4 the invoice"


def test_bad_setting_stops_with_the_variable_named(env):
    env["KABINET_HTTP_PORT"] = "0"
    result = kabinet(["shell"], env, "/start\n")
    assert result.returncode == 2
    assert "KABINET_HTTP_PORT" in result.stderr and "Traceback" not in result.stderr


def test_export_json_since(env):
    assert kabinet(["import", "bot/demo"], env).returncode == 0
    result = kabinet(["export", "readings", "--format", "json", "--since", "2026-01-01"], env)
    assert result.returncode == 0 and result.stdout.strip() == "[]"
