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


#: The longest side a picture for the kitty or sixel protocol is sampled at. Encoding time and the bytes
#: sent to the terminal grow with the pixel count (a 640x360 frame is 0.9 MB of kitty base64, 10 ms of
#: sixel encoding); kitty scales a smaller picture up to the panel itself, a sixel one is drawn smaller.
MAX_PICTURE_SIDE = 640


def fit_pixels(
    frame: tuple[int, int],
    cells: tuple[int, int],
    cell: tuple[int, int],
    *,
    enlarge: bool,
    longest: int = MAX_PICTURE_SIDE,
) -> tuple[int, int]:
    """The pixel size to draw a ``frame``-sized picture at in ``cells`` (columns, rows) of ``cell``
    (width, height) screen pixels each, with a graphics protocol: aspect kept, as large as fits the
    panel's pixels, the longest side at most ``longest``, and never larger than the frame unless
    ``enlarge`` (sixel is drawn pixel for pixel; kitty enlarges a small picture itself, so sending more
    pixels than the frame has would only cost bytes). Returns ``(width, height)``."""
    columns, rows = cells
    width, height = frame
    if columns <= 0 or rows <= 0 or width <= 0 or height <= 0:
        return 0, 0
    scale = min(columns * cell[0] / width, rows * cell[1] / height, longest / max(width, height))
    if not enlarge:
        scale = min(scale, 1.0)
    return max(1, int(width * scale)), max(1, int(height * scale))


def picture_cells(
    picture: tuple[int, int], cells: tuple[int, int], cell: tuple[int, int], *, scaled: bool
) -> tuple[int, int]:
    """The block of cells (columns, rows) a ``picture``-sized image takes in a panel of ``cells``.

    ``scaled``: the terminal stretches the image over the cells it is placed on (kitty), so the block is
    the largest that keeps the picture's aspect; otherwise (sixel, one image pixel per screen pixel) it is
    the cells the picture's pixels reach into."""
    columns, rows = cells
    width, height = picture
    if columns <= 0 or rows <= 0 or width <= 0 or height <= 0:
        return 0, 0
    if scaled:
        scale = min(columns * cell[0] / width, rows * cell[1] / height)
        across, down = round(width * scale / cell[0]), round(height * scale / cell[1])
    else:
        across, down = -(-width // cell[0]), -(-height // cell[1])
    return max(1, min(columns, across)), max(1, min(rows, down))
