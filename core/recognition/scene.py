"""Where to read on a whole photo of a meter: counter-like bands on its face, and the text lines a detector finds.

A phone photo shows the wall, the meter's case and its face; the face carries the counter and print around it
(model, serial number, year, ratings). The DB text detector finds the print well and the drum counter often not
at all (light digits in dark windows are not what it was trained on), so it serves twice: the print's lines
show where the face is, and the counter locator (counter.py, made for a photo of the face) then looks for the
counter's dark band on the face alone; and the lines themselves are read too (a counter the detector did find,
and the print, so that a serial number that looks like a reading competes in the open instead of being missed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

from core.recognition.counter import Band, _level_cut, counter_bands, darker_bands, fit_band
from core.recognition.detect import TextDetector, TextLine
from core.recognition.regions import fill_holes, label

FACE_SCORE = 0.6  # a detected line surer than this marks the face
TEXT_MARGIN = 0.15  # the face: the box of its print, grown by this share of its larger side
COLOUR_SIDE = 300  # the face's colour region is found at this size
COLOUR_DIFFERENCE = 45.0  # grey levels (in any channel) from the face's colour that still count as the face
COLOUR_MARGIN = 0.04
# Text lines read besides the bands: at most this many, the thickest first, of a plausible length for the
# meter's digits (cells about 0.25-1.6 of the line's thickness wide, up to three fraction drums after them).
TEXT_LINES = 3
BANDS = 2  # counter-like bands kept of each search
EVEN = (False, True)
DETECT_SIDE = 736  # the detector needs only to find the print, not to read it
MIN_THICKNESS = 10  # pixels of the working photo
# A line on a band's axis, overlapping it, no thicker than this share of it and turned as it within this many degrees,
# goes on from the band's counter (fraction drums, the unit): it is part of the counter, not print that competes.
ALONG_THICKNESS, ALONG_ANGLE = 1.5, 8.0


@dataclass(frozen=True)
class Place:
    """Somewhere on the photo that may be the counter: its picture, where it came from, its thickness in pixels."""

    picture: Image.Image
    source: str  # "band": the counter locator's dark band; "text": a line the detector found
    thickness: float
    fitted: Band | None = None  # a band's rectangle fitted to the counter, in the photo's pixels
    searched: Band | None = None  # the band as the search found it, before fitting


def places(photo: Image.Image, detector: TextDetector, digits: list[int], whole: bool = True) -> list[Place]:
    """The bands on its face (and on the whole photo), then the plausible text lines not inside a band.

    On the face the counter's band is looked for at Otsu's threshold, with the light evened out, and under darker
    thresholds (counter.darker_bands): one threshold for the whole face misses a counter beside a shadow.
    """
    lines = detector.lines(photo, DETECT_SIDE)
    tagged = [(band, "band") for band in counter_bands(photo, BANDS)] if whole or not lines else []
    for left, top, right, bottom in face_boxes(photo, lines):
        face = photo.crop((left, top, right, bottom))
        for even in EVEN:
            tagged += [(band.moved(left, top), "face") for band in counter_bands(face, BANDS, even=even)]
        tagged += [(band.moved(left, top), "face") for band in darker_bands(face, BANDS)]
    kept = _distinct([band for band, _ in tagged])
    found = [Place(picture, source, band.size[1], fitted, band) for band, source in tagged if any(band is k for k in kept)
             for fitted, picture in [fit_band(photo, band)]]
    bands = kept
    text = [line for line in lines if plausible(line, digits) and not any(part_of_band(line, band) for band in bands)]
    text.sort(key=lambda line: -line.thickness)
    for line in text[:TEXT_LINES]:
        found.append(Place(_level_cut(photo, line.centre, (line.length, line.thickness), line.angle), "text",
                           line.thickness))
    return [place for place in found if place.picture.width >= 8 and place.picture.height >= 8]


def plausible(line: TextLine, digits: list[int]) -> bool:
    """Could the line be a counter of one of these digit counts, by its size and shape?"""
    if line.thickness < MIN_THICKNESS:
        return False
    aspect = line.length / line.thickness
    return 0.25 * min(digits) <= aspect <= 1.6 * (max(digits) + 3)


def face_boxes(photo: Image.Image, lines: list[TextLine]) -> list[tuple[int, int, int, int]]:
    """Boxes (left, top, right, bottom) that likely hold the meter's face: around its print, and its colour."""
    sure = [line for line in lines if line.score >= FACE_SCORE]
    if not sure:
        return []
    corners = np.array([corner for line in sure for corner in _corners(line)])
    (x0, y0), (x1, y1) = corners.min(axis=0), corners.max(axis=0)
    grow = TEXT_MARGIN * max(x1 - x0, y1 - y0)
    boxes = [_clipped(photo, x0 - grow, y0 - grow, x1 + grow, y1 + grow)]
    coloured = _face_colour_box(photo, sure)
    if coloured and coloured != boxes[0]:
        boxes.append(coloured)
    return [box for box in boxes if box[2] - box[0] >= 16 and box[3] - box[1] >= 16]


def _face_colour_box(photo: Image.Image, lines: list[TextLine]) -> tuple[int, int, int, int] | None:
    """The box of the region of the face's colour (sampled beside the print) that holds most of the print."""
    scale = COLOUR_SIDE / max(photo.size)
    small = photo.resize((max(1, round(photo.width * scale)), max(1, round(photo.height * scale))), Image.Resampling.BOX)
    pixels = np.asarray(small.filter(ImageFilter.MedianFilter(3)).convert("RGB"), np.float32)
    rows, cols = pixels.shape[:2]
    samples = []
    for line in lines:
        cos, sin = math.cos(math.radians(line.angle)), math.sin(math.radians(line.angle))
        for across in (-0.9, 0.9):  # just above and below the line
            for along in (-0.4, 0.0, 0.4):
                x = line.centre[0] + along * line.length * cos - across * line.thickness * sin
                y = line.centre[1] + along * line.length * sin + across * line.thickness * cos
                col, row = int(x * scale), int(y * scale)
                if 0 <= col < cols and 0 <= row < rows:
                    samples.append(pixels[row, col])
    if not samples:
        return None
    face = np.median(np.array(samples), axis=0)
    labels, regions = label(fill_holes(np.abs(pixels - face).max(axis=2) < COLOUR_DIFFERENCE))
    votes = np.zeros(len(regions) + 1, int)
    for line in lines:
        col, row = int(line.centre[0] * scale), int(line.centre[1] * scale)
        if 0 <= col < cols and 0 <= row < rows:
            votes[labels[row, col]] += 1
    votes[0] = 0
    if not regions or votes.max() == 0:
        return None
    region = regions[int(votes.argmax()) - 1]
    grow = COLOUR_MARGIN * max(region.width, region.height)
    return _clipped(photo, (region.left - grow) / scale, (region.top - grow) / scale,
                    (region.right + 1 + grow) / scale, (region.bottom + 1 + grow) / scale)


def _clipped(photo: Image.Image, left: float, top: float, right: float, bottom: float) -> tuple[int, int, int, int]:
    return max(0, int(left)), max(0, int(top)), min(photo.width, int(math.ceil(right))), min(photo.height, int(math.ceil(bottom)))


def _corners(line: TextLine) -> list[tuple[float, float]]:
    cos, sin = math.cos(math.radians(line.angle)), math.sin(math.radians(line.angle))
    return [(line.centre[0] + a * line.length / 2 * cos - b * line.thickness / 2 * sin,
             line.centre[1] + a * line.length / 2 * sin + b * line.thickness / 2 * cos)
            for a, b in ((-1, -1), (1, -1), (1, 1), (-1, 1))]


def _inside(point: tuple[float, float], band: Band) -> bool:
    """Is the point inside the band's rectangle?"""
    cos, sin = math.cos(math.radians(band.angle)), math.sin(math.radians(band.angle))
    dx, dy = point[0] - band.centre[0], point[1] - band.centre[1]
    return abs(dx * cos + dy * sin) <= band.size[0] / 2 and abs(-dx * sin + dy * cos) <= band.size[1] / 2


def part_of_band(line: TextLine, band: Band) -> bool:
    """Is the line inside the band, or does it go on from it along its axis (red fraction drums the search left out
    of the dark band, read with the unit after them as a line of their own)?"""
    turn = abs(line.angle - band.angle)
    if _inside(line.centre, band):
        return True
    if min(turn, 180 - turn) > ALONG_ANGLE or line.thickness > ALONG_THICKNESS * band.size[1]:
        return False
    cos, sin = math.cos(math.radians(band.angle)), math.sin(math.radians(band.angle))
    dx, dy = line.centre[0] - band.centre[0], line.centre[1] - band.centre[1]
    return abs(-dx * sin + dy * cos) <= band.size[1] / 2 and abs(dx * cos + dy * sin) <= (band.size[0] + line.length) / 2


def _distinct(bands: list[Band]) -> list[Band]:
    """The bands without those found again (a centre within half the thickness of one kept)."""
    kept: list[Band] = []
    for band in bands:
        if all(math.dist(band.centre, other.centre) > min(band.size[1], other.size[1]) / 2 for other in kept):
            kept.append(band)
    return kept
