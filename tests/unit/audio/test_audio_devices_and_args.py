"""Device selection by index or name, the settings model, the audio flags and the devices listing."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from agent_tui.audio import devices_command
from agent_tui.audio.cli_args import add_audio_arguments, audio_overrides, wants_device_list
from agent_tui.audio.controls import DeviceInfo, MicMode
from agent_tui.audio.devices import resolve_device
from agent_tui.audio.devices_command import format_devices, run_devices
from agent_tui.audio.errors import AudioDeviceError
from agent_tui.audio.settings import AudioSettings

pytestmark = pytest.mark.timeout(10)


def device(
    index: int, name: str, inputs: int, outputs: int, *, di: bool = False, do: bool = False
) -> DeviceInfo:
    return DeviceInfo(index, name, "ALSA", inputs, outputs, 48000.0, di, do)


DEVICES = [
    device(0, "HDA Intel PCH: ALC3246 Analog (hw:0,0)", 2, 2),
    device(1, "USB Headset: Audio (hw:1,0)", 1, 2),
    device(2, "HDMI 0 (hw:0,3)", 0, 8),
    device(3, "pulse", 32, 32),
    device(4, "pulse monitor", 32, 0),
    device(5, "default", 32, 32, di=True, do=True),
]


def test_none_picks_the_default() -> None:
    assert resolve_device(None, "input", DEVICES).name == "default"
    assert resolve_device(None, "output", DEVICES).name == "default"


def test_index_as_int_or_numeric_string() -> None:
    assert resolve_device(1, "input", DEVICES).name.startswith("USB Headset")
    assert resolve_device("2", "output", DEVICES).name.startswith("HDMI")


def test_index_without_the_direction_is_refused() -> None:
    with pytest.raises(AudioDeviceError, match="no input channels"):
        resolve_device(2, "input", DEVICES)
    with pytest.raises(AudioDeviceError, match="No audio device with index 42"):
        resolve_device(42, "input", DEVICES)


def test_part_of_a_name_case_insensitive() -> None:
    assert resolve_device("headset", "input", DEVICES).index == 1
    assert resolve_device("hdmi", "output", DEVICES).index == 2


def test_exact_name_beats_partial_matches() -> None:
    assert resolve_device("PULSE", "input", DEVICES).index == 3


def test_ambiguous_and_missing_names_say_what_to_do() -> None:
    with pytest.raises(AudioDeviceError, match="matches several") as ambiguous:
        resolve_device("hw:", "output", DEVICES)
    assert "0: HDA Intel" in str(ambiguous.value)
    with pytest.raises(AudioDeviceError, match="agent-tui devices"):
        resolve_device("bluetooth", "input", DEVICES)


def test_no_devices_at_all() -> None:
    with pytest.raises(AudioDeviceError, match="No audio input device"):
        resolve_device(None, "input", [device(0, "HDMI", 0, 2)])


def test_settings_defaults_and_validation() -> None:
    settings = AudioSettings()
    assert settings.sample_rate == 48000 and settings.block_ms == 10 and settings.aec
    assert settings.mode is MicMode.OPEN and settings.frame_samples == 480
    assert settings.processing_enabled
    assert AudioSettings(input_device="  ").input_device is None
    with pytest.raises(ValidationError):
        AudioSettings(sample_rate=44100)
    with pytest.raises(ValidationError):
        AudioSettings.model_validate({"unknown_key": 1})
    assert AudioSettings.model_validate({"mode": "push-to-talk"}).mode is MicMode.PUSH_TO_TALK


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_audio_arguments(parser)
    return parser.parse_args(list(argv))


def test_no_flags_means_no_overrides() -> None:
    args = parse()
    assert audio_overrides(args) == {}
    assert not wants_device_list(args)


def test_every_flag_maps_to_a_setting(tmp_path: Path) -> None:
    args = parse(
        "--input-device", "3", "--output-device", "USB", "--no-aec", "--input-wav", "in.wav",
        "--output-wav", "out.wav", "--record", str(tmp_path), "--block-ms", "20", "--push-to-talk",
    )  # fmt: skip
    overrides = audio_overrides(args)
    assert overrides == {
        "input_device": 3,
        "output_device": "USB",
        "aec": False,
        "input_wav": Path("in.wav"),
        "output_wav": Path("out.wav"),
        "record_dir": tmp_path,
        "block_ms": 20,
        "mode": MicMode.PUSH_TO_TALK,
    }
    settings = AudioSettings(**overrides)
    assert settings.input_device == 3 and not settings.aec


@pytest.mark.parametrize("flag", ["--text-only", "--no-audio"])
def test_text_only_aliases(flag: str) -> None:
    assert audio_overrides(parse(flag)) == {"enabled": False}


def test_list_devices_flag() -> None:
    assert wants_device_list(parse("--list-devices"))


def test_listing_marks_defaults_and_groups_by_direction() -> None:
    text = format_devices(DEVICES)
    inputs, outputs = text.split("Output devices:")
    assert "HDMI" not in inputs and "HDMI" in outputs
    assert "pulse monitor" in inputs and "pulse monitor" not in outputs
    assert " *  5  default" in inputs and " *  5  default" in outputs


def test_run_devices_json_and_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(devices_command, "list_devices", lambda: DEVICES[:2])
    out = io.StringIO()
    assert run_devices(argparse.Namespace(json=True), out=out) == 0
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [row["index"] for row in rows] == [0, 1]

    def missing() -> list[DeviceInfo]:
        raise AudioDeviceError(
            "PortAudio is not installed; install it with: sudo apt-get install libportaudio2"
        )

    monkeypatch.setattr(devices_command, "list_devices", missing)
    err = io.StringIO()
    assert run_devices(argparse.Namespace(json=False), out=io.StringIO(), err=err) == 1
    assert err.getvalue().startswith("agent-tui: PortAudio is not installed")
