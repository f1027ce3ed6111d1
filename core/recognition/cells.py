"""Grey levels and thresholds for counter digit cells."""

from __future__ import annotations

import numpy as np
from PIL import Image

LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def otsu_threshold(values: np.ndarray) -> float:
    """The grey level that best splits values into two classes."""
    hist, edges = np.histogram(values, bins=64)
    hist = hist.astype(np.float64)
    centres = (edges[:-1] + edges[1:]) / 2
    weight_low = np.cumsum(hist)
    weight_high = weight_low[-1] - weight_low
    sum_low = np.cumsum(hist * centres)
    mean_low = sum_low / np.maximum(weight_low, 1e-9)
    mean_high = (sum_low[-1] - sum_low) / np.maximum(weight_high, 1e-9)
    between = weight_low * weight_high * (mean_low - mean_high) ** 2
    return float(edges[1:][int(np.argmax(between))])


def cell_gray(cell: Image.Image) -> np.ndarray | None:
    """A digit cell as grey levels, without the dark frame lines at its edges; None if nothing is left."""
    gray = np.asarray(cell.convert("RGB"), dtype=np.float32) @ LUMA
    if min(gray.shape) < 4:
        return None
    level, floor = float(np.median(gray)), float(gray.min())
    cut = floor + 0.45 * (level - floor)
    cols = np.nonzero(gray.mean(axis=0) > cut)[0]
    rows = np.nonzero(gray.mean(axis=1) > cut)[0]
    if len(cols) >= 4:
        gray = gray[:, cols[0] : cols[-1] + 1]
    if len(rows) >= 8:
        gray = gray[rows[0] : rows[-1] + 1]
    return gray if min(gray.shape) >= 4 else None
