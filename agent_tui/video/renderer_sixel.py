"""Sixel: the DEC graphics format that xterm (``-ti vt340``), foot, mlterm, WezTerm and recent Windows
Terminal draw. Pure: an RGB array in, one DCS sequence out.

Colours are quantised to a fixed 6x6x6 cube (216 registers, within every sixel terminal's palette) so
encoding needs no palette search; each band of six pixel rows is written colour by colour with
run-length compression (``!n``), which keeps flat areas such as an avatar's background small.
"""

from __future__ import annotations

import numpy as np

_LEVELS = 6


def quantise(rgb: np.ndarray) -> np.ndarray:
    """Each pixel's index in the 6x6x6 colour cube."""
    steps = (rgb.astype(np.uint16) * (_LEVELS - 1) + 127) // 255
    return (steps[..., 0] * _LEVELS * _LEVELS + steps[..., 1] * _LEVELS + steps[..., 2]).astype(np.int16)


def _palette(used: np.ndarray) -> str:
    entries = []
    for index in used.tolist():
        r, g, b = index // 36, (index // 6) % 6, index % 6
        entries.append(f"#{index};2;{r * 100 // 5};{g * 100 // 5};{b * 100 // 5}")
    return "".join(entries)


def _run_length(chars: list[str]) -> str:
    out = []
    count = 1
    for index in range(1, len(chars) + 1):
        if index < len(chars) and chars[index] == chars[index - 1]:
            count += 1
            continue
        char = chars[index - 1]
        out.append(f"!{count}{char}" if count > 3 else char * count)
        count = 1
    return "".join(out)


def sixel_image(rgb: np.ndarray) -> str:
    """``rgb`` (height, width, 3) uint8 as one sixel sequence, drawn at the cursor."""
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError("expected an (height, width, 3) RGB array")
    height, width = rgb.shape[:2]
    indices = quantise(rgb)
    used = np.unique(indices)
    bands = []
    for top in range(0, height, 6):
        band = indices[top : top + 6]
        rows = []
        for colour in np.unique(band).tolist():
            bits = np.zeros(width, dtype=np.uint8)
            for offset in range(band.shape[0]):
                bits |= (band[offset] == colour).astype(np.uint8) << offset
            rows.append(f"#{colour}" + _run_length([chr(63 + int(b)) for b in bits]))
        bands.append("$".join(rows))
    # P2=1: pixels not drawn keep the background; "1;1 sets a 1:1 pixel aspect ratio and the size.
    return f'\x1bP0;1;0q"1;1;{width};{height}' + _palette(used) + "-".join(bands) + "\x1b\\"
