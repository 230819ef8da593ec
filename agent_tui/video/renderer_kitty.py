"""The kitty graphics protocol: a picture sent as RGB pixels and placed over a block of cells.

Terminals that speak it (kitty, WezTerm, Ghostty, Konsole) show the panel's picture at full pixel
resolution instead of two pixels per cell. Pure: bytes in, escape sequences out. The payload is base64
in chunks of at most 4096 bytes (the protocol's limit), each but the last flagged ``m=1``; an image id
lets a new frame replace the old one in place (``a=T`` transmits and displays, ``q=2`` silences replies).
"""

from __future__ import annotations

import base64

import numpy as np

CHUNK = 4096


def kitty_image(rgb: np.ndarray, *, columns: int, rows: int, image_id: int = 1) -> str:
    """Escape sequences that draw ``rgb`` (height, width, 3) over ``columns`` x ``rows`` cells at the
    cursor, replacing any earlier image with ``image_id``."""
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError("expected an (height, width, 3) uint8 RGB array")
    height, width = rgb.shape[:2]
    payload = base64.standard_b64encode(np.ascontiguousarray(rgb).tobytes()).decode("ascii")
    chunks = [payload[i : i + CHUNK] for i in range(0, len(payload), CHUNK)] or [""]
    parts = []
    for index, chunk in enumerate(chunks):
        more = 1 if index < len(chunks) - 1 else 0
        if index == 0:
            control = f"a=T,f=24,s={width},v={height},c={columns},r={rows},i={image_id},q=2,C=1,m={more}"
        else:
            control = f"m={more}"
        parts.append(f"\x1b_G{control};{chunk}\x1b\\")
    return "".join(parts)


def kitty_delete(image_id: int = 1) -> str:
    """Remove the image (the panel closed)."""
    return f"\x1b_Ga=d,d=I,i={image_id},q=2\x1b\\"
