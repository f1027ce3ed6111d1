"""A drum caught between two digits: the bottom of one digit above a gap, the top of the next below it.

The text-line models read such a window as some third digit with confidence (the bottom of a 6 over the top
of a 7 is a fine 9), so the reader must see it in the picture. A whole digit's strokes cross every row of
the band the digits of the counter span; in a half-turned window the drum's bare surface between the two
digits crosses that band. Glyphs whose strokes leave gaps of their own (segmented drum fonts) show them in the
other windows too, and then the picture cannot tell: the gap in the last window is not taken as a sign.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from PIL import Image

from core.recognition.cells import otsu_threshold
from core.recognition.counter import split_cells
from core.recognition.regions import label

# Chosen on development sets (benchmarks/RECOGNITION.md, "A drum caught between two digits").
INK_CONTRAST = 0.4  # a pixel is ink when this far from the drum's colour towards the digit's
EMPTY_ROW = 0.05  # a row with at most this share of ink pixels is bare drum
BORDER_ROW = 0.85  # a run of rows with at least this share, within EDGE_NEAR of the top or bottom, is an edge
EDGE_NEAR = 0.05
# Shares of the whole digits' height (the band their ink spans in the other windows): the bare rows between
# two digits on a drum are at least GAP of it, at least that many of them lie MARGIN inside the band (a
# neighbour's sliver beyond a whole digit lies outside it), and each digit part beside them has SIDE of ink
# within REACH inside the band.
GAP = 0.08
MARGIN = 0.12
REACH = 0.09
SIDE = 0.02
FAINT = 24.0  # grey levels: less contrast than this between drum and digit is not a digit
# A weaker sign, for the blurred half-turned windows whose gap the test above misses: two ink parts, each at
# least PART of the window, and a last digit no model is surer of than LOW_LAST_DIGIT.
PART = 0.15
LOW_LAST_DIGIT = 0.8
# A drum turned further (a quarter or three quarters of the way): the bare run still crosses the band but the
# leaving digit's remains lie above it (or the arriving one's top below it), so ink is looked for in the whole
# window, FAR_SIDE of it on either side, not counting rows inked across (BAR_ROW, a frame's edge or a bar of the
# meter's face in the cut) nor BAR_REACH rows beside them. Chosen on development sets (drawn drums turned 0.2-0.8;
# photo seed 1, frames 11 and 12, strips and scenes 11, half-turned 51: none read less).
FAR_SIDE = 0.1
BAR_REACH = 3
BAR_ROW = 0.97
# A drum nearly arrived at the next digit (0.8-0.9 of the way) shows that digit almost whole, only lower than the
# digits beside it; the models read it surely, a reading one too high. Where the other windows' digits line up
# (within ALIGNED of their height: one frame, as on a real meter) a last digit whose top is ARRIVING of their
# height below theirs, and whose bottom does not end above theirs, is taken for one. Composed counters whose
# crops are each framed their own way do not line up: there the last window is judged alone (below). Set from drawn
# counters (0.9 of the way: the digit about 0.14 of its height lower), then checked on development sets: none read less
# (benchmarks/RECOGNITION.md, "Nearly arrived drums and dropped drums").
ALIGNED = 0.04
ARRIVING = 0.1
# The same drum seen in its own window alone, for counters whose windows do not line up: the arriving digit sits
# LOW_IN_WINDOW of the window's height nearer its bottom edge than its top edge, the leaving digit's remains are cut
# by the window's top edge, and nothing is cut by its bottom edge (a whole digit shows the slivers of both
# neighbours, or neither). Remains are at least REMAINS_TALL rows and narrower than REMAINS_ACROSS of the window: a
# band across it is the frame's edge, lit, which whole digits on phone photos have above them too. Judged at
# WINDOW_SIZE; parts smaller than SPECK pixels are noise, and a digit spans at least DIGIT_SPAN of the window. Chosen
# on real photographed drums (../shared/data/meter-digits, 800 of each: no whole digit, 18.5 % of those 0.8-0.9 of
# the way) and development seed 471 (benchmarks/RECOGNITION.md, "Nearly arrived drums in their own windows").
LOW_IN_WINDOW = 0.1
REMAINS_TALL = 2
REMAINS_ACROSS = 0.9
WINDOW_SIZE = (32, 48)
SPECK = 6
DIGIT_SPAN = 0.3


def ink_rows(cell: Image.Image) -> np.ndarray:
    """Per row of a window, the share of its middle columns that are ink (light on dark or dark on light)."""
    gray = np.asarray(cell.convert("L"), np.float32)
    height, width = gray.shape
    middle = gray[:, int(width * 0.2) : max(int(width * 0.2) + 1, int(width * 0.8))]
    inner = middle[int(height * 0.15) : max(int(height * 0.15) + 1, int(height * 0.85))]
    low, drum, high = np.percentile(inner, [3, 50, 97])
    # The drum is most of the window; the digit is on the side of its colour that reaches further, and a
    # faint difference is no digit.
    if high - drum > drum - low:
        ink = (middle - drum) / max(high - drum, FAINT)
    else:
        ink = (drum - middle) / max(drum - low, FAINT)
    return (ink > INK_CONTRAST).mean(axis=1)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) of every run of True."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


def _off_edges(rows: np.ndarray) -> np.ndarray:
    """Rows that are not the window's edges (runs of nearly full rows reaching its top or bottom)."""
    inside = np.ones(len(rows), bool)
    near = EDGE_NEAR * len(rows)
    for start, end in _runs(rows >= BORDER_ROW):
        if start <= near or end >= len(rows) - near:
            inside[start:end] = False
    return inside


def _digit_span(rows: np.ndarray) -> tuple[int, int] | None:
    """The rows of a window's digit: its longest run of ink rows (short breaks bridged), edges left out."""
    spans: list[list[int]] = []
    for start, end in _runs((rows > EMPTY_ROW) & _off_edges(rows)):
        if spans and start - spans[-1][1] <= max(1, 0.04 * len(rows)):
            spans[-1][1] = end
        else:
            spans.append([start, end])
    if not spans:
        return None
    start, end = max(spans, key=lambda span: span[1] - span[0])
    return start, end


def _bare_band(rows: np.ndarray, band: slice, reach: slice, shortest: int, side: float, bars: bool = True) -> bool:
    """Do `shortest` bare rows cross the band, in one run with `side` rows of ink above and below it in reach?

    bars: rows inked across the window (a frame's edge, a bar beside the counter) count as ink too.
    """
    stroke = (rows > 2 * EMPTY_ROW) & _off_edges(rows)
    if not bars:  # and the blurred rows beside them
        bar = np.convolve(rows >= BAR_ROW, np.ones(2 * BAR_REACH + 1), "same") > 0
        stroke &= ~bar
    for start, end in _runs(rows <= EMPTY_ROW):
        inside = min(end, band.stop) - max(start, band.start)
        above, below = stroke[reach.start : start].sum(), stroke[end : reach.stop].sum()
        if inside >= shortest and min(above, below) >= side:
            return True
    return False


def two_parts(rows: np.ndarray) -> bool:
    """Does a window show two ink parts one above the other, each at least PART of it? (A weaker sign.)"""
    inside = np.flatnonzero(_off_edges(rows))
    if len(inside) < 8:
        return False
    rows = rows[inside[0] : inside[-1] + 1]
    parts: list[list[int]] = []
    for start, end in _runs(rows > 0.08):
        if parts and start - parts[-1][1] < max(1, 0.03 * len(rows)):
            parts[-1][1] = end
        else:
            parts.append([start, end])
    big = [(start, end) for start, end in parts if end - start >= PART * len(rows)]
    return any(PART <= (upper[1] + lower[0]) / 2 / len(rows) <= 1 - PART for upper, lower in zip(big, big[1:]))


def windows(line: Image.Image, digits: int) -> list[Image.Image]:
    """A counter line cut into `digits` windows; none for a line too small to cut."""
    if digits < 3 or line.width < 4 * digits or line.height < 12:
        return []
    return split_cells(line, digits)


def window_rows(line: Image.Image, digits: int) -> list[np.ndarray]:
    """ink_rows of each window of a counter line cut into `digits` windows; none for a line too small to cut."""
    return [ink_rows(cell) for cell in windows(line, digits)]


def last_drum_half_turned(line: Image.Image, digits: int) -> bool:
    """Is the last window of a counter line (cut into `digits` windows) caught between two digits?"""
    return _half_turned(window_rows(line, digits), line.height)


def _half_turned(rows: list[np.ndarray], line_height: int) -> bool:
    """last_drum_half_turned on the windows' ink rows; the whole digits' band is the median of the others'."""
    spans = [span for span in map(_digit_span, rows[:-1]) if span and span[1] - span[0] >= 0.3 * line_height]
    if len(spans) < 2:
        return False
    top, bottom = float(np.median([s[0] for s in spans])), float(np.median([s[1] for s in spans]))
    height = bottom - top
    band = slice(int(round(top + MARGIN * height)), int(round(bottom - MARGIN * height)))
    shortest = max(1, int(round(GAP * height)))
    side = SIDE * height
    if bottom - top < 8 or any(_bare_band(r, band, band, shortest, side) for r in rows[:-1]):
        return False
    reach = slice(int(round(top + REACH * height)), int(round(bottom - REACH * height)))
    if _bare_band(rows[-1], band, reach, shortest, side):
        return True
    # Turned further, the leaving digit's remains lie above the band (or the arriving digit's top below it): the
    # bare run still crosses the band, with a part of a digit, not a frame's edge, on either side.
    return _bare_band(rows[-1], band, slice(0, len(rows[-1])), shortest, FAR_SIDE * height, bars=False)


def _arriving(rows: list[np.ndarray], line_height: int) -> bool:
    """Does the last window show a whole digit lower than the lined-up digits of the others (nearly arrived)?"""
    spans = [_digit_span(r) for r in rows]
    others = [span for span in spans[:-1] if span and span[1] - span[0] >= 0.3 * line_height]
    last = spans[-1]
    if len(others) < 3 or last is None:
        return False
    tops, bottoms = np.array([s[0] for s in others], float), np.array([s[1] for s in others], float)
    top, bottom = float(np.median(tops)), float(np.median(bottoms))
    height = bottom - top
    if height < 8 or max(np.abs(tops - top).max(), np.abs(bottoms - bottom).max()) > ALIGNED * height:
        return False
    return last[0] - top >= ARRIVING * height and last[1] - bottom >= -ALIGNED * height


def arriving_in_window(window: Image.Image) -> bool:
    """Does a window, judged alone, show a digit nearly arrived: low, under the leaving digit's remains?"""
    width, height = WINDOW_SIZE
    gray = np.asarray(window.convert("L").resize(WINDOW_SIZE, Image.Resampling.BICUBIC), np.float32)
    light = gray > otsu_threshold(gray)
    # The digit is the lesser class in the middle of the window; the side columns hold frame edges and scales.
    ink = light if light[height // 6 : height - height // 6, width // 5 : width - width // 5].mean() < 0.5 else ~light
    side = max(1, width // 10)
    ink[:, :side] = ink[:, -side:] = False
    edge = max(1, height // 20)
    # A part reaching from edge to edge is the drum's surround or a frame, not a digit.
    parts = [part for part in label(ink)[1] if part.area >= SPECK and part.height <= height - 2 * edge]
    digits = [part for part in parts if part.height >= DIGIT_SPAN * height]
    if not digits:
        return False
    digit = max(digits, key=lambda part: part.area)
    above = any(part.bottom < digit.top and part.top <= edge and part.height >= REMAINS_TALL
                and part.width < REMAINS_ACROSS * (width - 2 * side) for part in parts)
    below = any(part.top > digit.bottom and part.bottom >= height - 1 - edge for part in parts)
    low = (digit.top - (height - 1 - digit.bottom)) / height
    return above and not below and low >= LOW_IN_WINDOW


def last_digit_sureness(frames: np.ndarray) -> float:
    """How sure a model is of the last digit it reads on the line (frames x (gap, 0..9)); 0 when it reads none."""
    best = frames.argmax(axis=1)
    digit = np.flatnonzero(best > 0)
    if not digit.size:
        return 0.0
    end = int(digit[-1])
    start = end
    while start > 0 and best[start - 1] == best[end]:
        start -= 1
    return float(frames[start : end + 1, 1:].max())


def last_drum_unsure(line: Image.Image, digits: int, frames: list[np.ndarray]) -> bool:
    """Should a reading of this line be refused for its last drum (caught between two digits, or likely so)?"""
    return next(last_drum_signs(line, digits, frames), None) is not None


def last_drum_signs(line: Image.Image, digits: int, frames: list[np.ndarray]) -> Iterator[str]:
    """The signs of a last drum caught between two digits (or likely so) this line shows, by name, looked for one
    after the other as asked (last_drum_unsure stops at the first; benchmarks/photo_why.py lists them all): half, a
    drum half-way; arriving, a last digit lower than the others; window, nearly arrived, judged in its own window;
    parts, two ink parts and a last digit no model is sure of."""
    cells = windows(line, digits)
    if not cells:
        return
    rows = [ink_rows(cell) for cell in cells]
    if _half_turned(rows, line.height):
        yield "half"
    if _arriving(rows, line.height):
        yield "arriving"
    if arriving_in_window(cells[-1]):
        yield "window"
    if min(last_digit_sureness(f) for f in frames) < LOW_LAST_DIGIT and two_parts(rows[-1]):
        yield "parts"


def advanced_before_last(first: str, second: str) -> bool:
    """Do two readings differ only by the last drum, one showing 9 and the other 0 (X9 against X0)?

    The last drum turning 9 -> 0 with the drum before it already advanced: the value is (X-1)9 with the carry
    shown early, or X0 reached; the picture cannot tell them apart (the lower digit, X9, is neither).
    """
    return len(first) == len(second) and first[:-1] == second[:-1] and {first[-1], second[-1]} == {"9", "0"}
