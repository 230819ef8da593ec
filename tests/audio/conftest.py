"""Fixtures for the audio tests: the shared private PulseAudio (see :mod:`pulse_harness`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.audio.pulse_harness import PulseServer, pointed_at, start_pulse


@pytest.fixture(scope="session")
def pulse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PulseServer]:
    """The shared virtual devices for this test session."""
    server = start_pulse(tmp_path_factory.mktemp("pulse"))
    try:
        with pointed_at(server):
            yield server
    finally:
        server.stop()
