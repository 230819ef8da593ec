"""Textual's output to the terminal, for the two things the video panel needs that Textual has no public
API for: how much it has queued but not yet written, and writing one escape sequence outside a paint.

Both go through the driver (``App._driver``), whose writer thread carries every screen update in order;
a driver without that thread (the headless one in tests) has nothing queued and writes nowhere.
"""

from __future__ import annotations

import logging

from textual.app import App

log = logging.getLogger(__name__)


def queued_writes(app: App[object]) -> int:
    """Writes Textual has handed to its output thread that the terminal has not taken yet: above zero,
    the terminal is behind (a slow link, a big picture still on its way)."""
    writer = getattr(getattr(app, "_driver", None), "_writer_thread", None)
    queue = getattr(writer, "_queue", None)
    if queue is None:
        return 0
    try:
        return int(queue.qsize())
    except Exception:  # another Textual's internals: then nothing is known to be queued
        return 0


def write_now(app: App[object], sequence: str) -> None:
    """Queue ``sequence`` for the terminal after every screen update queued so far."""
    driver = getattr(app, "_driver", None)
    if driver is None:
        return
    try:
        driver.write(sequence)
    except Exception as error:  # the output is already closed (shutting down): nothing left to clean
        log.debug("could not write to the terminal: %s", error)
