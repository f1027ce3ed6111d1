"""Electronic meters: a 7-segment LCD read as its integer part, its tariff zone recognised or asked for.

The displays are drawn by benchmarks/lcd_set.py's drawing functions (no digit crops, nothing from ../shared).
"""
from __future__ import annotations

import functools
import json

import numpy as np
import pytest
from PIL import Image, ImageDraw

from benchmarks.lcd_set import SEGMENTS, LcdLook, draw_face, draw_lcd, jpeg, phone_photo
from bot import recognize
from core.recognition import default_reader
from core.recognition.lcd import LcdReader, read_display
from core.recognition.lines import LineMeterReader
from core.recognition.photo import load_photo
from storage.exchange import submitted_readings
from tests.support.chat import ChatDriver
from tests.support.drivers import CHANNELS, link_demo_account, open_chat

READER = default_reader()
DIM = LcdLook(glass=(176, 190, 160), lit=(70, 84, 70), ghost=0.18, slant=0.1)  # a low-contrast display
GREY = LcdLook(glass=(176, 192, 192), lit=(88, 98, 100), ghost=0.1, slant=0.08)  # grey glass, no backlight
BACKLIT = {  # light digits on dark glass, dark digits on a bright backlight
    "blue-negative": LcdLook(glass=(30, 62, 160), lit=(212, 236, 255), ghost=0.12, slant=0.08, kind="blue-negative"),
    "green-negative": LcdLook(glass=(24, 80, 40), lit=(190, 250, 180), ghost=0.12, slant=0.08, kind="green-negative"),
    "blue": LcdLook(glass=(130, 190, 240), lit=(28, 36, 90), ghost=0.12, slant=0.08, kind="blue"),
    "green": LcdLook(glass=(165, 215, 70), lit=(32, 52, 28), ghost=0.12, slant=0.08, kind="green"),
}


@functools.cache
def meter_photo(shown: str, zone: int | None = None, marker: int | None = None, angle: float = 7.0,
                look: LcdLook = DIM) -> bytes:
    """A phone's photo (3024 x 4032) of an electronic meter whose display shows `shown`."""
    lcd = draw_lcd(shown, zone=zone, marker=marker, legend=3 if marker else 0, height=110, look=look)
    face = draw_face(lcd, model="GAMA 100 G1B", serial="4815162342", year=2019)
    return jpeg(phone_photo(face, angle=angle, seed=5), 85)


def display_crop(shown: str, zone: int | None = None) -> bytes:
    """The display cut out close, as a consumer crops it."""
    return jpeg(draw_lcd(shown, zone=zone, height=70), 80)


def test_a_phone_photo_of_an_lcd_is_read_as_its_integer_part():
    read = READER.read(meter_photo("012345.6"), digits=6, previous=12100, meter_type="NIK 2102-02")
    assert read.reading == "012345"
    assert read.zone is None


def test_a_display_is_looked_for_when_the_drums_are_not_read_whatever_the_type():
    assert READER.read(meter_photo("012345.6"), digits=6, previous=12100, meter_type="").reading == "012345"


@pytest.mark.parametrize(("shown", "digits", "previous"), [("04821.7", 5, None), ("  4821.7", 6, 4700)])
def test_the_digit_after_the_point_is_never_part_of_the_reading(shown, digits, previous):
    read = READER.read(display_crop(shown), digits=digits, previous=previous, meter_type="CE 102")
    assert read.reading == "4821".zfill(digits)


def test_a_display_that_fits_the_previous_reading_only_with_its_fraction_digit_is_not_read():
    # 02345.6 is 23456 without its point: the billing window (23000 + use) holds 23456, not 02345.
    read = READER.read(display_crop("02345.6"), digits=5, previous=23000, meter_type="GAMA 100")
    assert read.reading is None
    assert "23456" not in read.candidates[:1]


@pytest.mark.parametrize("picture", [display_crop, meter_photo])
def test_a_display_not_read_clearly_is_not_handed_to_the_drum_reader_which_reads_its_fraction_in(picture):
    # The display shows a digit fewer than billing counts (00432.6 for a six-digit meter): the display reader is not
    # sure; the drum reader, reading the whole row, took the fraction digit in (004326, 0.99).
    read = READER.read(picture("00432.6"), digits=6, previous=4250, meter_type="GAMA 100")
    assert read.reading is None
    assert "004326" not in read.candidates


@pytest.mark.parametrize("slant", [0.0, 0.12])
def test_the_lit_segments_spell_the_integer_part_ghosts_unlit(slant):
    look = LcdLook(ghost=0.2, slant=slant)
    display = read_display(load_photo(jpeg(draw_lcd("1047269.5", height=80, look=look), 85)))
    assert display is not None and display.point
    assert display.segments == "1047269"


def real_like_display(shown: str, height: int = 80, point: bool = True) -> Image.Image:
    """A display drawn as the real ones of meter-digits' LCD crops look: digits leaning, strokes a fifth of their
    height, short bars between long uprights, gaps where segments meet, ghosts plain to see, cells
    close together; a point at the digits' foot (or none seen) and a smaller fraction digit after it."""
    glass, lit = (176, 192, 192), (62, 70, 72)
    ghost = tuple(round(g + 0.3 * (k - g)) for g, k in zip(glass, lit))
    whole, _, fraction = shown.partition(".")
    pitch, pad, margin, slant = 0.6 * height, 0.35 * height, round(0.45 * height), 0.2
    glass_w, glass_h = 2 * pad + (len(whole) + 0.75 * len(fraction)) * pitch + 0.55 * height, 1.6 * height
    img = Image.new("RGB", (round(glass_w) + 2 * margin, round(glass_h) + 2 * margin), (214, 214, 208))
    pen = ImageDraw.Draw(img)
    pen.rectangle((margin - 4, margin - 4, margin + glass_w + 4, margin + glass_h + 4), fill=(60, 62, 60))
    pen.rectangle((margin, margin, margin + glass_w, margin + glass_h), fill=glass)
    foot = margin + 0.3 * height + height

    def digit(ch: str, left: float, h: float) -> None:
        w, s, g = 0.55 * h, 0.2 * h, 0.04 * h
        boxes = {"a": (s + g, 0, w - s - g, s), "g": (s + g, (h - s) / 2, w - s - g, (h + s) / 2),
                 "d": (s + g, h - s, w - s - g, h), "f": (0, g, s, (h - g) / 2), "b": (w - s, g, w, (h - g) / 2),
                 "e": (0, (h + g) / 2, s, h - g), "c": (w - s, (h + g) / 2, w, h - g)}
        for name, (x0, y0, x1, y1) in boxes.items():
            corners = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
            pen.polygon([(left + x + slant * (h - y), foot - h + y) for x, y in corners],
                        fill=lit if name in SEGMENTS[ch] else ghost)

    x = margin + pad
    for ch in whole:
        digit(ch, x, height)
        x += pitch
    dot = x + 0.04 * height  # clear of the last digit's lean
    pen.rectangle((dot, foot - 0.12 * height, dot + 0.12 * height, foot), fill=lit if point else glass)
    x += 0.35 * height
    for ch in fraction:
        digit(ch, x, 0.75 * height)
        x += 0.75 * pitch
    return img


def test_real_looking_digits_leaning_thick_and_apart_are_spelled_by_their_lit_segments():
    # Real displays' digits (meter-digits' LCD crops) lean, have thick strokes, short bars and gaps between their
    # segments, and plain ghosts: the segment decoder spelled none of the displays composed from them (here: 1847269).
    display = read_display(load_photo(jpeg(real_like_display("1047269.5"), 85)))
    assert display is not None and display.point
    assert display.segments == "1047269"


def test_with_no_point_seen_the_segments_spell_the_integer_part_when_the_fraction_digits_are_smaller():
    # lcd-real: a sixth of the displays had no point seen (too faint, or merged with a digit's foot), and the models
    # read the whole row with nothing to check them. The fraction's smaller digits tell where the integer part ends.
    display = read_display(load_photo(jpeg(real_like_display("1047269.5", point=False), 85)))
    assert display is not None and not display.point
    assert display.segments == "1047269"


@pytest.mark.parametrize("kind", BACKLIT)
def test_a_backlit_display_is_found_and_its_lit_segments_spelled(kind):
    display = read_display(load_photo(jpeg(draw_lcd("1047269.5", height=80, look=BACKLIT[kind]), 85)))
    assert display is not None and display.point
    assert display.segments == "1047269"


@pytest.mark.parametrize("kind", BACKLIT)
def test_a_backlit_display_is_read_whichever_way_its_digits_are_lit(kind):
    read = READER.read(meter_photo("012345.6", look=BACKLIT[kind]), digits=6, previous=12100, meter_type="GAMA 100")
    assert read.reading == "012345"
    crop = READER.read(jpeg(draw_lcd("04821.7", height=70, look=BACKLIT[kind]), 80), digits=5, previous=4700)
    assert crop.reading == "04821"


def test_a_grey_display_without_backlight_is_found_and_its_lit_segments_spelled():
    display = read_display(load_photo(jpeg(draw_lcd("1047269.5", height=80, look=GREY), 85)))
    assert display is not None and display.point
    assert display.segments == "1047269"


@pytest.mark.parametrize("picture", ["crop", "photo"])
def test_a_grey_display_is_not_handed_to_the_drum_reader_which_reads_its_fraction_in(picture):
    # Not found as a display, the grey display went to the drum reader, which read the fraction in: 004326 at 0.99.
    lcd = draw_lcd("00432.6", height=70 if picture == "crop" else 110, look=GREY)
    if picture == "photo":
        lcd = phone_photo(draw_face(lcd, model="GAMA 100 G1B", serial="4815162342", year=2019), angle=7.0, seed=5)
    read = READER.read(jpeg(lcd, 80), digits=6, previous=4250, meter_type="GAMA 100")
    assert read.reading is None
    assert "004326" not in read.candidates[:1]


def digit_cell_foot(height: int, cell: int) -> tuple[float, float]:
    """Where draw_lcd puts the right edge of a digit cell's foot (x, y), for a display drawn `height` high."""
    margin = round(0.45 * height)
    top = margin + 0.75 * height / 2 + 0.12 * height
    return margin + 0.8 * height + cell * 0.7 * height + 0.52 * height, top + height


def test_a_comma_between_the_digits_is_not_taken_for_the_decimal_point():
    # A real display's comma after the third digit, as large as its point: the point was taken there, the cut
    # `012` and nothing read; two such marks are no point, and the reading is what the whole row spells.
    look = LcdLook(ghost=0.15, slant=0.0)
    img = draw_lcd("012345.6", height=80, look=look)
    x, foot = digit_cell_foot(80, 2)
    ImageDraw.Draw(img).rectangle((x + 0.09 * 80 - 4.4, foot - 8.8, x + 0.09 * 80 + 4.4, foot), fill=look.lit)
    photo = jpeg(img, 85)
    assert read_display(load_photo(photo)).segments != "012"
    assert READER.read(photo, digits=6, previous=12100, meter_type="GAMA 100").reading == "012345"


def test_a_point_a_little_below_the_digits_feet_is_found():
    # Not found, the display went to the drum reader, which read the fraction in: 004326.
    look = LcdLook(ghost=0.15, slant=0.0)
    img = draw_lcd("00432.6", height=80, look=look)
    x, foot = digit_cell_foot(80, 4)
    point = x + 0.14 * 80
    pen = ImageDraw.Draw(img)
    pen.rectangle((point - 5.4, foot - 9.8, point + 5.4, foot + 1), fill=look.glass)
    pen.rectangle((point - 4.4, foot + 16 - 8.8, point + 4.4, foot + 16), fill=look.lit)
    photo = jpeg(img, 85)
    display = read_display(load_photo(photo))
    assert display is not None and display.point and display.segments == "00432"
    read = READER.read(photo, digits=6, previous=4250, meter_type="GAMA 100")
    assert read.reading is None and "004326" not in read.candidates[:1]


class Spelling:
    """A text-line model that spells every line as `text`, surely (the recognisers' misreadings, reproduced); where
    `doubt` has other digits, it gives them `share` of their frames."""

    def __init__(self, text: str, doubt: str = "", share: float = 0.0):
        self.text, self.doubt, self.share = text, doubt or text, share

    def frames(self, line: Image.Image) -> np.ndarray:
        frames = np.zeros((2 * len(self.text) + 1, 11))
        frames[::2, 0] = 1.0
        for k, digit in enumerate(self.text):
            frames[2 * k + 1, int(digit) + 1] = 1.0
            if self.doubt[k] != digit:
                frames[2 * k + 1, int(digit) + 1] = 1 - self.share
                frames[2 * k + 1, int(self.doubt[k]) + 1] = self.share
        return frames


@pytest.mark.parametrize(("shown", "spelled", "previous", "glyphs"), [
    ("077549", "077514199", 77300, ()),  # no point seen: cells' edges read as 1s, more digits than a display has
    ("41225.0", "411225", 41100, (("5", "afgd"),)),  # the point seen, a digit more before it; a 5 no decoder spells
])
def test_a_display_the_models_spell_with_other_digits_than_the_reading_is_not_read(shown, spelled, previous, glyphs):
    # Seen on displays composed from real photographed digits (benchmarks/lcd_set.py's lcd-real): both models spelled
    # such a line and the billing window fitted a reading into it (077514 for 077549.9, 41229 for 41225.0).
    reader = LcdReader(lambda: [Spelling(spelled), Spelling(spelled)])
    photo = load_photo(jpeg(draw_lcd(shown, height=80, look=LcdLook(ghost=0.15, glyphs=glyphs)), 85))
    read = reader.read_photo(photo, digits=len(shown.partition(".")[0]), previous=previous)
    assert read is not None and read.reading is None
    assert read.candidates[0] == spelled[:len(shown.partition(".")[0])]


@pytest.mark.parametrize(("share", "reading"), [(0.3, "030304"), (0.002, None)])
def test_a_4_the_models_take_for_a_9_is_read_as_its_segments_spell_it_only_when_the_models_find_that_likely(
        share, reading):
    # Both recognisers take a real display's 4 for a 9 (lcd-real: 030304.3 was read 030309); a 9 has its top and
    # bottom bars lit, a 4 not. The segments' reading is given when the models too find it likely; a digit they
    # give next to nothing is not read from the segments alone: not sure.
    reader = LcdReader(lambda: [Spelling("030309", "030304", share), Spelling("030309", "030304", share)])
    read = reader.read_photo(load_photo(jpeg(real_like_display("030304.3"), 85)), digits=6, previous=30100)
    assert read is not None and read.reading == reading
    assert "030304" in (read.reading, *read.candidates)


def test_the_drum_engine_alone_does_not_read_the_display():
    """What the reader did before electronic meters: the photo of a display was never read."""
    drums = LineMeterReader()
    assert drums.read(meter_photo("012345.6"), digits=6, previous=12100).reading is None


@pytest.mark.parametrize("zone", [1, 2])
def test_a_zone_label_on_the_display_is_recognised(zone):
    # Both zones' windows hold 23500: only the label says which zone it is.
    read = READER.read(meter_photo("023500.4", zone=zone), digits=6, meter_type="GAMA 100",
                       zone_previous=(23456, 23300))
    assert (read.reading, read.zone) == ("023500", zone)


def test_a_lit_marker_under_the_printed_zone_legend_is_recognised():
    read = READER.read(meter_photo("023500.4", marker=2), digits=6, meter_type="NIK 2102",
                       zone_previous=(23456, 23300))
    assert (read.reading, read.zone) == ("023500", 2)


def test_no_zone_is_said_when_the_display_shows_none():
    read = READER.read(meter_photo("023500.4"), digits=6, meter_type="GAMA 100", zone_previous=(23456, 9870))
    assert (read.reading, read.zone) == ("023500", None)


def kabinet_recognize(argv: list[str], capsys) -> tuple[int, list[dict]]:
    """`kabinet recognize ARGV`: its exit code and the JSON lines it printed."""
    code = recognize.main(["recognize", *argv])
    return code, [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_the_command_reads_a_zone_display_with_the_type_and_each_zones_previous_reading(tmp_path, capsys):
    photo = tmp_path / "display.jpg"
    photo.write_bytes(meter_photo("023500.4", zone=2))
    code, lines = kabinet_recognize([str(photo), "--digits", "6", "--type", "GAMA 100", "--zones", "23456,23300"],
                                    capsys)
    assert code == 0
    assert (lines[0]["reading"], lines[0]["zone"]) == ("023500", 2)


def test_the_command_takes_the_type_and_zones_from_the_manifest(tmp_path, capsys):
    (tmp_path / "t1.jpg").write_bytes(meter_photo("023500.4", zone=1))
    (tmp_path / "plain.jpg").write_bytes(meter_photo("012345.6"))
    manifest = tmp_path / "photos.csv"
    manifest.write_text('file,digits,previous,type,zones\nt1.jpg,6,,NIK 2102,"23456,23300"\n'
                        "plain.jpg,6,12100,NIK 2102,\n", encoding="utf-8")
    code, lines = kabinet_recognize(["--manifest", str(manifest)], capsys)
    assert code == 0
    assert [(line["reading"], line.get("zone")) for line in lines] == [("023500", 1), ("012345", None)]
    assert "zone" not in lines[1]  # a display that shows no zone: the line says none


def test_the_command_refuses_zones_it_cannot_use(capsys):
    with pytest.raises(SystemExit) as refused:
        recognize.main(["recognize", "x.jpg", "--digits", "6", "--zones", "23456"])
    assert refused.value.code == 2
    said = capsys.readouterr().err
    assert "--zones" in said and "2 or 3 zones" in said


@pytest.fixture(params=CHANNELS)
async def reading_consumer(request, kabinet, demo_database, photo_reader, tmp_path):
    kabinet.reader = photo_reader
    async with open_chat(request.param, kabinet, demo_database, tmp_path) as chat:
        yield chat


async def link_two_zone_account(chat: ChatDriver) -> None:
    await link_demo_account(chat, "1705339110", "Дем'яненко")


async def test_a_two_zone_display_without_its_zone_asks_which_zone_it_is(reading_consumer, demo_database):
    chat = reading_consumer
    await link_two_zone_account(chat)
    asked = await chat.photo(meter_photo("023500.4"))
    assert "На фото я бачу показники 023500 (лічильник 7701234), але не бачу, якої вони зони." in asked
    assert chat.buttons == ["T1 (день)", "T2 (ніч)", "Введу сам"]
    noted = await chat.press("T1 (день)")
    assert noted == ("Зона T1 (день): 023500 — записано. Надішліть фото дисплея, коли він покаже зону T2 (ніч), "
                     "або введіть її показники.")
    async with demo_database.session() as session:
        assert await submitted_readings(session, None) == []  # nothing is submitted before every zone has a value
    accepted = await chat.say("9950")
    assert accepted.startswith("✅ Показники лічильника 7701234 прийнято: день: 23500 / ніч: 9950 (30.11.2026).")
    async with demo_database.session() as session:
        rows = await submitted_readings(session, None)
    assert sorted((row["zone"], row["value"]) for row in rows) == [(1, 23500), (2, 9950)]
    assert all(row["photo"] for row in rows)


async def test_a_two_zone_display_showing_its_zone_is_offered_for_that_zone(kabinet, demo_database, photo_reader,
                                                                             tmp_path):
    kabinet.reader = photo_reader
    async with open_chat("console", kabinet, demo_database, tmp_path) as chat:
        await link_two_zone_account(chat)
        offered = await chat.photo(meter_photo("009950.1", zone=2))
        assert "На фото я бачу показники зони T2 (ніч): 009950 (лічильник 7701234). Правильно?" in offered
        assert chat.buttons == ["Так, передати", "Введу сам"]
        assert "Зона T2 (ніч): 009950 — записано" in await chat.press("Так, передати")
        offered = await chat.photo(meter_photo("023500.4", zone=1))
        assert "зони T1 (день): 023500" in offered
        accepted = await chat.press("Так, передати")
        assert accepted.startswith("✅ Показники лічильника 7701234 прийнято: день: 23500 / ніч: 9950")


def test_a_real_crop_with_no_segment_lit_is_a_blank_cell_not_a_zero():
    """lcd_set.py's lcd-real level: meter-digits labels a display's blank leading cells "0.0"; a crop of bare glass
    is kept as a blank cell, a drawn 0 is not."""
    from PIL import Image

    from benchmarks.lcd_set import blank

    assert blank(Image.new("RGB", (38, 64), (150, 160, 150)))
    assert not blank(draw_lcd("0", height=60, unit=False).crop((70, 50, 110, 122)))
