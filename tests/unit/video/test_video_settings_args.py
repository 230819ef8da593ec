"""``[video]`` settings, the video flags and their overrides (flags > config > defaults)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from pydantic import ValidationError

from agent_tui import cli
from agent_tui.config import ConfigError, build_settings
from agent_tui.video.cli_args import add_video_arguments, parse_size, video_overrides
from agent_tui.video.encoding import MAX_BITRATE, MIN_BITRATE, default_bitrate
from agent_tui.video.settings import VideoSettings

pytestmark = pytest.mark.timeout(10)


def overrides(*argv: str) -> dict[str, object]:
    parser = argparse.ArgumentParser()
    add_video_arguments(parser)
    return video_overrides(parser.parse_args(list(argv)))


def test_defaults_publish_nothing_and_show_the_agent() -> None:
    settings = VideoSettings()
    assert not settings.camera and not settings.screen and settings.video_file is None
    assert settings.show_agent_video and not settings.simulcast
    assert settings.size is None


def test_nothing_typed_overrides_nothing() -> None:
    assert overrides() == {}


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--camera"], {"camera": True}),
        (["--camera", "/dev/video2"], {"camera": True, "camera_device": "/dev/video2"}),
        (["--screen"], {"screen": True, "monitor": 1}),
        (["--screen", "2"], {"screen": True, "monitor": 2}),
        (["--video-file", "clip.mp4"], {"video_file": Path("clip.mp4")}),
        (["--video-size", "640x360"], {"width": 640, "height": 360}),
        (["--video-fps", "5"], {"fps": 5.0}),
        (["--no-video"], {"show_agent_video": False}),
        (["--graphics", "sixel"], {"graphics": "sixel"}),
        (["--graphics", "auto"], {"graphics": "auto"}),
    ],
)
def test_each_flag(argv: list[str], expected: dict[str, object]) -> None:
    assert overrides(*argv) == expected


@pytest.mark.parametrize("text", ["640", "640x", "x480", "axb", "8x8"])
def test_bad_sizes_say_what_is_expected(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="WIDTHxHEIGHT"):
        parse_size(text)


def test_cli_puts_video_flags_under_video_and_they_beat_the_file() -> None:
    args = cli.build_parser().parse_args(["--camera", "--video-fps", "20", "--no-video"])
    values = cli.cli_settings(args)
    assert values["video"] == {"camera": True, "fps": 20.0, "show_agent_video": False}
    settings = build_settings(values, {"video": {"fps": 5, "monitor": 2}})
    assert settings.video.fps == 20.0 and settings.video.monitor == 2 and settings.video.camera


def test_a_bad_video_flag_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--video-size", "big"]) == 2
    assert "WIDTHxHEIGHT" in capsys.readouterr().err


def test_an_unknown_graphics_protocol_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--graphics", "ascii"]) == 2
    assert "halfblock" in capsys.readouterr().err


def test_the_graphics_flag_beats_the_config_file() -> None:
    values = cli.cli_settings(cli.build_parser().parse_args(["--graphics", "kitty"]))
    assert build_settings(values, {"video": {"graphics": "sixel"}}).video.graphics == "kitty"
    assert build_settings({}, {"video": {"graphics": "sixel"}}).video.graphics == "sixel"


def test_config_errors_name_the_video_key() -> None:
    with pytest.raises(ConfigError, match="video"):
        build_settings({}, {"video": {"fps": 0}})
    with pytest.raises(ConfigError, match="video"):
        build_settings({}, {"video": {"camra": True}})


def test_width_without_height_is_refused() -> None:
    with pytest.raises(ValidationError, match="both width and height"):
        VideoSettings(width=640)


def test_graphics_setting_is_checked() -> None:
    assert VideoSettings(graphics="Kitty").graphics == "kitty"
    with pytest.raises(ValidationError, match="halfblock"):
        VideoSettings(graphics="ascii")


def test_the_default_bitrate_follows_size_and_rate_within_bounds() -> None:
    assert default_bitrate(1280, 720, 15) == 1_382_400  # about LiveKit's own 720p presets
    assert default_bitrate(640, 480, 30) == 2 * default_bitrate(640, 480, 15)
    assert default_bitrate(64, 64, 1) == MIN_BITRATE
    assert default_bitrate(3840, 2160, 60) == MAX_BITRATE
