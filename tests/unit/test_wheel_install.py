"""The package as users get it: a wheel built from this checkout and installed without extras into a fresh
virtual environment, as ``pipx install agent-tui`` does. The client runs; every command and option that
needs an extra says which one in one line with exit code 2, and nothing prints a traceback.

Building the wheel (hatchling, in pip's build isolation) and installing its base dependencies need the
package index. ``make test`` builds them into a wheelhouse first, outside the test namespace (which has
no network), and names it in ``AGENT_TUI_WHEELHOUSE``; the venv is then installed from it with
``--no-index``. Without either the test skips, except on CI (``CI=true``), where it fails.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(600)

REPO = Path(__file__).resolve().parents[2]
INDEX = os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple/")
PIP_TIMEOUT = 540


def index_unreachable() -> str | None:
    """Why the package index cannot be reached, or None when it can."""
    try:
        with urllib.request.urlopen(INDEX.rstrip("/") + "/pip/", timeout=20) as response:
            response.read(1)
    except OSError as error:
        return f"{type(error).__name__}: {error}"
    return None


def pip(*args: str | Path, python: Path | str = sys.executable) -> None:
    result = subprocess.run(
        [str(python), "-m", "pip", "--disable-pip-version-check", "-q", *map(str, args)],
        check=False,
        capture_output=True,
        text=True,
        timeout=PIP_TIMEOUT,
    )
    assert result.returncode == 0, f"pip {' '.join(map(str, args))} failed:\n{result.stderr[-3000:]}"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``agent-tui`` script of a fresh venv holding the wheel and its base dependencies only."""
    wheelhouse = os.environ.get("AGENT_TUI_WHEELHOUSE")
    if wheelhouse and list(Path(wheelhouse).glob("agent_tui-*.whl")):
        root = tmp_path_factory.mktemp("wheel-install")
        venv = root / "venv"
        subprocess.run([sys.executable, "-m", "venv", venv], check=True, capture_output=True, timeout=120)
        pip("install", "--no-index", "--find-links", wheelhouse, "agent-tui", python=venv / "bin" / "python")
        return venv / "bin" / "agent-tui"
    problem = index_unreachable()
    if problem is not None:
        message = (
            f"the package index {INDEX} cannot be reached ({problem}): cannot build and install the wheel"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    root = tmp_path_factory.mktemp("wheel-install")
    pip("wheel", "--no-deps", "-w", root / "dist", REPO)
    (wheel,) = (root / "dist").glob("agent_tui-*.whl")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", venv], check=True, capture_output=True, timeout=120)
    pip("install", wheel, python=venv / "bin" / "python")  # no extras
    return venv / "bin" / "agent-tui"


def agent_tui(script: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.upper().startswith(("AGENT_TUI_", "LIVEKIT_"))
        and name not in ("PYTHONPATH", "VIRTUAL_ENV")
    }
    env["XDG_CONFIG_HOME"] = str(script.parents[2] / "xdg-config")
    return subprocess.run(
        [str(script), *args],
        check=False,
        cwd=script.parents[2],  # not the checkout: nothing may be imported from the source tree
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def one_line(stderr: str) -> str:
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    return lines[0]


def test_the_installed_package_is_this_checkout(installed: Path) -> None:
    result = agent_tui(installed, "--version")
    assert result.returncode == 0, result.stderr
    python = installed.parent / "python"
    where = subprocess.run(
        [str(python), "-c", "import agent_tui; print(agent_tui.__file__)"],
        check=True,
        capture_output=True,
        text=True,
        cwd=installed.parents[2],
        timeout=60,
    ).stdout
    assert str(installed.parents[1]) in where and str(REPO) not in where


def test_help_answers(installed: Path) -> None:
    result = agent_tui(installed, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: agent-tui") and result.stderr == ""


@pytest.mark.parametrize(
    ("args", "what", "extra"),
    [
        (("demo", "--no-ui", "--send", "hi"), "agent-tui demo", "demo"),
        (("dev-server",), "agent-tui dev-server", "devserver"),
        (("--no-ui", "--video-file", "clip.mp4"), "--video-file", "video"),
    ],
)
def test_what_needs_an_extra_says_which_in_one_line(
    installed: Path, args: tuple[str, ...], what: str, extra: str
) -> None:
    result = agent_tui(installed, *args)
    line = one_line(result.stderr)
    assert result.returncode == 2, result.stderr
    assert line.startswith(f"agent-tui: {what} needs the '{extra}' extra (")
    assert line.endswith(f"pip install 'agent-tui[{extra}]' (or pipx install --force 'agent-tui[{extra}]')")
    assert result.stdout == ""


def test_the_client_runs_without_extras(installed: Path) -> None:
    # An expired token from standard input: the client gets as far as checking it, with no server.
    def part(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    claims = {"exp": time.time() - 3600, "sub": "me", "video": {"room": "r", "roomJoin": True}}
    token = f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"
    result = agent_tui(
        installed, "--no-ui", "--text-only", "--url", "ws://127.0.0.1:9", "--token-file", "-", stdin=token
    )
    assert result.returncode == 3, result.stderr
    assert "expired" in one_line(result.stderr)
    assert token not in result.stdout + result.stderr
