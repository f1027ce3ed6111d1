"""Turning untrusted bytes into a bounded RGB picture, or a clear refusal."""

from __future__ import annotations

import io
import math
import struct
from typing import Callable

import numpy as np
from PIL import Image, UnidentifiedImageError
from PIL.JpegImagePlugin import JpegImageFile

from core.recognition import PhotoRejected

# Only these decoders ever see a consumer's bytes.
ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP")
# The largest picture decoded, by format (benchmarks/decode.py measures the memory each costs). A JPEG is
# decoded at 1/2..1/8 scale (draft mode). PNG and WebP decode at full size: a WebP picture is held three
# times over while decoding (libwebp's canvas, the bytes handed to Pillow, the image), a PNG once.
MAX_PIXELS = {"JPEG": 120_000_000, "PNG": 24_000_000, "WEBP": 16_000_000}
# A progressive (or otherwise multi-scan) JPEG is decoded from all of its DCT coefficients held at once,
# whatever the draft scale: 2 bytes each, 3 to 6 bytes a pixel. 200 MB is 66 MP at 4:2:0, 33 MP at 4:4:4.
MAX_JPEG_COEFFICIENT_BYTES = 200_000_000
MAX_BYTES = 40 * 1024 * 1024
# Longest side of the picture the recogniser works on.
WORKING_SIDE = 1600
# Longest side of the picture a counter found on the working picture is cut from again, when it was not read
# surely there (a 12 MP phone photo whole).
DETAIL_SIDE = 4096
_ORIENTATION = 0x0112
# EXIF orientation -> the turn that makes the picture upright (as ImageOps.exif_transpose does).
_TURNS = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

_OTHER_IMAGE_SIGNATURES = (
    b"GIF87a",
    b"GIF89a",
    b"BM",
    b"II*\x00",
    b"MM\x00*",
    b"\x00\x00\x01\x00",  # ICO
    b"8BPS",  # Photoshop
    b"\x00\x00\x00\x0cjP  ",  # JPEG 2000
    b"\xff\x0a",  # JPEG XL codestream
)


def _sniff(data: bytes) -> str | None:
    """The format the signature claims, 'OTHER' for an image we do not decode, None for non-images."""
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if any(data.startswith(sig) for sig in _OTHER_IMAGE_SIGNATURES):
        return "OTHER"
    if data[4:8] == b"ftyp" and data[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"avif", b"heim", b"heis"):
        return "OTHER"
    return None


def load_photo(data: bytes) -> Image.Image:
    """Decode a consumer's photo to upright RGB no larger than WORKING_SIDE, or raise PhotoRejected.

    Nothing after the decoder copies the full-size picture: a JPEG is decoded at 1/2..1/8 scale, a PNG or
    WebP is shrunk right after decoding, and only the small picture is converted and turned.
    """
    return _decoded(data, WORKING_SIDE, _draft_box, _shrunk_rgb)


def load_detail(data: bytes) -> Image.Image:
    """The photo (as load_photo takes it) at up to DETAIL_SIDE, to cut a counter found on the working picture from.

    A JPEG is decoded at its decoder's smallest scale that keeps DETAIL_SIDE (a 12 MP photo whole, a 48 MP one at
    half), a PNG or WebP reduced by a whole factor; the bounds are load_photo's.
    """
    return _decoded(data, DETAIL_SIDE, _whole_factor_box, _reduced_rgb)


def _decoded(data: bytes, side: int, draft: Callable[[tuple[int, int], int], tuple[int, int]],
             shrink: Callable[[Image.Image, int], Image.Image]) -> Image.Image:
    """The photo decoded (a JPEG at the scale `draft` asks for), shrunk to `side` by `shrink`, upright."""
    if not data:
        raise PhotoRejected("empty")
    if len(data) > MAX_BYTES:
        raise PhotoRejected("too_large")
    kind = _sniff(data)
    if kind is None:
        raise PhotoRejected("not_image")
    if kind == "OTHER":
        raise PhotoRejected("unsupported_format")
    try:
        img = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
    except Image.DecompressionBombError:
        raise PhotoRejected("too_large") from None
    except (UnidentifiedImageError, SyntaxError, ValueError, OSError, EOFError):
        raise PhotoRejected("truncated") from None
    with img:
        width, height = img.size
        if width < 1 or height < 1:
            raise PhotoRejected("empty")
        if width * height > MAX_PIXELS[img.format or ""]:  # opened with formats=: always one of ours
            raise PhotoRejected("too_large")
        if isinstance(img, JpegImageFile) and _held_coefficients(img, data) > MAX_JPEG_COEFFICIENT_BYTES:
            raise PhotoRejected("too_large")
        if img.format == "JPEG":
            img.draft("RGB", draft(img.size, side))
        try:
            img.load()
            orientation = img.getexif().get(_ORIENTATION, 1)
            small = shrink(img, side)
        except Image.DecompressionBombError:
            raise PhotoRejected("too_large") from None
        except (OSError, SyntaxError, ValueError, EOFError, struct.error):
            raise PhotoRejected("truncated") from None
    return small.transpose(_TURNS[orientation]) if orientation in _TURNS else small


def _held_coefficients(img: JpegImageFile, data: bytes) -> int:
    """The bytes libjpeg holds for the whole picture's coefficients: none for a baseline JPEG of one scan."""
    if not img.info.get("progressive") and _jpeg_scans(data) < 2:
        return 0
    sampling = [(h, v) for _, h, v, _ in img.layer] or [(1, 1)]
    h_max, v_max = max(h for h, _ in sampling) or 1, max(v for _, v in sampling) or 1
    share = sum(h * v for h, v in sampling) / (h_max * v_max)
    return int(2 * share * img.size[0] * img.size[1])


def _jpeg_scans(data: bytes) -> int:
    """The number of scans (SOS markers) of the main picture, from its first scan to its end of image."""
    at = 2
    while at + 4 <= len(data) and data[at] == 0xFF:
        marker = data[at + 1]
        if marker == 0xFF:  # a fill byte
            at += 1
            continue
        if marker == 0xDA:
            # In entropy-coded data every 0xFF is followed by 0x00 or a restart marker, so these are markers.
            end = data.find(b"\xff\xd9", at)
            return 1 + data.count(b"\xff\xda", at + 2, end if end >= 0 else len(data))
        at += 2 + int.from_bytes(data[at + 2:at + 4], "big")
    return 1


def _draft_box(size: tuple[int, int], side: int = WORKING_SIDE) -> tuple[int, int]:
    """The smallest size to ask of the JPEG decoder so that the longest side still reaches `side`."""
    scale = side / max(size)
    return max(1, math.ceil(size[0] * scale)), max(1, math.ceil(size[1] * scale))


def _whole_factor_box(size: tuple[int, int], side: int) -> tuple[int, int]:
    """The size to ask of the JPEG decoder for its largest scale (1, 1/2, 1/4, 1/8) within `side`, or 1/8."""
    factor = 1
    while factor < 8 and max(size) > side * factor:
        factor *= 2
    return math.ceil(size[0] / factor), math.ceil(size[1] / factor)


def _shrunk_rgb(img: Image.Image, side: int = WORKING_SIDE) -> Image.Image:
    """RGB no larger than `side`, made without a second full-size copy of a large picture."""
    img = _eight_bit(img, side)
    scale = side / max(img.size)
    if scale < 1:
        size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
        # reducing_gap: first a box reduce() by a whole factor (one small copy), then Lanczos on that.
        img = img.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)
    return _flat_rgb(img)


def _reduced_rgb(img: Image.Image, side: int) -> Image.Image:
    """RGB reduced by the smallest whole factor that brings it within `side` (a box filter: one small copy)."""
    img = _eight_bit(img, side)
    factor = math.ceil(max(img.size) / side)
    return _flat_rgb(img.reduce(factor) if factor > 1 else img)


def _eight_bit(img: Image.Image, side: int) -> Image.Image:
    """A 16-bit, bilevel or palette picture as 8-bit grey or colour (a 16-bit one sampled down towards `side`)."""
    if img.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        factor = max(1, max(img.size) // side)
        # Every factor-th pixel of a 16-bit scan is enough to stretch its contrast to 8 bits.
        values = np.asarray(img)[::factor, ::factor].astype(np.float32)
        low, high = float(values.min()), float(values.max())
        scaled = (values - low) * (255.0 / max(high - low, 1e-6))
        img = Image.fromarray(scaled.astype(np.uint8), "L")
    elif img.mode == "1":
        img = img.convert("L")
    elif img.mode in ("P", "PA"):
        # Averaging palette indices means nothing: colours first (one byte a pixel becomes three or four).
        transparent = img.mode == "PA" or "transparency" in img.info
        img = img.convert("RGBA" if transparent else "RGB")
    return img


def _flat_rgb(img: Image.Image) -> Image.Image:
    """RGB, transparent pixels white."""
    if img.mode in ("RGBA", "LA"):
        # Transparent pixels become white, as the photo would look on a page.
        flat = Image.new("RGB", img.size, (255, 255, 255))
        flat.paste(img, mask=img.getchannel("A"))
        return flat
    return img.convert("RGB")
