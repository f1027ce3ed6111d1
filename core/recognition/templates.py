"""A nearest-template digit classifier whose templates are rendered from fonts at start-up.

No photographed digits are used to build it: the templates come from Pillow's bundled font, the
DejaVu fonts when the system has them, and drum and seven-segment digits drawn in code as strokes, each distorted
(slant, stroke weight, framing, blur), so a meter type never seen before is read like the rest.
Cells are compared by gradient-orientation histograms with unsigned angles, which makes light
digits on dark drums and dark digits on light drums look the same and needs no binarisation.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import random
import tempfile
import threading
from functools import cache
from pathlib import Path

import numpy as np
import PIL
from PIL import Image, ImageDraw, ImageFilter, ImageFont

log = logging.getLogger(__name__)

SHARPNESS = 20.0
WIDTH, HEIGHT, CELL, BINS = 16, 24, 4, 9
MISSING_DISTANCE = 4.0  # beyond any real one: the features are 15 unit blocks, so at most ~5.5 apart
VARIANTS = 20  # distorted copies of each rendered digit
_FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu", "/usr/share/fonts/TTF")
_FONT_NAMES = (
    "DejaVuSans.ttf",
    "DejaVuSans-Bold.ttf",
    "DejaVuSansCondensed.ttf",
    "DejaVuSansCondensed-Bold.ttf",
    "DejaVuSansMono.ttf",
    "DejaVuSansMono-Bold.ttf",
    "DejaVuSans-ExtraLight.ttf",
    "DejaVuSerif.ttf",
    "DejaVuSerifCondensed-Bold.ttf",
)
# Segments a..g of a seven-segment (LCD) digit, as lit for 0..9.
_SEGMENTS = ("abcdef", "bc", "abged", "abgcd", "fgbc", "afgcd", "afgedc", "abc", "abcdefg", "abcdfg")
_lock = threading.Lock()
Font = ImageFont.FreeTypeFont | ImageFont.ImageFont  # a TrueType font, or the bitmap one without FreeType


def _arc(cx: float, cy: float, rx: float, ry: float, start: float, end: float, steps: int = 24) -> list[tuple[float, float]]:
    """Points along an elliptic arc in the unit box; angles in degrees, 90 pointing down."""
    angles = (math.radians(start + (end - start) * k / steps) for k in range(steps + 1))
    return [(cx + rx * math.cos(a), cy + ry * math.sin(a)) for a in angles]


def _ring(cx: float, cy: float, rx: float, ry: float, squareness: float = 2.0) -> list[tuple[float, float]]:
    """A closed loop: an ellipse, or with squareness 4 the rounded rectangle of a DIN zero."""
    points = []
    for k in range(49):
        a = 2 * math.pi * k / 48
        c, s = math.cos(a), math.sin(a)
        points.append((cx + rx * math.copysign(abs(c) ** (2 / squareness), c), cy + ry * math.copysign(abs(s) ** (2 / squareness), s)))
    return points


# Drum-counter digits as strokes in a unit box, in the engineering (DIN 1451-like) styles meters use:
# flat-topped 3, straight-stemmed 6 and 9, 1 with and without a base, open and closed 4.
_STROKE_DIGITS = [
    (0, [_ring(0.5, 0.5, 0.5, 0.5)]),
    (0, [_ring(0.5, 0.5, 0.5, 0.5, 4.0)]),
    (1, [[(0.2, 0.22), (0.62, 0.0), (0.62, 1.0)]]),
    (1, [[(0.55, 0.0), (0.55, 1.0)]]),
    (1, [[(0.05, 0.3), (0.65, 0.0), (0.65, 1.0)]]),
    (1, [[(0.25, 0.2), (0.6, 0.0), (0.6, 1.0)], [(0.25, 1.0), (0.95, 1.0)]]),
    (2, [_arc(0.5, 0.27, 0.47, 0.27, 190, 380) + [(0.0, 1.0), (1.0, 1.0)]]),
    (3, [_arc(0.5, 0.25, 0.45, 0.25, 200, 450), _arc(0.5, 0.72, 0.5, 0.28, 270, 520)]),
    (3, [[(0.05, 0.0), (0.95, 0.0), (0.4, 0.42)] + _arc(0.5, 0.69, 0.5, 0.31, 250, 520)[1:]]),
    (4, [[(0.75, 1.0), (0.75, 0.0), (0.0, 0.7), (1.0, 0.7)]]),
    (4, [[(0.35, 0.0), (0.0, 0.7), (1.0, 0.7)], [(0.75, 0.35), (0.75, 1.0)]]),
    (4, [[(0.7, 1.0), (0.7, 0.0), (0.0, 0.65), (1.0, 0.65)]]),
    (4, [[(0.4, 0.0), (0.05, 0.75), (1.0, 0.75)], [(0.8, 0.4), (0.8, 1.0)]]),
    (5, [[(0.92, 0.0), (0.15, 0.0), (0.08, 0.45)] + _arc(0.5, 0.68, 0.5, 0.32, 215, 520)[1:]]),
    (6, [_ring(0.5, 0.68, 0.5, 0.32), [(0.82, 0.0), (0.03, 0.6)]]),
    (6, [_ring(0.5, 0.68, 0.5, 0.32), _arc(0.62, 0.62, 0.6, 0.62, 270, 180)]),
    (7, [[(0.0, 0.0), (1.0, 0.0), (0.35, 1.0)]]),
    (7, [[(0.0, 0.0), (1.0, 0.0), (0.55, 0.5), (0.5, 1.0)]]),
    (7, [[(0.0, 0.0), (1.0, 0.0), (0.5, 1.0)]]),
    (7, [[(0.0, 0.0), (1.0, 0.0), (0.22, 1.0)]]),
    (8, [_ring(0.5, 0.24, 0.42, 0.24), _ring(0.5, 0.7, 0.5, 0.3)]),
    (9, [_ring(0.5, 0.32, 0.5, 0.32), [(0.97, 0.4), (0.18, 1.0)]]),
    (9, [_ring(0.5, 0.32, 0.5, 0.32), _arc(0.38, 0.38, 0.6, 0.62, 90, 0)]),
]


def _stroke_digit(strokes: list[list[tuple[float, float]]], weight: int, aspect: float) -> Image.Image:
    img = Image.new("L", (96, 96), 255)
    draw = ImageDraw.Draw(img)
    height = 70
    width = height * aspect
    left, top = 48 - width / 2, 12
    for stroke in strokes:
        draw.line([(left + x * width, top + y * height) for x, y in stroke], fill=0, width=weight, joint="curve")
    return img


_CELL_INDEX = (np.arange(HEIGHT)[:, None] // CELL) * (WIDTH // CELL) + np.arange(WIDTH)[None, :] // CELL


def gradient_histograms(gray: np.ndarray) -> np.ndarray:
    """HOG-style features of a grey cell: unsigned orientations, CELL-pixel cells, 2x2 block norms."""
    img = Image.fromarray(np.clip(gray, 0, 255).astype(np.uint8), "L")
    g = np.asarray(img.resize((WIDTH + 2, HEIGHT + 2), Image.Resampling.BILINEAR), dtype=np.float32)
    gx = g[1:-1, 2:] - g[1:-1, :-2]
    gy = g[2:, 1:-1] - g[:-2, 1:-1]
    magnitude = np.hypot(gx, gy)
    bins = (np.arctan2(gy, gx) % np.pi / np.pi * BINS).astype(int) % BINS
    rows, cols = HEIGHT // CELL, WIDTH // CELL
    hist = np.bincount((_CELL_INDEX * BINS + bins).ravel(), weights=magnitude.ravel(), minlength=rows * cols * BINS)
    hist = hist.reshape(rows, cols, BINS)
    blocks = np.concatenate([hist[:-1, :-1], hist[:-1, 1:], hist[1:, :-1], hist[1:, 1:]], axis=2)
    blocks = blocks.reshape(-1, 4 * BINS)
    blocks = np.minimum(blocks / (np.linalg.norm(blocks, axis=1, keepdims=True) + 1e-3), 0.2)
    blocks = blocks / (np.linalg.norm(blocks, axis=1, keepdims=True) + 1e-3)
    return blocks.ravel().astype(np.float32)


def _font_paths() -> list[Path]:
    found = []
    for name in _FONT_NAMES:
        for folder in _FONT_DIRS:
            path = Path(folder) / name
            if path.exists():
                found.append(path)
                break
    return found


def _fonts() -> list[Font]:
    found: list[Font] = [ImageFont.truetype(str(path), 64) for path in _font_paths()]
    try:
        found.append(ImageFont.load_default(size=64))
    except TypeError:  # Pillow without FreeType: a bitmap font is better than none
        found.append(ImageFont.load_default())
    return found


def _render(font: Font, digit: int) -> Image.Image:
    img = Image.new("L", (96, 96), 255)
    ImageDraw.Draw(img).text((16, 8), str(digit), font=font, fill=0)
    return img


def _seven_segment(digit: int, slant: float = 0.0) -> Image.Image:
    """An LCD digit drawn from segments, for meters with a liquid-crystal counter."""
    img = Image.new("L", (96, 96), 255)
    draw = ImageDraw.Draw(img)
    x0, y0, w, h, t = 28, 10, 36, 72, 8
    ends = {
        "a": ((x0, y0), (x0 + w, y0)),
        "b": ((x0 + w, y0), (x0 + w, y0 + h // 2)),
        "c": ((x0 + w, y0 + h // 2), (x0 + w, y0 + h)),
        "d": ((x0, y0 + h), (x0 + w, y0 + h)),
        "e": ((x0, y0 + h // 2), (x0, y0 + h)),
        "f": ((x0, y0), (x0, y0 + h // 2)),
        "g": ((x0, y0 + h // 2), (x0 + w, y0 + h // 2)),
    }
    for seg in _SEGMENTS[digit]:
        (ax, ay), (bx, by) = ends[seg]
        draw.line((ax + slant * (y0 + h - ay), ay, bx + slant * (y0 + h - by), by), fill=0, width=t)
    return img


def _drum_window(base: Image.Image, rng: random.Random) -> np.ndarray:
    """A rendered digit as a counter cell would frame it: slanted, reweighted, with margins, blurred."""
    shear = rng.uniform(-0.12, 0.12)
    img = base.transform(base.size, Image.Transform.AFFINE, (1, shear, -shear * 48, 0, 1, 0), fillcolor=255)
    img = img.rotate(rng.uniform(-3, 3), fillcolor=255, resample=Image.Resampling.BILINEAR)
    ys, xs = np.nonzero(np.asarray(img) < 128)
    weight = rng.choice([0, 0, 3, 5])
    if weight:
        reweighted = img.filter(ImageFilter.MinFilter(weight) if rng.random() < 0.5 else ImageFilter.MaxFilter(weight))
        if (np.asarray(reweighted) < 128).any():
            img = reweighted
    h, w = ys.max() - ys.min() + 1, xs.max() - xs.min() + 1
    fill = rng.uniform(0.6, 0.9)  # the digit's share of the window height
    margin_y = h * (1 / fill - 1) / 2
    window_w = max(w * 1.1, h / fill * rng.uniform(0.5, 0.75))
    margin_x = (window_w - w) / 2
    dy, dx = rng.uniform(-0.3, 0.3) * margin_y, rng.uniform(-0.3, 0.3) * margin_x
    box = (xs.min() - margin_x + dx, ys.min() - margin_y + dy, xs.max() + 1 + margin_x + dx, ys.max() + 1 + margin_y + dy)
    left, top, right, bottom = (int(v) for v in box)
    img = img.crop((left, top, right, bottom)).filter(ImageFilter.GaussianBlur(rng.uniform(0, 2)))
    return np.asarray(img, dtype=np.float32)


def _build() -> tuple[np.ndarray, np.ndarray]:
    rng = random.Random(20261122)
    fonts = _fonts()
    vectors, labels = [], []
    for digit in range(10):
        bases = [_render(font, digit) for font in fonts] + [_seven_segment(digit, s) for s in (0.0, 0.12)]
        for drawn, strokes in _STROKE_DIGITS:
            if drawn == digit:
                bases += [_stroke_digit(strokes, w, a) for w in (5, 8, 11) for a in (0.45, 0.6)]
        for base in bases:
            for _ in range(VARIANTS):
                vectors.append(gradient_histograms(_drum_window(base, rng)))
                labels.append(digit)
    return np.stack(vectors).astype(np.float32), np.array(labels, dtype=np.int64)


def cache_dir() -> Path:
    """Where built templates are kept between processes: $KABINET_DATA_DIR/cache, else the user's cache folder."""
    data = os.environ.get("KABINET_DATA_DIR")
    if data:
        return Path(data) / "cache"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "kabinet"


def _version() -> str:
    """Changes whenever the built templates could: this file, the fonts found, Pillow and numpy."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    for path in _font_paths():
        digest.update(f"{path}:{path.stat().st_size}".encode())
    digest.update(f"{PIL.__version__}:{np.__version__}".encode())
    return digest.hexdigest()[:20]


def _load(path: Path, version: str) -> tuple[np.ndarray, np.ndarray] | None:
    """The cached templates, or None when the file is missing, of another version or damaged."""
    try:
        with np.load(path, allow_pickle=False) as stored:
            vectors, labels, stamp = stored["vectors"], stored["labels"], str(stored["version"])
    except FileNotFoundError:
        return None
    except Exception:  # a damaged file can fail in zipfile, numpy or the OS: any of them means rebuild
        log.warning("digit template cache %s is unreadable; rebuilding it", path, exc_info=True)
        return None
    features = (HEIGHT // CELL - 1) * (WIDTH // CELL - 1) * 4 * BINS
    sound = (
        stamp == version
        and vectors.dtype == np.float32
        and vectors.ndim == 2
        and vectors.shape[1] == features
        and labels.shape == (vectors.shape[0],)
        and set(np.unique(labels).tolist()) == set(range(10))
        and bool(np.isfinite(vectors).all())
    )
    if not sound:
        log.warning("digit template cache %s does not match this version; rebuilding it", path)
        return None
    return vectors, labels.astype(np.int64)


def _store(path: Path, version: str, vectors: np.ndarray, labels: np.ndarray) -> None:
    """Write the templates whole or not at all, so a reader never sees half a file; failing only costs time."""
    part = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".part")
        part = Path(name)
        with os.fdopen(handle, "wb") as out:
            np.savez(out, vectors=vectors, labels=labels, version=np.array(version))
        os.replace(part, path)
        for stale in path.parent.glob("digit-templates-*.npz"):
            if stale != path:
                stale.unlink(missing_ok=True)
    except OSError:
        log.warning("could not keep the digit templates in %s", path, exc_info=True)
        if part is not None:
            part.unlink(missing_ok=True)


@cache
def _library(folder: Path | None) -> tuple[np.ndarray, np.ndarray]:
    if folder is None:
        return _build()
    version = _version()
    path = folder / f"digit-templates-{version}.npz"
    found = _load(path, version)
    if found is not None:
        return found
    vectors, labels = _build()
    _store(path, version, vectors, labels)
    return vectors, labels


def library(folder: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The template vectors and their digits, built once per process or read from the cache in `folder`.

    Without a folder, cache_dir() is used; KABINET_TEMPLATE_CACHE=off builds them without any cache.
    """
    if folder is None and os.environ.get("KABINET_TEMPLATE_CACHE", "").lower() != "off":
        folder = cache_dir()
    with _lock:
        return _library(folder)


def _framings(gray: np.ndarray) -> list[np.ndarray]:
    """The cell and a few tighter framings of it, since a drum window may sit off the digit."""
    h, w = gray.shape
    out = [gray]
    for top, bottom, left, right in ((0.06, 0.06, 0, 0), (0, 0, 0.08, 0.08), (0.06, 0, 0, 0), (0, 0.06, 0, 0)):
        part = gray[int(h * top) : h - int(h * bottom), int(w * left) : w - int(w * right)]
        if min(part.shape) >= 4:
            out.append(part)
    return out


def describe(cells: list[np.ndarray | None], neighbours: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """For grey cells: distances (cells x 10) to each digit's nearest template, and each cell's feature vector.

    With neighbours > 1 a cell's distance to a digit is the mean distance to that digit's nearest few
    templates: steadier where one odd template happens to lie close to a cell of another digit.

    A missing cell is equally far from every digit (so its digits are equally likely) and has a zero vector.
    """
    vectors, labels = library()
    distances = np.full((len(cells), 10), MISSING_DISTANCE)
    feats = np.zeros((len(cells), vectors.shape[1]), dtype=np.float32)
    squared_templates = (vectors**2).sum(1)[None, :]
    for i, cell in enumerate(cells):
        if cell is None or min(cell.shape) < 4:
            continue
        framed = np.stack([gradient_histograms(part) for part in _framings(cell)])
        feats[i] = framed[0]
        dist = np.sqrt(np.maximum((framed**2).sum(1)[:, None] + squared_templates - 2 * framed @ vectors.T, 0))
        for d in range(10):
            # The mean of the digit's `neighbours` nearest templates (1: the nearest one).
            nearest = np.partition(dist[:, labels == d], neighbours - 1, axis=1)[:, :neighbours]
            distances[i, d] = nearest.mean(axis=1).min()
    return distances, feats


def similarity(feats: np.ndarray) -> np.ndarray:
    """Cosine similarity (0..1) between cells' feature vectors."""
    unit = feats / (np.linalg.norm(feats, axis=1, keepdims=True) + 1e-6)
    return np.clip(unit @ unit.T, 0.0, 1.0)


def probabilities(distances: np.ndarray, sharpness: float = SHARPNESS) -> np.ndarray:
    """Digit probabilities from template distances: a softmax whose sharpness was set on labelled sets."""
    score = np.exp(-sharpness * (distances - distances.min(axis=1, keepdims=True)))
    return score / score.sum(axis=1, keepdims=True)
