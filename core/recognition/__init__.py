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
    zone: int | None = None  # the tariff zone an electronic meter's display shows (1..3); None when it shows none


REJECTION_REASONS = ("not_image", "unsupported_format", "truncated", "too_large", "empty")


class PhotoRejected(Exception):
    """The bytes are not a usable photo."""

    def __init__(self, reason: str):
        if reason not in REJECTION_REASONS:
            raise ValueError(f"unknown rejection reason {reason!r}")
        super().__init__(reason)
        self.reason = reason


class MeterReader(Protocol):
    """Reads a meter photo for a meter of `digits` digits whose last reading was `previous`.

    meter_type: the meter's type as billing names it (an electronic model's display is looked for first);
    zone_previous: the last reading of each zone of a multi-zone meter, T1 first (empty for one zone).
    """

    def read(self, image: bytes, *, digits: int | None = None, previous: int | None = None, meter_type: str = "",
             zone_previous: tuple[int | None, ...] = ()) -> Recognition: ...


class PhotoReader(Protocol):
    """What the conversation reads photos with: a MeterReader's answer, awaited (RecognitionPool)."""

    async def read(self, content: bytes, *, digits: int | None = None, previous: int | None = None,
                   meter_type: str = "", zone_previous: tuple[int | None, ...] = ()) -> Recognition: ...


ENGINES = ("lines", "templates")


def default_reader(engine: str | None = None) -> MeterReader:
    """The engine (default: KABINET_RECOGNIZER, else "lines"): PP-OCR text-line models under the billing window,
    on an electronic meter's display or on a drum counter.

    The template engine (Pillow and numpy, digit templates drawn from fonts) needs no model files; it reads
    far fewer photos (see benchmarks/RECOGNITION.md) and is kept for comparison and as a second engine.
    """
    import os
    import threading

    engine = engine or os.environ.get("KABINET_RECOGNIZER") or "lines"
    if engine not in ENGINES:
        raise ValueError(f"KABINET_RECOGNIZER must be one of {', '.join(ENGINES)}, not {engine!r}")
    if engine == "templates":
        from core.recognition.engine import MeterPhotoReader
        from core.recognition.templates import library

        # Building the digit templates takes seconds when they are not cached: start now.
        threading.Thread(target=library, name="digit-templates", daemon=True).start()
        return MeterPhotoReader()
    from core.recognition.lcd import DisplayAwareReader

    reader = DisplayAwareReader()
    # Loading the models takes a moment: start now, so the first photo waits less. Not a daemon thread:
    # onnxruntime aborts the process ("terminate called without an active exception") when the interpreter
    # exits while a session is being built, so exit waits for the load (a fraction of a second).
    threading.Thread(target=reader.warm, name="line-models").start()
    return reader


from core.recognition.pool import RecognitionBusy, RecognitionFailed, RecognitionPool  # noqa: E402 (they use the above)

__all__ = ["ENGINES", "MeterReader", "PhotoReader", "PhotoRejected", "Recognition", "RecognitionBusy", "RecognitionFailed",
           "RecognitionPool", "default_reader"]
