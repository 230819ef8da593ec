"""Half-block rendering: two pixels per terminal cell, the upper as the ``▀`` glyph's colour and the lower
as the background. It needs nothing but 24-bit colour, so it works in every modern terminal, tmux and
over ssh. Pure: an RGB array in, Textual strips out.

Runs of identical cells are merged into one segment, and styles are cached by colour pair, so a frame of
a few thousand cells costs a few hundred segments and no repeated style parsing.
"""

from __future__ import annotations

import itertools

import numpy as np
from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

UPPER_HALF = "▀"

_STYLE_CACHE: dict[int, Style] = {}
_STYLE_CACHE_LIMIT = 8192


def _style(key: int) -> Style:
    style = _STYLE_CACHE.get(key)
    if style is None:
        if len(_STYLE_CACHE) >= _STYLE_CACHE_LIMIT:
            _STYLE_CACHE.clear()
        top, bottom = key >> 24, key & 0xFFFFFF
        style = Style(
            color=Color.from_rgb(top >> 16, (top >> 8) & 0xFF, top & 0xFF),
            bgcolor=Color.from_rgb(bottom >> 16, (bottom >> 8) & 0xFF, bottom & 0xFF),
        )
        _STYLE_CACHE[key] = style
    return style


def cell_keys(rgb: np.ndarray) -> np.ndarray:
    """One int64 per cell packing the upper and lower pixel (``top << 24 | bottom``); an odd last row is
    drawn over black. ``rgb`` is (height, width, 3) uint8; the result (ceil(height / 2), width)."""
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected an (height, width, 3) RGB array, got shape {rgb.shape}")
    if rgb.shape[0] % 2:
        rgb = np.concatenate([rgb, np.zeros((1, *rgb.shape[1:]), dtype=rgb.dtype)])
    packed = (
        (rgb[..., 0].astype(np.int64) << 16)
        | (rgb[..., 1].astype(np.int64) << 8)
        | rgb[..., 2].astype(np.int64)
    )
    return (packed[0::2] << 24) | packed[1::2]


def halfblock_strips(rgb: np.ndarray) -> list[Strip]:
    """The picture as one :class:`Strip` per cell row, each ``width`` cells long."""
    keys = cell_keys(rgb)
    width = keys.shape[1]
    strips = []
    for row in keys:
        starts = np.flatnonzero(np.diff(row)) + 1
        bounds = [0, *starts.tolist(), width]
        segments = [
            Segment(UPPER_HALF * (end - start), _style(int(row[start])))
            for start, end in itertools.pairwise(bounds)
        ]
        strips.append(Strip(segments, width))
    return strips
