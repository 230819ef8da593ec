"""Fixtures shared by unit tests of several packages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from agent_tui.devserver import DevServer


@pytest.fixture
async def server() -> AsyncIterator[DevServer]:
    """An embedded dev server on 127.0.0.1, for tests of its API and dispatcher: no media moves, so
    they run outside the test namespace. A module that needs other options defines its own."""
    from agent_tui.devserver import DevServer

    async with DevServer(port=0, departure_timeout=0.5) as dev:
        yield dev
