"""Bad input at volume for the photo decoder and reader: a picture, a reading, or PhotoRejected; nothing else."""
from __future__ import annotations

import io

from hypothesis import HealthCheck, example, given, settings, strategies as st
from PIL import Image

from core.recognition import PhotoRejected, Recognition, default_reader
from core.recognition.photo import WORKING_SIDE, load_photo
from tests.support.pictures import draw_counter, jpeg

READER = default_reader()
FORMATS = ("JPEG", "PNG", "WEBP")
MODES = ("RGB", "L", "RGBA", "P", "LA", "1", "I;16", "CMYK")


@st.composite
def small_picture(draw) -> bytes:
    """A real, tiny, odd picture: any size from 1 px, any mode, any of the formats we decode."""
    width, height = draw(st.integers(1, 64)), draw(st.integers(1, 64))
    fmt = draw(st.sampled_from(FORMATS))
    mode = draw(st.sampled_from(MODES))
    if fmt == "JPEG" and mode not in ("RGB", "L", "CMYK"):
        mode = "RGB"
    if fmt == "PNG" and mode == "CMYK":
        mode = "RGB"
    if fmt == "WEBP" and mode not in ("RGB", "RGBA"):
        mode = "RGB"
    seed = draw(st.binary(min_size=1, max_size=64))
    raw = (seed * (width * height * 4 // len(seed) + 1))
    if mode == "I;16":  # a 16-bit greyscale PNG
        image = Image.frombytes(mode, (width, height), raw[: width * height * 2])
    else:
        image = Image.frombytes("RGBA", (width, height), raw[: width * height * 4]).convert(mode)
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


@st.composite
def mutated(draw, base: st.SearchStrategy[bytes]) -> bytes:
    """A picture cut short, with bytes flipped, or with junk spliced in: what a broken upload looks like."""
    data = bytearray(draw(base))
    for _ in range(draw(st.integers(0, 6))):
        if not data:
            break
        kind = draw(st.sampled_from(["flip", "truncate", "splice", "duplicate"]))
        at = draw(st.integers(0, len(data) - 1))
        if kind == "flip":
            data[at] ^= draw(st.integers(1, 255))
        elif kind == "truncate":
            del data[max(at, 3):]
        elif kind == "splice":
            data[at:at] = draw(st.binary(max_size=32))
        else:
            data[at:at] = data[at:at + draw(st.integers(1, 64))]
    return bytes(data)


COUNTER = jpeg(draw_counter("12480"))
signatures = st.sampled_from([b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"RIFF\x00\x00\x00\x00WEBP", b"GIF89a", b""])
anything = st.one_of(
    st.binary(max_size=256),
    st.builds(lambda magic, rest: magic + rest, signatures, st.binary(max_size=512)),
    mutated(small_picture()),
    mutated(st.just(COUNTER)),
    st.integers(0, len(COUNTER)).map(lambda n: COUNTER[:n]),
)


def check_picture(picture: Image.Image) -> None:
    assert picture.mode == "RGB"
    assert 1 <= picture.width <= WORKING_SIDE and 1 <= picture.height <= WORKING_SIDE


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(anything)
@example(b"")
@example(COUNTER[:4])
@example(b"\x89PNG\r\n\x1a\n" + b"\x00" * 32)
def test_any_bytes_decode_to_a_bounded_rgb_picture_or_are_rejected(data):
    try:
        picture = load_photo(data)
    except PhotoRejected:
        return
    check_picture(picture)


# The reader costs ~0.4 s a picture (1.5 s without the digits) on a busy machine, after ~15 s building its
# templates once: fewer examples, the same kinds of damage.
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.one_of(small_picture(), mutated(small_picture()), mutated(st.just(COUNTER))),
       st.sampled_from([5, 6, 8, None]), st.one_of(st.none(), st.integers(0, 99_999)))
@example(COUNTER, 5, 12345)
def test_the_reader_answers_a_recognition_or_a_rejection_for_any_picture(data, digits, previous):
    try:
        result = READER.read(data, digits=digits, previous=previous)
    except PhotoRejected:
        return
    assert isinstance(result, Recognition)
    assert 0.0 <= result.confidence <= 1.0
    if result.reading is not None:
        assert result.reading.isdigit() and (digits is None or len(result.reading) == digits)
