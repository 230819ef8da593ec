"""The agent's video, drawn inside the app's layout with the kitty graphics protocol, sixel or half blocks.

The widget only draws: the app attaches the agent's track to an :class:`AgentVideoFeed`, which calls
:meth:`VideoPanel.show_frame` with a picture already sized by :meth:`VideoPanel.picture_size`. The feed's
own rate limit comes first; a frame arriving while the terminal has not yet taken what was sent before is
skipped (see :meth:`VideoPanel.picture_size`), and frames arriving between two repaints just replace the
pending picture, so the frame rate is bounded by what the terminal can draw.

Half blocks are ordinary styled text: one strip per cell row, built once per frame. A kitty or sixel
picture is one escape sequence, encoded when the panel is next painted (a frame replaced before then
costs nothing) and carried in the panel's last line (see :mod:`.graphics_strip`), so it reaches the
terminal through Textual's own output, in order with the rest of the screen; the panel's cells are blank
under it. Nothing is drawn while another screen (help, the palette, a dialog) is on top, and a kitty
picture, which stays on screen until deleted, is deleted when the panel is hidden, covered or removed.
"""

from __future__ import annotations

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from agent_tui.video.cell_pixels import FALLBACK_CELL, CellPixels
from agent_tui.video.geometry import fit_cells, fit_pixels
from agent_tui.video.graphics_picture import GraphicsPicture, encode_picture, erase_sequence
from agent_tui.video.graphics_support import Graphics
from agent_tui.video.renderer_halfblock import halfblock_strips

from .graphics_strip import escape_segments, splice
from .terminal_output import queued_writes, write_now


class VideoPanel(Widget):
    """Shows the newest frame centred, or a one-line note when there is none."""

    DEFAULT_CSS = """
    VideoPanel { width: 1fr; height: 1fr; }
    """

    def __init__(
        self,
        *,
        graphics: Graphics = Graphics.HALFBLOCK,
        cell: CellPixels = FALLBACK_CELL,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.graphics = graphics
        self.cell = cell
        self._strips: list[Strip] = []
        self._frame: np.ndarray | None = None
        self._frame_cells = (0, 0)
        self._picture: GraphicsPicture | None = None
        self._kitty_shown = False
        self._note = "Waiting for the agent's video…"
        self.frames_drawn = 0

    @property
    def has_picture(self) -> bool:
        return bool(self._strips) or self._frame is not None

    def cells(self) -> tuple[int, int]:
        """The drawing area in cells (columns, rows)."""
        return self.content_size.width, self.content_size.height

    def picture_size(self, frame: tuple[int, int]) -> tuple[int, int]:
        """The pixel size (width, height) to sample a ``frame``-sized picture at for this panel: one pixel
        per column and two per row with half blocks, the panel's screen pixels (capped) with kitty and
        sixel, kitty no larger than the frame (it enlarges the picture itself).

        ``(0, 0)`` when the panel has no room, or while the terminal has not yet taken what Textual
        already sent it: the frame is then skipped before any conversion and the next one tried, so the
        frame rate follows what the terminal can draw instead of queueing pictures behind a slow link."""
        if queued_writes(self.app):
            return 0, 0
        if self.graphics is Graphics.HALFBLOCK:
            return fit_cells(frame, self.cells())
        return fit_pixels(frame, self.cells(), self.cell, enlarge=self.graphics is Graphics.SIXEL)

    def show_frame(self, rgb: np.ndarray) -> None:
        """Draw ``rgb`` (height, width, 3), sampled at :meth:`picture_size`."""
        if self.graphics is Graphics.HALFBLOCK:
            self._strips = halfblock_strips(rgb)
        else:
            self._frame = rgb
            self._frame_cells = self.cells()
            self._picture = None
        self.frames_drawn += 1
        self.refresh()

    def show_note(self, note: str) -> None:
        """Drop the picture and show ``note`` instead (no video yet, the agent stopped its camera)."""
        self._strips = []
        self._frame = None
        self._picture = None
        self._note = note
        self.refresh()

    def picture(self) -> GraphicsPicture | None:
        """The newest frame as a kitty or sixel escape, encoded on first use; None with half blocks,
        without a frame, or when the panel shrank under a sixel picture (sixel is drawn pixel for pixel:
        it would spill over the neighbours until the next frame, sampled for the new size, comes)."""
        frame = self._frame
        cells = self.cells()
        if frame is None or self.graphics is Graphics.HALFBLOCK or not all(cells):
            return None
        if self._picture is None or cells != self._frame_cells:
            height, width = frame.shape[:2]
            if self.graphics is Graphics.SIXEL and (
                width > cells[0] * self.cell.width or height > cells[1] * self.cell.height
            ):
                return None
            self._picture = encode_picture(frame, self.graphics, cells=cells, cell=self.cell)
            self._frame_cells = cells
        return self._picture

    # -- drawing ------------------------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        width, height = self.content_size.width, self.content_size.height
        if self._frame is not None:
            return Strip.blank(width)  # a graphics picture covers these cells (see render_lines)
        if not self._strips:
            if y == height // 2:
                text = self._note[:width]
                pad = max(0, (width - len(text)) // 2)
                line = Strip([Segment(" " * pad + text, Style(dim=True, italic=True))])
                return line.extend_cell_length(width)
            return Strip.blank(width)
        top = max(0, (height - len(self._strips)) // 2)
        row = y - top
        if not 0 <= row < len(self._strips):
            return Strip.blank(width)
        strip = self._strips[row]
        left = max(0, (width - strip.cell_length) // 2)
        if left:
            strip = Strip([Segment(" " * left), *strip], left + strip.cell_length)
        return strip.extend_cell_length(width).crop(0, width)

    def render_lines(self, crop: Region) -> list[Strip]:
        """Textual's lines (border, blank cells), plus the picture's escape in the panel's last content
        line when this paint covers that line whole and the panel's screen is the one on top."""
        lines = list(super().render_lines(crop))
        if self.graphics is Graphics.HALFBLOCK or not self.screen.is_active:
            return lines
        region, content = self.region, self.content_region
        last = content.bottom - 1 - region.y  # the last content line, in the widget's own lines
        if not (
            crop.y <= last < crop.bottom
            and crop.x <= content.x - region.x
            and content.right - region.x <= crop.right
        ):
            return lines
        resume = (content.right, content.bottom - 1)
        picture = self.picture()
        if picture is not None:
            escape = picture.escape
            at = (
                content.x + (content.width - picture.columns) // 2,
                content.y + (content.height - picture.rows) // 2,
            )
            self._kitty_shown = self.graphics is Graphics.KITTY
        elif self._kitty_shown:  # the picture went while the panel stayed: delete it in this paint
            escape, at = erase_sequence(self.graphics), resume
            self._kitty_shown = False
        else:
            return lines
        index = last - crop.y
        lines[index] = splice(
            lines[index], content.right - region.x - crop.x, escape_segments(escape, at=at, resume=resume)
        )
        return lines

    # -- taking a kitty picture down --------------------------------------------------------------------
    def covered(self) -> None:
        """Another screen went on top: a kitty picture would float over it (sixel cells are repainted)."""
        self._take_down()

    def on_hide(self, event: events.Hide) -> None:
        self._take_down()

    def on_unmount(self, event: events.Unmount) -> None:
        self._take_down()

    def _take_down(self) -> None:
        """Delete a kitty picture the panel can no longer paint over. The panel is not painted now, so the
        delete goes straight to Textual's output (after the screen updates already queued there)."""
        if not self._kitty_shown:
            return
        self._kitty_shown = False
        write_now(self.app, erase_sequence(self.graphics))
