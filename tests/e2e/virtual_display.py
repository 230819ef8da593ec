"""A private X display for screen-sharing tests: ``Xvfb`` on a free display number, painted from Python.

:func:`running` starts ``Xvfb -displayfd`` (the server picks a free display number and writes it to a pipe
once it accepts connections), with ``-noreset`` so the picture survives clients coming and going, and
always stops it. The test draws four known colours (a 2x2 grid) straight on the root window through
libxcb with ctypes: the same library mss captures with, so no X11 package beyond Xvfb is needed. Nothing
here touches ``DISPLAY``: the test points only the code under test at :attr:`VirtualDisplay.name`.

Without Xvfb (or libxcb) the tests are skipped with the install command, except under CI (``CI=true``),
where a missing display is a failure.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import select
import shutil
import subprocess
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

INSTALL = (
    "apt-get install -y --no-install-recommends xvfb libxcb1 libxcb-randr0 libxcb-render0 libxcb-shm0 "
    "libxcb-xfixes0"
)
RGB = tuple[int, int, int]

_XCB_GC_FOREGROUND = 1 << 2


def unavailable(reason: str) -> None:
    """Skip with the reason, or fail under CI where the display must exist."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"virtual X display unavailable under CI: {reason}", pytrace=False)
    pytest.skip(f"virtual X display unavailable: {reason} (install: {INSTALL})")


class _Cookie(ctypes.Structure):
    _fields_ = [("sequence", ctypes.c_uint)]


class _Rectangle(ctypes.Structure):
    _fields_ = [
        ("x", ctypes.c_int16),
        ("y", ctypes.c_int16),
        ("width", ctypes.c_uint16),
        ("height", ctypes.c_uint16),
    ]


class _Screen(ctypes.Structure):
    """The leading fields of ``xcb_screen_t`` (only read through a pointer)."""

    _fields_ = [
        ("root", ctypes.c_uint32),
        ("default_colormap", ctypes.c_uint32),
        ("white_pixel", ctypes.c_uint32),
        ("black_pixel", ctypes.c_uint32),
        ("current_input_masks", ctypes.c_uint32),
        ("width_in_pixels", ctypes.c_uint16),
        ("height_in_pixels", ctypes.c_uint16),
    ]


class _ScreenIterator(ctypes.Structure):
    _fields_ = [("data", ctypes.POINTER(_Screen)), ("rem", ctypes.c_int), ("index", ctypes.c_int)]


def _load_xcb() -> ctypes.CDLL:
    name = ctypes.util.find_library("xcb")
    if name is None:
        unavailable("libxcb is not installed")
    xcb = ctypes.CDLL(name)
    xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_int)]
    xcb.xcb_connect.restype = ctypes.c_void_p
    xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
    xcb.xcb_connection_has_error.restype = ctypes.c_int
    xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    xcb.xcb_disconnect.restype = None
    xcb.xcb_get_setup.argtypes = [ctypes.c_void_p]
    xcb.xcb_get_setup.restype = ctypes.c_void_p
    xcb.xcb_setup_roots_iterator.argtypes = [ctypes.c_void_p]
    xcb.xcb_setup_roots_iterator.restype = _ScreenIterator
    xcb.xcb_generate_id.argtypes = [ctypes.c_void_p]
    xcb.xcb_generate_id.restype = ctypes.c_uint32
    xcb.xcb_create_gc_checked.argtypes = [
        ctypes.c_void_p,
        ctypes.c_uint32,
        ctypes.c_uint32,
        ctypes.c_uint32,
        ctypes.POINTER(ctypes.c_uint32),
    ]
    xcb.xcb_create_gc_checked.restype = _Cookie
    xcb.xcb_change_gc_checked.argtypes = [
        ctypes.c_void_p,
        ctypes.c_uint32,
        ctypes.c_uint32,
        ctypes.POINTER(ctypes.c_uint32),
    ]
    xcb.xcb_change_gc_checked.restype = _Cookie
    xcb.xcb_poly_fill_rectangle_checked.argtypes = [
        ctypes.c_void_p,
        ctypes.c_uint32,
        ctypes.c_uint32,
        ctypes.c_uint32,
        ctypes.POINTER(_Rectangle),
    ]
    xcb.xcb_poly_fill_rectangle_checked.restype = _Cookie
    xcb.xcb_request_check.argtypes = [ctypes.c_void_p, _Cookie]
    xcb.xcb_request_check.restype = ctypes.c_void_p
    return xcb


class VirtualDisplay:
    """A running Xvfb (``name`` like ``":3"``, ``size`` in pixels) and one connection that paints it."""

    def __init__(self, name: str, xcb: ctypes.CDLL) -> None:
        self.name = name
        self._xcb = xcb
        connection = xcb.xcb_connect(name.encode(), None)
        if not connection or xcb.xcb_connection_has_error(connection):
            if connection:
                xcb.xcb_disconnect(connection)
            raise RuntimeError(f"cannot connect to the virtual display {name}")
        self._connection = connection
        screen = xcb.xcb_setup_roots_iterator(xcb.xcb_get_setup(connection)).data.contents
        self._root = screen.root
        self.size = (int(screen.width_in_pixels), int(screen.height_in_pixels))
        self._gc = xcb.xcb_generate_id(connection)
        self._check(xcb.xcb_create_gc_checked(connection, self._gc, self._root, 0, None), "create a GC")

    def _check(self, cookie: _Cookie, what: str) -> None:
        """Wait for the server to have done the request (a round trip) and fail on an X error."""
        error = self._xcb.xcb_request_check(self._connection, cookie)
        if error:
            ctypes.CDLL(None).free(ctypes.c_void_p(error))
            raise RuntimeError(f"X error: cannot {what} on {self.name}")

    def paint(self, colours: Sequence[RGB]) -> None:
        """Fill the screen with a 2x2 grid: top-left, top-right, bottom-left, bottom-right; returns once
        the server has drawn it."""
        width, height = self.size
        half_w, half_h = width // 2, height // 2
        cells = [
            (0, 0, half_w, half_h),
            (half_w, 0, width - half_w, half_h),
            (0, half_h, half_w, height - half_h),
            (half_w, half_h, width - half_w, height - half_h),
        ]
        for (red, green, blue), (x, y, w, h) in zip(colours, cells, strict=True):
            pixel = (ctypes.c_uint32 * 1)((red << 16) | (green << 8) | blue)  # TrueColor, depth 24
            self._check(
                self._xcb.xcb_change_gc_checked(self._connection, self._gc, _XCB_GC_FOREGROUND, pixel),
                "set the colour",
            )
            rectangle = _Rectangle(x, y, w, h)
            self._check(
                self._xcb.xcb_poly_fill_rectangle_checked(
                    self._connection, self._root, self._gc, 1, ctypes.byref(rectangle)
                ),
                "fill a rectangle",
            )

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection:
            self._xcb.xcb_disconnect(connection)


def quadrant_colours(rgb: np.ndarray) -> list[RGB]:
    """The median colour of the middle of each cell :meth:`VirtualDisplay.paint` draws, same order."""
    height, width = rgb.shape[:2]
    colours = []
    for top in (0, height // 2):
        for left in (0, width // 2):
            patch = rgb[top + height // 8 : top + height * 3 // 8, left + width // 8 : left + width * 3 // 8]
            red, green, blue = (int(v) for v in np.median(patch.reshape(-1, 3), axis=0))
            colours.append((red, green, blue))
    return colours


def _read_display_number(fd: int, process: subprocess.Popen[bytes], within_s: float) -> str | None:
    """What Xvfb writes to ``-displayfd`` once it accepts connections; None if it exits or times out."""
    data = b""
    deadline = time.monotonic() + within_s
    while not data.endswith(b"\n"):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            return None
        chunk = os.read(fd, 64)
        if not chunk:  # Xvfb exited (we closed our copy of the write end)
            return None
        data += chunk
    return data.decode().strip()


@contextlib.contextmanager
def running(log_dir: Path, size: tuple[int, int] = (640, 480)) -> Iterator[VirtualDisplay]:
    """Start Xvfb with one ``size`` screen at 24 bits, yield it ready to paint, and always stop it."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        unavailable("Xvfb is not installed")
    xcb = _load_xcb()
    log_path = log_dir / "xvfb.log"
    read_fd, write_fd = os.pipe()
    try:
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [
                    xvfb,
                    "-displayfd",
                    str(write_fd),
                    "-screen",
                    "0",
                    f"{size[0]}x{size[1]}x24",
                    "-nolisten",
                    "tcp",
                    "-noreset",  # keep the picture when the last client disconnects
                ],
                pass_fds=(write_fd,),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        os.close(write_fd)
        write_fd = -1
        display: VirtualDisplay | None = None
        try:
            number = _read_display_number(read_fd, process, within_s=10.0)
            if number is None:
                process.kill()
                process.wait(timeout=5)
                lines = [line for line in log_path.read_text(errors="replace").splitlines() if line.strip()]
                unavailable(f"Xvfb did not start (exit {process.returncode}): {' | '.join(lines[-3:])}")
            display = VirtualDisplay(f":{number}", xcb)
            yield display
        finally:
            if display is not None:
                display.close()
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=5)
    finally:
        os.close(read_fd)
        if write_fd >= 0:
            os.close(write_fd)
