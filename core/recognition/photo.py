"""Turning untrusted bytes into a bounded RGB picture, or a clear refusal."""

from __future__ import annotations

import io
import struct

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from core.recognition import PhotoRejected

# Only these decoders ever see a consumer's bytes.
ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP")
# A JPEG is decoded at 1/2..1/8 scale (draft mode), so even a very large one costs little memory.
MAX_JPEG_PIXELS = 120_000_000
# PNG and WebP decode at full size: 60 MP is about 180 MB of RGB, the most we accept to hold.
MAX_FULL_DECODE_PIXELS = 60_000_000
MAX_BYTES = 40 * 1024 * 1024
# Longest side of the picture the recogniser works on.
WORKING_SIDE = 1600

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
    """Decode a consumer's photo to upright RGB no larger than WORKING_SIDE, or raise PhotoRejected."""
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
        limit = MAX_JPEG_PIXELS if img.format == "JPEG" else MAX_FULL_DECODE_PIXELS
        if width * height > limit:
            raise PhotoRejected("too_large")
        if img.format == "JPEG":
            img.draft("RGB", (WORKING_SIDE, WORKING_SIDE))
        try:
            img.load()
            upright = ImageOps.exif_transpose(img)
        except Image.DecompressionBombError:
            raise PhotoRejected("too_large") from None
        except (OSError, SyntaxError, ValueError, EOFError, struct.error):
            raise PhotoRejected("truncated") from None
        rgb = _to_rgb(upright)
    rgb.thumbnail((WORKING_SIDE, WORKING_SIDE), Image.Resampling.LANCZOS)
    return rgb


def _to_rgb(img: Image.Image) -> Image.Image:
    if img.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        values = np.asarray(img, dtype=np.float32)
        low, high = float(values.min()), float(values.max())
        scaled = (values - low) * (255.0 / max(high - low, 1e-6))
        img = Image.fromarray(scaled.astype(np.uint8), "L")
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        # Transparent pixels become white, as the photo would look on a page.
        rgba = img.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return img.convert("RGB")
