"""Labelled whole-meter photos as consumers send them (`photo`) and frames of a camera fixed on a meter (`frame`).

Built on ../shared/tools/make_meter_set.py (its digit crops and drum strips) and red_drums.py (red fraction
drums, a drum caught between two digits); the digit data stays in ../shared and is never copied here.

  photo  a phone's frame (2448x3264, or landscape 3264x2448; sometimes stored turned with an EXIF orientation):
         a wall, the meter's body and face with print around the counter (model, serial, year, "5x10⁻⁵",
         "220V 5-60A", "imp/kWh", a barcode), black integer drums then 0-3 red fraction drums, turned up to
         ±15°, in perspective, with glare spots, a shadow, blur, sensor noise, JPEG at quality 70-90;
  telegram  the same photos (the same seed draws the same ones) as a bot receives them from Telegram when sent as a
         photo: turned upright, 1280 px on the long side, JPEG again (quality about 87);
  frame  640x480 from a camera fixed close to the counter: dim, unevenly lit, noisy, sometimes grey (infrared
         at night), JPEG 60-85, and in about a third of the frames the last integer drum caught between two
         digits (the reading keeps the lower one).

The label is the integer part (`reading`) and the meter's digit count (`digits`, its integer drums), with a
plausible `previous` reading, as in the other sets; `face` names the kind of meter face drawn. Each face kind
is one function in FACES (drums today; an LCD face plugs in beside it).

  .venv/bin/python benchmarks/meter_photos.py --out /tmp/photos --n 100 --level photo --seed 1
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import random
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont, ImageOps

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.red_drums import SHARED, half_turned, meter_set_tool, red, with_half_turned_last_drum  # noqa: E402

PHONE = (2448, 3264)
TELEGRAM_SIDE, TELEGRAM_QUALITY = 1280, 87  # a photo as Telegram passes it on: its long side and about its JPEG quality
FRAME = (640, 480)
FONTS = ("DejaVuSans-Bold.ttf", "DejaVuSans.ttf", "DejaVuSansCondensed-Bold.ttf", "DejaVuSansCondensed.ttf",
         "DejaVuSerif-Bold.ttf", "DejaVuSansMono-Bold.ttf")
MODELS = ("НІК 2102-02", "GAMA 100", "CE 101 R5", "ЛЕО-М", "Меркурій 201.5", "СО-ЭЭ6706", "NIK 2301 AP1",
          "Energomera CE102", "САЗУ-И670М", "ЕТ 1-1М")


def font(name: str, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in (name, f"/usr/share/fonts/truetype/dejavu/{name}"):
        try:
            return ImageFont.truetype(path, max(6, size))
        except OSError:
            pass
    return ImageFont.load_default(size=max(6, size))


@dataclass(frozen=True)
class Pieces:
    """What the faces are drawn from: the shared tool, its whole-digit crops and the half-turned ones."""

    tool: object
    digits: dict  # meter type -> digit -> crop paths
    halves: dict  # meter type -> lower digit -> crops of a drum between it and the next


@dataclass(frozen=True)
class Counter:
    """What the meter shows: the integer part, the fraction drums' digits, whether the last drum is half-turned."""

    meter: str
    reading: str
    fraction: str
    half_turned: bool


@dataclass(frozen=True)
class Face:
    image: Image.Image  # the meter's body with its face, counter and print, upright and flat
    counter: tuple[int, int, int, int]  # the counter's box in it


def load_pieces(shared: Path = SHARED) -> Pieces:
    tool = meter_set_tool(shared)
    root = shared / "data" / "meter-digits"
    return Pieces(tool, tool.load_digits(root, None), half_turned(root))


def drum_counter(rng: random.Random, pieces: Pieces, counter: Counter) -> Image.Image:
    """Black integer drums, the last one perhaps caught between two digits, then red fraction drums."""
    height = rng.randint(60, 140)
    crops = pieces.digits[counter.meter]
    whole = pieces.tool.strip(rng, crops, counter.reading, height)
    if counter.half_turned:
        halves = pieces.halves[counter.meter][int(counter.reading[-1])]
        whole = with_half_turned_last_drum(rng, whole, counter.reading, halves)
    if not counter.fraction:
        return whole
    part = red(pieces.tool.strip(rng, crops, counter.fraction, height), rng)
    part = part.resize((round(part.width * whole.height / part.height), whole.height))
    gap = rng.choice([0, 0, round(0.15 * height)])  # side by side, or a strip of the frame between
    out = Image.new("RGB", (whole.width + gap + part.width, whole.height), whole.getpixel((1, 1)))
    out.paste(whole, (0, 0))
    out.paste(part, (whole.width + gap, 0))
    return out


def barcode(rng: random.Random, width: int, height: int, ink: tuple[int, ...], paper: tuple[int, ...]) -> Image.Image:
    img = Image.new("RGB", (width, height), paper)
    pen = ImageDraw.Draw(img)
    x = 0
    while x < width:
        bar = rng.choice([1, 1, 2, 3]) * max(1, width // 90)
        if rng.random() < 0.55:
            pen.rectangle((x, 0, x + bar - 1, height), fill=ink)
        x += bar
    return img


def drum_face(rng: random.Random, pieces: Pieces, counter: Counter) -> Face:
    """A drum meter: its face with the counter and the print a real one carries around it, in its body.

    The face is laid out in rows, as on real meters: the model (a barcode beside it), the serial number above
    or below the counter, the counter with its unit beside or under it, then lines of small print.
    """
    drums = drum_counter(rng, pieces, counter)
    digit = drums.height  # the counter's height sets the size of the print
    paper = tuple(rng.randint(195, 240) - rng.randint(0, 12) * (k == 2) for k in range(3))
    ink = (rng.randint(0, 60),) * 3
    family = rng.choice(FONTS)
    big, small = font(family, round(digit * rng.uniform(0.35, 0.6))), font(family, round(digit * rng.uniform(0.18, 0.3)))
    serial_font = font(family, round(digit * rng.uniform(0.25, 0.55)))
    serial = rng.choice(["№ ", "No ", "Зав. № ", ""]) + str(rng.randint(10**6, 10**9 - 1)).zfill(rng.choice([7, 8, 9]))
    unit = rng.choice(["kWh", "кВт·год", "кВт·ч"])
    unit_beside = rng.random() < 0.5
    notes = [f"{rng.randint(1995, 2025)}", f"220V {rng.choice(['5-60A', '10-100A', '5(60)A'])} 50Hz",
             f"{rng.choice([500, 800, 1000, 1600, 3200, 6400])} imp/kWh", "5x10⁻⁵", f"кл. {rng.choice(['1,0', '2,0'])}",
             f"ДСТУ EN {rng.choice(['50470-1', '62053-21'])}",
             f"ТУ У {rng.randint(10, 99)}.{rng.randint(100, 999)}-{rng.randint(1000, 9999)}"]
    rng.shuffle(notes)
    notes = notes[:rng.randint(3, 6)]
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))

    def size(text: str, typeface) -> tuple[int, int]:
        box = measure.textbbox((0, 0), text, font=typeface)
        return box[2], box[3]

    unit_w, unit_h = size(unit, big)
    counter_w = drums.width + (round(0.15 * digit) + unit_w if unit_beside else 0)
    pad = round(0.3 * digit)
    width = max(round(counter_w / rng.uniform(0.5, 0.8)), counter_w + 2 * pad, size(serial, serial_font)[0] + 2 * pad)
    gap = round(0.25 * digit)
    rows: list[tuple[str, object]] = [("model", rng.choice(MODELS))]
    serial_row = ("serial", serial)
    rows += [serial_row, ("counter", None)] if rng.random() < 0.5 else [("counter", None), serial_row]
    if not unit_beside:
        rows.insert(rows.index(("counter", None)) + 1, ("unit", unit))
    rows += [("notes", notes[k:k + 2]) for k in range(0, len(notes), 2)]
    heights = {"model": size("Ay", big)[1], "serial": size("0", serial_font)[1], "counter": drums.height,
               "unit": unit_h, "notes": size("Ay", small)[1]}
    height = round(sum(heights[kind] + gap for kind, _ in rows) + 2 * pad + digit * rng.uniform(0, 1.0))
    face = Image.new("RGB", (width, height), paper)
    pen = ImageDraw.Draw(face)
    left = rng.randint(pad, width - counter_w - pad)
    y = pad + round(digit * rng.uniform(0, 0.5))
    box = (0, 0, 0, 0)
    for kind, what in rows:
        if kind == "model":
            pen.text((pad, y), str(what), fill=ink, font=big)
            code_w = round(width * 0.3)
            if rng.random() < 0.6 and size(str(what), big)[0] + code_w + 3 * pad < width:
                face.paste(barcode(rng, code_w, heights["model"], ink, paper), (width - code_w - pad, y))
        elif kind == "serial":
            pen.text((rng.choice([pad, left]), y), str(what), fill=ink, font=serial_font)
        elif kind == "counter":
            face.paste(drums, (left, y))
            box = (left, y, left + drums.width, y + drums.height)
            if unit_beside:
                pen.text((left + drums.width + round(0.15 * digit), y + (drums.height - unit_h) // 2), unit, fill=ink,
                         font=big)
        elif kind == "unit":
            pen.text((left + (drums.width - unit_w) // 2, y), unit, fill=ink, font=big)
        else:
            for column, text in enumerate(what):  # type: ignore[arg-type]
                pen.text((pad + column * (width - 2 * pad) // 2, y), text, fill=ink, font=small)
        y += heights[kind] + gap
    # The body: a plastic case around the face, a window's edge, screws.
    margin = round(width * rng.uniform(0.06, 0.16))
    case = (rng.randint(20, 70),) * 3 if rng.random() < 0.4 else (rng.randint(150, 215),) * 3
    body = Image.new("RGB", (width + 2 * margin, height + 3 * margin), case)
    body.paste(face, (margin, margin))
    pen = ImageDraw.Draw(body)
    pen.rectangle((margin - 2, margin - 2, margin + width + 1, margin + height + 1), outline=(90, 90, 90), width=3)
    for sx in (margin // 2, body.width - margin // 2):
        sy = height + 2 * margin
        pen.ellipse((sx - margin // 4, sy - margin // 4, sx + margin // 4, sy + margin // 4), fill=(120, 120, 120))
    return Face(body, (box[0] + margin, box[1] + margin, box[2] + margin, box[3] + margin))


# A face kind -> what draws it: (rng, pieces, counter) -> Face.
FACES: dict[str, Callable[[random.Random, Pieces, Counter], Face]] = {"drums": drum_face}


def perspective_coefficients(source: list[tuple[float, float]], target: list[tuple[float, float]]) -> list[float]:
    """PIL's PERSPECTIVE data mapping each target corner (output pixel) back to its source corner."""
    rows, values = [], []
    for (x, y), (u, v) in zip(target, source):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        values += [u, v]
    return np.linalg.solve(np.array(rows, float), np.array(values, float)).tolist()


def place(canvas: Image.Image, rng: random.Random, item: Image.Image, centre: tuple[float, float], width: float,
          turn: float, skew: float) -> None:
    """Paste item onto canvas `width` wide at centre, turned by `turn` degrees, each corner moved up to skew of it."""
    scale = width / item.width
    half_w, half_h = item.width * scale / 2, item.height * scale / 2
    cos, sin = math.cos(math.radians(turn)), math.sin(math.radians(turn))
    corners = []
    for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
        x = sx * half_w + rng.uniform(-skew, skew) * width
        y = sy * half_h + rng.uniform(-skew, skew) * width
        corners.append((centre[0] + x * cos - y * sin, centre[1] + x * sin + y * cos))
    source = [(0, 0), (item.width, 0), (item.width, item.height), (0, item.height)]
    data = perspective_coefficients(source, corners)
    warped = item.transform(canvas.size, Image.Transform.PERSPECTIVE, data, Image.Resampling.BICUBIC)
    mask = Image.new("L", item.size, 255).transform(canvas.size, Image.Transform.PERSPECTIVE, data,
                                                   Image.Resampling.BILINEAR)
    canvas.paste(warped, (0, 0), mask)


def wall(rng: random.Random, size: tuple[int, int]) -> Image.Image:
    grey = rng.randint(90, 220)
    colour = np.array([grey + rng.randint(-20, 20) for _ in range(3)], np.float32)
    coarse = np.random.default_rng(rng.randrange(2**32)).normal(0, rng.uniform(4, 18), (size[1] // 64, size[0] // 64, 1))
    small = np.clip(colour + coarse, 0, 255).astype(np.uint8)
    return Image.fromarray(small, "RGB").resize(size, Image.Resampling.BICUBIC)


def light(rng: random.Random, img: Image.Image, glare: int, dim: tuple[float, float]) -> np.ndarray:
    """The picture as the camera saw it: an uneven light (brightest somewhere, falling off), glare spots.

    Both are smooth, so they are worked out on a picture an eighth the size and enlarged.
    """
    w, h = img.size
    sw, sh = max(8, w // 8), max(8, h // 8)
    ys, xs = np.mgrid[0:sh, 0:sw].astype(np.float32) * 8
    angle = rng.uniform(0, 2 * math.pi)
    ramp = (xs * math.cos(angle) + ys * math.sin(angle)) / max(w, h)
    ramp = (ramp - ramp.min()) / max(float(np.ptp(ramp)), 1e-6)
    low, high = dim
    gain = low + (high - low) * (1 - rng.uniform(0.3, 1.0) * ramp)
    shine = np.zeros_like(gain)
    for _ in range(glare):
        cx, cy = rng.uniform(0.25, 0.75) * w, rng.uniform(0.25, 0.75) * h
        sx, sy = rng.uniform(0.01, 0.06) * w, rng.uniform(0.01, 0.04) * w
        shine += rng.uniform(60, 200) * np.exp(-(((xs - cx) / sx) ** 2 + ((ys - cy) / sy) ** 2) / 2)

    def enlarged(field: np.ndarray) -> np.ndarray:
        return np.asarray(Image.fromarray(field.astype(np.float32), "F").resize((w, h), Image.Resampling.BILINEAR))

    pixels = np.asarray(img, np.float32) * enlarged(gain)[..., None]
    if glare:
        pixels += enlarged(shine)[..., None]
    return pixels


def finish(rng: random.Random, pixels: np.ndarray, noise: float, blur: float, grey: bool) -> Image.Image:
    grain = np.random.default_rng(rng.randrange(2**32)).standard_normal(pixels.shape[:2], np.float32) * noise
    noisy = pixels + grain[..., None]
    img = Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8), "RGB")
    if grey:
        img = img.convert("L").convert("RGB")
    return img.filter(ImageFilter.GaussianBlur(blur)) if blur > 0.2 else img


def phone_photo(rng: random.Random, face: Face) -> tuple[Image.Image, int]:
    """The face in a phone's photo, and the EXIF orientation it is stored with (1: as taken)."""
    size = PHONE if rng.random() < 0.7 else PHONE[::-1]
    canvas = wall(rng, size)
    fit = min(size[0], size[1] * face.image.width / face.image.height)
    width = fit * rng.uniform(0.45, 0.85)
    centre = (size[0] * rng.uniform(0.4, 0.6), size[1] * rng.uniform(0.4, 0.6))
    place(canvas, rng, face.image, centre, width, rng.uniform(-15, 15), rng.uniform(0, 0.05))
    if rng.random() < 0.4:  # the shadow of the hand or the phone
        shade = Image.new("L", size, 0)
        x, y = rng.uniform(0, size[0]), rng.uniform(0, size[1])
        r = rng.uniform(0.2, 0.5) * size[0]
        ImageDraw.Draw(shade).ellipse((x - r, y - r, x + r, y + r), fill=round(255 * rng.uniform(0.2, 0.5)))
        shade = shade.filter(ImageFilter.BoxBlur(size[0] // 30))
        canvas = Image.composite(Image.new("RGB", size, (0, 0, 0)), canvas, shade)
    pixels = light(rng, canvas, rng.choice([0, 1, 1, 2, 3]), (rng.uniform(0.55, 0.95), rng.uniform(1.0, 1.15)))
    img = finish(rng, pixels, rng.uniform(2, 8), rng.uniform(0, 3.0), False)
    orientation = rng.choice([1, 1, 1, 1, 6, 8])
    turn = {6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270}.get(orientation)
    return (img.transpose(turn) if turn else img), orientation


def camera_frame(rng: random.Random, face: Face) -> Image.Image:
    """The counter as a camera fixed close to it sees it: small, dim, noisy."""
    canvas = Image.new("RGB", FRAME, (10, 10, 10))
    counter_width = face.counter[2] - face.counter[0]
    width = FRAME[0] * rng.uniform(0.45, 0.85) * face.image.width / counter_width
    # The counter near the frame's middle: the face is placed so that its counter's centre lands there.
    cx = (face.counter[0] + face.counter[2]) / 2 / face.image.width - 0.5
    cy = (face.counter[1] + face.counter[3]) / 2 / face.image.height - 0.5
    scale = width / face.image.width
    target = (FRAME[0] * rng.uniform(0.4, 0.6), FRAME[1] * rng.uniform(0.35, 0.65))
    centre = (target[0] - cx * face.image.width * scale, target[1] - cy * face.image.height * scale)
    place(canvas, rng, face.image, centre, width, rng.uniform(-4, 4), rng.uniform(0, 0.015))
    pixels = light(rng, canvas, rng.choice([0, 0, 1]), (rng.uniform(0.15, 0.35), rng.uniform(0.35, 0.6)))
    return finish(rng, pixels, rng.uniform(3, 9), rng.uniform(0.3, 1.2), rng.random() < 0.3)


def as_telegram_sends(img: Image.Image, exif: Image.Exif, quality: int) -> Image.Image:
    """The phone's JPEG as a bot gets it when the consumer sends it as a photo (not as a file): Telegram turns it
    upright and keeps at most 1280 px on the long side (the largest of the sizes getFile offers)."""
    taken = io.BytesIO()
    img.save(taken, "JPEG", quality=quality, exif=exif)
    upright = ImageOps.exif_transpose(Image.open(taken))
    upright.thumbnail((TELEGRAM_SIDE, TELEGRAM_SIDE), Image.Resampling.LANCZOS)
    return upright


def make_set(out: Path, n: int, level: str, seed: int, shared: Path = SHARED, faces: tuple[str, ...] = ("drums",)) -> None:
    pieces = load_pieces(shared)
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "labels.csv", "w", newline="") as fh:
        rows = csv.writer(fh)
        rows.writerow(["file", "reading", "digits", "previous", "meter_type", "face", "fraction", "half_turned"])
        for i in range(n):
            meter = rng.choice(sorted(pieces.digits))
            count = rng.choice([4, 5, 5, 6, 6, 7])
            reading = "".join(str(rng.randint(0, 9)) for _ in range(count))
            fraction = "".join(str(rng.randint(0, 9)) for _ in range(rng.choice([0, 1, 1, 1, 2, 3])))
            half = level == "frame" and rng.random() < 0.33 and bool(pieces.halves.get(meter, {}).get(int(reading[-1])))
            kind = rng.choice(faces)
            face = FACES[kind](rng, pieces, Counter(meter, reading, fraction, half))
            name = f"{i:04d}.jpg"
            if level in ("photo", "telegram"):
                img, orientation = phone_photo(rng, face)
                exif = Image.Exif()
                if orientation != 1:
                    exif[0x0112] = orientation
                quality = rng.randint(70, 90)
                if level == "telegram":
                    img = as_telegram_sends(img, exif, quality)
                    img.save(out / name, quality=TELEGRAM_QUALITY)
                else:
                    img.save(out / name, quality=quality, exif=exif)
            else:
                camera_frame(rng, face).save(out / name, quality=rng.randint(60, 85))
            previous = max(0, int(reading) - rng.randint(20, 900))
            rows.writerow([name, reading, count, str(previous).zfill(count), meter, kind, fraction, int(half)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--level", choices=("photo", "telegram", "frame"), default="photo")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--shared", type=Path, default=SHARED)
    parser.add_argument("--faces", default="drums", help=f"comma-separated kinds of meter face, of {', '.join(FACES)}")
    args = parser.parse_args()
    make_set(args.out, args.n, args.level, args.seed, args.shared, tuple(args.faces.split(",")))


if __name__ == "__main__":
    main()
