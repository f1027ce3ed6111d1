"""Billing data beyond the demo's, imported through the exchange format the way a utility sends it."""
from __future__ import annotations

import base64
import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pypdf
import zxingcpp

from core.receipts import NBU_QR_LINK
from storage.exchange import import_folder

NEW_ACCOUNT = "030000000777"
NEW_SURNAME = "Коваль"
# Linked in this order, which is not the accounts' id order.
LINKED = ["020000054321", NEW_ACCOUNT, "010000012345", "1705339110"]
NOV_30, DEC_1, OCT_31, LONG_AGO = date(2026, 11, 30), date(2026, 12, 1), date(2026, 10, 31), date(2020, 1, 1)


async def import_files(database, folder: Path, files: dict[str, str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    async with database.session() as session:
        await import_folder(session, folder)


async def add_bare_account(database, folder: Path, *, meter: bool) -> None:
    """An account with no invoices, payments or readings; with a meter whose verification date is unknown."""
    files = {"accounts.csv": (
        "account,eic,surname,full_name,address,settlement,street,house,grid_node,consumer_type,tariff_plan,"
        "balance,balance_on\n"
        f"{NEW_ACCOUNT},,{NEW_SURNAME},Коваль Ганна Іванівна,\"м. Харків, вул. Нова, 1\",Харків,Нова,1,TP-101,"
        "household,Побутовий,0.00,2026-11-01\n"
    )}
    if meter:
        files["meters.csv"] = (
            "account,meter,type,digits,zones,k_factor,installed_on,next_verification_on\n"
            f"{NEW_ACCOUNT},9900001,НІК 2104,6,1,1,2026-11-20,\n"
        )
    await import_files(database, folder, files)


def pdf_qr_links(pdf: bytes) -> list[str]:
    """The text of every QR code printed in a PDF: its images extracted and decoded."""
    images = [image.image for page in pypdf.PdfReader(io.BytesIO(pdf)).pages for image in page.images]
    return [code.text for image in images for code in zxingcpp.read_barcodes(image)]


def pdf_qr_payload(pdf: bytes) -> list[str]:
    """The lines of the one NBU payment QR code printed in a PDF."""
    links = pdf_qr_links(pdf)
    assert len(links) == 1, links
    assert links[0].startswith(NBU_QR_LINK)
    encoded = links[0][len(NBU_QR_LINK):]
    return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode("utf-8").split("\n")


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


async def link_all(database, tmp_path) -> int:
    """Four accounts linked to one chat, with a second reading and payment on the same days; the chat's id."""
    await add_bare_account(database, tmp_path / "bare", meter=False)
    await import_files(database, tmp_path / "more", {
        "tariffs.csv": "tariff_plan,zone,price,valid_from\n"
                       "Побутовий,1,4.80,2026-12-01\n"
                       "Непобутовий тризонний,2,5.10,2026-12-01\n",
        # A second reading of 31 October, stored last, so it wins; one of 30 November, the day asked.
        "readings.csv": "account,meter,taken_on,zone,value,source\n"
                        "010000012345,0123456,2026-10-31,1,12350,cabinet\n"
                        "010000012345,0123456,2026-11-30,1,12500,cabinet\n",
        # A second payment of 10 November, stored last, so it is the last.
        "payments.csv": "account,paid_on,amount,purpose\n010000012345,2026-11-10,25.00,Пеня\n",
    })
    at = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    async with database.transaction() as tx:
        chat, _ = await tx.chat_and_state("test", "c1", "en")
        found = {account.number: account for account in await tx.find_accounts(LINKED)}
        for minutes, number in enumerate(LINKED):
            assert await tx.link(chat.id, found[number].id, at + timedelta(minutes=minutes))
    return chat.id
