"""Text lines on a whole photo: PaddleOCR's DB text detector, its probability map turned into boxes with numpy.

The detector (PP-OCRv4, Apache-2.0, the ONNX file shipped in the rapidocr_onnxruntime package) gives, for
every pixel of the photo scaled to DETECT_SIDE, the probability that it lies in the middle of a text line.
Its usual post-processing (OpenCV contours, minimum-area rectangles, a polygon offset) is done here with the
regions and principal axes the counter locator already uses: a line's kernel is a solid bar, so its principal
axis is its rectangle.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from core.recognition import regions
from core.recognition.regions import label

DETECTOR = ("rapidocr_onnxruntime", "models/ch_PP-OCRv4_det_infer.onnx")
DETECT_SIDE = 960  # the photo's longest side as the detector sees it (a multiple of 32)
THRESHOLD = 0.3  # DB's binarisation of the probability map, as PaddleOCR sets it
BOX_SCORE = 0.5  # the mean probability in a kernel for it to be a line
UNCLIP = 1.6  # a kernel is grown by area x UNCLIP / perimeter to the line's box (PaddleOCR's ratio)
MIN_KERNEL = 3  # pixels of the map: thinner kernels are noise
# Pieces of one line (drum windows in thick frames are found one by one): same angle within this many degrees,
# thickness within this ratio, on one axis within this share of the thickness, and apart by at most this share.
JOIN_ANGLE, JOIN_THICKNESS, JOIN_OFFSET, JOIN_GAP = 8.0, 1.6, 0.35, 1.2


@dataclass(frozen=True)
class TextLine:
    """A text line's box in photo pixels: its centre, its length along the line and thickness across, its angle."""

    centre: tuple[float, float]
    length: float
    thickness: float
    angle: float  # degrees, -90..90, the direction of the line
    score: float  # the detector's mean probability in it

    def ends(self) -> tuple[float, float]:
        """The line's extent along its axis, measured from its centre's projection on the axis through the origin."""
        along = _project(self.centre, self.angle)
        return along - self.length / 2, along + self.length / 2


def _project(point: tuple[float, float], angle: float) -> float:
    return point[0] * math.cos(math.radians(angle)) + point[1] * math.sin(math.radians(angle))


def _across(point: tuple[float, float], angle: float) -> float:
    return -point[0] * math.sin(math.radians(angle)) + point[1] * math.cos(math.radians(angle))


class TextDetector:
    """The DB text detector on one core; thread-safe after construction (onnxruntime sessions are)."""

    def __init__(self, path: Path):
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        # Its activations are large and their shape follows each photo's: an arena would keep the largest seen.
        options.enable_cpu_mem_arena = False
        self.session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.input = self.session.get_inputs()[0].name

    def probabilities(self, photo: Image.Image, side: int = DETECT_SIDE) -> tuple[np.ndarray, tuple[float, float]]:
        """The text probability map of the photo scaled so its longest side is about `side`, and that scale (x, y)."""
        scale = min(1.0, side / max(photo.size))
        width = max(32, round(photo.width * scale / 32) * 32)
        height = max(32, round(photo.height * scale / 32) * 32)
        pixels = np.asarray(photo.convert("RGB").resize((width, height), Image.Resampling.BILINEAR), np.float32)
        # Trained on OpenCV's BGR pictures, normalised to -1..1 (mean and spread 0.5 per channel).
        batch = (pixels[:, :, ::-1] / 127.5 - 1.0).transpose(2, 0, 1)[None]
        found = self.session.run(None, {self.input: np.ascontiguousarray(batch)})[0][0, 0]
        return found, (width / photo.width, height / photo.height)

    def lines(self, photo: Image.Image, side: int = DETECT_SIDE) -> list[TextLine]:
        """The text lines found on the photo, pieces of one line joined."""
        found, scale = self.probabilities(photo, side)
        return join_pieces(boxes(found, scale))


def boxes(found: np.ndarray, scale: tuple[float, float]) -> list[TextLine]:
    """DB post-processing: kernels of the binarised map, scored, grown to their lines' boxes, in photo pixels."""
    labels, regions = label(found > THRESHOLD)
    lines = []
    for region in regions:
        if region.area < MIN_KERNEL * MIN_KERNEL:
            continue
        inside = labels[region.top : region.bottom + 1, region.left : region.right + 1] == region.label
        score = float(found[region.top : region.bottom + 1, region.left : region.right + 1][inside].mean())
        if score < BOX_SCORE:
            continue
        rows, cols = np.nonzero(inside)
        if min(np.ptp(cols), np.ptp(rows)) + 1 < MIN_KERNEL:
            continue
        # In photo pixels (the map's two scales differ by the rounding to multiples of 32).
        xs = (region.left + cols + 0.5) / scale[0]
        ys = (region.top + rows + 0.5) / scale[1]
        angle, length, thickness = principal_axis(xs, ys)
        grow = length * thickness * UNCLIP / (2 * (length + thickness))
        lines.append(TextLine((float(xs.mean()), float(ys.mean())), length + 2 * grow, thickness + 2 * grow, angle, score))
    return lines


def principal_axis(xs: np.ndarray, ys: np.ndarray) -> tuple[float, float, float]:
    """Angle (degrees, -90..90) of the long axis of a set of pixels, and the long and short side of its rectangle
    (a pixel wider than regions.principal_axis's, so that a line one pixel thick has a side of one)."""
    if len(xs) < 2:
        return 0.0, 1.0, 1.0
    angle, long_side, short_side = regions.principal_axis(xs, ys)
    return angle, long_side + 1, short_side + 1


def join_pieces(lines: list[TextLine]) -> list[TextLine]:
    """Lines with the pieces of one line (alike, on one axis, close along it) joined into one box."""
    pending = sorted(lines, key=lambda line: -line.length)
    joined: list[TextLine] = []
    while pending:
        line = pending.pop(0)
        grown = True
        while grown:
            grown = False
            for other in pending:
                if _same_line(line, other):
                    line = _union(line, other)
                    pending.remove(other)
                    grown = True
                    break
        joined.append(line)
    return joined


def _same_line(a: TextLine, b: TextLine) -> bool:
    turn = abs(a.angle - b.angle)
    if min(turn, 180 - turn) > JOIN_ANGLE:
        return False
    thick = max(a.thickness, b.thickness)
    if thick > JOIN_THICKNESS * min(a.thickness, b.thickness):
        return False
    if abs(_across(a.centre, a.angle) - _across(b.centre, a.angle)) > JOIN_OFFSET * thick:
        return False
    (a0, a1), (b0, b1) = a.ends(), (lambda m: (m - b.length / 2, m + b.length / 2))(_project(b.centre, a.angle))
    return max(a0, b0) - min(a1, b1) <= JOIN_GAP * thick


def _union(a: TextLine, b: TextLine) -> TextLine:
    """The box along a's axis that holds both."""
    b_mid = _project(b.centre, a.angle)
    (a0, a1), (b0, b1) = a.ends(), (b_mid - b.length / 2, b_mid + b.length / 2)
    start, end = min(a0, b0), max(a1, b1)
    weight = a.length / (a.length + b.length)
    across = weight * _across(a.centre, a.angle) + (1 - weight) * _across(b.centre, a.angle)
    middle = (start + end) / 2
    cos, sin = math.cos(math.radians(a.angle)), math.sin(math.radians(a.angle))
    centre = (middle * cos - across * sin, middle * sin + across * cos)
    return TextLine(centre, end - start, max(a.thickness, b.thickness), a.angle,
                    weight * a.score + (1 - weight) * b.score)
