"""The video sources without a room: a file decoded, scaled, paced and looped; clear errors for a missing
file, camera or display; the newest-wins hand-off from a capture thread to the event loop."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import av
import numpy as np
import pytest
from livekit import rtc

from agent_tui.video.camera_source import CameraReader, capture_input, describe_open_error
from agent_tui.video.errors import VideoDeviceError, VideoFileError
from agent_tui.video.file_source import FileReader
from agent_tui.video.frame_handoff import LatestFrame
from agent_tui.video.screen_source import ScreenReader, screen_open_error

pytestmark = pytest.mark.timeout(20)


def write_mp4(path: Path, colours: list[tuple[int, int, int]], *, fps: int = 30) -> Path:
    """A short MPEG-4 clip, one flat colour per frame (a lossy codec in a common container)."""
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 96, 64, "yuv420p"
        stream.bit_rate = 2_000_000
        for colour in colours:
            image = np.zeros((64, 96, 3), dtype=np.uint8)
            image[:] = colour
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def rgb_of(frame: rtc.VideoFrame) -> np.ndarray:
    converted = frame.convert(rtc.VideoBufferType.RGB24)
    return np.frombuffer(converted.data, dtype=np.uint8).reshape(converted.height, converted.width, 3)


def test_a_file_is_scaled_paced_and_looped(tmp_path: Path) -> None:
    clip = write_mp4(tmp_path / "clip.mp4", [(255, 0, 0)] * 3 + [(0, 0, 255)] * 3)  # 0.2 s at 30 fps
    reader = FileReader(clip, size=(48, 32), fps=30)
    assert reader.open() == (48, 32)
    started = time.monotonic()
    frames = [reader.read() for _ in range(15)]
    elapsed = time.monotonic() - started
    reader.close()
    assert all(frame is not None and frame.type == rtc.VideoBufferType.I420 for frame in frames)
    assert {(f.width, f.height) for f in frames if f is not None} == {(48, 32)}
    colours = [tuple(int(v) for v in rgb_of(f)[16, 24]) for f in frames if f is not None]
    reds = [c[0] > 200 and c[2] < 60 for c in colours]
    assert reds[:6] == [True] * 3 + [False] * 3 and reds[6:9] == [True] * 3  # then it starts over
    assert reader.loops >= 2
    assert elapsed == pytest.approx(14 / 30, abs=0.12)  # real time, not decoding speed


def test_the_file_rate_cap_drops_frames(tmp_path: Path) -> None:
    clip = write_mp4(tmp_path / "clip.mp4", [(0, 255, 0)] * 30)
    reader = FileReader(clip, fps=10)
    assert reader.open() == (96, 64)
    started = time.monotonic()
    for _ in range(4):
        assert reader.read() is not None
    assert time.monotonic() - started == pytest.approx(0.3, abs=0.08)
    reader.close()


def test_stop_interrupts_a_sleeping_read(tmp_path: Path) -> None:
    clip = write_mp4(tmp_path / "slow.mp4", [(9, 9, 9)] * 4, fps=1)
    reader = FileReader(clip, fps=1)
    reader.open()
    assert reader.read() is not None
    threading.Timer(0.1, reader.stop).start()
    started = time.monotonic()
    assert reader.read() is None  # the next frame was due in 1 s
    assert time.monotonic() - started < 0.5
    reader.close()


def test_missing_or_broken_files_say_so(tmp_path: Path) -> None:
    with pytest.raises(VideoFileError, match="does not exist"):
        FileReader(tmp_path / "nope.mp4").open()
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video at all" * 10)
    with pytest.raises(VideoFileError, match="cannot be read as video"):
        FileReader(junk).open()


def test_a_missing_camera_is_one_clear_line() -> None:
    with pytest.raises(VideoDeviceError, match=r"No camera at /dev/video97 — plug one in"):
        CameraReader("/dev/video97").open()


def test_camera_inputs_per_platform_and_errors() -> None:
    assert capture_input(None, "linux") == ("v4l2", "/dev/video0")
    assert capture_input(None, "darwin") == ("avfoundation", "0")
    assert capture_input("Integrated Camera", "win32") == ("dshow", "video=Integrated Camera")
    with pytest.raises(VideoDeviceError, match="Name the camera"):
        capture_input(None, "win32")
    assert "busy" in describe_open_error("/dev/video0", OSError(16, "Device or resource busy"))
    assert "'video' group" in describe_open_error("/dev/video0", PermissionError(13, "denied"))


def test_no_display_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with pytest.raises(VideoDeviceError, match="No display to share"):
        ScreenReader(1).open()


def test_a_missing_x11_library_names_the_packages_not_a_missing_desktop() -> None:
    line = screen_open_error("Library libxcb-randr.so not found.")
    assert "apt-get install libxcb1 libxcb-randr0" in line and "desktop" not in line
    assert "desktop session" in screen_open_error("$DISPLAY not set.")


async def test_the_hand_off_delivers_the_newest_frame_on_the_loop() -> None:
    loop = asyncio.get_running_loop()
    delivered: list[tuple[int, bool]] = []
    on_loop = threading.get_ident()
    handoff: LatestFrame[int] = LatestFrame(
        loop, lambda n: delivered.append((n, threading.get_ident() == on_loop))
    )

    def burst() -> None:
        for number in range(100):
            handoff.put(number)

    await asyncio.to_thread(burst)  # the loop is not running callbacks while we wait here
    for _ in range(5):
        await asyncio.sleep(0)
    assert delivered[-1] == (99, True)
    assert all(on_loop_thread for _, on_loop_thread in delivered)
    assert handoff.delivered == len(delivered) < 100
    assert handoff.delivered + handoff.replaced == 100
