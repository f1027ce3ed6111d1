"""Pictures the tests draw: meter counters and faces for the recognizer, and a phone camera's photo."""
from __future__ import annotations

import functools
import io
import random

from PIL import Image, ImageDraw, ImageFilter, ImageFont


def meter_font(size: int):
    for name in ("DejaVuSansCondensed-Bold.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed-Bold.ttf"):
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            pass
    return ImageFont.load_default(size=size)


def draw_counter(reading: str, *, light_digits: bool = True, height: int = 90, seed: int = 0,
                 red: bool = False, turned: float = 0.0) -> Image.Image:
    """A drum counter: one window per digit inside a dark frame; red: light digits on red drums (fractions).

    turned: how far the last drum has rolled from its digit towards the next one (0.5: the bottom half of the
    digit above the top half of the next).
    """
    rng = random.Random(seed)
    cell_w, gap, frame = int(height * 0.62), max(2, height // 14), max(4, height // 9)
    width = len(reading) * cell_w + (len(reading) - 1) * gap + 2 * frame
    img = Image.new("RGB", (width, height + 2 * frame), (15, 15, 15))
    font = meter_font(int(height * 0.8))
    for i, ch in enumerate(reading):
        x = frame + i * (cell_w + gap)
        drum = (rng.randint(35, 60),) * 3 if light_digits else (rng.randint(215, 240),) * 3
        ink = (rng.randint(215, 245),) * 3 if light_digits else (rng.randint(10, 40),) * 3
        if red:
            drum, ink = (rng.randint(160, 200), rng.randint(15, 40), rng.randint(20, 45)), (240, 232, 225)
        # The drum's surface around the window: this digit, the next one below it (a sliver of each shows
        # beyond a whole digit's window, as on real drums).
        pitch = round(height * 0.8)
        surface = Image.new("RGB", (cell_w, height + pitch), drum)
        pen = ImageDraw.Draw(surface)
        for step, shown in enumerate((ch, str((int(ch) + 1) % 10))):
            box = pen.textbbox((0, 0), shown, font=font)
            tx = (cell_w - (box[2] - box[0])) // 2 - box[0]
            ty = step * pitch + (height - (box[3] - box[1])) // 2 - box[1]
            pen.text((tx, ty), shown, font=font, fill=ink)
        roll = round(turned * pitch) if i == len(reading) - 1 else 0
        img.paste(surface.crop((0, roll, cell_w, roll + height)), (x, frame))
    return img.filter(ImageFilter.GaussianBlur(0.6))


def draw_meter(counter: Image.Image, angle: float) -> Image.Image:
    """The counter on a light meter face with print around it, tilted."""
    face = Image.new("RGB", (900, 800), (222, 218, 205))
    draw = ImageDraw.Draw(face)
    scale = 450 / counter.width
    counter = counter.resize((450, round(counter.height * scale)))
    face.paste(counter, (200, 280))
    draw.text((80, 60), "GAMA 100", font=meter_font(44), fill=(30, 30, 30))
    draw.text((220, 300 + counter.height), "kWh", font=meter_font(40), fill=(30, 30, 30))
    draw.text((80, 680), "No 48213377   2019   220V 5-60A", font=meter_font(24), fill=(30, 30, 30))
    return face.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=(40, 40, 40))


def jpeg(img: Image.Image, **kwargs) -> bytes:
    out = io.BytesIO()
    img.save(out, "JPEG", quality=88, **kwargs)
    return out.getvalue()


def png(img: Image.Image) -> bytes:
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


@functools.cache
def phone_photo() -> bytes:
    """A JPEG the size a phone camera takes (4032 × 3024): the meter's face on a wall, with noise."""
    wall = Image.effect_noise((504, 378), 40).convert("RGB").resize((4032, 3024), Image.Resampling.BILINEAR)
    wall.paste(draw_meter(draw_counter("12480", height=240, seed=7), 3.0).resize((1800, 1600)), (1100, 700))
    return jpeg(wall)
