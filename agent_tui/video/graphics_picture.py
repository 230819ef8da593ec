"""A frame as the escape sequence a graphics terminal draws (kitty or sixel), with the block of cells it
covers, and the sequence that takes a drawn picture away again. Pure.

Kitty keeps a picture on screen until it is deleted, whatever text is written over its cells, so the
panel's picture has one fixed image id: each frame replaces the last one in place (re-sending an id drops
its earlier placement), and one delete removes it when the panel closes or a dialog covers it. Sixel
pixels belong to the cells they are drawn on and go when those cells are redrawn, so sixel needs no
delete.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .geometry import picture_cells
from .graphics_support import Graphics
from .renderer_kitty import kitty_delete, kitty_image
from .renderer_sixel import sixel_image

#: The kitty image id of the panel's picture; any fixed id works, an unusual one keeps clear of images
#: other programs left in the same terminal window.
PANEL_IMAGE_ID = 0x6174_7569


@dataclass(frozen=True)
class GraphicsPicture:
    """One encoded frame: ``escape`` draws it with its top-left corner at the cursor, over ``columns`` x
    ``rows`` cells."""

    escape: str
    columns: int
    rows: int


def encode_picture(
    rgb: np.ndarray, graphics: Graphics, *, cells: tuple[int, int], cell: tuple[int, int]
) -> GraphicsPicture:
    """``rgb`` (height, width, 3) uint8, already sampled to fit ``cells`` (the panel's columns, rows) of
    ``cell`` pixels, encoded for ``graphics`` (kitty or sixel)."""
    height, width = rgb.shape[:2]
    if graphics is Graphics.KITTY:
        columns, rows = picture_cells((width, height), cells, cell, scaled=True)
        escape = kitty_image(rgb, columns=columns, rows=rows, image_id=PANEL_IMAGE_ID)
    elif graphics is Graphics.SIXEL:
        columns, rows = picture_cells((width, height), cells, cell, scaled=False)
        escape = sixel_image(rgb)
    else:
        raise ValueError(f"{graphics} pictures are not escape sequences")
    return GraphicsPicture(escape, columns, rows)


def erase_sequence(graphics: Graphics) -> str:
    """What takes the panel's picture off the screen when its cells are not simply redrawn: kitty's
    delete; nothing for sixel and half blocks."""
    return kitty_delete(PANEL_IMAGE_ID) if graphics is Graphics.KITTY else ""
