"""The receipt Kabinet renders when the utility sent no PDF, with a payment QR code in the NBU format.

The QR code follows the National Bank of Ukraine's rules for QR codes of credit transfers (format 002,
kept in the 2025 edition of the rules): a link `https://bank.gov.ua/qr/` + the base64url (no padding)
of these lines, joined by LF, in UTF-8:

    BCD | 002 | 1 (UTF-8) | UCT (credit transfer) | BIC (empty, reserved) | payee name (≤ 70)
    | payee IBAN | UAH + amount (a dot, two decimals if any) | payee code (ЄДРПОУ / РНОКПП)
    | purpose code (empty) | reference (empty) | purpose (≤ 140) | display text (empty)

Ukrainian banking apps (and phone cameras, through the link) open a filled-in payment from it. The
rules put the hryvnia sign in a white circle in the middle of format 002/003 codes; error correction Q
and a version of at least 10 leave the code readable under it.
"""
from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from PIL import Image, ImageDraw, ImageFont

from core.charts import FONT_BOLD, FONT_REGULAR
from core.model import Payee

if TYPE_CHECKING:
    from fpdf import FPDF

NBU_QR_LINK = "https://bank.gov.ua/qr/"
NBU_QR_MIN_VERSION = 10
PAYEE_NAME_LIMIT = 70
PURPOSE_LIMIT = 140


def nbu_amount(amount: Decimal) -> str:
    """UAH712.80, UAH300: the rules want a fraction, when there is one, of exactly two digits."""
    cents = amount.quantize(Decimal("0.01"))
    text = f"{cents:.2f}"
    return "UAH" + (text[:-3] if text.endswith(".00") else text)


def nbu_payment_data(payee: Payee, amount: Decimal, purpose: str) -> str:
    """The open data of a format 002 payment QR code (see the module's docstring)."""
    return "\n".join([
        "BCD", "002", "1", "UCT", "",
        payee.name[:PAYEE_NAME_LIMIT], payee.iban.replace(" ", ""), nbu_amount(amount), payee.code,
        "", "", purpose[:PURPOSE_LIMIT], "",
    ])


def nbu_payment_link(payee: Payee, amount: Decimal, purpose: str) -> str:
    encoded = base64.urlsafe_b64encode(nbu_payment_data(payee, amount, purpose).encode("utf-8"))
    return NBU_QR_LINK + encoded.decode("ascii").rstrip("=")


def payment_qr_png(link: str) -> bytes:
    """The QR code of a payment link as a PNG, with the hryvnia sign in a white circle in the middle."""
    import segno  # here, not at the top: see receipt_pdf

    code = segno.make(link, error="q", boost_error=False, micro=False)
    if int(code.version) < NBU_QR_MIN_VERSION:  # a number: "M1".."M4" are micro codes, not made here
        code = segno.make(link, error="q", version=NBU_QR_MIN_VERSION, boost_error=False, micro=False)
    buffer = io.BytesIO()
    code.save(buffer, kind="png", scale=10, border=4)
    image = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    size = image.width
    radius = size * 0.085
    centre = size / 2
    draw = ImageDraw.Draw(image)
    draw.ellipse((centre - radius, centre - radius, centre + radius, centre + radius), fill="white")
    draw.text((centre, centre), "₴", font=ImageFont.truetype(str(FONT_BOLD), int(radius * 1.5)),
              fill="black", anchor="mm")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@dataclass(frozen=True)
class ReceiptPage:
    """What a receipt says, already in the chat's language: a title, rows of (label, value), the QR code."""

    title: str
    rows: list[tuple[str, str]]
    payee_title: str
    payee_rows: list[tuple[str, str]]
    qr_png: bytes | None
    qr_caption: str
    footer: str
    stamp: str | None = None  # "paid", printed large where the QR code of an unpaid receipt stands


def receipt_pdf(page: ReceiptPage) -> bytes:
    """An A4 PDF of the receipt; the font is embedded, so Cyrillic prints on any viewer."""
    # Imported by the rare turn that draws a receipt, not by every process that answers /balance: fpdf2 brings
    # fontTools and numpy, ~38 MB resident in each bot process (docs/benchmarks.md, "What a bot process holds").
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_creator("Kabinet")
    pdf.add_font("Roboto", "", str(FONT_REGULAR))
    pdf.add_font("Roboto", "B", str(FONT_BOLD))
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    pdf.set_font("Roboto", "B", 18)
    pdf.multi_cell(0, 9, page.title, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    _rows(pdf, page.rows)
    pdf.ln(4)
    pdf.set_font("Roboto", "B", 13)
    pdf.cell(0, 8, page.payee_title, new_x="LMARGIN", new_y="NEXT")
    _rows(pdf, page.payee_rows)
    if page.qr_png is not None:
        pdf.ln(6)
        top = pdf.get_y()
        pdf.image(io.BytesIO(page.qr_png), x=pdf.l_margin, y=top, w=60, h=60)
        pdf.set_xy(pdf.l_margin + 66, top + 20)
        pdf.set_font("Roboto", "", 11)
        pdf.multi_cell(0, 6, page.qr_caption, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.set_y(top + 64)
    elif page.stamp:
        pdf.ln(8)
        pdf.set_font("Roboto", "B", 24)
        pdf.set_text_color(0, 110, 40)
        pdf.cell(0, 14, page.stamp, border=1, align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
    pdf.ln(4)
    pdf.set_font("Roboto", "", 9)
    pdf.multi_cell(0, 5, page.footer, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _rows(pdf: FPDF, rows: list[tuple[str, str]]) -> None:
    for label, value in rows:
        pdf.set_font("Roboto", "", 11)
        pdf.cell(60, 7, label)
        pdf.set_font("Roboto", "B", 11)
        pdf.multi_cell(0, 7, value, align="L", new_x="LMARGIN", new_y="NEXT")
