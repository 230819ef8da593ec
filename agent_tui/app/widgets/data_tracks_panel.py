"""The agent's data tracks: one line each with its frame rate and count, and the latest frame beneath it
(its text, or its size when it is binary). Hidden while there is no data track, as most agents have none."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import Static

from agent_tui.session import DataTrackView

#: How much of the latest frame's text fits on its line in the sidebar.
PREVIEW_CHARS = 30


def preview(payload: bytes) -> str:
    """The latest frame as one short line: its text when it is UTF-8, else its size."""
    try:
        text = " ".join(payload.decode("utf-8").split())
    except UnicodeDecodeError:
        return f"{len(payload)} bytes"
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"


def render_data_tracks(views: Sequence[DataTrackView]) -> Text:
    text = Text()
    for index, view in enumerate(views):
        if index:
            text.append("\n")
        text.append(view.name, style="bold")
        text.append(f" {view.frame_rate:.1f} fps · {view.frames}", style="")
        if view.latest is not None:
            text.append("\n  " + preview(view.latest.payload), style="dim")
            if view.latest.user_timestamp is not None:
                text.append(f" @{view.latest.user_timestamp}", style="dim italic")
    return text


class DataTracksPanel(Static):
    """Shows :func:`render_data_tracks` of what the app's ``data_tracks`` holds."""

    def show_tracks(self, views: Sequence[DataTrackView]) -> None:
        self.set_class(bool(views), "-shown")
        self.update(render_data_tracks(views))
