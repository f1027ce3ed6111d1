"""The default meter reader: Pillow image processing, font-template digits, billing constraints."""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image

from core.recognition import Recognition
from core.recognition.cells import cell_gray
from core.recognition.counter import counter_windows, split_cells, trim_frame
from core.recognition.decode import Decoded, decode
from core.recognition.photo import load_photo
from core.recognition.templates import describe, probabilities, similarity

MIN_DIGITS, MAX_DIGITS = 4, 8  # counters tried when the meter's digits are not known
SUPPORTED_DIGITS = range(3, 10)
STRIP_ASPECT = 1.8  # a photo at least this wide for its height may be the counter alone


@dataclass(frozen=True)
class Scoring:
    """How a counter window's cells are scored and when its reading is given.

    neighbours: a digit's distance is the mean over its nearest `neighbours` templates; sharpness: the
    softmax sharpness of those distances; accept: the confidence a reading needs.
    """

    neighbours: int
    sharpness: float
    accept: float


# A photo of the counter alone: set on development seeds 7 and 8. A counter found inside a larger photo
# (smaller, tilted, blurred): the 10-nearest mean made more confident mistakes there, so it is compared with
# the nearest template; chosen on development seeds 9 and 10 (150 scenes each): 36.7% / 38.7% exact, 1.3%
# wrong on both, where the 10-nearest mean gave 24.7% / 30.7% exact at its first threshold under 1.5% wrong.
COUNTER_ONLY = Scoring(neighbours=10, sharpness=35.0, accept=0.999)
FOUND_COUNTER = Scoring(neighbours=1, sharpness=20.0, accept=0.98)


class MeterPhotoReader:
    """Reads the counter of an electricity meter from a photo; thread-safe, blocking.

    found_counter: the scoring of counters found inside a larger photo (the benchmark compares others).
    """

    def __init__(self, found_counter: Scoring = FOUND_COUNTER):
        self.found_counter = found_counter

    def read(self, image: bytes, *, digits: int | None = None, previous: int | None = None, meter_type: str = "",
             zone_previous: tuple[int | None, ...] = ()) -> Recognition:
        """The drum counter's reading (this engine reads no electronic display: meter_type and zone_previous are
        not used)."""
        photo = load_photo(image)
        return self.read_photo(photo, digits=digits, previous=previous)

    def read_photo(self, photo: Image.Image, *, digits: int | None = None, previous: int | None = None) -> Recognition:
        check_request(digits, previous)
        strip = photo.width >= STRIP_ASPECT * photo.height
        windows = counter_windows(photo, unlike_face=not strip)
        if strip:
            windows.insert(0, trim_frame(photo))
        counts = [digits] if digits else digit_counts(previous)
        scorings = [COUNTER_ONLY if strip and k == 0 else self.found_counter for k in range(len(windows))]
        readings = [
            self._read_window(window, count, previous, scoring)
            for window, scoring in zip(windows, scorings)
            if window.width >= 8 and window.height >= 8
            for count in counts
        ]
        if not readings:
            return Recognition(None, 0.0)
        if digits:
            return max(readings, key=lambda r: (r[0].recognition.confidence, r[0].evidence))[0].recognition
        # Every split into some number of cells yields some reading; the right number of cells is
        # the one whose cells look most like digits. Confidence cannot tell, so we go by that.
        return min(readings, key=lambda r: r[1])[0].recognition

    @staticmethod
    def _read_window(window: Image.Image, count: int, previous: int | None, scoring: Scoring) -> tuple[Decoded, float]:
        """The decoded reading, and how unlike digits the cells look (mean distance to their templates)."""
        cells = split_cells(window, count)
        distances, feats = describe([cell_gray(cell) for cell in cells], neighbours=scoring.neighbours)
        probs = probabilities(distances, scoring.sharpness)
        decoded = decode(probs, previous, accept=scoring.accept, similarity=similarity(feats))
        return decoded, float(distances.min(axis=1).mean())


def check_request(digits: int | None, previous: int | None) -> None:
    """Refuse what no meter has: a digit count outside SUPPORTED_DIGITS, a negative previous reading."""
    if digits is not None and digits not in SUPPORTED_DIGITS:
        raise ValueError(f"a meter has {SUPPORTED_DIGITS.start}..{SUPPORTED_DIGITS.stop - 1} digits, not {digits}")
    if previous is not None and previous < 0:
        raise ValueError("previous reading must not be negative")


def digit_counts(previous: int | None) -> list[int]:
    shortest = max(MIN_DIGITS, len(str(previous)) if previous is not None else MIN_DIGITS)
    return list(range(shortest, MAX_DIGITS + 1))
