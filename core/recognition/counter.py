"""Finding the counter window in a photo and cutting it into digit cells."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

from core.recognition.cells import otsu_threshold
from core.recognition.regions import away_from_edge, fill_holes, label, principal_axis

SEARCH_SIDE = 400  # the meter face is searched at this size
# A found band is cut this much longer and thicker, then fitted to the counter's own edges: a band
# whose light drums broke it at the search size covers only part of the counter.
MARGIN_ALONG, MARGIN_ACROSS = 2.0, 1.5
FACE_DIFFERENCE = 25.0
# A box fitted across more than this share of its cut found no edge of the counter: the face beside it was not
# one colour (a shadow falling across the band, the light falling off along it), and it is fitted again against
# the face above and below each column (chosen on development photo seeds 11 and 12).
FITTED_ACROSS = 0.85
# Thresholds tried on a meter face besides Otsu's, as shares of it: a counter that merges with a shadow on the
# face, or with the print beside it, at Otsu's threshold stands alone under a darker one (seeds 11 and 12).
DARKER = (0.6, 0.8)
# A band as the search found it is cut this much longer and thicker (its edges at the search size are rough).
SEARCHED_GROWTH = (1.1, 1.15)
EVEN_BLOCKS = 16  # the light is evened out over blocks this many to the photo's larger side  # grey levels (in any channel) apart from the meter face that count as the counter


def luminance(img: Image.Image) -> np.ndarray:
    return np.asarray(img.convert("L"), dtype=np.float32)


@dataclass(frozen=True)
class Band:
    """A counter-like band on a photo: how counter-like, its centre, (length, thickness) and angle, in photo pixels."""

    score: float
    centre: tuple[float, float]
    size: tuple[float, float]
    angle: float

    def moved(self, dx: float, dy: float) -> Band:
        return Band(self.score, (self.centre[0] + dx, self.centre[1] + dy), self.size, self.angle)

    def scaled(self, factor: float) -> Band:
        """The band on the same photo `factor` times larger."""
        return Band(self.score, (self.centre[0] * factor, self.centre[1] * factor),
                    (self.size[0] * factor, self.size[1] * factor), self.angle)


def counter_windows(photo: Image.Image, limit: int = 3, unlike_face: bool = True) -> list[Image.Image]:
    """Upright crops of the most counter-like dark framed bands on a meter face, best first.

    unlike_face: with no dark band found, look for a band unlike the face (off where the photo may be the counter).
    """
    return [cut_band(photo, band) for band in counter_bands(photo, limit, unlike_face)]


def counter_bands(photo: Image.Image, limit: int = 3, unlike_face: bool = True, even: bool = False) -> list[Band]:
    """The most counter-like dark framed bands on a meter face, best first (see counter_windows).

    even: first even out the light (a phone's photo, lit from one side, in a hand's shadow), so that "dark" means
    darker than the face around it rather than darker than the photo's brightest half.
    """
    scale, blurred = _searched(photo)
    level = evened if even else (lambda gray: gray)
    found = _dark_bands(level(luminance(blurred)), scale)
    # Widened by a pixel, a thin frame line closes, so light drum windows stay enclosed.
    for band in _dark_bands(level(luminance(blurred.filter(ImageFilter.MinFilter(3)))), scale):
        if all(math.dist(band[1], other[1]) > band[2][1] / 2 for other in found):
            found.append(band)
    if not found and unlike_face:  # light drums in a hairline frame: no dark band, but still unlike the meter face
        found = _bands(_unlike_face(blurred), scale)
    found.sort(key=lambda item: -item[0])
    return [Band(score, centre, size, angle) for score, centre, size, angle in found[:limit]]


def darker_bands(photo: Image.Image, limit: int = 3) -> list[Band]:
    """The most counter-like dark bands under thresholds darker than Otsu's (DARKER), best first, each once."""
    scale, blurred = _searched(photo)
    gray = luminance(blurred)
    threshold = otsu_threshold(gray)
    found = sorted((band for share in DARKER for band in _bands(gray < share * threshold, scale)), key=lambda item: -item[0])
    kept: list[tuple[float, tuple[float, float], tuple[float, float], float]] = []
    for band in found:
        if all(math.dist(band[1], other[1]) > band[2][1] / 2 for other in kept):
            kept.append(band)
    return [Band(score, centre, size, angle) for score, centre, size, angle in kept[:limit]]


def _searched(photo: Image.Image) -> tuple[float, Image.Image]:
    """The photo at SEARCH_SIDE, softened a little, and its scale."""
    scale = SEARCH_SIDE / max(photo.size)
    small = photo.resize((max(1, round(photo.width * scale)), max(1, round(photo.height * scale))), Image.Resampling.BOX)
    return scale, small.filter(ImageFilter.GaussianBlur(1))


def evened(gray: np.ndarray, blocks: int = EVEN_BLOCKS) -> np.ndarray:
    """Grey levels over the local brightest (in blocks of 1/blocks of the larger side, widened by a block), x 255."""
    rows, cols = gray.shape
    block = max(2, round(max(rows, cols) / blocks))
    high, wide = -(-rows // block) * block, -(-cols // block) * block
    padded = np.pad(gray, ((0, high - rows), (0, wide - cols)), mode="edge")
    top = padded.reshape(high // block, block, wide // block, block).max(axis=(1, 3))
    # A band thicker than a block would see only itself: each block takes the brightest of its neighbours too.
    spread = np.pad(top, 1, mode="edge")
    top = np.max([spread[i : i + top.shape[0], j : j + top.shape[1]] for i in range(3) for j in range(3)], axis=0)
    light = np.asarray(Image.fromarray(top.astype(np.float32), "F").resize((wide, high), Image.Resampling.BILINEAR))
    return 255.0 * gray / np.maximum(light[:rows, :cols], 1.0)


def cut_band(photo: Image.Image, band: Band) -> Image.Image:
    """The band cut out level and fitted to the counter in it."""
    return fit_band(photo, band)[1]


def fit_band(photo: Image.Image, band: Band) -> tuple[Band, Image.Image]:
    """The band fitted to the counter in it, and the counter cut out level (as cut_band)."""
    fitted, cut = _fitted(photo, band)
    return fitted, trim_frame(cut)


def cut_fitted(photo: Image.Image, fitted: Band) -> Image.Image:
    """A band fit_band has fitted, cut out level (from the same photo, or the photo larger with the band scaled)."""
    return trim_frame(_level_cut(photo, fitted.centre, fitted.size, fitted.angle))


def cut_searched(photo: Image.Image, band: Band) -> Image.Image:
    """A band as the search found it (its dark frame), grown by SEARCHED_GROWTH, cut out level and trimmed."""
    grown = (band.size[0] * SEARCHED_GROWTH[0], band.size[1] * SEARCHED_GROWTH[1])
    return trim_frame(_level_cut(photo, band.centre, grown, band.angle))


def _dark_bands(gray: np.ndarray, scale: float) -> list[tuple[float, tuple[float, float], tuple[float, float], float]]:
    """Solid dark rectangles away from the photo's edge: (score, centre, (length, thickness), angle) in photo pixels."""
    return _bands(gray < otsu_threshold(gray), scale)


def _unlike_face(img: Image.Image) -> np.ndarray:
    """Where a picture differs from its commonest colour (the meter face) by more than FACE_DIFFERENCE.

    What touches the picture's edge (the wall around the meter) is left out, or it would enclose the face.
    """
    colour = np.asarray(img.convert("RGB"), dtype=np.float32)
    face = np.median(colour.reshape(-1, 3), axis=0)
    return away_from_edge(np.abs(colour - face).max(axis=2) > FACE_DIFFERENCE)


def _bands(mask: np.ndarray, scale: float) -> list[tuple[float, tuple[float, float], tuple[float, float], float]]:
    """Solid rectangles of a mask (holes filled) away from the photo's edge, as in _dark_bands.

    What touches the edge is left out before the holes are filled: a dark meter case (or wall) around the face would
    enclose it, and the face with the counter on it would be filled in as one hole.
    """
    solid = fill_holes(away_from_edge(mask))
    labels, regions = label(solid)
    rows, cols = solid.shape
    bands = []
    for reg in regions:
        if reg.area < 0.004 * rows * cols or reg.top == 0 or reg.left == 0 or reg.bottom == rows - 1 or reg.right == cols - 1:
            continue
        ys, xs = np.nonzero(labels[reg.top : reg.bottom + 1, reg.left : reg.right + 1] == reg.label)
        angle, length, thickness = principal_axis(xs.astype(np.float64), ys.astype(np.float64))
        if thickness < 4 or not 1.8 <= length / thickness <= 12:
            continue
        fill = reg.area / max(length * thickness, 1.0)
        if fill < 0.7:
            continue
        centre = ((reg.left + xs.mean() + 0.5) / scale, (reg.top + ys.mean() + 0.5) / scale)
        bands.append((fill * math.sqrt(reg.area), centre, (length / scale, thickness / scale), angle))
    return bands


def _fitted(photo: Image.Image, band: Band) -> tuple[Band, Image.Image]:
    """The band fitted to the counter in it (cut level, longer and thicker, then cut to the counter's own edges),
    and that cut."""
    (cx, cy), (length, thickness), angle = band.centre, band.size, band.angle
    cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    for _ in range(3):
        size = (length * MARGIN_ALONG + 4, thickness * MARGIN_ACROSS + 4)
        level, (lx, ly) = _level_cut(photo, (cx, cy), size, angle), (cx, cy)
        left, top, right, bottom = _counter_box(level)
        if bottom - top > FITTED_ACROSS * level.height:
            left, top, right, bottom = _counter_box(level, by_column=True)
        near = max(3, level.width // 40)
        if near < left and right < level.width - near:
            break
        # The counter runs on past the cut: centre on what was found of it and cut again, longer.
        shift = (left + right - level.width) / 2
        cx, cy = cx + shift * cos, cy + shift * sin
        length = max(length, right - left)
    # The box's centre, from the level cut (centred on lx, ly) back to the photo.
    along, across = (left + right - level.width) / 2, (top + bottom - level.height) / 2
    centre = (lx + along * cos - across * sin, ly + along * sin + across * cos)
    return Band(band.score, centre, (right - left, bottom - top), angle), level.crop((left, top, right, bottom))


def _level_cut(photo: Image.Image, centre: tuple[float, float], size: tuple[float, float], angle: float) -> Image.Image:
    cx, cy = centre
    length, thickness = size
    reach = math.hypot(length, thickness) / 2 + 2
    box = (int(cx - reach), int(cy - reach), int(math.ceil(cx + reach)), int(math.ceil(cy + reach)))
    region = photo.crop(box)  # outside the photo becomes black, like a frame
    local = (cx - box[0], cy - box[1])
    if abs(angle) > 0.5:
        region = region.rotate(angle, resample=Image.Resampling.BICUBIC, center=local, fillcolor=(0, 0, 0))
    cut = (local[0] - length / 2, local[1] - thickness / 2, local[0] + length / 2, local[1] + thickness / 2)
    left, top, right, bottom = (int(round(v)) for v in cut)
    return region.crop((left, top, right, bottom))


def _counter_box(level: Image.Image, by_column: bool = False) -> tuple[int, int, int, int]:
    """The box of the body unlike the meter face in the middle of a level cut, without thin things attached to it.

    by_column: the face is taken just above and below each column (its median over a stretch of columns as long
    as half the cut is thick), not once for the whole cut.
    """
    colour = np.asarray(level.convert("RGB"), dtype=np.float32)
    rows, cols = colour.shape[:2]
    # The face is what lies just above and below the band along its middle half: the cut's ends may reach past
    # the face (the case, the wall), and its colour there would make the face itself unlike "the face".
    rim = np.concatenate([colour[0, cols // 4 : cols - cols // 4], colour[-1, cols // 4 : cols - cols // 4]])
    face = np.median(rim, axis=0)
    if by_column:
        rims = np.concatenate([colour[:2], colour[-2:]]).mean(axis=0)  # columns x channels
        reach = max(1, rows // 2)
        padded = np.pad(rims, ((reach, reach), (0, 0)), mode="edge")
        stretch = [padded[k : k + cols] for k in range(0, 2 * reach + 1, max(1, reach // 4))]
        face = np.median(np.stack(stretch), axis=0)[None]
    apart = np.abs(colour - face).max(axis=2)
    solid = fill_holes(apart > FACE_DIFFERENCE)
    labels, regions = label(solid)
    middle = labels[rows // 4 : rows - rows // 4, cols // 4 : cols - cols // 4]
    counts = np.bincount(middle.ravel(), minlength=len(regions) + 1)
    counts[0] = 0
    if not regions or counts.max() == 0:
        return 0, 0, cols, rows
    body = labels == int(counts.argmax())
    # Rows and columns mostly inside the body: a line of print touching the frame does not widen it.
    across, along = body.mean(axis=1), body.mean(axis=0)
    inside_rows = np.nonzero(across >= 0.5 * across.max())[0]
    inside_cols = np.nonzero(along >= 0.5 * along.max())[0]
    top, bottom = int(inside_rows[0]), int(inside_rows[-1]) + 1
    left, right = int(inside_cols[0]), int(inside_cols[-1]) + 1
    if bottom - top < 8 or right - left < 8:
        return 0, 0, cols, rows
    return left, top, right, bottom


def trim_frame(strip: Image.Image) -> Image.Image:
    """Cut away the dark frame and anything outside it, keeping the band of digit cells."""
    gray = luminance(strip)
    floor, middle = np.percentile(gray, [3, 50])
    dark = gray < min(floor + 0.3 * (middle - floor), 70.0)  # frame black, not a dark drum
    top, bottom = _inside(dark.mean(axis=1) >= 0.8, 0.25)
    left, right = _inside(dark.mean(axis=0) >= 0.8, 0.08)
    if bottom - top < 8 or right - left < 8:
        return strip
    return strip.crop((left, top, right, bottom))


def _inside(frame: np.ndarray, zone: float) -> tuple[int, int]:
    """The span after the last frame line near the start and before the first one near the end."""
    n = len(frame)
    reach = max(1, int(n * zone))
    head = np.nonzero(frame[:reach])[0]
    tail = np.nonzero(frame[n - reach :])[0]
    start = int(head[-1]) + 1 if len(head) else 0
    end = n - reach + int(tail[0]) if len(tail) else n
    return start, end


def split_cells(strip: Image.Image, digits: int) -> list[Image.Image]:
    """Cut a counter band into `digits` cells at the darkest, sharpest column boundaries."""
    gray = luminance(strip)
    height, width = gray.shape
    columns = gray.mean(axis=0)
    darkness = 1.0 - (columns - columns.min()) / max(float(np.ptp(columns)), 1e-6)
    colour = np.asarray(strip.convert("RGB"), dtype=np.float32).mean(axis=0)
    jump = np.zeros(width)
    jump[1:] = np.abs(np.diff(colour, axis=0)).sum(axis=1)
    jump = jump / max(float(jump.max()), 1e-6)
    boundary = darkness + 0.5 * jump
    cuts = _best_cuts(boundary, digits, height)
    return [strip.crop((cuts[i], 0, cuts[i + 1], height)) for i in range(digits)]


def _best_cuts(boundary: np.ndarray, digits: int, height: int) -> list[int]:
    """Cut positions 0 = c0 < ... < cN = width maximising the boundary score, cells of plausible width."""
    width = len(boundary)
    mean = width / digits
    low = max(2, int(mean * 0.6))
    high = max(low + 1, int(mean * 1.45))
    neg = -1e18
    score = np.full((digits + 1, width + 1), neg)
    back = np.zeros((digits + 1, width + 1), dtype=np.int64)
    score[0, 0] = 0.0
    gain = np.append(boundary, 0.0)
    for k in range(1, digits + 1):
        for x in range(width + 1):
            lo, hi = max(0, x - high), x - low
            if hi < lo:
                continue
            prev = score[k - 1, lo : hi + 1]
            j = int(np.argmax(prev))
            if prev[j] <= neg / 2:
                continue
            bonus = gain[x] if k < digits else 0.0
            score[k, x] = prev[j] + bonus
            back[k, x] = lo + j
    if score[digits, width] <= neg / 2:
        return [round(i * mean) for i in range(digits + 1)]
    cuts = [width]
    x = width
    for k in range(digits, 0, -1):
        x = int(back[k, x])
        cuts.append(x)
    return cuts[::-1]

