"""Every key binding of the app, each with an id so the config file can remap it.

Users remap with ``[tui.keymap]`` in the config file (``mute = "f2,ctrl+g"``), which the app applies with
Textual's ``App.set_keymap``. Keys are chosen so they work while the chat input has focus: function keys
and control chords, never bare letters, and the push-to-talk key is a priority binding so the input never
swallows it.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding


@dataclass(frozen=True)
class BindingSpec:
    """One remappable binding; ``group`` orders the help screen."""

    id: str
    keys: str
    action: str
    description: str
    group: str
    show: bool = True
    priority: bool = False

    def binding(self) -> Binding:
        return Binding(
            self.keys, self.action, self.description, show=self.show, priority=self.priority, id=self.id
        )


BINDING_SPECS: tuple[BindingSpec, ...] = (
    BindingSpec("help", "f1", "help", "Help", "App"),
    BindingSpec("command_palette", "ctrl+p", "command_palette", "Commands", "App", show=False, priority=True),
    BindingSpec("quit", "ctrl+q,ctrl+c", "quit", "Quit", "App", priority=True),
    BindingSpec("ptt", "ctrl+space", "ptt", "Talk", "Microphone", priority=True),
    BindingSpec("ptt_cancel", "escape", "ptt_cancel", "Cancel talk", "Microphone", show=False),
    BindingSpec("mute", "f2", "toggle_mute", "Mute", "Microphone", priority=True),
    BindingSpec("mic_mode", "f3", "toggle_mic_mode", "Mode", "Microphone", priority=True),
    BindingSpec("devices", "f4", "pick_devices", "Devices", "Microphone"),
    BindingSpec("aec", "f8", "toggle_aec", "Echo cancel", "Microphone", show=False),
    BindingSpec("attributes", "f6", "toggle_attributes", "Attributes", "Session", show=False),
    BindingSpec("reconnect", "f5", "reconnect", "Reconnect", "Session", show=False),
    BindingSpec("export", "ctrl+s", "export_transcript", "Export", "Session", show=False, priority=True),
    BindingSpec("send_file", "f7", "send_file", "Send file", "Session", show=False),
    BindingSpec("rpc", "f9", "call_rpc", "Call RPC", "Session", show=False),
    BindingSpec("end_session", "f10", "end_session", "End session", "Session", show=False),
    # ctrl+t in LiveKit's Go console; here ctrl+t is the camera, so the default is ctrl+y (remappable)
    BindingSpec("text_mode", "ctrl+y", "toggle_text_mode", "Text mode", "Session", show=False, priority=True),
    BindingSpec(
        "video_panel", "ctrl+o", "toggle_video_panel", "Agent video", "Video", show=False, priority=True
    ),
    BindingSpec("camera", "ctrl+t", "toggle_camera", "Camera", "Video", show=False, priority=True),
    BindingSpec(
        "screen_share", "ctrl+r", "toggle_screen_share", "Share screen", "Video", show=False, priority=True
    ),
    BindingSpec(
        "scroll_up", "pageup", "transcript_page_up", "Scroll up", "Transcript", show=False, priority=True
    ),
    BindingSpec(
        "scroll_down",
        "pagedown",
        "transcript_page_down",
        "Scroll down",
        "Transcript",
        show=False,
        priority=True,
    ),
    BindingSpec(
        "jump_to_latest", "ctrl+end", "jump_to_latest", "Latest", "Transcript", show=False, priority=True
    ),
    BindingSpec("focus_chat", "ctrl+l", "focus_chat", "Chat", "Transcript", show=False, priority=True),
)

BINDING_IDS = frozenset(spec.id for spec in BINDING_SPECS)


def app_bindings() -> list[Binding]:
    return [spec.binding() for spec in BINDING_SPECS]


def unknown_binding_ids(keymap: dict[str, str]) -> list[str]:
    """Keymap entries that name no binding (a typo in the config file), to warn about once."""
    return sorted(set(keymap) - BINDING_IDS)


def keys_for(binding_id: str, keymap: dict[str, str]) -> list[str]:
    """The keys a binding answers to after the user's keymap, as Textual key names."""
    for spec in BINDING_SPECS:
        if spec.id == binding_id:
            raw = keymap.get(binding_id, spec.keys)
            return [key.strip() for key in raw.split(",") if key.strip()]
    raise KeyError(binding_id)


def base_key(key: str) -> str:
    """The key without modifiers, so a release still matches when a modifier was let go first
    (``ctrl+space`` is released as ``space`` if ctrl comes up before it). ``ctrl+@`` is what legacy
    terminals send for ctrl+space."""
    base = key.rsplit("+", 1)[-1]
    return {"@": "space", "at": "space"}.get(base, base)
