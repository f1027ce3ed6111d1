"""/invoices: the latest invoice with its PDF, the archive by month, Kabinet's receipt with an NBU QR code."""
import dataclasses
import io
import re
import shutil
from pathlib import Path

from handlers.console.channel import ConsoleChannel
from tests.support.billing import (
    NEW_ACCOUNT, NEW_SURNAME, add_bare_account, import_files, pdf_qr_links, pdf_qr_payload, pdf_text,
)
from tests.support.console import Talk, linked
from tests.support.demo import DEMO

IBAN = "UA213223130000026007233566001"


def document(talk):
    documents = [reply.document for reply in talk.replies if reply.document is not None]
    assert len(documents) == 1
    return documents[0]


async def test_latest_invoice_comes_as_a_receipt_with_an_archive(talk):
    await linked(talk)
    text = await talk.say("/invoices")
    assert "Invoice for October 2026, account 010000012345: UAH 712.80 for 165 kWh" in text
    assert "Issued 03.11.2026, due by 20.11.2026" in text
    # 245,60 owed on 01.11 + this invoice of 03.11 − 300,00 paid on 10.11: the payment settled part of it.
    assert "Partly paid, to pay: UAH 658.40." in text and "In all" not in text
    pdf = document(talk)
    assert pdf.filename == "invoice-010000012345-2026-10.pdf" and pdf.mime_type == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert talk.buttons == ["September 2026"]
    text = await talk.say("September 2026")
    assert "Invoice for September 2026, account 010000012345: UAH 734.40 for 170 kWh" in text
    # What is owed falls on the newest invoice; the older one was settled first.
    assert "This invoice is paid." in text and "To pay" not in text
    assert document(talk).filename == "invoice-010000012345-2026-09.pdf"
    assert pdf_qr_links(document(talk).content) == []
    assert "This invoice is paid" in pdf_text(document(talk).content)
    assert "Balance" in talk.buttons


async def test_the_receipt_qr_code_pays_the_invoice_to_the_utility(talk):
    await linked(talk)
    await talk.say("/invoices")
    pdf = document(talk).content
    assert pdf_qr_payload(pdf) == [
        "BCD", "002", "1", "UCT", "", "АТ «Демообленерго»", IBAN, "UAH658.40", "00000000", "", "",
        "Оплата за електроенергію, рахунок за жовтень 2026, особовий рахунок 010000012345", "",
    ]
    text = pdf_text(pdf)
    for expected in ("Personal account", "010000012345", "Шевченко Тарас Григорович", "UAH 712.80", "165 kWh",
                     "20.11.2026", IBAN, "EDRPOU code", "Invoice amount", "To pay", "UAH 658.40"):
        assert expected in text, expected


async def test_a_scripted_console_conversation_gets_a_chart_and_a_receipt_that_pays(kabinet, tmp_path):
    """The issue's done-when: piped lines in, a chart image and an invoice PDF out, its QR code right."""
    out = io.StringIO()
    console = ConsoleChannel(kabinet, chat_id="script", language="uk", out=out, files_dir=tmp_path / "files")
    await console.run(io.StringIO("/link 010000012345 Шевченко\n1\n/history\n/invoices\n"))
    printed = out.getvalue()
    images = re.findall(r"^\[image (.+)\]$", printed, re.MULTILINE)
    documents = re.findall(r"^\[document (.+)\]$", printed, re.MULTILINE)
    assert len(images) == 1 and Path(images[0]).read_bytes().startswith(b"\xff\xd8\xff")  # a JPEG
    assert len(documents) == 1
    payload = pdf_qr_payload(Path(documents[0]).read_bytes())
    assert payload[7] == "UAH658.40"
    assert "010000012345" in payload[11]
    assert payload[6] == IBAN


async def test_the_utilitys_own_pdf_is_sent_as_it_is(talk, demo_database, tmp_path):
    folder = tmp_path / "exchange"
    shutil.copytree(DEMO, folder)
    (folder / "pdf").mkdir()
    (folder / "pdf" / "010000012345-2026-10.pdf").write_bytes(b"%PDF-1.4 the utility's own invoice")
    invoices = (folder / "invoices.csv").read_text(encoding="utf-8")
    invoices = invoices.replace("2026-11-20,712.80,165,", "2026-11-20,712.80,165,pdf/010000012345-2026-10.pdf")
    await import_files(demo_database, folder, {"invoices.csv": invoices})
    await linked(talk)
    await talk.say("/invoices")
    assert document(talk).content == b"%PDF-1.4 the utility's own invoice"
    # A file gone from the folder after the import: Kabinet's receipt instead, not an error.
    (folder / "pdf" / "010000012345-2026-10.pdf").unlink()
    await talk.say("/invoices")
    assert pdf_qr_payload(document(talk).content)[7] == "UAH658.40"


async def test_a_pdf_swapped_for_a_link_or_another_file_after_the_import_is_never_sent(talk, demo_database, tmp_path):
    folder = tmp_path / "exchange"
    shutil.copytree(DEMO, folder)
    (folder / "pdf").mkdir()
    pdf = folder / "pdf" / "010000012345-2026-10.pdf"
    pdf.write_bytes(b"%PDF-1.4 the utility's own invoice")
    invoices = (folder / "invoices.csv").read_text(encoding="utf-8")
    invoices = invoices.replace("2026-11-20,712.80,165,", "2026-11-20,712.80,165,pdf/010000012345-2026-10.pdf")
    await import_files(demo_database, folder, {"invoices.csv": invoices})
    await linked(talk)
    pdf.unlink()
    pdf.symlink_to(folder / "accounts.csv")
    await talk.say("/invoices")
    assert pdf_qr_payload(document(talk).content)[7] == "UAH658.40"  # Kabinet's receipt, not the link's target
    pdf.unlink()
    shutil.copy(folder / "accounts.csv", pdf)
    await talk.say("/invoices")
    assert pdf_qr_payload(document(talk).content)[7] == "UAH658.40"


async def test_an_account_with_no_invoices_gets_a_plain_answer(talk, demo_database, tmp_path):
    await add_bare_account(demo_database, tmp_path / "exchange", meter=False)
    await linked(talk, NEW_ACCOUNT, NEW_SURNAME)
    text = await talk.say("/invoices")
    assert text == "There are no invoices for account 030000000777 yet."
    assert all(reply.document is None for reply in talk.replies)
    assert "Balance" in talk.buttons


async def test_a_month_with_no_invoice_and_stale_buttons(talk):
    await linked(talk)
    assert "There is no invoice for July 2026 on account 010000012345" in await talk.press(action="invoice:2026-07:1")
    assert "There is no invoice for 2026-13 on account" in await talk.press(action="invoice:2026-13:1")
    assert "no longer active" in await talk.press(action="invoice:2026-10:2")  # someone else's account
    assert "no longer active" in await talk.press(action="invoice:2026-10")
    assert "no longer active" in await talk.press(action="invlist:3")
    assert all(reply.document is None for reply in talk.replies)


async def test_several_accounts_choose_one(talk):
    await linked(talk)
    await linked(talk, "020000054321", "Бондар")
    assert "Which account's invoices" in await talk.say("/invoices")
    text = await talk.say("2")
    assert "Invoice for October 2026, account 020000054321: UAH 33,250.40 for 88,400 kWh" in text
    # 18 250,40 owed on 01.11 + 33 250,40 − 15 000,00: the QR code asks for no more than the invoice's own amount,
    # the message tells the account's whole amount.
    assert "To pay: UAH 33,250.40." in text and "In all, to pay on the account now: UAH 36,500.80" in text
    assert pdf_qr_payload(document(talk).content)[7] == "UAH33250.40"
    assert "Invoice for October 2026, account 010000012345" in await talk.say("/invoices 01-000-0012345")
    text = await talk.say("/invoices 1705339110")
    assert "Account 1705339110 is not linked" in text and "Which account's invoices" in text
    assert all(reply.document is None for reply in talk.replies)


async def test_without_payment_details_the_receipt_has_no_qr_code(kabinet, tmp_path):
    talk = Talk(dataclasses.replace(kabinet, payee=None), files=tmp_path / "out")
    await linked(talk)
    await talk.say("/invoices")
    pdf = document(talk).content
    assert "Ask your supplier for the payment details" in pdf_text(pdf)
    assert "UAH 712.80" in pdf_text(pdf)


async def test_receipt_in_russian(new_talk):
    talk = new_talk("r1", "ru")
    await talk.say("/link 1705339110 Дем'яненко")
    await talk.say("1")
    text = await talk.say("/invoices")
    assert "Счёт за октябрь 2026, лицевой счёт 1705339110: 587,52 грн за 256 кВт·ч" in text
    # −120,00 on 01.11 + 587,52 − 500,00 paid on 05.11: overpaid, so the invoice is paid and offers no QR code.
    assert "Счёт оплачен." in text
    pdf = document(talk).content
    assert "Лицевой счёт" in pdf_text(pdf) and "Дем'яненко Олена Петрівна" in pdf_text(pdf)
    assert "Счёт оплачен" in pdf_text(pdf) and pdf_qr_links(pdf) == []


async def test_receipt_purpose_stays_ukrainian(new_talk):
    talk = new_talk("r2", "ru")
    await talk.say("/link 010000012345 Шевченко")
    await talk.say("1")
    await talk.say("/invoices")
    # The purpose stays Ukrainian, its month in words: the bank and the utility read it, not the chat.
    assert pdf_qr_payload(document(talk).content)[11] == (
        "Оплата за електроенергію, рахунок за жовтень 2026, особовий рахунок 010000012345")
