"""Pictures the tests draw: meter counters and faces for the recognizer, and a phone camera's photo."""
from __future__ import annotations

import functools
import io
import random

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont


def meter_font(size: int):
    for name in ("DejaVuSansCondensed-Bold.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed-Bold.ttf"):
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            pass
    return ImageFont.load_default(size=size)


def draw_counter(reading: str, *, light_digits: bool = True, height: int = 90, seed: int = 0,
                 red: bool = False, turned: float = 0.0, carry: float = 0.0) -> Image.Image:
    """A drum counter: one window per digit inside a dark frame; red: light digits on red drums (fractions).

    turned: how far the last drum has rolled from its digit towards the next one (0.5: the bottom half of the
    digit above the top half of the next). carry: how far the drums before it that a 9 -> 0 carries over have
    rolled along (each drum showing 9 just before the last, and the drum before them).
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
        carried = reading[-1] == "9" and set(reading[i + 1 : -1]) <= {"9"}
        roll = round(turned * pitch) if i == len(reading) - 1 else round(carry * pitch) if carried else 0
        img.paste(surface.crop((0, roll, cell_w, roll + height)), (x, frame))
    return img.filter(ImageFilter.GaussianBlur(0.6))


def draw_counter_framed_apart(reading: str, *, light_digits: bool = True, height: int = 90, seed: int = 0,
                              turned: float = 0.0) -> Image.Image:
    """A drum counter whose windows are each framed their own way (as one composed from photographed crops): each
    window cut a little lower or higher, so the digits do not line up. turned: the last drum, as in draw_counter."""
    rng = random.Random(seed)
    frame, gap = max(4, height // 9), max(2, height // 14)
    windows = []
    for i, digit in enumerate(reading):
        drum = draw_counter(digit, light_digits=light_digits, height=height, seed=seed + i,
                            turned=turned if i == len(reading) - 1 else 0.0)
        window = drum.crop((frame, frame, drum.width - frame, drum.height - frame))
        top, bottom = rng.randint(0, height // 10), rng.randint(0, height // 10)
        windows.append(window.crop((0, top, window.width, window.height - bottom)).resize(window.size))
    img = Image.new("RGB", (sum(w.width for w in windows) + gap * (len(windows) - 1) + 2 * frame, height + 2 * frame),
                    (15, 15, 15))
    for i, window in enumerate(windows):
        img.paste(window, (frame + i * (window.width + gap), frame))
    return img


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


def jpeg(img: Image.Image, quality: int = 88, **kwargs) -> bytes:
    out = io.BytesIO()
    img.save(out, "JPEG", quality=quality, **kwargs)
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


def draw_face(reading: str, *, fraction: str = "", serial: str = "48213377", model: str = "NIK 2102-02",
              seed: int = 0) -> Image.Image:
    """A meter's face as it is printed: the model, the counter (black drums, then red fraction drums), the serial
    number under it in smaller print, the unit, and the small print of its ratings at the bottom."""
    counter = draw_counter(reading, height=110, seed=seed)
    if fraction:
        red = draw_counter(fraction, height=110, seed=seed + 1, red=True)
        joined = Image.new("RGB", (counter.width + red.width, counter.height), (15, 15, 15))
        joined.paste(counter, (0, 0))
        joined.paste(red, (counter.width, 0))
        counter = joined
    face = Image.new("RGB", (max(1000, counter.width + 240), 1150), (226, 224, 214))
    draw = ImageDraw.Draw(face)
    draw.text((70, 60), model, font=meter_font(64), fill=(25, 25, 25))
    left = (face.width - counter.width) // 2
    face.paste(counter, (left, 330))
    draw.text((left + counter.width + 20, 370), "kWh", font=meter_font(52), fill=(25, 25, 25))
    draw.text((left, 330 + counter.height + 40), f"№ {serial}", font=meter_font(48), fill=(25, 25, 25))
    for row, text in enumerate(("220V 5-60A 50Hz   кл. 1,0", "1600 imp/kWh   5x10⁻⁵", "2019   ДСТУ EN 50470-1")):
        draw.text((70, 860 + 70 * row), text, font=meter_font(40), fill=(40, 40, 40))
    return face


def shadowed(face: Image.Image, start: float = 0.45, depth: float = 0.5) -> Image.Image:
    """The face in a hand's shadow from its left edge to `start` of its width (its light down to `depth`), the
    shadow fading over the next 15 % of the width."""
    light = [depth + (1 - depth) * min(1.0, max(0.0, (x / face.width - start) / 0.15)) for x in range(face.width)]
    gain = Image.new("L", (face.width, 1))
    gain.putdata([round(255 * value) for value in light])
    black = Image.new("RGB", face.size, (0, 0, 0))
    return Image.composite(face, black, gain.resize(face.size))


def phone_meter_photo(*faces: Image.Image, angle: float = 6.0, size: tuple[int, int] = (2448, 3264)) -> bytes:
    """A phone's photo (portrait, 8 MP) of one meter face, or of several side by side: on a wall, tilted, soft."""
    wall = Image.effect_noise((size[0] // 8, size[1] // 8), 30).convert("RGB").resize(size, Image.Resampling.BILINEAR)
    wall = Image.blend(wall, Image.new("RGB", size, (150, 140, 125)), 0.6)
    width = int(size[0] * 0.8 / len(faces))
    for k, face in enumerate(faces):
        shown = face.resize((width - 40, round((width - 40) * face.height / face.width)))
        shown = shown.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=(60, 60, 60))
        wall.paste(shown, (int(size[0] * 0.1) + k * width, (size[1] - shown.height) // 2))
    return jpeg(wall.filter(ImageFilter.GaussianBlur(1.2)))



def camera_frame(counter: Image.Image, *, light: float = 0.3, noise: float = 10.0, seed: int = 0) -> bytes:
    """A fixed camera's frame of a counter (640 × 480, JPEG): close on its meter face, dim, grey (infrared), noisy."""
    face = draw_meter(counter, 2.0).convert("L")
    frame = Image.new("L", (640, 480), 10)
    shown = face.resize((500, round(500 * face.height / face.width)))
    frame.paste(shown, (70, 240 - shown.height // 2))
    grain = np.random.default_rng(seed).normal(0.0, noise, (480, 640))
    pixels = np.clip(np.asarray(frame, np.float64) * light + grain, 0, 255).astype(np.uint8)
    return jpeg(Image.fromarray(pixels).convert("RGB").filter(ImageFilter.GaussianBlur(0.8)), quality=70)
