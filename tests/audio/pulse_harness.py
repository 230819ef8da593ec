"""Real audio devices for tests: a private, headless PulseAudio with two null sinks (fixture: conftest).

Layout (see docs/reference audio notes §1):

| direction  | the app uses                 | the test uses                          |
|------------|------------------------------|----------------------------------------|
| app output | default sink ``speaker``     | records ``speaker.monitor`` (parec)    |
| app input  | default source ``micsink.monitor`` | plays into ``micsink`` (pacat)   |

The server runs with its own runtime directory under a tmp dir, and ``PULSE_SERVER`` /
``PULSE_RUNTIME_PATH`` / ``XDG_RUNTIME_DIR`` point this test process at it, so a developer's real sound
server is never touched. Idle null sinks render in blocks of up to ~2 s, which stalls the first stream that
attaches; one permanent 10 ms reader per monitor (a "keeper") removes the stall.

Without the ``pulseaudio`` binary the tests are skipped with the install command, except under CI
(``CI=true``), where a missing device is a failure.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

RATE = 48000
INSTALL = (
    "apt-get install -y --no-install-recommends pulseaudio pulseaudio-utils libasound2-plugins libportaudio2"
)

PA_CONFIG = """\
load-module module-native-protocol-unix auth-anonymous=1
load-module module-null-sink sink_name=speaker rate=48000 channels=1 format=s16le \
sink_properties=device.description=VirtualSpeaker
load-module module-null-sink sink_name=micsink rate=48000 channels=1 format=s16le \
sink_properties=device.description=VirtualMicFeed
set-default-sink speaker
set-default-source micsink.monitor
"""


def unavailable(reason: str) -> None:
    """Skip with the reason, or fail under CI where the devices must exist."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"virtual audio devices unavailable under CI: {reason}")
    pytest.skip(f"virtual audio devices unavailable: {reason} (install: {INSTALL})")


@dataclass
class PulseServer:
    """One private PulseAudio daemon and the processes the harness started for it."""

    root: Path
    env: dict[str, str]
    keepers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _clips: int = 0

    @property
    def server(self) -> str:
        return self.env["PULSE_SERVER"]

    def run(self, *args: str, timeout: float = 5.0) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(list(args), env=self.env, capture_output=True, timeout=timeout, check=False)

    def play_into_mic(self, samples: np.ndarray) -> subprocess.Popen[bytes]:
        """Start playing mono int16 ``samples`` into the virtual microphone; returns the pacat process.

        The samples go through a file, not a pipe: pacat reads at playback speed, and writing a pipe from
        the test's event loop would block the loop (and starve the engine under test) for the whole tone.
        """
        self._clips += 1
        clip = self.root / f"clip-{self._clips}.raw"
        clip.write_bytes(samples.astype("<i2").tobytes())
        with clip.open("rb") as stdin:
            return subprocess.Popen(
                [
                    "pacat",
                    "--playback",
                    "--device=micsink",
                    "--format=s16le",
                    f"--rate={RATE}",
                    "--channels=1",
                    "--latency-msec=10",
                    "--raw",
                ],
                env=self.env,
                stdin=stdin,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )

    def record_speaker(self) -> SpeakerRecording:
        """Start recording the virtual speaker (what the app plays)."""
        process = subprocess.Popen(
            [
                "parec",
                "--device=speaker.monitor",
                "--format=s16le",
                f"--rate={RATE}",
                "--channels=1",
                "--latency-msec=10",
                "--raw",
            ],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        return SpeakerRecording(process)

    def stop(self) -> None:
        for keeper in self.keepers:
            keeper.terminate()
        for keeper in self.keepers:
            with contextlib.suppress(subprocess.TimeoutExpired):
                keeper.wait(timeout=5)
        self.keepers.clear()
        with contextlib.suppress(Exception):
            self.run("pulseaudio", "--kill")
        pid_file = Path(self.env["PULSE_RUNTIME_PATH"]) / "pid"
        deadline = time.monotonic() + 5
        while pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)


class SpeakerRecording:
    """A running ``parec`` of the speaker monitor, read by a thread; :meth:`stop` returns the samples.

    A fresh recorder can take a moment before its first data arrives: :meth:`wait_started` blocks until it
    does, so a test starts its sound only once the recording really runs.
    """

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self._process = process
        self._chunks: list[bytes] = []
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self._process.stdout is not None
        while chunk := self._process.stdout.read1(4096):
            self._chunks.append(chunk)
            self._started.set()

    def wait_started(self, limit: float = 5.0) -> None:
        if not self._started.wait(limit):
            raise TimeoutError("the speaker recording produced no data")

    def samples(self) -> np.ndarray:
        """What has been recorded so far."""
        data = b"".join(list(self._chunks))
        return np.frombuffer(data[: len(data) // 2 * 2], dtype="<i2").astype(np.int16)

    def stop(self) -> np.ndarray:
        self._process.terminate()
        self._process.wait(timeout=5)
        self._thread.join(timeout=5)
        return self.samples()


def start_pulse(root: Path) -> PulseServer:
    """Start a private server under ``root`` with keepers, and wait until it streams without stalls."""
    for tool in ("pulseaudio", "pactl", "pacat", "parec"):
        if shutil.which(tool) is None:
            unavailable(f"'{tool}' is not installed")
    runtime = root / "run"
    (runtime / "pulse").mkdir(parents=True, exist_ok=True)
    runtime.chmod(0o700)
    (root / "home").mkdir(exist_ok=True)
    config = root / "virtual.pa"
    config.write_text(PA_CONFIG)
    env = {
        **os.environ,
        "HOME": str(root / "home"),
        "XDG_RUNTIME_DIR": str(runtime),
        "PULSE_RUNTIME_PATH": str(runtime / "pulse"),
        "PULSE_SERVER": f"unix:{runtime / 'pulse' / 'native'}",
    }
    server = PulseServer(root=root, env=env)
    started = server.run(
        "pulseaudio",
        "-n",
        "-F",
        str(config),
        "-D",
        "--exit-idle-time=-1",
        f"--log-target=file:{root / 'pulse.log'}",
    )
    if started.returncode != 0:
        unavailable(f"pulseaudio did not start: {started.stderr.decode(errors='replace').strip()[:300]}")
    deadline = time.monotonic() + 5
    while server.run("pactl", "info").returncode != 0:
        if time.monotonic() > deadline:
            server.stop()
            unavailable("pulseaudio did not answer 'pactl info' within 5 s")
        time.sleep(0.1)
    for monitor in ("speaker.monitor", "micsink.monitor"):
        server.keepers.append(
            subprocess.Popen(
                ["parec", "--latency-msec=10", "-d", monitor],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    # The stall is gone once a fresh reader gets its first 10 ms at once.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        begun = time.monotonic()
        probe = subprocess.Popen(
            ["parec", "--raw", "--latency-msec=10", "-d", "speaker.monitor"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert probe.stdout is not None
        probe.stdout.read(960)
        probe.terminate()
        probe.wait(timeout=5)
        if time.monotonic() - begun < 0.1:
            break
    return server


@contextlib.contextmanager
def pointed_at(server: PulseServer) -> Iterator[None]:
    """Point this process (libpulse inside PortAudio's ALSA plugin) at ``server``, and re-scan devices."""
    from agent_tui.audio import devices

    keys = ("PULSE_SERVER", "PULSE_RUNTIME_PATH", "XDG_RUNTIME_DIR")
    saved = {key: os.environ.get(key) for key in keys}
    os.environ.update({key: server.env[key] for key in keys})
    try:
        devices.refresh()
    except Exception as error:  # PortAudio missing
        unavailable(str(error))
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
