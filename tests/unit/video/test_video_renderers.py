"""The picture encoders on fixed frames (half blocks, kitty, sixel), terminal detection, and sampling a
received I420 frame down to panel size."""

from __future__ import annotations

import base64
import re

import numpy as np
import pytest
from livekit import rtc

from agent_tui.video.frame_sampling import sample_rgb
from agent_tui.video.graphics_support import Graphics, da1_has_sixel, detect_graphics, kitty_reply_ok
from agent_tui.video.renderer_halfblock import UPPER_HALF, cell_keys, halfblock_strips
from agent_tui.video.renderer_kitty import CHUNK, kitty_delete, kitty_image
from agent_tui.video.renderer_sixel import quantise, sixel_image

pytestmark = pytest.mark.timeout(10)

RED, GREEN, BLUE, WHITE, BLACK = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255), (0, 0, 0)


def picture(rows: list[list[tuple[int, int, int]]]) -> np.ndarray:
    return np.array(rows, dtype=np.uint8)


def described(strips: list) -> list[list[tuple[str, str, str]]]:  # type: ignore[type-arg]
    """Each strip as (text, fg hex, bg hex) per segment: a readable snapshot."""
    return [
        [(seg.text, seg.style.color.triplet.hex, seg.style.bgcolor.triplet.hex) for seg in strip]
        for strip in strips
    ]


def test_halfblock_on_a_fixed_frame() -> None:
    frame = picture(
        [
            [RED, RED, GREEN, BLUE],
            [WHITE, WHITE, GREEN, BLACK],
            [BLUE, BLUE, BLUE, BLUE],
            [BLUE, BLUE, BLUE, BLUE],
        ]
    )
    assert described(halfblock_strips(frame)) == [
        [
            ("▀▀", "#ff0000", "#ffffff"),
            ("▀", "#00ff00", "#00ff00"),
            ("▀", "#0000ff", "#000000"),
        ],
        [("▀▀▀▀", "#0000ff", "#0000ff")],  # one run: identical cells are merged
    ]


def test_halfblock_odd_height_draws_the_last_row_over_black() -> None:
    strips = halfblock_strips(picture([[RED], [GREEN], [WHITE]]))
    assert described(strips) == [[("▀", "#ff0000", "#00ff00")], [("▀", "#ffffff", "#000000")]]
    assert all(strip.cell_length == 1 for strip in strips)


def test_halfblock_strip_lengths_match_the_width() -> None:
    rng = np.random.default_rng(3)
    frame = rng.integers(0, 256, size=(20, 33, 3), dtype=np.uint8)
    strips = halfblock_strips(frame)
    assert len(strips) == 10 and {strip.cell_length for strip in strips} == {33}
    assert "".join(seg.text for seg in strips[0]) == UPPER_HALF * 33
    assert cell_keys(frame).shape == (10, 33)


def test_halfblock_rejects_a_non_rgb_array() -> None:
    with pytest.raises(ValueError, match="RGB"):
        halfblock_strips(np.zeros((4, 4), dtype=np.uint8))


def test_kitty_sends_rgb_in_chunks_and_places_it_over_cells() -> None:
    frame = np.arange(60 * 40 * 3, dtype=np.uint32).astype(np.uint8).reshape(40, 60, 3)
    text = kitty_image(frame, columns=30, rows=10, image_id=7)
    commands = re.findall(r"\x1b_G([^;]*);([^\x1b]*)\x1b\\", text)
    assert commands[0][0] == "a=T,f=24,s=60,v=40,c=30,r=10,i=7,q=2,C=1,m=1"
    assert [control for control, _ in commands[1:-1]] == ["m=1"] * (len(commands) - 2)
    assert commands[-1][0] == "m=0"
    assert all(len(payload) <= CHUNK for _, payload in commands)
    assert base64.b64decode("".join(payload for _, payload in commands)) == frame.tobytes()
    assert kitty_delete(7) == "\x1b_Ga=d,d=I,i=7,q=2\x1b\\"


def test_sixel_of_a_fixed_frame() -> None:
    # 2 px wide, 6 px tall: left column red, right column: blue on top 3 rows, white below.
    frame = np.zeros((6, 2, 3), dtype=np.uint8)
    frame[:, 0] = RED
    frame[:3, 1] = BLUE
    frame[3:, 1] = WHITE
    red, blue, white = 180, 5, 215  # indices in the 6x6x6 cube
    assert quantise(frame)[0].tolist() == [red, blue]
    assert quantise(frame)[5].tolist() == [red, white]
    expected = (
        '\x1bP0;1;0q"1;1;2;6'
        "#5;2;0;0;100#180;2;100;0;0#215;2;100;100;100"
        # Per colour: which of the six rows each column has in that colour (bit 0 = top), + 63.
        f"#5{chr(63)}{chr(63 + 0b000111)}$#180{chr(63 + 0b111111)}{chr(63)}$#215{chr(63)}{chr(63 + 0b111000)}"
        "\x1b\\"
    )
    assert sixel_image(frame) == expected


def test_sixel_run_length_compresses_flat_rows() -> None:
    frame = np.full((6, 40, 3), 255, dtype=np.uint8)
    assert "!40~" in sixel_image(frame)


_SIXEL_HEADER = re.compile(r'\x1bP0;1;0q"1;1;(\d+);(\d+)')
_SIXEL_COLOUR = re.compile(r"#(\d+)(?:;2;(\d+);(\d+);(\d+))?")
_SIXEL_REPEAT = re.compile(r"!(\d+)")


def decode_sixel(text: str) -> np.ndarray:
    """A minimal sixel reader: each pixel's colour register (-1 where nothing was drawn). Fails on a
    pixel drawn twice or a colour used before its palette entry."""
    header = _SIXEL_HEADER.match(text)
    assert header is not None and text.endswith("\x1b\\")
    width, height = int(header.group(1)), int(header.group(2))
    pixels = np.full((height, width), -1, dtype=np.int16)
    defined: set[int] = set()
    colour, x, band, at, end = -1, 0, 0, header.end(), len(text) - 2
    while at < end:
        char = text[at]
        if char == "#":
            match = _SIXEL_COLOUR.match(text, at)
            assert match is not None
            colour, at = int(match.group(1)), match.end()
            if match.group(2) is not None:
                defined.add(colour)
            assert colour in defined
            continue
        if char in "$-":
            x, band, at = 0, band + (char == "-"), at + 1
            continue
        count = 1
        if char == "!":
            match = _SIXEL_REPEAT.match(text, at)
            assert match is not None
            count, at = int(match.group(1)), match.end()
            char = text[at]
        bits = ord(char) - 63
        assert 0 <= bits < 64
        for column in range(x, x + count):
            for row in range(6):
                if bits >> row & 1:
                    assert pixels[band * 6 + row, column] == -1, "a pixel drawn twice"
                    pixels[band * 6 + row, column] = colour
        x, at = x + count, at + 1
    return pixels


@pytest.mark.parametrize("shape", [(1, 1), (6, 2), (7, 3), (13, 37), (36, 64), (5, 1200)])
@pytest.mark.parametrize("content", ["noise", "smooth", "flat"])
def test_sixel_draws_every_pixel_once_in_its_quantised_colour(shape: tuple[int, int], content: str) -> None:
    height, width = shape
    rng = np.random.default_rng(height * 1000 + width)
    if content == "noise":
        frame = rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8)
    elif content == "smooth":  # long runs broken by a little noise, like a video frame
        ramp = np.linspace(0, 255, width)[None, :, None] + np.linspace(0, 60, height)[:, None, None]
        frame = np.clip(ramp + rng.normal(0, 8, (height, width, 3)), 0, 255).astype(np.uint8)
    else:
        frame = np.full((height, width, 3), 77, dtype=np.uint8)
    assert np.array_equal(decode_sixel(sixel_image(frame)), quantise(frame))


@pytest.mark.parametrize(
    ("env", "setting", "kitty", "da1", "expected"),
    [
        ({"TERM": "xterm-kitty"}, "auto", None, None, Graphics.KITTY),
        ({"TERM": "xterm-256color", "TERM_PROGRAM": "WezTerm"}, "auto", None, None, Graphics.KITTY),
        ({"TERM": "foot"}, "auto", None, None, Graphics.SIXEL),
        ({"TERM": "xterm-256color"}, "auto", None, None, Graphics.HALFBLOCK),
        ({"TERM": "xterm-256color"}, "auto", "\x1b_Gi=31;OK\x1b\\", None, Graphics.KITTY),
        ({"TERM": "xterm-256color"}, "auto", "", "\x1b[?62;4;22c", Graphics.SIXEL),
        ({"TERM": "xterm-256color"}, "auto", "", "\x1b[?62;22c", Graphics.HALFBLOCK),
        ({"TERM": "xterm-kitty", "TMUX": "/tmp/tmux-0/default,1,0"}, "auto", None, None, Graphics.HALFBLOCK),
        ({"TERM": "screen-256color"}, "auto", None, "\x1b[?62;4c", Graphics.HALFBLOCK),
        ({"TERM": "xterm-kitty"}, "halfblock", None, None, Graphics.HALFBLOCK),
        ({}, "sixel", None, None, Graphics.SIXEL),
    ],
)
def test_detection(
    env: dict[str, str], setting: str, kitty: str | None, da1: str | None, expected: Graphics
) -> None:
    assert detect_graphics(env, setting=setting, kitty_reply=kitty, da1_reply=da1) is expected


def test_reply_parsers() -> None:
    assert kitty_reply_ok("junk\x1b_Gi=31;OK\x1b\\")
    assert not kitty_reply_ok("\x1b_Gi=31;ENOTSUPPORTED:\x1b\\")
    assert da1_has_sixel("\x1b[?64;1;2;4;6c")
    assert not da1_has_sixel("\x1b[?64;14c") and not da1_has_sixel("nothing")


def test_sampling_an_i420_frame_matches_the_sdk_conversion() -> None:
    rng = np.random.default_rng(5)
    blocks = rng.integers(0, 256, size=(9, 16, 3), dtype=np.uint8)
    rgb = np.repeat(np.repeat(blocks, 8, axis=0), 8, axis=1)  # 128x72, flat 8x8 blocks
    rgba = np.concatenate([rgb, np.full((72, 128, 1), 255, np.uint8)], axis=2)
    i420 = rtc.VideoFrame(128, 72, rtc.VideoBufferType.RGBA, rgba.tobytes()).convert(rtc.VideoBufferType.I420)
    reference = i420.convert(rtc.VideoBufferType.RGB24)
    full = np.frombuffer(reference.data, dtype=np.uint8).reshape(72, 128, 3)
    sampled = sample_rgb(i420, 16, 9)  # one sample in the middle of each block
    expected = full[4::8, 4::8]
    assert sampled.shape == (9, 16, 3)
    assert np.abs(sampled.astype(int) - expected.astype(int)).max() <= 3
    assert np.abs(sampled.astype(int) - blocks.astype(int)).max() <= 12  # and the original colours
