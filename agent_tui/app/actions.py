"""Everything the user can do, in one table: it feeds the key bindings, the command palette and the help
screen, so a key, a palette title and a help line can never describe different actions.

Each :class:`UserAction` names the Textual action it runs and who owns it: ``app`` (the session, audio
and video controls) or ``main`` (the main screen, which holds the transcript, the chat input and the
attributes panel and so owns what only moves those). A toggle's palette title follows its state
("Mute microphone" / "Unmute microphone"): ``state`` names a boolean the owner reads out
(:class:`ActionStates`), and ``title_on`` is the title while it is true.

Users remap bindings by ``id`` in ``[tui.keymap]`` (``mute = "f2,ctrl+g"``), which the app applies with
``App.set_keymap``. Keys are chosen so they work while the chat input has focus: function keys and
control chords, never bare letters, and the push-to-talk key is a priority binding so the input never
swallows it. An action without ``keys`` is reached from the palette only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from textual.binding import Binding

Owner = Literal["app", "main"]


class ActionStates(Protocol):
    """What a toggle's palette title reads: the app answers for the state names in :data:`ACTIONS`."""

    def action_state(self, state: str) -> bool: ...


@dataclass(frozen=True)
class UserAction:
    """One thing the user can do. ``description`` is the footer's and help screen's word for it;
    ``title``/``help`` are the palette's (no ``title``: not in the palette); ``group`` orders the help
    screen; ``needs_audio`` marks the palette entry when the session is text-only."""

    id: str
    action: str
    description: str
    group: str
    keys: str | None = None
    show: bool = False
    priority: bool = False
    owner: Owner = "app"
    title: str | None = None
    help: str = ""
    state: str | None = None
    title_on: str | None = None
    needs_audio: bool = False

    def binding(self) -> Binding:
        assert self.keys is not None
        return Binding(
            self.keys, self.action, self.description, show=self.show, priority=self.priority, id=self.id
        )

    def palette_title(self, states: ActionStates | None) -> str | None:
        """The palette's title now: ``title_on`` while the toggle's state is true."""
        toggle = self.state is not None and self.title_on is not None and states is not None
        if toggle and states.action_state(self.state):  # type: ignore[union-attr,arg-type]
            return self.title_on
        return self.title


ACTIONS: tuple[UserAction, ...] = (
    UserAction(
        "help", "help", "Help", "App", keys="f1", show=True, title="Help", help="Keys and push-to-talk."
    ),
    UserAction("command_palette", "command_palette", "Commands", "App", keys="ctrl+p", priority=True),
    UserAction("quit", "quit", "Quit", "App", keys="ctrl+q,ctrl+c", show=True, priority=True),
    UserAction("ptt", "ptt", "Talk", "Microphone", keys="ctrl+space", show=True, priority=True),
    UserAction("ptt_cancel", "ptt_cancel", "Cancel talk", "Microphone", keys="escape"),
    UserAction(
        "mute",
        "toggle_mute",
        "Mute",
        "Microphone",
        keys="f2",
        show=True,
        priority=True,
        title="Mute microphone",
        title_on="Unmute microphone",
        state="muted",
        help="Toggle the microphone's mute.",
        needs_audio=True,
    ),
    UserAction(
        "mic_mode",
        "toggle_mic_mode",
        "Mode",
        "Microphone",
        keys="f3",
        show=True,
        priority=True,
        title="Switch to push-to-talk",
        title_on="Switch to open mic",
        state="push_to_talk",
        help="Switch how the microphone is gated.",
        needs_audio=True,
    ),
    UserAction(
        "devices",
        "pick_devices",
        "Devices",
        "Microphone",
        keys="f4",
        show=True,
        title="Switch audio device",
        help="Pick the microphone and the speaker.",
        needs_audio=True,
    ),
    UserAction(
        "aec",
        "toggle_aec",
        "Echo cancel",
        "Microphone",
        keys="f8",
        title="Turn echo cancellation on",
        title_on="Turn echo cancellation off",
        state="aec",
        help="Acoustic echo cancellation.",
        needs_audio=True,
    ),
    UserAction(
        "attributes",
        "toggle_attributes",
        "Attributes",
        "Session",
        keys="f6",
        owner="main",
        title="Show agent attributes",
        title_on="Hide agent attributes",
        state="attributes_shown",
        help="The agent's shared state.",
    ),
    UserAction(
        "reconnect",
        "reconnect",
        "Reconnect",
        "Session",
        keys="f5",
        title="Reconnect",
        help="End the session and start a new one (the transcript is kept).",
    ),
    UserAction(
        "export",
        "export_transcript",
        "Export",
        "Session",
        keys="ctrl+s",
        priority=True,
        title="Export transcript",
        help="Write the conversation to a text file.",
    ),
    UserAction(
        "send_file",
        "send_file",
        "Send file",
        "Session",
        keys="f7",
        title="Send file or image",
        help="Send a file to the agent as a byte stream.",
    ),
    UserAction(
        "rpc",
        "call_rpc",
        "Call RPC",
        "Session",
        keys="f9",
        title="Call RPC method",
        help="Call a method on the agent and show its reply.",
    ),
    UserAction(
        "end_session",
        "end_session",
        "End session",
        "Session",
        keys="f10",
        title="End session",
        help="Leave the room but keep the app open.",
    ),
    # ctrl+t in LiveKit's Go console; here ctrl+t is the camera, so the default is ctrl+y (remappable)
    UserAction(
        "text_mode",
        "toggle_text_mode",
        "Text mode",
        "Session",
        keys="ctrl+y",
        priority=True,
        title="Text mode on",
        title_on="Text mode off",
        state="text_mode",
        help="The agent answers in text only and stops listening (its session stream is needed).",
    ),
    UserAction(
        "agent_info",
        "toggle_agent_info",
        "Agent info",
        "Session",
        title="Show agent info",
        title_on="Hide agent info",
        state="agent_info_shown",
        help="The agent's id, framework, tools and instructions.",
    ),
    UserAction(
        "video_panel",
        "toggle_video_panel",
        "Agent video",
        "Video",
        keys="ctrl+o",
        priority=True,
        title="Show agent video",
        title_on="Hide agent video",
        state="video_open",
        help="Open or close the panel with the agent's video.",
    ),
    UserAction(
        "camera",
        "toggle_camera",
        "Camera",
        "Video",
        keys="ctrl+t",
        priority=True,
        title="Camera on",
        title_on="Camera off",
        state="camera",
        help="Publish your camera (or --video-file) to the agent.",
    ),
    UserAction(
        "screen_share",
        "toggle_screen_share",
        "Share screen",
        "Video",
        keys="ctrl+r",
        priority=True,
        title="Share screen",
        title_on="Stop sharing the screen",
        state="screen_share",
        help="Share your screen with the agent.",
    ),
    UserAction(
        "scroll_up",
        "transcript_page_up",
        "Scroll up",
        "Transcript",
        keys="pageup",
        priority=True,
        owner="main",
    ),
    UserAction(
        "scroll_down",
        "transcript_page_down",
        "Scroll down",
        "Transcript",
        keys="pagedown",
        priority=True,
        owner="main",
    ),
    UserAction(
        "jump_to_latest",
        "jump_to_latest",
        "Latest",
        "Transcript",
        keys="ctrl+end",
        priority=True,
        owner="main",
    ),
    UserAction("focus_chat", "focus_chat", "Chat", "Transcript", keys="ctrl+l", priority=True, owner="main"),
)

#: The actions a key can reach, in help-screen order.
BOUND_ACTIONS: tuple[UserAction, ...] = tuple(action for action in ACTIONS if action.keys is not None)
BINDING_IDS = frozenset(action.id for action in BOUND_ACTIONS)
#: The state names toggles read (every one must be answered by :meth:`ActionStates.action_state`).
STATE_NAMES = frozenset(action.state for action in ACTIONS if action.state is not None)


def bindings_for(owner: Owner) -> list[Binding]:
    """The key bindings of the actions ``owner`` holds, for its ``BINDINGS``."""
    return [action.binding() for action in BOUND_ACTIONS if action.owner == owner]


def palette_actions() -> list[UserAction]:
    return [action for action in ACTIONS if action.title is not None]


def unknown_binding_ids(keymap: dict[str, str]) -> list[str]:
    """Keymap entries that name no binding (a typo in the config file), to warn about once."""
    return sorted(set(keymap) - BINDING_IDS)


def keys_for(binding_id: str, keymap: dict[str, str]) -> list[str]:
    """The keys a binding answers to after the user's keymap, as Textual key names."""
    for action in BOUND_ACTIONS:
        if action.id == binding_id:
            raw = keymap.get(binding_id, action.keys or "")
            return [key.strip() for key in raw.split(",") if key.strip()]
    raise KeyError(binding_id)


def base_key(key: str) -> str:
    """The key without modifiers, so a release still matches when a modifier was let go first
    (``ctrl+space`` is released as ``space`` if ctrl comes up before it). ``ctrl+@`` is what legacy
    terminals send for ctrl+space."""
    base = key.rsplit("+", 1)[-1]
    return {"@": "space", "at": "space"}.get(base, base)
