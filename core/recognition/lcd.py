"""Electronic meters: the integer part of a 7-segment LCD, and the tariff zone it shows.

An electronic meter (NIK 2102, GAMA 100, Energomera CE 10x) shows `012345.6 kWh` on a grey-green LCD, cycling
through its tariff zones, each labelled `T1`/`T2`/`T3` on the display or marked by a lit arrow under a zone
legend printed on the meter. The unlit segments of every digit stay faintly visible ("ghost" segments).

The display is found by its glass (a solid grey-green rectangle away from the photo's edge, the segments
holes in it; failing that, a backlit one: blue or green, light digits on dark glass or dark digits on a bright
backlight; failing both, grey glass with no backlight, a little greener or bluer than the meter's face), turned
level, and its ink judged against the glass around it, so ghosts and glare are not ink (light digits are turned dark
first).
The digits are the tall ink band; the decimal point is the small square at its foot, and the reading is what
lies before it (never the digit after). The text-line models read that part, scored under what billing knows
(lines.py), and a reading they do not agree on clearly is "not sure".
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np
from PIL import Image, ImageFilter

from core.recognition import Recognition
from core.recognition.cells import otsu_threshold
from core.recognition.decode import Allowed, outside_log_prior, posterior, result
from core.recognition.drums import last_digit_sureness
from core.recognition.engine import check_request
from core.recognition.lines import (
    LINE_HEIGHT,
    MAX_LINE_ASPECT,
    MIN_LINE_WIDTH,
    LineMeterReader,
    LineModel,
    free_reading,
    spelling_log_likelihoods,
    squeeze_gaps,
)
from core.recognition.photo import load_detail, load_photo
from core.recognition.regions import Region, away_from_edge, fill_holes, label, principal_axis

SEARCH_SIDE = 640  # the glass is searched at this size
# Grey-green glass: green above blue and not below red by these many grey levels, and not dark.
GREEN_OVER_BLUE = 7
GREEN_OVER_RED = 2
GLASS_FLOOR = 80
# Backlit glass, blue or green: its brighter of green and blue at least this far above red, and at least this bright.
BACKLIT_OVER_RED = 30
BACKLIT_FLOOR = 40
# Grey glass with no backlight (looked for when neither is found): its brighter of green and blue this far above red
# (a white meter face is not), and not dark.
GREY_OVER_RED = 8
FINE_REACH = 1 / 16  # the glass judged within this share of its height when the usual reach finds no digits
LEGEND_ABOVE = 0.16  # a zone legend is printed within twice this share of the glass's height above it
# Types of electronic meters as billing names them (Latin or Cyrillic, any case, spaces ignored).
ELECTRONIC_TYPES = ("nik2102", "нік2102", "ник2102", "gama", "гама", "ce10", "се10", "ce20", "се20", "ce30", "се30",
                    "energomera", "енергомера", "энергомера")


def electronic(meter_type: str) -> bool:
    """Does the meter's type name a known electronic model (one with an LCD, not drums)?"""
    squeezed = "".join(meter_type.lower().split()).replace("-", "")
    return any(name in squeezed for name in ELECTRONIC_TYPES)


@dataclass(frozen=True)
class Glass:
    """A display found in a photo, turned level: its picture and how dark each pixel is against the glass."""

    picture: Image.Image
    ink: np.ndarray  # 0 = glass, 1 = a lit segment's darkness (ghosts stay low; light digits count as dark)
    legend: Image.Image  # the meter's face just above the glass, where a zone legend is printed, level with it
    light: bool  # light digits on dark glass (turned dark in `ink`)


def find_glass(photo: Image.Image) -> Glass | None:
    """The most display-like rectangle of grey-green or backlit glass in the photo, cut out level; None when there
    is none. (The light digits of a backlit display can be grey-green themselves: the glass around them is larger.)"""
    scale = min(1.0, SEARCH_SIDE / max(photo.size))
    small = photo.resize((max(1, round(photo.width * scale)), max(1, round(photo.height * scale))),
                         Image.Resampling.BOX) if scale < 1 else photo
    rgb = np.asarray(small.filter(ImageFilter.GaussianBlur(1)), np.int16)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    greenish = (g - b >= GREEN_OVER_BLUE) & (g - r >= GREEN_OVER_RED) & (g >= GLASS_FLOOR)
    brighter = np.maximum(g, b)
    backlit = (brighter - r >= BACKLIT_OVER_RED) & (brighter >= BACKLIT_FLOOR)
    found = [candidate for glass in (greenish, backlit) if (candidate := _display_like(glass)) is not None]
    if not found:
        cool = (brighter - r >= GREY_OVER_RED) & (np.minimum(g, b) >= GLASS_FLOOR)
        found = [candidate for candidate in [_display_like(cool)] if candidate is not None]
    if not found:
        return None
    _, labels, reg, angle, length, thickness = max(found, key=lambda candidate: candidate[0])
    ys, xs = np.nonzero(labels == reg.label)
    centre = ((xs.mean() + 0.5) / scale, (ys.mean() + 0.5) / scale)
    size = (length / scale, thickness / scale)
    picture = level_cut(photo, centre, size, angle)
    # The strip above the glass: its centre LEGEND_ABOVE of the glass's thickness up from the glass's top edge.
    up = (size[1] / 2 + LEGEND_ABOVE * size[1]) * 1.0
    legend_centre = (centre[0] + up * math.sin(math.radians(angle)), centre[1] - up * math.cos(math.radians(angle)))
    legend = level_cut(photo, legend_centre, (size[0], 2 * LEGEND_ABOVE * size[1]), angle)
    light = light_digits(picture)
    return Glass(picture, ink_of(picture, light=light), legend, light)


def _display_like(glass: np.ndarray) -> tuple[float, np.ndarray, Region, float, float, float] | None:
    """The most display-like region of a mask of glass-coloured pixels (solid, a long rectangle, away from the
    edge, not steeply turned): how display-like, the labels, the region, its angle, length and thickness; None
    when none is."""
    solid = fill_holes(away_from_edge(glass))
    labels, regions = label(solid)
    rows, cols = solid.shape
    best: tuple[float, Region, float, float, float] | None = None
    for reg in regions:
        if reg.area < 0.002 * rows * cols or reg.top == 0 or reg.left == 0 or reg.bottom == rows - 1 \
                or reg.right == cols - 1:
            continue
        ys, xs = np.nonzero(labels[reg.top:reg.bottom + 1, reg.left:reg.right + 1] == reg.label)
        angle, length, thickness = principal_axis(xs.astype(np.float64), ys.astype(np.float64))
        if thickness < 6 or not 1.6 <= length / thickness <= 9 or abs(angle) > 30:
            continue
        fill = reg.area / max(length * thickness, 1.0)
        if fill < 0.75:
            continue
        score = fill * math.sqrt(reg.area)
        if best is None or score > best[0]:
            best = (score, reg, angle, length, thickness)
    if best is None:
        return None
    score, reg, angle, length, thickness = best
    return score, labels, reg, angle, length, thickness


def light_digits(picture: Image.Image) -> bool:
    """Are the digits lighter than the glass (a backlit display's negative)? The glass is most of the picture, so
    its middle grey level lies nearer the dark end when the digits are light."""
    gray = np.asarray(picture.convert("L"), np.float32)
    darkest, middle, lightest = np.percentile(gray, [2, 50, 98])
    return bool(lightest - middle > 1.5 * (middle - darkest))


def level_cut(photo: Image.Image, centre: tuple[float, float], size: tuple[float, float], angle: float) -> Image.Image:
    """The rotated rectangle (centre, length x thickness, angle in degrees) cut out level."""
    (cx, cy), (length, thickness) = centre, size
    cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    width, height = max(1, round(length)), max(1, round(thickness))
    # Output (u, v) -> input (x, y): the rectangle's axes from its top-left corner.
    x0 = cx - cos * length / 2 + sin * thickness / 2
    y0 = cy - sin * length / 2 - cos * thickness / 2
    return photo.transform((width, height), Image.Transform.AFFINE, (cos, -sin, x0, sin, cos, y0),
                           Image.Resampling.BICUBIC)


def ink_of(picture: Image.Image, *, light: bool = False, reach_share: float = 1 / 8) -> np.ndarray:
    """How dark each pixel is against the glass near it (within `reach_share` of the glass's height), 1 at the
    darkness of a lit segment (`light`: how light, for light digits on dark glass)."""
    gray = np.asarray(picture.convert("L"), np.float32)
    if light:
        gray = 255.0 - gray
    reach = max(1, min(15, int(min(gray.shape) * reach_share)))
    # The glass around a pixel: the brightest nearby (segments are thin), smoothed; glare lifts it too.
    glass_img = Image.fromarray(_max_filter(gray, reach).astype(np.uint8))
    smooth = reach if reach_share >= 1 / 8 else max(1, reach // 2)
    glass = np.asarray(glass_img.filter(ImageFilter.GaussianBlur(smooth)), np.float32)
    dark = glass - gray
    lit = float(np.percentile(dark, 99))
    return np.clip(dark / max(lit, 12.0), 0.0, 1.5)


def _max_filter(values: np.ndarray, reach: int) -> np.ndarray:
    """The largest value within `reach` pixels along each axis (a square window), edges padded."""
    out = values
    for axis in (0, 1):
        padded = np.pad(out, [(reach, reach) if a == axis else (0, 0) for a in (0, 1)], mode="edge")
        size = out.shape[axis]
        out = np.max([np.take(padded, range(shift, shift + size), axis=axis) for shift in range(2 * reach + 1)],
                     axis=0)
    return out


LIT = 0.5  # ink at least this dark (a share of a lit segment's darkness) is a lit segment; ghosts stay below
GHOST_SPLIT = (0.35, 0.7)  # the bounds of a display's own split between ghost and lit darkness
FRAME_LINE = 0.3  # lit ink touching the frame along at least this share of its side is the frame's edge
POINT_BELOW = 0.3  # share of the band's height below its foot where the point is looked for too
POINT_CLEAR = 0.5  # a decimal point has no lit ink above it from this share of the band's height down
POINT_ABOVE = 0.05  # ... beyond this share of those pixels
POINT_OUTSTANDS = 2.0  # the point's area at least this many times the next point-like blob's
BAND_ROWS = 0.25  # rows with at least this share of the fullest row's ink belong to the digits' band


def digit_band(ink: np.ndarray) -> tuple[int, int] | None:
    """The rows of the display's digits: from the tops of their upper upright segments to the feet of the lower.

    Upright segments are tall thin blobs of lit ink; a zone label, the fraction's smaller digits and the unit's
    letters are fewer or shorter, so the band is taken from the most common tops and feet.
    """
    labels, regions = label(ink >= LIT)
    rows = ink.shape[0]
    upright = [reg for reg in regions if 0.12 * rows <= reg.height < 0.9 * rows and reg.height >= 1.4 * reg.width]
    if len(upright) < 3:
        return None
    top = float(np.percentile([reg.top for reg in upright], 20))
    bottom = float(np.percentile([reg.bottom for reg in upright], 80)) + 1
    # The top and bottom segments reach past the upright ones by about half a stroke.
    reach = 0.08 * (bottom - top)
    top, bottom = max(0, round(top - reach)), min(rows, round(bottom + reach))
    return (top, bottom) if bottom - top >= 0.2 * rows else None


def decimal_point(ink: np.ndarray, band: tuple[int, int]) -> int | None:
    """The x of the decimal point: a small square blob of lit ink at the foot of the digits (or a little below),
    nothing of a cell above it, digits before and after it, and clearly the largest such blob; None when there is
    none, or another as large (a real display's comma, a dark corner at a cell's foot): a point a digit off would
    make the reading a digit off."""
    top, bottom = band
    height = bottom - top
    # A point may sit a little below the digits' feet.
    lit = ink[top:min(ink.shape[0], bottom + round(POINT_BELOW * height))] >= LIT
    labels, regions = label(lit)
    columns: np.ndarray = np.any(lit[:height], axis=0)
    found = []
    for reg in sorted(regions, key=lambda r: r.left):
        if not (0.05 * height <= reg.width <= 0.22 * height and 0.04 * height <= reg.height <= 0.22 * height):
            continue
        if reg.area < 0.5 * reg.width * reg.height or reg.bottom < 0.8 * height:
            continue
        if columns[:reg.left].sum() < 0.8 * height or columns[reg.right + 1:].sum() < 0.1 * height:
            continue
        # Nothing of a cell right above it (the lower half of the band, where a slanted digit has not yet leant
        # over the gap): a dark corner or a comma at the foot of a cell has the cell's strokes there.
        above = lit[round(POINT_CLEAR * height):max(round(POINT_CLEAR * height), reg.top - 1), reg.left:reg.right + 1]
        if above.size and above.mean() > POINT_ABOVE:
            continue
        found.append(reg)
    # The point stands out: clearly the largest such blob (a cell's dark corner or the foot of its frame is smaller).
    found.sort(key=lambda reg: reg.area, reverse=True)
    if not found or len(found) > 1 and found[0].area < POINT_OUTSTANDS * found[1].area:
        return None
    return found[0].left


@dataclass(frozen=True)
class Display:
    """What a display shows, cut out for the text-line models: clean dark ink on white."""

    digits: Image.Image  # the integer part, or (no decimal point seen) the whole row of digits and the unit
    point: bool  # cut at the decimal point
    label: Image.Image | None  # the ink above the digits at their left (a zone label), when there is some
    marker: float | None  # the x of a lit zone marker along the glass's top edge, when one is lit
    legend: Image.Image  # the face above the glass, where the markers' legend is printed (same x as the glass)
    segments: str | None = None  # the integer part's digits as their lit segments spell them ('?': no digit)


def lit_level(ink: np.ndarray) -> float:
    """Where ghosts end and lit segments begin on this display: the split of its inked pixels' darkness into two
    classes (ghosts and lit segments), kept within GHOST_SPLIT."""
    inked = ink[ink > 0.12]
    if inked.size < 20:
        return LIT
    return min(max(otsu_threshold(inked), GHOST_SPLIT[0]), GHOST_SPLIT[1])


def clean(ink: np.ndarray, pad: int, level: float = LIT) -> Image.Image:
    """Ink as dark on white, ghosts and glass white (below `level`), with `pad` white columns on either side."""
    shade = 255 * (1.0 - np.clip((ink - level + 0.1) / 0.2, 0.0, 1.0))
    shade = np.pad(shade, ((0, 0), (pad, pad)), constant_values=255)
    return Image.fromarray(shade.astype(np.uint8)).convert("RGB")


def read_display(photo: Image.Image) -> Display | None:
    """The display of an electronic meter in the photo, its digits cut out; None when no display is seen."""
    glass = find_glass(photo)
    if glass is None:
        return None
    ink, band = _framed_band(glass.ink)
    if band is None:
        # Thin strokes on glass that is uneven from digit to digit: the glass judged nearer each stroke. Digits that
        # then reach the glass's top or foot are no display's (a drum counter's window, its drums darker than it).
        ink, band = _framed_band(ink_of(glass.picture, light=glass.light, reach_share=FINE_REACH))
        if band is not None and (band[0] == 0 or band[1] == ink.shape[0]):
            return None
    if band is None:
        return None
    top, bottom = band
    height = bottom - top
    columns = np.flatnonzero((ink[top:bottom] >= LIT).any(axis=0))
    if not columns.size:
        return None
    left = int(columns[0])
    point = decimal_point(ink, band)
    right = point if point is not None else int(columns[-1]) + 1
    margin = round(0.1 * height)
    pad = round(0.25 * height)
    part = ink[max(0, top - margin):bottom + margin, left:right]
    level = lit_level(part)
    digits = clean(part, pad, level)
    lit = ink[top:bottom, left:right] >= level
    # With no point seen, the segments still tell the integer part when the fraction's digits are smaller.
    segments = segment_reading(lit) if point is not None else integer_segments(lit)
    return Display(digits, point is not None, zone_label(ink, band, left), zone_marker(ink, band), glass.legend,
                   segments)


def _framed_band(ink: np.ndarray) -> tuple[np.ndarray, tuple[int, int] | None]:
    """The ink with the glass's frame cleared, and the digits' band in it."""
    ink = ink.copy()
    rows, cols = ink.shape
    edge_y, edge_x = max(1, round(0.04 * rows)), max(1, round(0.02 * cols))
    ink[:edge_y], ink[-edge_y:], ink[:, :edge_x], ink[:, -edge_x:] = 0, 0, 0, 0  # the glass's frame
    _off_the_frame(ink, edge_y, edge_x)
    return ink, digit_band(ink)


def _off_the_frame(ink: np.ndarray, edge_y: int, edge_x: int) -> None:
    """Clear lines of lit ink along the cleared frame (a photo at an angle leaves the frame's edge inside the cut
    glass, a dark line along it); digits keep their distance from the frame, and a zone label is short."""
    rows, cols = ink.shape
    labels, regions = label(ink >= LIT)
    for reg in regions:
        along_side = (reg.left <= edge_x or reg.right >= cols - 1 - edge_x) and reg.height >= FRAME_LINE * rows
        along_top = (reg.top <= edge_y or reg.bottom >= rows - 1 - edge_y) and reg.width >= FRAME_LINE * cols
        if along_side or along_top:
            ink[labels == reg.label] = 0


def zone_marker(ink: np.ndarray, band: tuple[int, int]) -> float | None:
    """The x of the one lit marker (a small triangle or bar) between the glass's top edge and the digits."""
    top, bottom = band
    height = bottom - top
    labels, regions = label(ink[: max(1, top)] >= LIT)
    # A marker is about a fifth of the digits' height wide, half of that high, and solid (a triangle or a bar).
    marks = [reg for reg in regions if 0.12 * height <= reg.width <= 0.45 * height and 0.06 * height <= reg.height
             <= 0.3 * height and reg.width >= reg.height and reg.top <= 0.25 * height
             and reg.area >= 0.008 * height**2 and reg.area >= 0.35 * reg.width * reg.height]
    if len(marks) != 1:
        return None
    return (marks[0].left + marks[0].right + 1) / 2


# Where a digit cell's segments are measured, as shares of the upright cell: a bar across (a top, g middle, d bottom)
# by its fullest row within these columns, an upright one (f, b upper; e, c lower) by its fullest column within these
# rows, in the half of the cell it stands in. Each is looked for in the middle of where it lies, away from the corners
# (where real segments leave gaps between them), and in a box wide enough for thick strokes and a cell placed off.
ACROSS = (0.4, 0.6)
BARS = {"a": (0.0, 0.25), "g": (0.35, 0.65), "d": (0.75, 1.0)}
UPRIGHTS = {"f": (0.0, 0.45, 0.22, 0.38), "b": (0.55, 1.0, 0.22, 0.38), "e": (0.0, 0.45, 0.62, 0.78),
            "c": (0.55, 1.0, 0.62, 0.78)}
SEGMENT_ON = 0.6  # a segment's fullest line at least this share lit: lit
SEGMENT_OFF = 0.3  # ... at most this share: unlit; between the two the cell is not spelled (a ghost near the split)
DIGIT_ASPECT = (0.25, 0.9)  # a 7-segment digit's width as a share of its height, upright
SEGMENT_CLOSE = 0.03  # gaps in a stroke up to twice this share of the digit's height are closed before it is measured
SMALL_DIGIT = 0.85  # a cell whose ink is less high than this share of the row's, on its foot, is a smaller digit
SMALL_FOOT = 0.85  # ... its ink reaching down to this share of the row
# The lit segments of each digit (a top, b upper right, c lower right, d bottom, e lower left, f upper left, g middle),
# with the forms displays differ in: a 6 without its top, a 7 with a left stroke, a 9 without its bottom.
GLYPHS = {frozenset(lit): digit for digit, lit in (
    ("0", "abcdef"), ("1", "bc"), ("2", "abdeg"), ("3", "abcdg"), ("4", "bcfg"), ("5", "acdfg"), ("6", "acdefg"),
    ("6", "cdefg"), ("7", "abc"), ("7", "abcf"), ("8", "abcdefg"), ("9", "abcdfg"), ("9", "abcfg"))}


def segment_reading(lit: np.ndarray) -> str | None:
    """The digits a row of 7-segment cells spells, read segment by segment ('?' for a cell that is no digit, or one
    with a segment neither clearly lit nor clearly unlit); None when the cells cannot be told apart."""
    cells = segment_cells(lit)
    return None if cells is None else "".join(digit for digit, _ in cells)


def integer_segments(lit: np.ndarray) -> str | None:
    """The integer part a row of cells spells when no decimal point was seen but the fraction shows by its smaller
    digits: full-height cells, then one or two smaller ones at the end; None when the row does not show that."""
    cells = segment_cells(lit)
    if cells is None:
        return None
    small = [is_small for _, is_small in cells]
    whole = small.index(True) if True in small else len(small)
    if whole == 0 or not 1 <= len(small) - whole <= FRACTION_DIGITS or not all(small[whole:]):
        return None
    return "".join(digit for digit, _ in cells[:whole])


def segment_cells(lit: np.ndarray) -> list[tuple[str, bool]] | None:
    """Each cell of a row of 7-segment digits: the digit its lit segments spell ('?' as in segment_reading), and
    whether it is a smaller digit standing on the same foot (a fraction's); None when the cells cannot be told apart.
    Ghosts are not lit, so a cell's unlit segments do not count. Real digits lean, have thick strokes and gaps
    between segments: the row is turned upright first, each cell measured within its own ink, each segment by its
    fullest line."""
    rows = np.flatnonzero(lit.sum(axis=1) >= 2)  # a stray pixel above or below is no digit's
    if rows.size < 8:
        return None
    lit = lit[rows[0]:rows[-1] + 1]
    height = lit.shape[0]
    lit = _upright(lit)
    # A digit's ink spans most of the band's height; a label's or a frame's edge does not.
    runs = [(start, end) for start, end in _runs(np.any(lit, axis=0))
            if np.ptp(np.flatnonzero(lit[:, start:end].any(axis=1))) >= 0.5 * height]
    if not runs:
        return None
    widths = [end - start for start, end in runs]
    width = float(np.median([w for w in widths if w >= 0.6 * max(widths)]))
    if width < 4 or not DIGIT_ASPECT[0] * height <= width <= DIGIT_ASPECT[1] * height:
        return None
    cells = []
    for start, end in runs:
        count = max(1, round((end - start) / width))  # touching digits: one run, split evenly
        step = (end - start) / count
        cells += [(round(start + k * step), round(start + (k + 1) * step)) for k in range(count)]
    pad = round(width)
    lit = np.pad(lit, ((0, 0), (pad, 0)))  # a 1 first: its cell reaches left of the picture
    spelled = []
    for start, end in cells:
        inked = np.flatnonzero(lit[:, start + pad:end + pad].any(axis=1))
        small = bool(inked[-1] >= SMALL_FOOT * height and inked[-1] - inked[0] + 1 < SMALL_DIGIT * height)
        top, bottom = (int(inked[0]), int(inked[-1]) + 1) if small else (0, height)
        # A narrow run is a 1, or a 7 whose bar starts right of its cell's left edge: every digit has its right uprights
        # at its cell's right side.
        left = min(start, round(end - (bottom - top) / height * width))
        spelled.append((_glyph(lit[top:bottom, left + pad:end + pad]), small))
    return spelled


def _glyph(cell: np.ndarray) -> str:
    """The digit an upright cell's lit segments make, '?' when they make none or one is neither lit nor unlit."""
    height, width = cell.shape
    reach = round(SEGMENT_CLOSE * height)
    if reach:  # strokes of dots or broken by glare: closed, so a segment's line runs whole
        cell = ~_max_filter(~_max_filter(cell, reach), reach)

    def box(x0: float, x1: float, y0: float, y1: float) -> np.ndarray:
        top, left = int(y0 * height), int(x0 * width)
        return cell[top:max(top + 1, math.ceil(y1 * height)), left:max(left + 1, math.ceil(x1 * width))]

    shares = {name: float(box(*ACROSS, y0, y1).mean(axis=1).max()) for name, (y0, y1) in BARS.items()}
    shares |= {name: float(box(*place).mean(axis=0).max()) for name, place in UPRIGHTS.items()}
    if any(SEGMENT_OFF < share < SEGMENT_ON for share in shares.values()):
        return "?"
    return GLYPHS.get(frozenset(name for name, share in shares.items() if share >= SEGMENT_ON), "?")


def _upright(lit: np.ndarray) -> np.ndarray:
    """The cells with their slant taken out: sheared by the lean that leaves the fewest inked columns."""
    height, width = lit.shape
    reach = round(0.35 * height)
    best, fewest = lit, int(lit.any(axis=0).sum())
    for shift in range(2, reach + 1, max(1, reach // 12)):
        # Row y moves left by shift * (height - 1 - y) / (height - 1): the feet stay, the tops move back.
        sheared = np.zeros((height, width + shift), bool)
        for y in range(height):
            x = shift - round(shift * (height - 1 - y) / max(1, height - 1))
            sheared[y, x:x + width] = lit[y]
        inked = int(sheared.any(axis=0).sum())
        if inked < fewest:
            best, fewest = sheared, inked
    return best


def _runs(columns: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) of each run of inked columns, gaps of a column bridged."""
    runs: list[list[int]] = []
    for x in np.flatnonzero(columns):
        if runs and x - runs[-1][1] <= 1:
            runs[-1][1] = int(x) + 1
        else:
            runs.append([int(x), int(x) + 1])
    return [(start, end) for start, end in runs]


def zone_label(ink: np.ndarray, band: tuple[int, int], left: int) -> Image.Image | None:
    """The ink above the digits' band near its left end (where a `T1` label is), cut out clean; None if none."""
    top, bottom = band
    height = bottom - top
    above = ink[: top + round(0.1 * height)]
    labels, regions = label(above >= LIT)
    parts = [reg for reg in regions if reg.bottom < top + 0.1 * height - 1 and reg.height >= 0.08 * height
             and reg.left < left + 1.2 * height and reg.right > left - 1.2 * height]
    if not parts:
        return None
    y0, y1 = min(reg.top for reg in parts), max(reg.bottom for reg in parts) + 1
    x0, x1 = min(reg.left for reg in parts), max(reg.right for reg in parts) + 1
    if y1 - y0 < 0.15 * height or x1 - x0 < 0.5 * (y1 - y0):  # a label is at least T and a digit wide
        return None
    margin = max(2, round(0.15 * (y1 - y0)))
    return clean(ink[max(0, y0 - margin):y1 + margin, x0:x1], round(0.5 * (y1 - y0)))


# Chosen on development sets (benchmarks/RECOGNITION.md, "Electronic meters"), never on the reported ones.
ACCEPT = 0.6
BLANK_LEADING = 0.2  # prior that a display leaves the reading's leading zeros blank
TAIL_AFTER_POINT = 0.02  # the cut at the decimal point left something of the fraction in
TAIL_WITHOUT_POINT = 0.5  # no point seen: the line goes on with the fraction and the unit
LABEL_SURE = 0.5  # both models at least this sure of a zone label's digit
LEGEND_SURE = 0.5  # every model at least this sure of the legend's digit above a lit marker
FRACTION_DIGITS = 2  # a display shows at most this many digits after its point
DISAGREED = 0.0  # the confidence of a reading the models do not both put first: never given
SPELLED_ACCEPT = 0.6  # a reading the lit segments spell too is given from this confidence
SPELLED_BEHIND = 2.0  # the lit segments' reading, not the models' first, is given within this log-likelihood of it


class LcdReader:
    """Reads an electronic meter's display with the text-line models (`models()` gives them, loaded once)."""

    def __init__(self, models: Callable[[], list[LineModel]], accept: float = ACCEPT):
        self.models = models
        self.accept = accept

    def read_photo(self, photo: Image.Image, *, digits: int, previous: int | None = None,
                   zone_previous: tuple[int | None, ...] = ()) -> Recognition | None:
        """The display's integer part and zone; None when the photo shows no display.

        zone_previous: the last reading of each zone of a multi-zone meter (T1 first); the zone the display shows
        picks its window, and with no zone shown every zone's window is weighed.
        """
        return self.read_seen(photo, digits=digits, previous=previous, zone_previous=zone_previous)[1]

    def read_seen(self, photo: Image.Image, *, digits: int, previous: int | None = None,
                  zone_previous: tuple[int | None, ...] = ()) -> tuple[Display | None, Recognition | None]:
        """read_photo's reading, with the display it was read from (None when the photo shows none)."""
        display = read_display(photo)
        if display is None:
            return None, None
        models = self.models()
        zones = len(zone_previous) or 1
        zone = self._zone(display, models, zones)
        if zone_previous:
            known = [zone_previous[zone - 1]] if zone else list(zone_previous)
            lasts = [last for last in known if last is not None]
        else:
            lasts = [previous] if previous is not None else []
        windows = [Allowed.after(last, digits) for last in lasts if last < 10**digits]
        frames = [squeeze_gaps(model.frames(display.digits)) for model in models]
        if windows:
            read = self._read_window(frames, windows, display.point, display.segments)
        else:
            read = self._read_freely(frames, digits, display.point)
        spelled = display.segments is not None and display.segments.zfill(digits) == read.reading
        if read.reading is not None and not spelled and miscounted(frames, read.reading, digits, display.point):
            read = Recognition(None, DISAGREED, (read.reading, *read.candidates))
        return display, replace(read, zone=zone)

    def _zone(self, display: Display, models: list[LineModel], zones: int) -> int | None:
        """The zone the display's label names (`T2`: 2), when both models read the same digit of a zone there; else
        the zone of the printed legend right above a lit marker."""
        labelled = self._labelled_zone(display.label, models, zones) if display.label is not None else None
        if labelled is None and display.marker is not None:
            return self._marked_zone(display, models, zones)
        return labelled

    @staticmethod
    def _labelled_zone(picture: Image.Image, models: list[LineModel], zones: int) -> int | None:
        """The label's digit: the last digit every model reads there, each at least LABEL_SURE sure of it, one
        model reading that digit alone (the other may take the label's T for a 1: `12` for T2)."""
        frames = [model.frames(picture) for model in models]
        texts = [free_reading(f)[0] for f in frames]
        if not all(texts) or len({text[-1] for text in texts}) != 1 or min(len(text) for text in texts) != 1:
            return None
        if min(last_digit_sureness(f) for f in frames) < LABEL_SURE:
            return None
        digit = int(texts[0][-1])
        return digit if 1 <= digit <= zones else None

    def _marked_zone(self, display: Display, models: list[LineModel], zones: int) -> int | None:
        """The legend's digit nearest above the lit marker, when the models that read the whole legend agree on it."""
        assert display.marker is not None
        legend = display.legend
        said = set()
        for model in models:
            frames = model.frames(legend)
            width = min(max(1, math.ceil(LINE_HEIGHT * legend.width / legend.height)), LINE_HEIGHT * MAX_LINE_ASPECT)
            step = legend.width / width * (max(width, MIN_LINE_WIDTH) / len(frames))  # picture pixels per frame
            best = frames.argmax(axis=1)
            places = [((i + 0.5) * step, int(column) - 1) for i, column in enumerate(best)
                      if column > 0 and (i == 0 or best[i - 1] != column) and frames[i, column] >= LEGEND_SURE]
            # A model's reading counts when it reads the legend whole: T1 T2 ... in order.
            if [digit for _, digit in places] != list(range(1, len(places) + 1)) or len(places) < 2:
                continue
            x, digit = min(places, key=lambda place: abs(place[0] - display.marker))  # type: ignore[operator]
            if abs(x - display.marker) > 0.6 * legend.height:
                return None
            said.add(digit)
        if len(said) != 1:
            return None
        digit = said.pop()
        return digit if 1 <= digit <= zones else None

    def _read_window(self, frames: list[np.ndarray], windows: list[Allowed], point: bool,
                     segments: str | None = None) -> Recognition:
        """The reading the billing window allows that the models find likeliest; given only when each model puts
        it first, or one model does and the lit segments spell it (7-segment digits confuse a model at times: a 7
        with a left stroke for a 9), and never when the lit segments spell another reading. A reading the lit
        segments spell, cell by cell, is given when the models find it nearly as likely as their first (both
        models take a real 4 for a 9, the segments tell them apart), and at a lower confidence than theirs alone."""
        share = math.log(len(windows))
        tail = TAIL_AFTER_POINT if point else TAIL_WITHOUT_POINT
        each = [np.concatenate([_display_score(f, window.table, tail, blanks=point) + window.prior - share
                                for window in windows]) for f in frames]
        score: np.ndarray = np.mean(each, axis=0)
        top, confidence = posterior(score, [outside_log_prior(window.digits) - share for window in windows])
        starts = np.cumsum([0] + [len(window.values) for window in windows])
        texts = []
        for index in top:
            k = int(np.searchsorted(starts, index, side="right")) - 1
            texts.append(windows[k].text(int(index) - int(starts[k])))
        firsts = [int(np.argmax(own)) == int(top[0]) for own in each]
        told = str(segments).zfill(len(texts[0])) if segments is not None and "?" not in segments else None
        if told is not None and told != texts[0]:
            at = np.concatenate([window.values == int(told) for window in windows])
            behind = float(score[top[0]] - score[at].max()) if len(told) == len(texts[0]) and at.any() else math.inf
            if behind <= SPELLED_BEHIND:
                return Recognition(told, confidence * math.exp(-behind), tuple(t for t in texts if t != told))
            confidence = min(confidence, DISAGREED)  # the lit segments spell another reading
        elif not all(firsts) and not (any(firsts) and told is not None):
            confidence = min(confidence, DISAGREED)
        elif told is not None and confidence >= SPELLED_ACCEPT:
            return Recognition(texts[0], confidence, tuple(texts[1:]))
        return result(texts[0], confidence, tuple(texts[1:]), self.accept, float(score[top[0]])).recognition

    def _read_freely(self, frames: list[np.ndarray], digits: int, point: bool) -> Recognition:
        """Without a previous reading: both models must spell the same integer part, cut at the point."""
        spelled = [free_reading(f) for f in frames]
        texts = {text for text, _ in spelled}
        confidence = min(sure for _, sure in spelled)
        text = spelled[0][0]
        if point and len(texts) == 1 and 0 < len(text) <= digits and confidence >= self.accept:
            return Recognition(text.zfill(digits), confidence)
        return Recognition(None, confidence, tuple(sorted(t.zfill(digits) for t in texts if t)))


def miscounted(frames: list[np.ndarray], reading: str, digits: int, point: bool) -> bool:
    """Do the models spell the display with other digits than the reading has, so that the billing window, not the
    display, made up the reading? (Asked only when the lit segments do not spell the reading.) A cell's edge or a
    comma read as a 1 is what the window then leaves out. With the point seen: every model spells another number of
    digits before it than the reading has (leading zeros dropped), one of them more (a model that drops a digit the
    window fills in rightly, often). Without it: a model spells more than the meter's digits and a fraction digit or
    two."""
    spelled = [free_reading(f)[0] for f in frames]
    if point:
        counts, count = [len(text.lstrip("0")) for text in spelled], len(reading.lstrip("0"))
        return all(c != count for c in counts) and any(c > count for c in counts)
    return any(len(text) > digits + FRACTION_DIGITS for text in spelled)


def _display_score(frames: np.ndarray, table: np.ndarray, tail: float, *, blanks: bool) -> np.ndarray:
    """log P(line | reading): the line spells the reading exactly or (prior `tail`) goes on after it; with
    `blanks`, its leading zeros may be blank cells (prior BLANK_LEADING)."""
    exact, started = spelling_log_likelihoods(frames, table)
    score = np.logaddexp(exact + math.log(1.0 - tail), started + math.log(tail))
    if not blanks:
        return score
    leading = np.argmax(table != 0, axis=1)  # a reading of all zeros shows its last 0
    leading[(table == 0).all(axis=1)] = table.shape[1] - 1
    for count in np.unique(leading[leading > 0]):
        rows = leading == count
        exact, started = spelling_log_likelihoods(frames, table[rows, count:])
        blank = np.logaddexp(exact + math.log(1.0 - tail), started + math.log(tail))
        score[rows] = np.logaddexp(score[rows] + math.log(1.0 - BLANK_LEADING), blank + math.log(BLANK_LEADING))
    return score


class DisplayAwareReader:
    """The default reader: an electronic meter's display (its type names an electronic model, it has several
    zones, or the photo shows a display), else the drum counter; thread-safe, blocking."""

    def __init__(self, drums: LineMeterReader | None = None, accept: float = ACCEPT):
        self.drums = drums or LineMeterReader()
        self.display = LcdReader(self.drums.models, accept)

    def warm(self) -> None:
        self.drums.warm()

    def read(self, image: bytes, *, digits: int | None = None, previous: int | None = None, meter_type: str = "",
             zone_previous: tuple[int | None, ...] = ()) -> Recognition:
        return self.read_photo(load_photo(image), digits=digits, previous=previous, meter_type=meter_type,
                               zone_previous=zone_previous, detail=lambda: load_detail(image))

    def read_photo(self, photo: Image.Image, *, digits: int | None = None, previous: int | None = None,
                   meter_type: str = "", zone_previous: tuple[int | None, ...] = (),
                   detail: Callable[[], Image.Image] | None = None) -> Recognition:
        """detail: the photo decoded larger, for the drum reader (LineMeterReader.read_photo)."""
        check_request(digits, previous)
        if any(last is not None and last < 0 for last in zone_previous):
            raise ValueError("previous reading must not be negative")
        if digits is None:  # a display is read only for a meter whose digits are known
            return self.drums.read_photo(photo, previous=previous, detail=detail)
        if electronic(meter_type) or zone_previous:
            display, read = self.display.read_seen(photo, digits=digits, previous=previous,
                                                   zone_previous=zone_previous)
            if zone_previous:  # a multi-zone meter: which zone a drum counter shows is not known
                return read if read is not None else Recognition(None, 0.0)
            if read is not None and (read.reading is not None or display is not None and display.point):
                return read  # a display with its decimal point not read clearly: drums would read its fraction in
            drums = self.drums.read_photo(photo, digits=digits, previous=previous, detail=detail)
            return drums if drums.reading is not None or read is None else read
        drums = self.drums.read_photo(photo, digits=digits, previous=previous, detail=detail)
        if drums.reading is not None:
            return drums
        read = self.display.read_photo(photo, digits=digits, previous=previous)
        return read if read is not None and read.reading is not None else drums
