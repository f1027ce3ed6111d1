"""Connected regions of a boolean mask, found run by run so it stays fast in pure numpy + Python."""

from __future__ import annotations

import math

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Region:
    label: int
    area: int
    top: int
    left: int
    bottom: int  # inclusive
    right: int  # inclusive

    @property
    def height(self) -> int:
        return self.bottom - self.top + 1

    @property
    def width(self) -> int:
        return self.right - self.left + 1


def label(mask: np.ndarray) -> tuple[np.ndarray, list[Region]]:
    """8-connected labelling: an int array (0 = background) and the regions, labels from 1."""
    rows, cols = mask.shape
    padded = np.zeros((rows, cols + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    edges = np.diff(padded, axis=1)
    run_rows, run_starts = np.nonzero(edges == 1)
    _, run_ends = np.nonzero(edges == -1)  # exclusive; same row-major order as the starts
    count = len(run_rows)
    parent = list(range(count))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    row_first = np.searchsorted(run_rows, np.arange(rows + 1))
    for r in range(1, rows):
        prev_lo, prev_hi = row_first[r - 1], row_first[r]
        cur_lo, cur_hi = row_first[r], row_first[r + 1]
        j = prev_lo
        for i in range(cur_lo, cur_hi):
            s, e = run_starts[i], run_ends[i]
            while j < prev_hi and run_ends[j] < s:  # runs ending left of s - 1 cannot touch (8-connectivity)
                j += 1
            k = j
            while k < prev_hi and run_starts[k] <= e:
                a, b = find(i), find(k)
                if a != b:
                    parent[max(a, b)] = min(a, b)
                k += 1
    roots = np.array([find(i) for i in range(count)], dtype=np.int64)
    unique, run_label = np.unique(roots, return_inverse=True)
    labels = np.zeros((rows, cols), dtype=np.int32)
    regions: list[Region] = []
    if count == 0:
        return labels, regions
    lengths = run_ends - run_starts
    for i in range(count):
        labels[run_rows[i], run_starts[i] : run_ends[i]] = run_label[i] + 1
    n = len(unique)
    area = np.bincount(run_label, weights=lengths, minlength=n).astype(int)
    top = np.full(n, rows)
    bottom = np.full(n, -1)
    left = np.full(n, cols)
    right = np.full(n, -1)
    np.minimum.at(top, run_label, run_rows)
    np.maximum.at(bottom, run_label, run_rows)
    np.minimum.at(left, run_label, run_starts)
    np.maximum.at(right, run_label, run_ends - 1)
    for k in range(n):
        regions.append(Region(k + 1, int(area[k]), int(top[k]), int(left[k]), int(bottom[k]), int(right[k])))
    return labels, regions


def fill_holes(mask: np.ndarray) -> np.ndarray:
    """The mask with every background pocket that does not reach the border filled in."""
    labels, regions = label(~mask)
    rows, cols = mask.shape
    enclosed = np.zeros(len(regions) + 1, dtype=bool)
    for reg in regions:
        enclosed[reg.label] = reg.top > 0 and reg.left > 0 and reg.bottom < rows - 1 and reg.right < cols - 1
    return mask | enclosed[labels]


def away_from_edge(mask: np.ndarray) -> np.ndarray:
    """The mask without its regions that touch the picture's edge (a wall around the meter would enclose it)."""
    labels, regions = label(mask)
    rows, cols = mask.shape
    edge = np.zeros(len(regions) + 1, dtype=bool)
    for reg in regions:
        edge[reg.label] = reg.top == 0 or reg.left == 0 or reg.bottom == rows - 1 or reg.right == cols - 1
    return mask & ~edge[labels]


def principal_axis(xs: np.ndarray, ys: np.ndarray) -> tuple[float, float, float]:
    """Angle (degrees) of the long axis, and the long and short side of the equivalent rectangle."""
    cov = np.cov(np.stack([xs, ys]))
    values, vectors = np.linalg.eigh(cov)
    long_axis = vectors[:, 1]
    angle = math.degrees(math.atan2(long_axis[1], long_axis[0]))
    if angle > 90:
        angle -= 180
    if angle < -90:
        angle += 180
    # A uniform rectangle of side s has variance s^2 / 12 along that side.
    return angle, math.sqrt(12 * max(values[1], 0)), math.sqrt(12 * max(values[0], 0))
