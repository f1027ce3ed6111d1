"""Reading the counter value from a consumer's photo of an electricity meter."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Recognition:
    """What a photo says: the reading, or None when we are not sure."""

    reading: str | None  # zero-padded to the meter's digits; None = not sure
    confidence: float  # 0..1
    candidates: tuple[str, ...] = ()  # other plausible readings, best first


REJECTION_REASONS = ("not_image", "unsupported_format", "truncated", "too_large", "empty")


class PhotoRejected(Exception):
    """The bytes are not a usable photo."""

    def __init__(self, reason: str):
        if reason not in REJECTION_REASONS:
            raise ValueError(f"unknown rejection reason {reason!r}")
        super().__init__(reason)
        self.reason = reason


class MeterReader(Protocol):
    def read(self, image: bytes, *, digits: int | None = None, previous: int | None = None) -> Recognition: ...


def default_reader() -> MeterReader:
    """The engine: Pillow and numpy image processing with font-built digit templates."""
    import threading

    from core.recognition.engine import MeterPhotoReader
    from core.recognition.templates import library

    # Building the digit templates takes seconds when they are not cached: start now, so the first photo waits less.
    threading.Thread(target=library, name="digit-templates", daemon=True).start()
    return MeterPhotoReader()


__all__ = ["MeterReader", "PhotoRejected", "Recognition", "default_reader"]
