"""Meter-photo recognition on counters the tests draw themselves, and on hostile bytes."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

from bot import recognize
from core.recognition import PhotoRejected, Recognition, default_reader
from core.recognition.counter import split_cells, trim_frame
from core.recognition.decode import decode
from core.recognition.drums import arriving_in_window, last_drum_half_turned
from core.recognition.engine import MeterPhotoReader
from core.recognition.lines import LineMeterReader, free_reading, integer_drums, spelling_log_likelihood
from core.recognition.photo import WORKING_SIDE, load_photo
from tests.support.pictures import (camera_frame, draw_counter, draw_counter_framed_apart, draw_meter, jpeg, meter_font,
                                    png)

READER = default_reader()
# Both engines read the drawn counters: the text-line models (the default) and the font templates.
ENGINES = {"lines": READER, "templates": MeterPhotoReader()}


@pytest.fixture(params=sorted(ENGINES))
def engine(request):
    return ENGINES[request.param]


@pytest.mark.parametrize(
    ("reading", "previous", "light"),
    [("048213", 48120, True), ("739560", 739200, False), ("19087", 18990, True), ("5602418", 5602260, False)],
)
def test_reads_a_drawn_counter_strip(reading, previous, light, engine):
    result = engine.read(jpeg(draw_counter(reading, light_digits=light)), digits=len(reading), previous=previous)
    assert result.reading == reading
    assert 0.6 <= result.confidence <= 1.0


def test_reads_a_counter_without_previous_reading(engine):
    result = engine.read(png(draw_counter("360457", light_digits=False)), digits=6)
    assert result.reading in (None, "360457")
    assert "360457" in ((result.reading,) + result.candidates)


def test_without_the_number_of_digits_it_finds_how_many_cells_there_are(engine):
    result = engine.read(jpeg(draw_counter("52718", light_digits=False)))
    assert (result.reading or result.candidates[0]) == "52718"


@pytest.mark.parametrize(("reading", "angle"), [("215093", 0.0), ("604178", 6.0), ("88314", -5.0)])
def test_finds_the_counter_on_a_tilted_meter_face(reading, angle, engine):
    photo = draw_meter(draw_counter(reading, seed=3), angle)
    result = engine.read(jpeg(photo), digits=len(reading), previous=int(reading) - 140)
    assert result.reading == reading


def test_follows_exif_orientation(engine):
    strip = draw_counter("402215")
    # Stored lying on its side; EXIF orientation 6 says "rotate 90° clockwise to view".
    stored = strip.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    result = engine.read(jpeg(stored, exif=exif.tobytes()), digits=6, previous=402100)
    assert result.reading == "402215"


@pytest.mark.parametrize(("reading", "turned", "previous", "light"), [
    ("48216", 0.5, 48120, True),  # the bottom of a 6 over the top of a 7
    ("73953", 0.4, 73700, False),
    ("19087", 0.6, 18990, True),
    ("560249", 0.5, 560100, False),  # turning 9 -> 0
])
def test_a_drum_caught_between_two_digits_reads_as_the_lower_one_or_not_sure(reading, turned, previous, light):
    strip = draw_counter(reading, light_digits=light, turned=turned)
    for photo in (strip, draw_meter(strip, 3.0)):
        result = READER.read(jpeg(photo), digits=len(reading), previous=previous)
        assert result.reading in (None, reading), result


@pytest.mark.parametrize(("reading", "turned", "light"), [
    ("45673", 0.7, True),  # mostly the 4 in view, arriving from below: the value is still 45673
    ("48213", 0.8, False),
    ("7310", 0.7, False),  # between 0 and 1
    ("560249", 0.8, True),  # turning 9 -> 0, the drum before it not yet advanced: 560249, never 560240
    # Nearly arrived: the next digit almost whole, only lower than the digits beside it (read 45674, 48214, 560249)
    ("45673", 0.85, False),
    ("48213", 0.9, True),
    ("560248", 0.9, False),
])
def test_a_drum_turned_past_half_way_is_never_read_as_the_next_digit(reading, turned, light):
    """The lower digit is the value; the one arriving, mostly in view, is read surely by the models."""
    strip = draw_counter(reading, light_digits=light, turned=turned)
    for photo in (strip, draw_meter(strip, 3.0)):
        result = READER.read(jpeg(photo), digits=len(reading), previous=int(reading) - 150)
        assert result.reading in (None, reading), result


@pytest.mark.parametrize(("reading", "turned", "light", "seed"), [
    ("45673", 0.85, False, 0),  # read 45674 before
    ("560248", 0.9, False, 2),
    ("7315", 0.85, True, 3),
])
def test_a_drum_nearly_arrived_is_not_read_as_the_next_digit_where_the_windows_do_not_line_up(reading, turned, light,
                                                                                               seed):
    """Each window framed its own way (a counter composed from photographed crops): the arriving digit is told by its
    place in its own window, low under the leaving digit's remains, not by the other windows' digits."""
    strip = draw_counter_framed_apart(reading, light_digits=light, turned=turned, seed=seed)
    for photo in (strip, draw_meter(strip, 3.0)):
        result = READER.read(jpeg(photo), digits=len(reading), previous=int(reading) - 150)
        assert result.reading in (None, reading), result


@pytest.mark.parametrize(("reading", "light", "seed"), [("45673", False, 0), ("560248", False, 2), ("7315", True, 3),
                                                        ("48213", True, 1), ("90817", False, 4)])
def test_whole_drums_framed_apart_are_read_and_none_is_taken_for_one_nearly_arrived(reading, light, seed):
    strip = draw_counter_framed_apart(reading, light_digits=light, seed=seed)
    assert READER.read(jpeg(strip), digits=len(reading), previous=int(reading) - 150).reading == reading
    windows = split_cells(trim_frame(strip), len(reading))
    assert not any(arriving_in_window(window) for window in windows), reading


def test_a_window_shows_a_drum_nearly_arrived_by_the_digit_low_under_the_leaving_ones_remains():
    for light in (True, False):
        for turned, arrived in ((0.0, False), (0.1, False), (0.2, False), (0.8, True), (0.85, True)):
            last = split_cells(trim_frame(draw_counter("4045", light_digits=light, turned=turned)), 4)[-1]
            assert arriving_in_window(last) is arrived, (light, turned)


@pytest.mark.parametrize(("turned", "carry"), [(0.5, 0.5), (0.3, 1.0), (0.7, 1.0), (0.8, 1.0)])
def test_a_carry_with_the_drum_before_advanced_is_not_sure(turned, carry):
    """1299|9->0 with the 9s and the 2 before it rolling on: 12999 (the lower value) or "not sure", never 13000 or
    13009 (the drums before the last one already advanced: which of the two it is, the picture cannot tell)."""
    strip = draw_counter("12999", turned=turned, carry=carry)
    for photo in (strip, draw_meter(strip, 3.0)):
        result = READER.read(jpeg(photo), digits=5, previous=12840)
        assert result.reading in (None, "12999") if carry < 1 else result.reading is None, result


@pytest.mark.parametrize(("reading", "turned"), [
    ("45600", 0.7),  # the noise hides the bare drum; the 1 sits lower than the other digits (read 45601 before)
    ("31880", 0.8),
    ("48213", 0.7),
])
def test_a_dim_grey_camera_frame_of_a_turned_drum_is_not_read_wrong(reading, turned):
    frame = camera_frame(draw_counter(reading, turned=turned, light_digits=False), light=0.3, noise=10.0)
    result = READER.read(frame, digits=len(reading), previous=int(reading) - 150)
    assert result.reading in (None, reading), result


def test_a_camera_frame_is_read():
    """The frames above are readable: with the drum whole the same frame is read."""
    frame = camera_frame(draw_counter("45600", light_digits=False), light=0.3, noise=10.0)
    assert READER.read(frame, digits=5, previous=45450).reading == "45600"


@pytest.mark.parametrize("light", [True, False])
def test_a_half_turned_last_drum_is_seen_in_the_picture(light):
    for reading in ("48216", "73953", "560249", "888888", "1047"):
        whole = trim_frame(draw_counter(reading, light_digits=light))
        assert not last_drum_half_turned(whole, len(reading)), reading
        for turned in (0.4, 0.5, 0.6):
            half = trim_frame(draw_counter(reading, light_digits=light, turned=turned))
            assert last_drum_half_turned(half, len(reading)), (reading, turned)


def with_fraction(integer: str, fraction: str, *, red: bool = True, **kwargs) -> Image.Image:
    """Black integer drums, then red fraction drums in their own frame: `0000 2|0 8 4`."""
    whole, part = draw_counter(integer, **kwargs), draw_counter(fraction, red=red, seed=1)
    out = Image.new("RGB", (whole.width + part.width, whole.height), (15, 15, 15))
    out.paste(whole, (0, 0))
    out.paste(part, (whole.width, 0))
    return out


@pytest.mark.parametrize(("integer", "fraction", "previous"), [
    ("00002", "084", 0),  # the strip: 00020, 00208 and 02084 are all in the billing window too
    ("00054", "3", 0),
    ("48213", "67", 48120),
    ("739560", "9", 739200),
])
def test_the_reading_is_the_integer_drums_never_a_red_fraction_digit(integer, fraction, previous):
    strip = with_fraction(integer, fraction)
    result = READER.read(jpeg(strip), digits=len(integer), previous=previous)
    assert result.reading == integer, result
    scene = draw_meter(with_fraction(integer, fraction, seed=3), 4.0)
    result = READER.read(jpeg(scene), digits=len(integer), previous=previous)
    assert result.reading == integer, result


@pytest.mark.parametrize(("integer", "fraction", "previous"), [("00002", "084", 0), ("739560", "9", 739200)])
def test_fraction_drums_that_are_not_red_still_leave_the_integer_part_read(integer, fraction, previous):
    """Only a frame tells them apart: with the digit count known, the line may go on past the reading."""
    strip = with_fraction(integer, fraction, red=False)
    result = READER.read(jpeg(strip), digits=len(integer), previous=previous)
    assert result.reading == integer, result


def test_a_blank_drum_is_not_made_up_for_by_a_fraction_digit():
    """A drum that shows nothing (a dim or blank window): the models skip it and read the grey fraction drum after
    the last one to make up the count (60274|1 read 62741). The digits then leave a step of two drums."""
    strip = with_fraction("60274", "1", red=False)
    height = 90  # draw_counter's default: its windows' width, the gap between them and the frame follow from it
    width, gap, frame = int(height * 0.62), height // 14, height // 9
    second = frame + width + gap
    ImageDraw.Draw(strip).rectangle((second + 2, frame + 2, second + width - 3, frame + height - 3), fill=(45, 45, 45))
    result = READER.read(jpeg(strip), digits=5, previous=59974)
    assert result.reading in (None, "60274"), result


@pytest.mark.parametrize(("integer", "fraction", "previous"), [("5890", "5", 5600), ("2957", "53", 2700)])
def test_a_four_drum_counter_with_its_last_drum_dropped_is_not_made_up_for_by_a_fraction_digit(integer, fraction,
                                                                                               previous):
    """A fixed camera's dim frame of a four-drum meter whose last drum is blank to the models (half-turned, under
    glare): they read the fraction drum after it instead (5890|5 as 5895). Its digits leave a step of two drums."""
    strip = with_fraction(integer, fraction, red=False)
    height = 90  # draw_counter's default, as above
    width, gap, frame = int(height * 0.62), height // 14, height // 9
    last = frame + 3 * (width + gap)
    ImageDraw.Draw(strip).rectangle((last + 2, frame + 2, last + width - 3, frame + height - 3), fill=(45, 45, 45))
    result = READER.read(jpeg(strip), digits=4, previous=previous)
    assert result.reading in (None, integer), result


@pytest.mark.parametrize(("integer", "fraction", "previous"), [("9151132", "9", 9150376), ("48213", "67", 48120)])
def test_red_fraction_drums_are_cut_off_a_counter_cut_out_with_print_under_it(integer, fraction, previous):
    """A photo as Telegram passes it (1280 px) gives a small counter, and its cut holds the print under it
    ("500 imp/kWh"): the red drum then fills less than half the cut's height. It was not cut off, and a
    counter with a double digit was read with the red digit taken in (9151132|9 as 9151329)."""
    counter = with_fraction(integer, fraction)
    cut = Image.new("RGB", (counter.width + 20, counter.height * 5 // 2), (205, 208, 200))
    cut.paste(counter, (10, 6))
    ImageDraw.Draw(cut).text((cut.width // 3, counter.height + 20), "500 imp/kWh",
                             fill=(40, 40, 40), font=meter_font(counter.height // 2))
    kept = integer_drums(cut)
    assert 10 + counter.width - draw_counter(fraction, red=True, seed=1).width - 4 <= kept.width < 10 + counter.width
    result = READER.read(jpeg(cut.resize((cut.width // 2, cut.height // 2), Image.Resampling.LANCZOS)),
                         digits=len(integer), previous=previous)
    assert result.reading in (integer, None), result


def test_red_ink_digits_on_light_drums_are_not_taken_for_fraction_drums():
    strip = draw_counter("51207", light_digits=False)
    pixels = np.asarray(strip).copy()
    ink = pixels.max(axis=2) < 60
    pixels[ink] = (170, 20, 25)  # every digit printed in red on its white drum
    result = READER.read(jpeg(Image.fromarray(pixels)), digits=5, previous=51100)
    assert result.reading == "51207"


def test_previous_reading_rules_out_impossible_candidates():
    # The third digit reads 8 a little better than 0, but 608xxx would be 8000 kWh in a month.
    probs = np.full((6, 10), 0.002)
    for place, digit in enumerate("600412"):
        probs[place, int(digit)] = 0.98
    probs[2, 8], probs[2, 0] = 0.55, 0.43
    probs = probs / probs.sum(axis=1, keepdims=True)
    assert decode(probs, previous=None).recognition.reading in (None, "608412")
    chosen = decode(probs, previous=600150).recognition
    assert (chosen.reading or chosen.candidates[0]) == "600412"
    assert "608412" not in chosen.candidates


def test_says_not_sure_when_the_counter_contradicts_the_previous_reading():
    probs = np.full((6, 10), 0.005)
    for place, digit in enumerate("123456"):
        probs[place, int(digit)] = 0.955
    result = decode(probs, previous=654000).recognition
    assert result.reading is None


def test_a_photo_of_something_else_is_not_read(engine):
    rng = np.random.default_rng(5)
    noise = Image.fromarray(rng.integers(0, 255, (600, 800, 3), dtype=np.uint8))
    assert engine.read(jpeg(noise), digits=6, previous=120000).reading is None
    landscape = Image.new("RGB", (800, 600), (90, 140, 220))
    ImageDraw.Draw(landscape).ellipse((100, 300, 700, 700), fill=(40, 120, 40))
    assert engine.read(jpeg(landscape), digits=6, previous=120000).reading is None


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"hello, this is not a photo", "not_image"),
        (b"%PDF-1.7\n...", "not_image"),
    ],
)
def test_rejects_non_images(data, reason):
    with pytest.raises(PhotoRejected) as caught:
        READER.read(data, digits=6)
    assert caught.value.reason == reason


def test_rejects_formats_we_do_not_decode():
    out = io.BytesIO()
    Image.new("RGB", (40, 20)).save(out, "GIF")
    with pytest.raises(PhotoRejected) as caught:
        READER.read(out.getvalue())
    assert caught.value.reason == "unsupported_format"


def test_rejects_a_truncated_jpeg():
    data = jpeg(draw_counter("123456"))
    with pytest.raises(PhotoRejected) as caught:
        READER.read(data[: len(data) // 2], digits=6)
    assert caught.value.reason == "truncated"


def test_rejects_a_png_decompression_bomb():
    # A few kilobytes that claim 30000 x 30000 pixels of zeros.
    img = Image.new("1", (30000, 30000))
    out = io.BytesIO()
    img.save(out, "PNG")
    data = out.getvalue()
    assert len(data) < 1_000_000
    with pytest.raises(PhotoRejected) as caught:
        READER.read(data)
    assert caught.value.reason == "too_large"


def test_rejects_a_jpeg_bomb():
    small = jpeg(Image.new("RGB", (16, 16)))
    # Rewrite the frame header to claim 65000 x 65000 pixels.
    sof = small.index(b"\xff\xc0")
    bomb = small[: sof + 5] + (65000).to_bytes(2, "big") + (65000).to_bytes(2, "big") + small[sof + 9 :]
    with pytest.raises(PhotoRejected) as caught:
        READER.read(bomb)
    assert caught.value.reason == "too_large"


def test_a_50_megapixel_photo_is_downscaled_not_refused():
    big = Image.new("L", (8700, 5800), 200)
    ImageDraw.Draw(big).rectangle((3000, 2500, 5600, 3300), fill=20)
    data = jpeg(big)
    photo = load_photo(data)
    assert max(photo.size) <= WORKING_SIDE
    assert isinstance(READER.read(data, digits=6), Recognition)


# A child process decodes one file and prints its peak resident memory (VmHWM: ru_maxrss would carry the
# test process's own peak over through fork and exec) and what load_photo made of it.
DECODE_CHILD = """
import json, sys
from pathlib import Path
from core.recognition import PhotoRejected
from core.recognition import photo
try:
    outcome = list(getattr(photo, sys.argv[2])(Path(sys.argv[1]).read_bytes()).size)
except PhotoRejected as refusal:
    outcome = refusal.reason
status = Path("/proc/self/status").read_text()
print(json.dumps({"outcome": outcome, "peak_kb": int(status.split("VmHWM:")[1].split()[0])}))
"""


def decode_in_a_child(path, loader: str = "load_photo") -> dict:
    done = subprocess.run([sys.executable, "-c", DECODE_CHILD, str(path), loader], capture_output=True, text=True,
                          check=True, cwd=Path(__file__).resolve().parents[1])
    return json.loads(done.stdout)


def encoded(picture: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    picture.save(out, fmt, **options)
    return out.getvalue()


HUGE_PICTURES = {
    # The file: 7740x7740 in about 100 KB; decoded at full size it took 1.2 GB.
    "webp-7740": lambda: encoded(Image.new("RGB", (7740, 7740), (200, 60, 60)), "WEBP"),
    "png-7740": lambda: encoded(Image.new("RGB", (7740, 7740), (200, 60, 60)), "PNG"),
    # The largest of each kind that is decoded, not refused.
    "webp-16mp-rgba": lambda: encoded(Image.new("RGBA", (4600, 3460), (200, 60, 60, 128)), "WEBP"),
    "png-24mp-rgba": lambda: encoded(Image.new("RGBA", (5650, 4240), (200, 60, 60, 128)), "PNG"),
    # Progressive: libjpeg holds every coefficient of the picture (6 bytes a pixel at 4:4:4), draft or not.
    "jpeg-50mp-progressive-444": lambda: encoded(Image.new("RGB", (8160, 6120), (200, 60, 60)), "JPEG",
                                                 progressive=True, subsampling=0),
}


@pytest.mark.parametrize("kind", sorted(HUGE_PICTURES))
def test_a_huge_picture_in_a_small_file_is_refused_or_decoded_in_bounded_memory(kind, tmp_path):
    tiny, huge = tmp_path / "tiny", tmp_path / kind
    tiny.write_bytes(jpeg(Image.new("RGB", (16, 16))))
    huge.write_bytes(HUGE_PICTURES[kind]())
    assert huge.stat().st_size < 2_000_000
    base = decode_in_a_child(tiny)
    got = decode_in_a_child(huge)
    assert got["outcome"] == "too_large" or max(got["outcome"]) == WORKING_SIDE, got
    assert (got["peak_kb"] - base["peak_kb"]) / 1024 < 300, got


def test_the_larger_picture_a_counter_is_cut_from_is_decoded_within_bounds(tmp_path):
    """load_detail: a 12 MP phone photo whole, a 48 MP one at the JPEG decoder's half scale (not decoded whole and
    then reduced), the largest PNG and WebP accepted reduced by a whole factor; each under 300 MB."""
    tiny = tmp_path / "tiny.jpg"
    tiny.write_bytes(jpeg(Image.new("RGB", (16, 16))))
    base = decode_in_a_child(tiny, "load_detail")["peak_kb"]
    pictures = {
        "jpeg-12mp": (lambda: encoded(Image.new("RGB", (4032, 3024), (120, 130, 140)), "JPEG"), [4032, 3024], 150),
        "jpeg-48mp": (lambda: encoded(Image.new("RGB", (8000, 6000), (120, 130, 140)), "JPEG"), [4000, 3000], 150),
        "png-24mp-rgba": (HUGE_PICTURES["png-24mp-rgba"], [2825, 2120], 300),
        "webp-16mp-rgba": (HUGE_PICTURES["webp-16mp-rgba"], [2300, 1730], 300),
    }
    for kind, (make, size, most_mb) in pictures.items():
        path = tmp_path / kind
        path.write_bytes(make())
        got = decode_in_a_child(path, "load_detail")
        assert got["outcome"] == size, (kind, got)
        assert (got["peak_kb"] - base) / 1024 < most_mb, (kind, got)


def test_a_large_exif_rotated_jpeg_comes_out_upright_and_small():
    # 6000x4000 stored on its side, a red mark at the stored top-left; orientation 6: turn 90° clockwise.
    stored = Image.new("RGB", (6000, 4000), (230, 230, 230))
    ImageDraw.Draw(stored).rectangle((0, 0, 600, 600), fill=(220, 20, 20))
    exif = Image.Exif()
    exif[0x0112] = 6
    photo = load_photo(jpeg(stored, exif=exif.tobytes()))
    assert photo.size == (1067, WORKING_SIDE)
    # Turned clockwise, the stored top-left corner is now the top-right one.
    assert photo.getpixel((photo.width - 20, 20))[0] > 180 and photo.getpixel((photo.width - 20, 20))[1] < 80
    assert photo.getpixel((20, 20)) > (200, 200, 200)


def test_a_12_megapixel_jpeg_is_decoded_at_a_reduced_scale(tmp_path):
    """A phone photo's long side is more than twice WORKING_SIDE: the decoder halves it, nothing copies it whole."""
    phone = tmp_path / "phone.jpg"
    phone.write_bytes(jpeg(Image.new("RGB", (4032, 3024), (120, 130, 140))))
    tiny = tmp_path / "tiny.jpg"
    tiny.write_bytes(jpeg(Image.new("RGB", (16, 16))))
    got = decode_in_a_child(phone)
    assert got["outcome"] == [WORKING_SIDE, 1200]
    # At full size the picture alone is 48 MB (Pillow keeps RGB in 4 bytes a pixel), and was copied three times.
    assert (got["peak_kb"] - decode_in_a_child(tiny)["peak_kb"]) / 1024 < 60, got


def test_reading_is_thread_safe():
    data = jpeg(draw_counter("271828"))
    expected = READER.read(data, digits=6, previous=271700)
    results = []

    def work():
        results.append(READER.read(data, digits=6, previous=271700))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [expected] * 4


def _cli(argv, capsys):
    code = recognize.main(["recognize", *argv])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    return code, lines


def test_cli_prints_one_json_line_per_image(tmp_path, capsys):
    good = tmp_path / "meter.jpg"
    good.write_bytes(jpeg(draw_counter("048213")))
    junk = tmp_path / "notes.txt"
    junk.write_text("not a photo")
    code, lines = _cli([str(good), str(junk), "--digits", "6", "--previous", "48120", "--json"], capsys)
    assert code == 0
    assert [line["file"] for line in lines] == [str(good), str(junk)]
    assert lines[0]["reading"] == "048213" and lines[0]["confidence"] >= 0.6
    assert lines[1]["reading"] is None and lines[1]["error"] == "not_image"


def test_cli_reads_a_manifest(tmp_path, capsys):
    (tmp_path / "a.jpg").write_bytes(jpeg(draw_counter("739560", light_digits=False)))
    (tmp_path / "b.png").write_bytes(png(draw_counter("19087")))
    manifest = tmp_path / "photos.csv"
    manifest.write_text("file,digits,previous\na.jpg,6,739200\nb.png,5,18990\n")
    code, lines = _cli(["--manifest", str(manifest)], capsys)
    assert code == 0
    assert [(line["file"], line["reading"]) for line in lines] == [
        (str(tmp_path / "a.jpg"), "739560"),
        (str(tmp_path / "b.png"), "19087"),
    ]


def test_cli_reads_with_the_engine_asked_for(tmp_path, capsys, monkeypatch):
    good = tmp_path / "meter.jpg"
    good.write_bytes(jpeg(draw_counter("739560", light_digits=False)))
    code, lines = _cli([str(good), "--digits", "6", "--previous", "739200", "--engine", "templates"], capsys)
    assert code == 0 and lines[0]["reading"] == "739560"
    monkeypatch.setenv("KABINET_RECOGNIZER", "tesseract")
    code, lines = _cli([str(good), "--digits", "6"], capsys)
    assert code == 2 and lines == []


def test_cli_reports_a_missing_file(tmp_path, capsys):
    code, lines = _cli([str(tmp_path / "absent.jpg")], capsys)
    assert code == 1
    assert lines[0]["reading"] is None and lines[0]["error"] == "unreadable_file"


def test_nearest_templates_mean_keeps_the_digit_of_a_clean_cell():
    from core.recognition.templates import _render, _fonts, describe

    cell = np.asarray(_render(_fonts()[-1], 3), dtype=np.float32)[4:84, 10:70]
    nearest, _ = describe([cell, None])
    mean10, _ = describe([cell, None], neighbours=10)
    assert nearest[0].argmin() == mean10[0].argmin() == 3
    assert (mean10[0] >= nearest[0] - 1e-6).all()  # a mean of the nearest few is never nearer than the nearest
    assert (mean10[1] == nearest[1]).all()  # a missing cell stays equally far from every digit


def test_digit_templates_are_kept_on_disk_and_read_back(tmp_path):
    from core.recognition import templates

    vectors, labels = templates._library.__wrapped__(tmp_path)
    [kept] = tmp_path.glob("digit-templates-*.npz")
    again = templates._load(kept, templates._version())
    assert again is not None
    assert np.array_equal(again[0], vectors) and np.array_equal(again[1], labels)
    assert templates._load(kept, "another version") is None


def test_a_damaged_template_cache_is_rebuilt(tmp_path):
    from core.recognition import templates

    version = templates._version()
    kept = tmp_path / f"digit-templates-{version}.npz"
    kept.write_bytes(b"PK\x03\x04 half a zip file")
    vectors, labels = templates._library.__wrapped__(tmp_path)
    assert vectors.shape[0] == labels.shape[0] > 1000
    rebuilt = templates._load(kept, version)
    assert rebuilt is not None and np.array_equal(rebuilt[0], vectors)


def test_a_template_cache_that_cannot_be_written_costs_only_time(tmp_path, caplog):
    from core.recognition import templates

    blocked = tmp_path / "a-file-not-a-folder"
    blocked.write_text("")
    vectors, labels = templates.library()
    templates._store(blocked / "digit-templates-x.npz", "x", vectors, labels)
    assert "could not keep the digit templates" in caplog.text
    assert list(tmp_path.iterdir()) == [blocked]


def test_template_cache_lives_in_the_data_dir(tmp_path, monkeypatch):
    from core.recognition.templates import cache_dir

    monkeypatch.setenv("KABINET_DATA_DIR", str(tmp_path))
    assert cache_dir() == tmp_path / "cache"
    monkeypatch.delenv("KABINET_DATA_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "kabinet"


def _half_light_counter(reading: str, light_first: bool) -> Image.Image:
    """A counter with a hairline frame whose drums are dark on one side and light as the face on the other."""
    height, frame, gap = 90, 2, 2
    cell_w = int(height * 0.62)
    img = Image.new("RGB", (len(reading) * (cell_w + gap) - gap + 2 * frame, height + 2 * frame), (15, 15, 15))
    draw = ImageDraw.Draw(img)
    font = meter_font(int(height * 0.8))
    for i, ch in enumerate(reading):
        x = frame + i * (cell_w + gap)
        light = (i < 3) if light_first else (i >= len(reading) - 3)
        drum, ink = ((235, 235, 230), (20, 20, 20)) if light else ((50, 50, 50), (230, 230, 230))
        draw.rectangle((x, frame, x + cell_w - 1, frame + height - 1), fill=drum)
        box = draw.textbbox((0, 0), ch, font=font)
        at = (x + (cell_w - (box[2] - box[0])) // 2 - box[0], frame + (height - (box[3] - box[1])) // 2 - box[1])
        draw.text(at, ch, font=font, fill=ink)
    return img


@pytest.mark.parametrize(("light_first", "angle"), [(False, 5.0), (True, -4.0), (False, -6.0)])
def test_a_counter_with_drums_as_light_as_the_face_is_cut_whole(light_first, angle, engine):
    from core.recognition.counter import counter_windows

    counter = _half_light_counter("2361078", light_first).resize((360, 84))
    face = Image.new("RGB", (1000, 1000), (225, 225, 222))
    face.paste(counter, (330, 440))
    photo = face.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=(40, 40, 40))
    window = counter_windows(photo.filter(ImageFilter.GaussianBlur(0.8)))[0]
    # Found at the search size, the dark drums alone make the band; the window must still hold all seven.
    assert abs(window.width - counter.width) <= 12 and abs(window.height - counter.height) <= 8
    result = engine.read(jpeg(photo), digits=7, previous=2360900)
    assert (result.reading or result.candidates[0]) == "2361078"


def test_a_counter_of_light_drums_in_a_hairline_frame_is_found():
    from core.recognition.counter import counter_windows

    counter = Image.new("RGB", (7 * 52 + 2, 86), (30, 30, 30))
    draw = ImageDraw.Draw(counter)
    font = meter_font(64)
    for i, ch in enumerate("6983211"):
        draw.rectangle((2 + i * 52, 2, 51 + i * 52, 83), fill=(238, 236, 232))
        draw.text((12 + i * 52, 8), ch, font=font, fill=(170, 30, 30))
    face = Image.new("RGB", (900, 800), (190, 196, 214))
    face.paste(counter.resize((300, 70)), (300, 300))
    ImageDraw.Draw(face).text((300, 380), "kWh", font=meter_font(36), fill=(30, 30, 30))
    photo = face.rotate(-6, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=(40, 40, 40))
    windows = counter_windows(photo.filter(ImageFilter.GaussianBlur(1.0)))
    assert windows, "no counter window found"
    assert any(abs(w.width - 300) <= 14 and abs(w.height - 70) <= 10 for w in windows)


def _spelling_by_paths(frames: np.ndarray, digits: tuple[int, ...]) -> float:
    """P(frames spell digits) by enumerating every frame path: collapse repeats, drop gaps."""
    import itertools

    total = 0.0
    for path in itertools.product(range(11), repeat=frames.shape[0]):
        spelled, last = [], 0
        for column in path:
            if column and column != last:
                spelled.append(column - 1)
            last = column
        if tuple(spelled) == digits:
            total += float(np.prod([frames[t, c] for t, c in enumerate(path)]))
    return total


@pytest.mark.parametrize("digits", [(3, 7), (4, 4), (0, 9, 0), (5,)])
def test_spelling_likelihood_is_the_sum_over_frame_paths(digits):
    rng = np.random.default_rng(len(digits) * 10 + digits[0])
    frames = rng.dirichlet(np.ones(11) * 0.7, size=5)
    table = np.array([digits, tuple((d + 1) % 10 for d in digits)])
    got = np.exp(spelling_log_likelihood(frames, table))
    expected = [_spelling_by_paths(frames, tuple(row)) for row in table]
    assert np.allclose(got, expected, rtol=1e-9, atol=1e-15)


def test_a_doubled_digit_needs_a_gap_between_its_frames():
    def frame(column):
        return np.eye(11)[column] * 0.98 + 0.002

    frames = np.array([frame(5), frame(5), frame(0), frame(5)])  # "4", "4", gap, "4"
    likelihood = {n: float(spelling_log_likelihood(frames, np.full((1, n), 4))[0]) for n in (1, 2, 3)}
    assert max(likelihood, key=likelihood.get) == 2
    assert free_reading(frames)[0] == "44"


def test_line_reader_without_models_says_so():
    from core.recognition.lines import ModelsMissing

    with pytest.raises(ModelsMissing):
        LineMeterReader(paths=[]).read(jpeg(draw_counter("123456")), digits=6, previous=123400)


def test_the_template_engine_can_be_chosen(monkeypatch):
    from core.recognition.lcd import DisplayAwareReader

    monkeypatch.setenv("KABINET_RECOGNIZER", "templates")
    assert isinstance(default_reader(), MeterPhotoReader)
    monkeypatch.delenv("KABINET_RECOGNIZER")
    assert isinstance(default_reader(), DisplayAwareReader)


def test_squeezing_runs_of_certain_gaps_keeps_the_likelihoods():
    from core.recognition.lines import squeeze_gaps

    rng = np.random.default_rng(3)
    gap = np.full(11, 0.00005)
    gap[0] = 0.9995
    frames = []
    for digit in (4, 4, 7, 1):
        frames += [gap] * int(rng.integers(2, 5))
        frames += list(rng.dirichlet(np.ones(11) * 0.3, size=2) * 0.3 + np.eye(11)[digit + 1] * 0.7)
    frames = np.array(frames + [gap] * 3)
    squeezed = squeeze_gaps(frames)
    assert len(squeezed) < len(frames) - 6
    table = np.array([(4, 4, 7, 1), (4, 7, 1, 1), (4, 4, 7, 7), (9, 4, 7, 1)])
    full, short = spelling_log_likelihood(frames, table), spelling_log_likelihood(squeezed, table)
    assert int(np.argmax(full)) == int(np.argmax(short)) == 0
    assert np.allclose(full[0], short[0], atol=0.02)


@pytest.mark.parametrize("pause", [0.0, 0.02, 0.05, 0.1])
def test_a_process_that_exits_while_the_models_load_exits_cleanly(pause):
    """onnxruntime aborts the process when the interpreter exits in the middle of building a session (seen in CI:
    the console shell ended its conversation before the start-up load had finished)."""
    import subprocess
    import sys

    script = f"import time\nfrom core.recognition import default_reader\ndefault_reader('lines')\ntime.sleep({pause})\n"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
