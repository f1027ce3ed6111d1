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
from core.consumption import TOTAL_ONLY, MonthConsumption

# Shipped inside a PyPI package (Apache-2.0), with Cyrillic and ₴: no system font needed.
FONT_REGULAR = Path(font_roboto.Roboto)
FONT_BOLD = Path(font_roboto.RobotoBold)

WIDTH, HEIGHT = 1280, 860
LEFT, RIGHT, TOP, BOTTOM = 120, 40, 190, 120
BACKGROUND = "#ffffff"
INK = "#222222"
GRID = "#dddddd"
# Colours by zone count and zone; zone 0 is a month known only from its invoice.
COLOURS = {
    1: {1: "#2e86c1"},
    2: {1: "#f0a202", 2: "#2e4a9e"},
    3: {1: "#d1495b", 2: "#f0a202", 3: "#2e4a9e"},
}
INVOICE_COLOUR = "#9e9e9e"


@dataclass(frozen=True)
class ChartText:
    """The chart's words in the chat's language, from locales/."""

    title: str
    subtitle: str
    months: tuple[str, ...]  # 12 short month names, January first
    zones: dict[int, str]  # zone -> name (zone 0: "by invoice")


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


def consumption_chart(months: list[MonthConsumption], zone_count: int, text: ChartText) -> bytes:
    """A JPEG of the months' consumption, oldest on the left, one stacked bar a month."""
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    draw.text((LEFT, 20), text.title, font=_font(44, bold=True), fill=INK)
    draw.text((LEFT, 76), text.subtitle, font=_font(30), fill=INK)

    colours = COLOURS.get(zone_count, COLOURS[1])
    # Zone 0 (by invoice) last in the legend, after the zones it stands in for.
    used = sorted({zone for month in months for zone in month.zones}, key=lambda zone: (zone == TOTAL_ONLY, zone))
    legend_x = LEFT
    legend_font = _font(30)
    for zone in used:
        colour = INVOICE_COLOUR if zone == TOTAL_ONLY else colours.get(zone, INVOICE_COLOUR)
        draw.rectangle((legend_x, 132, legend_x + 28, 160), fill=colour)
        label = text.zones.get(zone, str(zone))
        draw.text((legend_x + 38, 128), label, font=legend_font, fill=INK)
        legend_x += 38 + int(draw.textlength(label, font=legend_font)) + 40

    plot_bottom = HEIGHT - BOTTOM
    plot_height = plot_bottom - TOP
    top_value = max((month.total for month in months), default=Decimal(0))
    step = _step(top_value)
    scale_top = max(step * math.ceil(float(top_value) / step), step)
    axis_font = _font(26)
    for value in range(0, scale_top + 1, step):
        y = plot_bottom - plot_height * value / scale_top
        draw.line((LEFT, y, WIDTH - RIGHT, y), fill=GRID, width=2)
        label = i18n.kwh(Decimal(value)).replace("\u00a0", " ")
        draw.text((LEFT - 12, y), label, font=axis_font, fill=INK, anchor="rm")
    draw.line((LEFT, plot_bottom, WIDTH - RIGHT, plot_bottom), fill=INK, width=2)

    slot = (WIDTH - LEFT - RIGHT) / max(len(months), 1)
    bar = min(slot * 0.7, 90)
    value_font = _font(26 if slot >= 70 else 21)
    month_font = next(
        (font for font in map(_font, (28, 26, 24, 22, 20))
         if max(draw.textlength(name, font=font) for name in text.months) <= slot - 8),
        _font(18),
    )
    previous_year = ""
    for index, month in enumerate(months):
        centre = LEFT + slot * (index + 0.5)
        y = plot_bottom
        for zone in sorted(month.zones):
            height = plot_height * float(month.zones[zone]) / scale_top
            colour = INVOICE_COLOUR if zone == TOTAL_ONLY else colours.get(zone, INVOICE_COLOUR)
            draw.rectangle((centre - bar / 2, y - height, centre + bar / 2, y), fill=colour)
            y -= height
        total = i18n.kwh(month.total).replace("\u00a0", " ")
        if draw.textlength(total, font=value_font) <= slot - 4:
            draw.text((centre, y - 6), total, font=value_font, fill=INK, anchor="md")
        year, number = month.month.split("-")
        draw.text((centre, plot_bottom + 12), text.months[int(number) - 1], font=month_font, fill=INK, anchor="ma")
        if year != previous_year:
            draw.text((centre, plot_bottom + 52), year, font=_font(28, bold=True), fill=INK, anchor="ma")
            previous_year = year

    out = io.BytesIO()
    # JPEG: Telegram keeps every photo as a JPEG anyway, and a palette PNG (quantising the picture, then
    # compressing it) cost ten times the 2 ms of this, more CPU than the rest of a /history turn.
    # Full-resolution colour (no chroma subsampling) keeps the bars' edges and the legend sharp.
    image.save(out, format="JPEG", quality=90, subsampling=0)
    return out.getvalue()
