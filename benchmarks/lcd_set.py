"""Labelled electronic-meter displays: 7-segment LCDs showing `012345.6 kWh`, with the tariff zone when they show it.

Everything is drawn here (no digit crops): every segment of every digit cell, the unlit ones faintly visible
("ghost" segments) as on a real LCD, a decimal point and the fraction digit after it, the unit `kWh`, and the
zone either as a `T1`/`T2`/`T3` label on the display or as a lit marker under a zone legend printed on the meter
(`T1 T2 T3`). Grey-green glass, low contrast, reflections, slight rotation and perspective, blur, JPEG 70-90; with --backlit SHARE
that share of the displays backlit (BACKLIT: light digits on dark blue or green glass, dark digits on a bright blue
or yellow-green backlight).

  --level lcd-strip   the display cut out close, as a consumer crops it (with the printed legend around it)
  --level lcd-photo   the meter's face (model NIK 2102 / GAMA 100 / CE 102, serial, "3200 imp/kWh", year) in a
                      phone-sized photo (3024 x 4032), tilted up to 15 degrees
  --level lcd-real    NOT drawn: a display composed from REAL photographed 7-segment digit crops of
                      ../shared/data/meter-digits (images/collected/lcd; only when that folder is there, nothing is
                      copied): 5-7 integer digits of one photographed display side by side at one height, a decimal
                      point and a smaller fraction digit (also a crop), on the crops' own glass, framed, with the
                      lcd-strip level's rotation, blur, noise and JPEG. Shows no zone.
  --level lcd-real-photo  that strip in the drawn meter face and phone photo of lcd-photo

Writes OUT/NNNN.jpg and OUT/labels.csv (file, reading, digits, previous, meter_type, zones, zone, previous_zones,
shown, look): reading is the integer part zero-padded to the meter's digits (never the digit after the point); zone the
zone the display shows (1-3), empty when it shows none; previous_zones the last reading of each of the meter's
zones (`;`-separated), previous the one of the zone the display is in (shown or not); shown the display as drawn;
look `grey-green` or the backlit kind.
Deterministic for a seed.

  .venv/bin/python benchmarks/lcd_set.py --out /tmp/lcd --n 100 --level lcd-photo --seed 61

The drawing functions (`draw_lcd`, `draw_face`, `phone_photo`) need no data and are what the tests draw with.
"""

from __future__ import annotations

import argparse
import csv
import io
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

LEVELS = ("lcd-strip", "lcd-photo")
REAL_LEVELS = ("lcd-real", "lcd-real-photo")  # need ../shared/data/meter-digits
SHARED = Path(__file__).resolve().parents[2] / "shared"
# The photographed displays of meter-digits' LCD crops: each folder is one kind of display (its own glass and font).
# Not the crops at the folder's top (images/collected/lcd/*.jpg): they are cut off the digit's centre, most show half
# of the digit before and a comma, so a display composed from them shows digits its label does not (at seed 81 a
# first try read three of them wrong, each an extra "1" from such a half digit).
REAL_FOLDERS = ("lcd_pb", "digital italic")
MODELS = ("NIK 2102-02 M2B", "GAMA 100 G1B", "CE 102 S7")  # printed model names; the meter_type column
METER_TYPES = ("NIK 2102", "GAMA 100", "CE 102")
# Segments of each digit: a top, b upper right, c lower right, d bottom, e lower left, f upper left, g middle.
SEGMENTS = {
    "0": "abcdef", "1": "bc", "2": "abged", "3": "abgcd", "4": "fgbc",
    "5": "afgcd", "6": "afgedc", "7": "abc", "8": "abcdefg", "9": "abcdfg", " ": "", "-": "g",
}
# Backlit displays: light digits on dark blue or green glass ("negative"), or dark digits on a bright backlight.
BACKLIT = ("blue-negative", "green-negative", "blue", "green")
# Displays differ in a few glyphs: a 6 without its top, a 7 with a left stroke, a 9 without its bottom.
VARIANTS = {"6": ("afgedc", "fgedc"), "7": ("abc", "abcf"), "9": ("abcdfg", "abcfg")}


@dataclass(frozen=True)
class LcdLook:
    """How one display looks: its glass, its lit and ghost segments, its digit shape."""

    glass: tuple[int, int, int] = (168, 182, 156)
    lit: tuple[int, int, int] = (38, 48, 42)
    ghost: float = 0.1  # how far an unlit segment is from the glass towards a lit one
    slant: float = 0.08  # x shift of a segment per unit of height (italic digits)
    stroke: float = 0.16  # segment thickness, share of the digit height
    glyphs: tuple[tuple[str, str], ...] = ()  # variant glyphs: (digit, segments)
    kind: str = "grey-green"  # or one of BACKLIT

    @classmethod
    def random(cls, rng: random.Random) -> LcdLook:
        green = rng.randint(160, 208)
        glass = (green - rng.randint(6, 28), green, green - rng.randint(14, 40))
        contrast = rng.choice([rng.uniform(0.35, 0.55), rng.uniform(0.55, 0.85), rng.uniform(0.55, 0.85)])
        lit = tuple(round(c * (1 - contrast)) for c in glass)
        glyphs = tuple((digit, rng.choice(options)) for digit, options in VARIANTS.items())
        return cls(glass, (lit[0], lit[1], lit[2]), rng.uniform(0.04, 0.2), rng.uniform(0.0, 0.14),
                   rng.uniform(0.12, 0.19), glyphs)

    @classmethod
    def backlit(cls, rng: random.Random, kind: str | None = None) -> LcdLook:
        """A backlit display (BACKLIT kinds): light digits on dark blue or green glass, or dark digits on a bright
        blue or yellow-green backlight."""
        kind = kind or rng.choice(BACKLIT)
        jitter = [rng.randint(-12, 12) for _ in range(3)]
        glass, lit = {
            "blue-negative": ((rng.randint(15, 45), rng.randint(40, 80), rng.randint(120, 190)),
                              (rng.randint(190, 235), rng.randint(220, 250), 255)),
            "green-negative": ((rng.randint(15, 35), rng.randint(60, 95), rng.randint(25, 50)),
                               (rng.randint(170, 215), 250, rng.randint(160, 200))),
            "blue": ((rng.randint(110, 160), rng.randint(170, 210), rng.randint(225, 255)),
                     (rng.randint(15, 40), rng.randint(25, 50), rng.randint(70, 105))),
            "green": ((rng.randint(140, 190), rng.randint(200, 235), rng.randint(40, 100)),
                      (rng.randint(20, 45), rng.randint(40, 65), rng.randint(15, 40))),
        }[kind]
        glass = (min(255, max(0, glass[0] + jitter[0])), min(255, max(0, glass[1] + jitter[1])),
                 min(255, max(0, glass[2] + jitter[2])))
        glyphs = tuple((digit, rng.choice(options)) for digit, options in VARIANTS.items())
        return cls(glass, lit, rng.uniform(0.04, 0.2), rng.uniform(0.0, 0.14), rng.uniform(0.12, 0.19), glyphs, kind)

    def ghost_colour(self) -> tuple[int, int, int]:
        g, lit = self.glass, self.lit
        return (round(g[0] + (lit[0] - g[0]) * self.ghost), round(g[1] + (lit[1] - g[1]) * self.ghost),
                round(g[2] + (lit[2] - g[2]) * self.ghost))


def font(size: int, bold: bool = True) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    names = ("DejaVuSans-Bold.ttf", "DejaVuSans.ttf") if bold else ("DejaVuSans.ttf",)
    for name in names:
        for path in (name, f"/usr/share/fonts/truetype/dejavu/{name}"):
            try:
                return ImageFont.truetype(path, size)
            except OSError:
                pass
    return ImageFont.load_default(size=size)


def _bar(x0: float, y0: float, x1: float, y1: float, half: float) -> list[tuple[float, float]]:
    """A segment from (x0, y0) to (x1, y1), `half` its half thickness, with pointed ends (a long hexagon)."""
    if y0 == y1:  # horizontal
        return [(x0, y0), (x0 + half, y0 - half), (x1 - half, y0 - half), (x1, y0), (x1 - half, y0 + half),
                (x0 + half, y0 + half)]
    return [(x0, y0), (x0 + half, y0 + half), (x0 + half, y1 - half), (x0, y1), (x0 - half, y1 - half),
            (x0 - half, y0 + half)]


def segment_polygons(left: float, top: float, width: float, height: float, look: LcdLook) -> dict[str, list]:
    """The seven segments of a digit cell as polygons, slanted."""
    half = look.stroke * height / 2
    gap = max(1.0, 0.25 * half)
    lx, rx = left + half, left + width - half
    ty, my, by = top + half, top + height / 2, top + height - half
    straight = {
        "a": _bar(lx + gap, ty, rx - gap, ty, half), "g": _bar(lx + gap, my, rx - gap, my, half),
        "d": _bar(lx + gap, by, rx - gap, by, half),
        "f": _bar(lx, ty + gap, lx, my - gap, half), "b": _bar(rx, ty + gap, rx, my - gap, half),
        "e": _bar(lx, my + gap, lx, by - gap, half), "c": _bar(rx, my + gap, rx, by - gap, half),
    }
    bottom = top + height
    return {name: [(x + look.slant * (bottom - y), y) for x, y in points] for name, points in straight.items()}


def draw_lcd(shown: str, *, zone: int | None = None, marker: int | None = None, legend: int = 0,
             height: int = 120, look: LcdLook = LcdLook(), unit: bool = True) -> Image.Image:
    """A 7-segment display showing `shown` (digits, spaces for blank cells, one '.'), with ghost segments.

    zone: a `T<zone>` label on the display before the digits. legend: the number of zone markers (0: none) along
    the display's top edge, under a legend `T1 T2 ...` printed on the meter above it; marker: the lit one (1..).
    The picture is the glass with a margin of the meter's face around it (where the legend is printed).
    """
    whole, _, fraction = shown.partition(".")
    cells = whole + fraction
    digit_w, pitch = 0.52 * height, 0.7 * height
    frac_scale = 0.8 if fraction else 1.0
    label_w = 0.55 * height
    unit_w = 1.0 * height if unit else 0.0
    pad = 0.25 * height
    glass_w = pad + label_w + len(whole) * pitch + 0.1 * height + len(fraction) * pitch * frac_scale + unit_w + pad
    glass_h = height * 1.75
    margin = round(0.45 * height)
    face = (214, 214, 208)
    img = Image.new("RGB", (round(glass_w) + 2 * margin, round(glass_h) + 2 * margin), face)
    pen = ImageDraw.Draw(img)
    gx, gy = margin, margin
    pen.rectangle((gx - 4, gy - 4, gx + glass_w + 4, gy + glass_h + 4), fill=(60, 62, 60))
    pen.rectangle((gx, gy, gx + glass_w, gy + glass_h), fill=look.glass)
    ghost = look.ghost_colour()
    glyphs = dict(look.glyphs)
    top = gy + (glass_h - height) / 2 + 0.12 * height
    x = gx + pad + label_w
    point_at = None
    for index, ch in enumerate(cells):
        scale = frac_scale if index >= len(whole) else 1.0
        h = height * scale
        y = top + (height - h)
        lit = glyphs.get(ch, SEGMENTS[ch])
        for name, polygon in segment_polygons(x, y, digit_w * scale, h, look).items():
            pen.polygon(polygon, fill=look.lit if name in lit else ghost)
        x += pitch * scale
        if index == len(whole) - 1 and fraction:
            # The point has a gap of its own between the integer part and the fraction.
            point_at = x - (pitch - digit_w) / 2 + 0.05 * height
            x += 0.1 * height
    if point_at is not None:
        r = max(2.0, 0.055 * height)
        pen.rectangle((point_at - r, top + height - 2 * r, point_at + r, top + height), fill=look.lit)
    if unit:
        pen.text((x + 0.05 * height, top + 0.45 * height), "kWh", font=font(round(0.42 * height)), fill=look.lit)
    label_font = font(round(0.36 * height))
    label_xy = (gx + pad * 0.6, gy + 0.12 * height)
    pen.text(label_xy, f"T{zone or 1}", font=label_font, fill=look.lit if zone else ghost)
    if legend:
        spacing = glass_w / (legend + 1)
        printed = font(round(0.3 * height))
        for k in range(1, legend + 1):
            cx = gx + k * spacing
            pen.text((cx, gy - 0.08 * height), f"T{k}", font=printed, fill=(35, 35, 35), anchor="md")
            s = 0.12 * height
            triangle = [(cx - s, gy + 0.06 * height), (cx + s, gy + 0.06 * height), (cx, gy + 0.06 * height + 1.3 * s)]
            pen.polygon(triangle, fill=look.lit if k == marker else ghost)
    return img


def glare(img: Image.Image, rng: random.Random, strength: float) -> Image.Image:
    """A reflection: a soft bright ellipse somewhere on the picture."""
    w, h = img.size
    mask = Image.new("L", img.size, 0)
    rx, ry = rng.uniform(0.08, 0.3) * w, rng.uniform(0.1, 0.5) * h
    cx, cy = rng.uniform(0.1, 0.9) * w, rng.uniform(0.1, 0.9) * h
    ImageDraw.Draw(mask).ellipse((cx - rx, cy - ry, cx + rx, cy + ry), fill=round(255 * strength))
    mask = mask.filter(ImageFilter.GaussianBlur(max(rx, ry) * 0.5))
    return Image.composite(Image.new("RGB", img.size, (250, 252, 248)), img, mask)


def shade(img: Image.Image, rng: random.Random) -> Image.Image:
    """Light falling unevenly: a gradient from one side, darker by up to a third."""
    w, h = img.size
    ramp = np.linspace(1.0, rng.uniform(0.68, 1.0), w if rng.random() < 0.5 else h, dtype=np.float32)
    factor = ramp[None, :, None] if len(ramp) == w else ramp[:, None, None]
    return Image.fromarray(np.clip(np.asarray(img, np.float32) * factor, 0, 255).astype(np.uint8))


def perspective(img: Image.Image, rng: random.Random, amount: float, fill: tuple[int, int, int]) -> Image.Image:
    """The picture as seen a little from the side: each corner moved by up to `amount` of the size."""
    w, h = img.size
    corners = [(0, 0), (w, 0), (w, h), (0, h)]
    moved = [(x + rng.uniform(-amount, amount) * w, y + rng.uniform(-amount, amount) * h) for x, y in corners]
    # Coefficients mapping output (moved) points back to input corners.
    rows, rhs = [], []
    for (x, y), (u, v) in zip(moved, corners):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs += [u, v]
    coeffs = np.linalg.solve(np.array(rows, float), np.array(rhs, float))
    return img.transform((w, h), Image.Transform.PERSPECTIVE, tuple(coeffs), Image.Resampling.BICUBIC, fillcolor=fill)


def noisy(img: Image.Image, rng: random.Random, sigma: float) -> Image.Image:
    noise = np.random.default_rng(rng.randrange(2**32)).normal(0.0, sigma, (img.height, img.width, 1))
    return Image.fromarray(np.clip(np.asarray(img, np.float32) + noise, 0, 255).astype(np.uint8))


def draw_face(lcd: Image.Image, *, model: str = MODELS[0], serial: str = "0123456789", year: int = 2019,
              impulses: int = 3200, size: tuple[int, int] = (900, 1200)) -> Image.Image:
    """The meter's face: a light plastic case with the display (its glass and legend) in the upper half, the model,
    serial, impulse constant and year printed around it, an LED and a button."""
    w, h = size
    face = Image.new("RGB", size, (226, 226, 220))
    pen = ImageDraw.Draw(face)
    pen.rounded_rectangle((10, 10, w - 10, h - 10), radius=40, outline=(150, 150, 145), width=6)
    scale = 0.72 * w / lcd.width
    shown = lcd.resize((round(lcd.width * scale), round(lcd.height * scale)), Image.Resampling.LANCZOS)
    top = round(0.2 * h)
    face.paste(shown, ((w - shown.width) // 2, top))
    ink = (30, 30, 34)
    pen.text((w * 0.08, h * 0.06), model, font=font(round(w * 0.055)), fill=ink)
    below = top + shown.height + round(0.04 * h)
    small = font(round(w * 0.033), bold=False)
    pen.text((w * 0.1, below), f"{impulses} imp/kWh", font=small, fill=ink)
    pen.ellipse((w * 0.72, below, w * 0.72 + w * 0.035, below + w * 0.035), fill=(120, 20, 20))
    pen.text((w * 0.1, below + h * 0.05), "220 V  5(60) A  50 Hz", font=small, fill=ink)
    pen.text((w * 0.1, below + h * 0.1), f"No {serial}", font=font(round(w * 0.04)), fill=ink)
    pen.text((w * 0.1, below + h * 0.15), f"{year}   Class 1   IP54", font=small, fill=ink)
    pen.ellipse((w * 0.7, below + h * 0.12, w * 0.7 + w * 0.1, below + h * 0.12 + w * 0.1), outline=ink, width=4)
    return face


def phone_photo(face: Image.Image, *, angle: float = 0.0, size: tuple[int, int] = (3024, 4032),
                share: float = 0.55, seed: int = 0) -> Image.Image:
    """A phone's photo of the meter: the face (turned by `angle`) taking `share` of the width, on a wall."""
    rng = random.Random(seed)
    w, h = size
    small = (w // 8, h // 8)
    wall = Image.effect_noise(small, 25).convert("RGB")
    tint = Image.new("RGB", small, (rng.randint(120, 200), rng.randint(110, 190), rng.randint(100, 170)))
    wall = Image.blend(wall, tint, 0.8).resize(size, Image.Resampling.BILINEAR)
    scale = min(share * w / face.width, 0.9 * h / face.height)
    face = face.resize((round(face.width * scale), round(face.height * scale)), Image.Resampling.BILINEAR)
    mask = Image.new("L", face.size, 255).rotate(angle, expand=True)
    face = face.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True)
    x = (w - face.width) // 2 + rng.randint(-w // 12, w // 12)
    y = (h - face.height) // 2 + rng.randint(-h // 12, h // 12)
    wall.paste(face, (x, y), mask)
    return wall


def jpeg(img: Image.Image, quality: int = 85) -> bytes:
    out = io.BytesIO()
    img.save(out, "JPEG", quality=quality)
    return out.getvalue()


@dataclass(frozen=True)
class Sample:
    """One labelled picture: the display, its truth and the meter it is of."""

    shown: str
    reading: str
    digits: int
    meter_type: str
    zones: int
    zone: int | None  # the zone the display shows, None when it shows none
    previous: tuple[int, ...]  # the last reading of each zone, the displayed one's a plausible use below it
    true_zone: int  # the zone the display is in, shown or not


def make_sample(rng: random.Random) -> tuple[Sample, dict]:
    """What one display shows and how it is drawn (draw_lcd's arguments)."""
    model = rng.randrange(len(MODELS))
    digits = rng.choice([5, 6, 6, 7])
    zones = rng.choice([1, 1, 2, 2, 3])
    value = rng.randint(0, min(10**digits - 1, rng.choice([10**4, 10**5, 10**6])))
    reading = str(value).zfill(digits)
    fraction = "".join(str(rng.randint(0, 9)) for _ in range(rng.choice([1, 1, 1, 2])))
    whole = reading if rng.random() < 0.85 else reading.lstrip("0").rjust(digits) or " " * (digits - 1) + "0"
    true_zone = rng.randint(1, zones)
    previous = tuple(max(0, value - rng.randint(20, 900)) if zone == true_zone
                     else rng.randint(0, min(10**digits - 1, 2 * value + 1000)) for zone in range(1, zones + 1))
    how = rng.random()
    zone: int | None = None
    args: dict = {"legend": 0}
    if zones > 1 and how < 0.5:
        zone = args["zone"] = true_zone
    elif zones > 1 and how < 0.8:
        zone = true_zone
        args.update(legend=max(zones, rng.choice([3, 4])), marker=zone)
    elif zones == 1 and how < 0.3:
        zone = args["zone"] = 1
    sample = Sample(f"{whole}.{fraction}", reading, digits, METER_TYPES[model], zones, zone, previous, true_zone)
    args["model"] = MODELS[model]
    return sample, args


def look_of(rng: random.Random, backlit: float) -> LcdLook:
    """A display's look: backlit for a `backlit` share of them (no random draw when none are: the sets of a seed
    stay as they were), else grey-green glass."""
    if backlit and rng.random() < backlit:
        return LcdLook.backlit(rng)
    return LcdLook.random(rng)


def lcd_strip(rng: random.Random, sample: Sample, args: dict, look: LcdLook) -> Image.Image:
    img = draw_lcd(sample.shown, zone=args.get("zone"), marker=args.get("marker"), legend=args["legend"],
                   height=rng.randint(50, 120), look=look)
    if rng.random() < 0.5:
        img = glare(img, rng, rng.uniform(0.2, 0.6))
    img = shade(img, rng)
    img = perspective(img, rng, 0.04, (200, 200, 195))
    img = img.rotate(rng.uniform(-5, 5), resample=Image.Resampling.BICUBIC, expand=True, fillcolor=(200, 200, 195))
    img = noisy(img.filter(ImageFilter.GaussianBlur(rng.uniform(0.0, 1.6))), rng, rng.uniform(0, 6))
    return img


def lcd_photo(rng: random.Random, sample: Sample, args: dict, look: LcdLook) -> Image.Image:
    lcd = draw_lcd(sample.shown, zone=args.get("zone"), marker=args.get("marker"), legend=args["legend"],
                   height=110, look=look)
    return face_photo(rng, lcd, args["model"])


RealCrops = dict[str, dict[str, list[Image.Image]]]  # folder -> digit -> crops


def blank(crop: Image.Image) -> bool:
    """No segment lit in the crop's middle (its top and bottom fifth may show the neighbours of a two-row display):
    the dark 5 % within 32 % of the bright 5 %."""
    grey = np.asarray(crop.convert("L"), np.float32)
    h, w = grey.shape
    middle = grey[h // 5: h - h // 5, w // 6: w - w // 6]
    bright = float(np.percentile(middle, 95))
    return (bright - float(np.percentile(middle, 5))) < 0.32 * max(bright, 1.0)


def load_real_crops(shared: Path = SHARED) -> RealCrops:
    """The whole-digit LCD crops of ../shared/data/meter-digits by folder and digit: labels "d" and "d.0" (the
    label before the first "_"); "10" (a cell between digits) is left out. A crop with no digit in it (lcd_pb labels
    its blank leading cells "0.0") is kept under " ", the blank cell."""
    root = shared / "data" / "meter-digits" / "images" / "collected" / "lcd"
    if not root.is_dir():
        raise SystemExit(f"{root} is absent: the lcd-real levels need ../shared/data/meter-digits")
    crops: RealCrops = {}
    for folder in REAL_FOLDERS:
        for path in sorted((root / folder).glob("*.jpg")):
            label = path.name.split("_", 1)[0]
            digit = label[:-2] if label.endswith(".0") else label
            if len(digit) == 1 and digit.isdigit():
                crop = Image.open(path).convert("RGB")
                crops.setdefault(folder, {}).setdefault(" " if blank(crop) else digit, []).append(crop)
    return crops


def real_strip(rng: random.Random, crops: RealCrops, shown: str) -> Image.Image:
    """A display composed from one photographed display's crops: the integer digits (blank cells are glass) side
    by side at one height with small gaps, a decimal point, the fraction digit(s) at 0.75 height, on the crops'
    glass colour (each crop's brought to it), a dark frame and a margin of the meter's face around."""
    digits = crops[rng.choice(sorted(crops))]
    whole, _, fraction = shown.partition(".")
    height = rng.randint(50, 110)
    sample = digits["8"][0]
    width = round(height * sample.width / sample.height)
    pixels = np.concatenate([np.asarray(c, np.float32).reshape(-1, 3) for d in "0123456789" for c in digits[d][:3]])
    luma = pixels.mean(axis=1)
    glass = tuple(int(v) for v in np.median(pixels[luma >= np.percentile(luma, 60)], axis=0))
    lit = tuple(int(v) for v in np.median(pixels[luma <= np.percentile(luma, 5)], axis=0))

    def cell(ch: str, h: int, w: int) -> Image.Image:
        if ch == " " and " " not in digits:
            return Image.new("RGB", (w, h), glass)
        crop = np.asarray(rng.choice(digits[ch]).resize((w, h), Image.Resampling.BICUBIC), np.float32)
        # Crops of one display were photographed under different light: each one's glass brought to the display's.
        bright = np.median(crop.reshape(-1, 3)[crop.reshape(-1, 3).mean(axis=1) >= np.percentile(crop.mean(axis=2), 60)],
                           axis=0)
        crop = crop * (np.array(glass, np.float32) / np.maximum(bright, 1.0))
        return Image.fromarray(np.clip(crop, 0, 255).astype(np.uint8))

    gaps = [rng.randint(0, max(1, height // 25)) for _ in whole]
    small_h, small_w = round(0.75 * height), round(0.75 * width)
    point_w = max(4, height // 6)
    pad = round(0.25 * height)
    glass_w = 2 * pad + len(whole) * width + sum(gaps) + point_w + len(fraction) * (small_w + 2)
    glass_h = height + 2 * pad
    margin = round(0.4 * height)
    img = Image.new("RGB", (glass_w + 2 * margin, glass_h + 2 * margin), (214, 214, 208))
    pen = ImageDraw.Draw(img)
    pen.rectangle((margin - 4, margin - 4, margin + glass_w + 3, margin + glass_h + 3), fill=(60, 62, 60))
    pen.rectangle((margin, margin, margin + glass_w - 1, margin + glass_h - 1), fill=glass)
    x, top = margin + pad, margin + pad
    for ch, gap in zip(whole, gaps):
        img.paste(cell(ch, height, width), (x, top))
        x += width + gap
    r = max(2, height // 18)
    pen.rectangle((x + point_w // 2 - r, top + height - 2 * r - 2, x + point_w // 2 + r, top + height - 2), fill=lit)
    x += point_w
    for ch in fraction:
        img.paste(cell(ch, small_h, small_w), (x, top + height - small_h))
        x += small_w + 2
    return img


def real_strip_photo(rng: random.Random, strip: Image.Image) -> Image.Image:
    """lcd-strip's handling (glare, shade, perspective, rotation, blur, noise) of a composed strip."""
    if rng.random() < 0.5:
        strip = glare(strip, rng, rng.uniform(0.2, 0.5))
    strip = shade(strip, rng)
    strip = perspective(strip, rng, 0.03, (200, 200, 195))
    strip = strip.rotate(rng.uniform(-5, 5), resample=Image.Resampling.BICUBIC, expand=True, fillcolor=(200, 200, 195))
    return noisy(strip.filter(ImageFilter.GaussianBlur(rng.uniform(0.0, 1.2))), rng, rng.uniform(0, 5))


def face_photo(rng: random.Random, lcd: Image.Image, model: str) -> Image.Image:
    """lcd-photo's meter face and phone photo around a display."""
    face = draw_face(lcd, model=model, serial=str(rng.randint(10**8, 10**10 - 1)),
                     year=rng.randint(2008, 2025), impulses=rng.choice([1600, 3200, 6400]))
    if rng.random() < 0.6:
        face = glare(face, rng, rng.uniform(0.2, 0.7))
    face = perspective(face, rng, 0.05, (90, 90, 90))
    size = (3024, 4032) if rng.random() < 0.75 else (4032, 3024)
    img = phone_photo(face, angle=rng.uniform(-15, 15), size=size, share=rng.uniform(0.4, 0.8),
                      seed=rng.randrange(2**31))
    img = shade(img, rng)
    small = img.resize((img.width // 4, img.height // 4), Image.Resampling.BILINEAR)
    small = noisy(small.filter(ImageFilter.GaussianBlur(rng.uniform(0.0, 1.2))), rng, rng.uniform(1, 6))
    return small.resize(img.size, Image.Resampling.BICUBIC)


def make_set(out: Path, n: int, level: str, seed: int, backlit: float = 0.0, shared: Path = SHARED) -> None:
    """n labelled pictures of the level. The lcd-real levels take make_sample's readings and meters and compose the
    display from real crops with one fraction digit (it shows no zone: the zone column stays empty; the meter's zones
    and their previous readings are as for the drawn levels)."""
    crops = load_real_crops(shared) if level in REAL_LEVELS else None
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "labels.csv", "w", newline="") as fh:
        rows = csv.writer(fh)
        rows.writerow(["file", "reading", "digits", "previous", "meter_type", "zones", "zone", "previous_zones",
                       "shown", "look"])
        for i in range(n):
            sample, args = make_sample(rng)
            if crops is not None:
                shown, zone, kind = sample.shown[: sample.shown.index(".") + 2], None, "real"
                strip = real_strip(rng, crops, shown)
                img = real_strip_photo(rng, strip) if level == "lcd-real" else face_photo(rng, strip, args["model"])
            else:
                draw = lcd_strip if level == "lcd-strip" else lcd_photo
                look = look_of(rng, backlit)
                img = draw(rng, sample, args, look)
                shown, zone, kind = sample.shown, sample.zone, look.kind
            name = f"{i:04d}.jpg"
            (out / name).write_bytes(jpeg(img, rng.randint(70, 90)))
            previous = str(sample.previous[sample.true_zone - 1]).zfill(sample.digits)
            rows.writerow([name, sample.reading, sample.digits, previous, sample.meter_type, sample.zones,
                           zone or "", ";".join(map(str, sample.previous)), shown, kind])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--level", choices=LEVELS + REAL_LEVELS, default="lcd-strip")
    parser.add_argument("--seed", type=int, default=61)
    parser.add_argument("--backlit", type=float, default=0.0, help="the share of backlit displays (0-1)")
    parser.add_argument("--shared", type=Path, default=SHARED, help="the lcd-real levels' ../shared")
    args = parser.parse_args()
    make_set(args.out, args.n, args.level, args.seed, args.backlit, args.shared)


if __name__ == "__main__":
    main()
