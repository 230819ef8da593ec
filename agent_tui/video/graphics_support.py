"""Which picture protocol the terminal speaks, from what can be known without a round trip: the
environment, and (when the caller has them) the terminal's answers to the kitty graphics query and to
Primary Device Attributes. Pure.

Terminal multiplexers (tmux, screen) pass neither protocol through by default, so inside one the answer is
half blocks whatever the outer terminal is.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

#: Sent to ask; a kitty-capable terminal answers ``ESC _ G i=31;OK ESC \``.
KITTY_QUERY = "\x1b_Gi=31,s=1,v=1,a=q,t=d,f=24;AAAA\x1b\\"
#: Primary Device Attributes; a reply listing attribute 4 means sixel support.
DA1_QUERY = "\x1b[c"

_KITTY_TERMINALS = ("kitty", "wezterm", "ghostty")
_SIXEL_TERMINALS = ("foot", "mlterm", "contour", "yaft")


class Graphics(StrEnum):
    KITTY = "kitty"
    SIXEL = "sixel"
    HALFBLOCK = "halfblock"


#: What the ``graphics`` setting and ``--graphics`` accept: ``auto`` (detect) or a protocol by name.
GRAPHICS_SETTINGS = ("auto", *(graphics.value for graphics in Graphics))


def kitty_reply_ok(reply: str) -> bool:
    """Whether ``reply`` holds the kitty graphics query's OK."""
    return "\x1b_Gi=31;OK" in reply


def da1_has_sixel(reply: str) -> bool:
    """Whether a Primary Device Attributes reply (``ESC [ ? 62;4;22 c``) lists sixel (4)."""
    start = reply.find("\x1b[?")
    end = reply.find("c", start + 3) if start >= 0 else -1
    if start < 0 or end < 0:
        return False
    return "4" in reply[start + 3 : end].split(";")


def detect_graphics(
    env: Mapping[str, str],
    *,
    setting: str = "auto",
    kitty_reply: str | None = None,
    da1_reply: str | None = None,
) -> Graphics:
    """The protocol to draw with: ``setting`` unless ``auto``; else the terminal's replies when given,
    else what the environment names; half blocks when in doubt or inside a multiplexer."""
    if setting != "auto":
        return Graphics(setting)
    if env.get("TMUX") or env.get("STY") or env.get("TERM", "").startswith(("screen", "tmux")):
        return Graphics.HALFBLOCK
    if kitty_reply is not None and kitty_reply_ok(kitty_reply):
        return Graphics.KITTY
    if da1_reply is not None and da1_has_sixel(da1_reply):
        return Graphics.SIXEL
    term = env.get("TERM", "").lower()
    program = env.get("TERM_PROGRAM", "").lower()
    if env.get("KITTY_WINDOW_ID") or any(name in term or name in program for name in _KITTY_TERMINALS):
        return Graphics.KITTY
    if any(name in term or name in program for name in _SIXEL_TERMINALS):
        return Graphics.SIXEL
    return Graphics.HALFBLOCK
