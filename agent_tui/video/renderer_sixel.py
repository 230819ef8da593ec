"""Sixel: the DEC graphics format that xterm (``-ti vt340``), foot, mlterm, WezTerm and recent Windows
Terminal draw. Pure: an RGB array in, one DCS sequence out.

Colours are quantised to a fixed 6x6x6 cube (216 registers, within every sixel terminal's palette) so
encoding needs no palette search; each band of six pixel rows is written colour by colour with
run-length compression (``!n``), which keeps flat areas such as an avatar's background small.

The panel encodes up to ten frames a second on the UI's own thread, so the encoder is whole-array numpy
work with no Python loop over pixels or runs: a 640x360 video frame takes about 10 ms (a per-column Python
encoder took 200 ms), pure noise, the worst case, about 60 ms.
"""

from __future__ import annotations

import numpy as np

_LEVELS = 6
_COLOURS = _LEVELS**3
#: Each sixel character carries one column of six pixel rows: bit n is row n of the band, plus 63.
_BAND = 6
_SIXEL_BASE = 63


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


def _colour_rows(indices: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per (band, colour present in it), in output order: the band, the colour, and the row of sixel
    bit patterns (bit n set where the band's pixel row n has that colour), one per column."""
    height, width = indices.shape
    bands = -(-height // _BAND)
    slots = _COLOURS + 1  # the last band's missing rows get a colour slot of their own, never written
    pair = np.full((bands * _BAND, width), _COLOURS, dtype=np.intp)
    pair[:height] = indices
    pair = pair.reshape(bands, _BAND, width) + (np.arange(bands) * slots)[:, None, None]
    seen = np.zeros(bands * slots, dtype=bool)
    seen[pair.ravel()] = True
    seen[_COLOURS::slots] = False
    pairs = np.flatnonzero(seen)  # band-major, colours ascending: the order they are written in
    row_of = np.full(seen.size, pairs.size, dtype=np.intp)  # the padding slot lands on a spare row
    row_of[pairs] = np.arange(pairs.size)
    bits = np.zeros((pairs.size + 1, width), dtype=np.uint8)
    column = np.arange(width)
    for row in range(_BAND):
        # One pixel per (band, column) in each pixel row: the fancy index has no repeats, so |= is exact.
        bits[row_of[pair[:, row, :]], column] |= np.uint8(1 << row)
    return pairs // slots, pairs % slots, bits[:-1]


def _digits(values: np.ndarray, places: int) -> np.ndarray:
    """``values`` as ASCII digits, ``places`` columns wide, leading zeros as 0 bytes (dropped later)."""
    out = np.zeros((values.size, places), dtype=np.uint8)
    for place in range(places):
        power = 10 ** (places - 1 - place)
        digit = (values // power) % 10 + ord("0")
        out[:, place] = np.where((values >= power) | (power == 1), digit, 0)
    return out


def _body(indices: np.ndarray) -> str:
    """The sixel data: each band's colours as ``#c`` plus run-length-coded sixels, colours separated by
    ``$`` (back to the band's start), bands by ``-``.

    Built as one fixed-width token per piece (a row's ``#c``, a run, a separator) padded with 0 bytes,
    placed in output order and flattened with the padding dropped: no Python loop over runs."""
    band_of, colour_of, rows = _colour_rows(indices)
    count, width = rows.shape
    if count == 0 or width == 0:
        return ""
    chars = (rows + _SIXEL_BASE).ravel()
    starts_mask = np.empty(chars.size, dtype=bool)
    starts_mask[0] = True
    np.not_equal(chars[1:], chars[:-1], out=starts_mask[1:])
    starts_mask[::width] = True  # a run never crosses into the next colour's row
    starts = np.flatnonzero(starts_mask)
    lengths = np.diff(np.append(starts, chars.size))
    run_chars = chars[starts]
    run_row = starts // width

    places = len(str(width))
    token = max(places + 2, 4)  # "!" + count + char, or "#" + a colour of up to three digits
    runs = np.zeros((starts.size, token), dtype=np.uint8)
    short = lengths <= 3
    for repeat in range(3):  # up to three repeats are written out: "~~~" is shorter than "!3~"
        chosen = short & (lengths > repeat)
        runs[chosen, repeat] = run_chars[chosen]
    long = ~short
    runs[long, 0] = ord("!")
    runs[long, 1 : 1 + places] = _digits(lengths[long], places)
    runs[long, 1 + places] = run_chars[long]

    runs_per_row = np.bincount(run_row, minlength=count)
    first_run = np.concatenate([[0], np.cumsum(runs_per_row)[:-1]])
    prefix_at = first_run + 2 * np.arange(count)
    separator_at = prefix_at + runs_per_row + 1
    tokens = np.zeros((starts.size + 2 * count, token), dtype=np.uint8)
    tokens[np.arange(starts.size) + 2 * run_row + 1] = runs
    tokens[prefix_at, 0] = ord("#")
    tokens[prefix_at, 1:4] = _digits(colour_of, 3)
    new_band = np.append(band_of[1:] != band_of[:-1], False)
    tokens[separator_at[:-1], 0] = np.where(new_band[:-1], ord("-"), ord("$"))
    flat = tokens.ravel()
    data: bytes = flat[flat != 0].tobytes()
    return data.decode("ascii")


def sixel_image(rgb: np.ndarray) -> str:
    """``rgb`` (height, width, 3) uint8 as one sixel sequence, drawn at the cursor."""
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError("expected an (height, width, 3) RGB array")
    height, width = rgb.shape[:2]
    indices = quantise(rgb)
    used = np.flatnonzero(np.bincount(indices.ravel(), minlength=_COLOURS))
    # P2=1: pixels not drawn keep the background; "1;1 sets a 1:1 pixel aspect ratio and the size.
    return f'\x1bP0;1;0q"1;1;{width};{height}' + _palette(used) + _body(indices) + "\x1b\\"
