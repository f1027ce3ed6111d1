"""The consumption chart: bars by month in kWh, stacked by zone, drawn with Pillow for a phone screen."""
from __future__ import annotations

import io
from functools import lru_cache
import math
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import font_roboto
from PIL import Image, ImageDraw, ImageFont

from core import i18n
from core.consumption import MonthConsumption, Part, month_slots
from core.model import Meter

# Shipped inside a PyPI package (Apache-2.0), with Cyrillic and ₴: no system font needed.
FONT_REGULAR = Path(font_roboto.Roboto)
FONT_BOLD = Path(font_roboto.RobotoBold)

WIDTH, HEIGHT = 1280, 860
LEFT, RIGHT, TOP, BOTTOM = 120, 40, 190, 120
LEGEND_TOP, LEGEND_LINE = 132, 40
BACKGROUND = "#ffffff"
INK = "#222222"
GRID = "#dddddd"
# Colours by a meter's zone count and zone; an account's second meter takes the second set, and so on.
PALETTES = (
    {1: {1: "#2e86c1"}, 2: {1: "#f0a202", 2: "#2e4a9e"}, 3: {1: "#d1495b", 2: "#f0a202", 3: "#2e4a9e"}},
    {1: {1: "#3a9d5d"}, 2: {1: "#8fc46a", 2: "#2d6a4f"}, 3: {1: "#9d4edd", 2: "#c9a0dc", 3: "#3c096c"}},
    {1: {1: "#8d6e63"}, 2: {1: "#ffab91", 2: "#6d4c41"}, 3: {1: "#ff7043", 2: "#ffcc80", 3: "#5d4037"}},
)
INVOICE_COLOUR = "#9e9e9e"
GAP_OUTLINE = "#9e9e9e"
GAP_HEIGHT = 36  # px: a gap month is an empty outlined box, so it is seen as missing, not as zero


@dataclass(frozen=True)
class ChartText:
    """The chart's words in the chat's language, from locales/."""

    title: str
    subtitle: str
    months: tuple[str, ...]  # 12 short month names, January first
    parts: dict[Part, str]  # (meter id, zone) -> legend label
    by_invoice: str
    no_data: str


@lru_cache(maxsize=32)
def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_BOLD if bold else FONT_REGULAR), size)


def _step(top: Decimal) -> int:
    """A round grid step giving 4 to 8 lines up to `top`."""
    if top <= 0:
        return 1
    raw = float(top) / 5
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return max(int(factor * magnitude), 1)
    return int(10 * magnitude)


def part_colours(meters: list[Meter]) -> dict[Part, str]:
    colours = {}
    for index, meter in enumerate(meters):
        palette = PALETTES[index % len(PALETTES)].get(meter.zones, PALETTES[index % len(PALETTES)][1])
        for zone in range(1, meter.zones + 1):
            colours[(meter.id, zone)] = palette.get(zone, INVOICE_COLOUR)
    return colours


def _legend(draw: ImageDraw.ImageDraw, entries: list[tuple[str, str | None]]) -> int:
    """Colour squares with labels, wrapped to the width (an empty square is a gap's); the y below them."""
    font = _font(30)
    x, y = LEFT, LEGEND_TOP
    for label, colour in entries:
        width = 38 + int(draw.textlength(label, font=font))
        if x > LEFT and x + width > WIDTH - RIGHT:
            x, y = LEFT, y + LEGEND_LINE
        if colour is None:
            draw.rectangle((x, y, x + 28, y + 28), outline=GAP_OUTLINE, width=3)
        else:
            draw.rectangle((x, y, x + 28, y + 28), fill=colour)
        draw.text((x + 38, y - 4), label, font=font, fill=INK)
        x += width + 40
    return y + LEGEND_LINE


def consumption_chart(months: list[MonthConsumption], meters: list[Meter], text: ChartText, first_month: str) -> bytes:
    """A JPEG of the months' consumption, oldest on the left, one stacked bar a month.

    A row that readings cover over several months is one bar across them, as high as its monthly average."""
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    draw.text((LEFT, 20), text.title, font=_font(44, bold=True), fill=INK)
    draw.text((LEFT, 76), text.subtitle, font=_font(30), fill=INK)

    colours = part_colours(meters)
    used = {part for month in months for part in month.parts}
    entries: list[tuple[str, str | None]] = [(text.parts.get(part, ""), colours.get(part, INVOICE_COLOUR))
                                             for part in colours if part in used]
    if any(month.from_invoice for month in months):  # after the zones it stands in for
        entries.append((text.by_invoice, INVOICE_COLOUR))
    if any(month.is_gap for month in months):
        entries.append((text.no_data, None))
    top = max(TOP, _legend(draw, entries) + 20)

    slots = month_slots(months, first_month)
    plot_bottom = HEIGHT - BOTTOM
    plot_height = plot_bottom - top
    top_value = max((month.total / month.months for _, month in slots), default=Decimal(0))
    step = _step(top_value)
    scale_top = max(step * math.ceil(float(top_value) / step), step)
    axis_font = _font(26)
    for value in range(0, scale_top + 1, step):
        y = plot_bottom - plot_height * value / scale_top
        draw.line((LEFT, y, WIDTH - RIGHT, y), fill=GRID, width=2)
        label = i18n.kwh(Decimal(value)).replace("\u00a0", " ")
        draw.text((LEFT - 12, y), label, font=axis_font, fill=INK, anchor="rm")
    draw.line((LEFT, plot_bottom, WIDTH - RIGHT, plot_bottom), fill=INK, width=2)

    slot = (WIDTH - LEFT - RIGHT) / max(len(slots), 1)
    bar = min(slot * 0.7, 90)
    value_font = _font(26 if slot >= 70 else 21)
    month_font = next(
        (font for font in map(_font, (28, 26, 24, 22, 20))
         if max(draw.textlength(name, font=font) for name in text.months) <= slot - 8),
        _font(18),
    )
    order = list(colours)
    previous_year = ""
    index = 0
    while index < len(slots):
        month = slots[index][1]
        width = 1
        while index + width < len(slots) and slots[index + width][1] is month:
            width += 1
        left = LEFT + slot * index + (slot - bar) / 2
        right = LEFT + slot * (index + width) - (slot - bar) / 2
        y = plot_bottom
        if month.is_gap:
            draw.rectangle((left, plot_bottom - GAP_HEIGHT, right, plot_bottom), outline=GAP_OUTLINE, width=3)
        elif month.invoice_kwh is not None:  # from_invoice, said so the type checker sees it
            y -= plot_height * float(month.invoice_kwh) / scale_top
            draw.rectangle((left, y, right, plot_bottom), fill=INVOICE_COLOUR)
        else:
            for part in sorted(month.parts, key=lambda part: order.index(part) if part in order else len(order)):
                height = plot_height * float(month.parts[part] / month.months) / scale_top
                draw.rectangle((left, y - height, right, y), fill=colours.get(part, INVOICE_COLOUR))
                y -= height
        if not month.is_gap:
            total = i18n.kwh(month.total).replace("\u00a0", " ")
            if draw.textlength(total, font=value_font) <= slot * width - 4:
                draw.text(((left + right) / 2, y - 6), total, font=value_font, fill=INK, anchor="md")
        for offset in range(width):
            centre = LEFT + slot * (index + offset + 0.5)
            year, number = slots[index + offset][0].split("-")
            draw.text((centre, plot_bottom + 12), text.months[int(number) - 1], font=month_font, fill=INK,
                      anchor="ma")
            if year != previous_year:
                draw.text((centre, plot_bottom + 52), year, font=_font(28, bold=True), fill=INK, anchor="ma")
                previous_year = year
        index += width

    out = io.BytesIO()
    # JPEG: Telegram keeps every photo as a JPEG anyway, and a palette PNG (quantising the picture, then
    # compressing it) cost ten times the 2 ms of this, more CPU than the rest of a /history turn.
    # Full-resolution colour (no chroma subsampling) keeps the bars' edges and the legend sharp.
    image.save(out, format="JPEG", quality=90, subsampling=0)
    return out.getvalue()
