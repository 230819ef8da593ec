"""Sizes: what a source is published at, and how a frame fits a panel of terminal cells. Pure."""

from __future__ import annotations


def even(value: float) -> int:
    """The nearest even integer >= 2: I420 halves both dimensions for its colour planes."""
    return max(2, round(value / 2) * 2)


def publish_size(
    source: tuple[int, int], requested: tuple[int, int] | None, max_size: tuple[int, int]
) -> tuple[int, int]:
    """The size to publish a ``source``-sized picture at: ``requested`` when given, else the source's own
    size scaled down (never up) to fit ``max_size`` with its aspect ratio kept; always even."""
    if requested is not None:
        return even(requested[0]), even(requested[1])
    width, height = source
    scale = min(1.0, max_size[0] / width, max_size[1] / height)
    return even(width * scale), even(height * scale)


def fit_cells(frame: tuple[int, int], cells: tuple[int, int]) -> tuple[int, int]:
    """The pixel size to draw a ``frame``-sized picture at in ``cells`` (columns, rows) with half
    blocks: one pixel per column, two per row (a cell is about twice as tall as wide, so the pixels come
    out square); aspect kept, as large as fits. Returns ``(width, height)``, height even."""
    columns, rows = cells
    if columns <= 0 or rows <= 0 or frame[0] <= 0 or frame[1] <= 0:
        return 0, 0
    width, height = frame
    scale = min(columns / width, 2 * rows / height)
    fitted_w = max(1, min(columns, int(width * scale)))
    fitted_h = max(2, min(2 * rows, int(height * scale) // 2 * 2))
    return fitted_w, fitted_h
