"""The default meter reader: Pillow image processing, font-template digits, billing constraints."""

from __future__ import annotations

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
# Digit distance = mean over the nearest NEIGHBOURS templates, the softmax sharpness of those distances,
# and the confidence a reading needs: for a photo of the counter alone, and for a counter found inside a
# larger photo (smaller, tilted, blurred: more confident mistakes). Set on development sets (seeds 7 and 8).
NEIGHBOURS = 10
SHARPNESS = 35.0
COUNTER_ONLY_ACCEPT = 0.999
FOUND_COUNTER_ACCEPT = 0.9995


class MeterPhotoReader:
    """Reads the counter of an electricity meter from a photo; thread-safe, blocking."""

    def read(self, image: bytes, *, digits: int | None = None, previous: int | None = None) -> Recognition:
        photo = load_photo(image)
        return self.read_photo(photo, digits=digits, previous=previous)

    def read_photo(self, photo: Image.Image, *, digits: int | None = None, previous: int | None = None) -> Recognition:
        if digits is not None and digits not in SUPPORTED_DIGITS:
            raise ValueError(f"a meter has {SUPPORTED_DIGITS.start}..{SUPPORTED_DIGITS.stop - 1} digits, not {digits}")
        if previous is not None and previous < 0:
            raise ValueError("previous reading must not be negative")
        strip = photo.width >= STRIP_ASPECT * photo.height
        windows = counter_windows(photo, unlike_face=not strip)
        if strip:
            windows.insert(0, trim_frame(photo))
        counts = [digits] if digits else _digit_counts(previous)
        accepts = [COUNTER_ONLY_ACCEPT if strip and k == 0 else FOUND_COUNTER_ACCEPT for k in range(len(windows))]
        readings = [
            self._read_window(window, count, previous, accept)
            for window, accept in zip(windows, accepts)
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
    def _read_window(window: Image.Image, count: int, previous: int | None, accept: float) -> tuple[Decoded, float]:
        """The decoded reading, and how unlike digits the cells look (mean distance to their templates)."""
        cells = split_cells(window, count)
        distances, feats = describe([cell_gray(cell) for cell in cells], neighbours=NEIGHBOURS)
        decoded = decode(probabilities(distances, SHARPNESS), previous, accept=accept, similarity=similarity(feats))
        return decoded, float(distances.min(axis=1).mean())


def _digit_counts(previous: int | None) -> list[int]:
    shortest = max(MIN_DIGITS, len(str(previous)) if previous is not None else MIN_DIGITS)
    return list(range(shortest, MAX_DIGITS + 1))
