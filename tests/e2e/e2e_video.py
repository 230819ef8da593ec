"""A synthetic test video (colour bars over a strip with a moving marker) and the checks on received frames.

The clip is generated in the test with PyAV, losslessly (FFV1 in Matroska), so every difference between
what is measured at the receiver and the pattern comes from the path under test: our decoding, I420
conversion, VP8 through the SDK (which the servers forward as it is), and the probe's decoding.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

WIDTH, HEIGHT = 320, 240
FPS = 15
FRAMES = 30  # 2 s, then the file loops
#: Fully saturated bars: white, yellow, cyan, green, magenta, red, blue, black.
BARS: tuple[tuple[int, int, int], ...] = (
    (255, 255, 255),
    (255, 255, 0),
    (0, 255, 255),
    (0, 255, 0),
    (255, 0, 255),
    (255, 0, 0),
    (0, 0, 255),
    (0, 0, 0),
)
BARS_HEIGHT = 160  # rows 0..159: bars; below: a black strip with the marker
MARKER_W, MARKER_H = 24, 48
MARKER_TOP = 180
MARKER_STEP = 8  # pixels per frame


def marker_left(index: int) -> int:
    return 8 + MARKER_STEP * (index % FRAMES)


def pattern(index: int) -> np.ndarray:
    """Frame ``index`` of the clip as RGB (HEIGHT, WIDTH, 3)."""
    image = np.zeros((HEIGHT, WIDTH, 3), dtype=np.uint8)
    bar_w = WIDTH // len(BARS)
    for number, colour in enumerate(BARS):
        image[:BARS_HEIGHT, number * bar_w : (number + 1) * bar_w] = colour
    left = marker_left(index)
    image[MARKER_TOP : MARKER_TOP + MARKER_H, left : left + MARKER_W] = 255
    return image


def write_clip(path: Path) -> Path:
    """Write the clip to ``path`` (a .mkv) and return it."""
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("ffv1", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv444p"
        for index in range(FRAMES):
            frame = av.VideoFrame.from_ndarray(pattern(index), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def bar_colours(rgb: np.ndarray) -> list[tuple[int, int, int]]:
    """The median colour of the middle of each bar of a received frame (any size: relative sampling)."""
    height, width = rgb.shape[:2]
    top, bottom = int(height * 0.15), int(height * BARS_HEIGHT / HEIGHT * 0.85)
    colours = []
    for number in range(len(BARS)):
        left = int(width * (number + 0.3) / len(BARS))
        right = int(width * (number + 0.7) / len(BARS))
        patch = rgb[top:bottom, left:right].reshape(-1, 3)
        colours.append(tuple(int(v) for v in np.median(patch, axis=0)))
    return colours


def marker_centre(rgb: np.ndarray) -> float | None:
    """The marker's horizontal centre in source pixels, from the strip's bright columns."""
    height, width = rgb.shape[:2]
    top = int(height * (MARKER_TOP + 8) / HEIGHT)
    bottom = int(height * (MARKER_TOP + MARKER_H - 8) / HEIGHT)
    strip = rgb[top:bottom].mean(axis=(0, 2))
    bright = np.nonzero(strip > 128)[0]
    if bright.size == 0:
        return None
    return float(bright.mean()) * WIDTH / width
