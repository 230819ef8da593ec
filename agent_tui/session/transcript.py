"""The conversation as one ordered list of messages, assembled from transcription streams and chat.

Rules (Swift/Flutter ``Session`` messages, the cleanest of the anchors, with components-js ordering):

* A transcription is a text stream on ``lk.transcription``. It is keyed by (participant identity,
  ``lk.segment_id``), or by the stream id when the segment id is absent.
* Chunks of one stream are appended: agents send one *delta* stream per segment.
* A new stream for a known key replaces the text with its own: users' segments arrive as a new
  *full-text* stream per interim update, all sharing the segment id.
* The latest-opened stream of a key owns it. The Session reads every stream in a task of its own, so an
  older update still being read when a newer one (the final text) arrives may finish after it; what the
  older stream brings or says on closing then changes nothing.
* ``final`` is the ``lk.transcription_final`` attribute: from the header while the stream is open and
  from the trailer (merged by ``livekit.rtc`` on close) afterwards.
* Messages keep their first-arrival order and their id, and are updated in place; sender clocks are not
  trusted (components-js#1229). Dedupe is by segment id, never by stream id (livekit/agents#3138).
* Chat on ``lk.chat`` is whole messages; the user's own chat is echoed locally when sent.
* Push-to-talk: when a turn is cancelled (the agent acknowledged ``cancel_turn`` and forgot the turn),
  the user's transcripts of it are marked ``cancelled``: those first seen since the turn started, and
  those still arriving until the next turn starts (the agent listens to nothing in between, so anything
  arriving then was in flight when it stopped). Push-to-talk turned off ends that window too. A cancelled
  turn's segments end with it: livekit-agents ends a user segment only with a final transcript, so the
  next turn's words may come in the same segment, and they are a message of their own.

The assembler is pure: the Session feeds it stream events and publishes what it returns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum

TRANSCRIPTION_TOPIC = "lk.transcription"
CHAT_TOPIC = "lk.chat"
SEGMENT_ID_ATTRIBUTE = "lk.segment_id"
FINAL_ATTRIBUTE = "lk.transcription_final"
TRANSCRIBED_TRACK_ATTRIBUTE = "lk.transcribed_track_id"


class Speaker(StrEnum):
    USER = "user"
    AGENT = "agent"


class MessageKind(StrEnum):
    TRANSCRIPT = "transcript"
    CHAT = "chat"


@dataclass(frozen=True)
class Message:
    """One entry of the conversation.

    ``first_seen`` is the local receive time (seconds since the epoch) of the first stream of the
    message, which fixes its place in the list. ``cancelled``: the user's words of a push-to-talk turn
    that was cancelled; the agent never answers them.
    """

    id: str
    speaker: Speaker
    kind: MessageKind
    text: str
    first_seen: float
    final: bool
    participant_identity: str
    cancelled: bool = False


@dataclass
class _Segment:
    key: tuple[str, str]
    stream_id: str
    text: str


def is_final(attributes: Mapping[str, str] | None) -> bool:
    return (attributes or {}).get(FINAL_ATTRIBUTE, "").lower() == "true"


class TranscriptAssembler:
    """Turns stream events into :class:`Message` updates, in first-arrival order."""

    def __init__(self, local_identity: str, *, max_messages: int | None = None) -> None:
        self._local_identity = local_identity
        self._messages: dict[str, Message] = {}
        self._segments: dict[str, _Segment] = {}  # by stream id, while the stream is open
        self._ids: dict[tuple[str, str], str] = {}  # segment key -> message id
        self._keys: dict[str, tuple[str, str]] = {}  # message id -> segment key, to forget evicted ones
        self._latest: dict[tuple[str, str], str] = {}  # segment key -> its latest-opened stream, while open
        # Push-to-talk: when the user's current turn started (local time), and whether it was cancelled.
        self._turn_started: float | None = None
        self._turn_cancelled = False
        # History items matched to a message seen live (history id -> live id, and back), so each live
        # message stands for one history item only, and a re-fetched history matches the same way.
        self._claims: dict[str, str] = {}
        self._claimed_by: dict[str, str] = {}
        self._from_history: set[str] = set()
        self._max_messages = max_messages

    @property
    def messages(self) -> list[Message]:
        return list(self._messages.values())

    def get(self, message_id: str) -> Message | None:
        return self._messages.get(message_id)

    def _speaker(self, participant_identity: str) -> Speaker:
        return Speaker.USER if participant_identity == self._local_identity else Speaker.AGENT

    # -- transcriptions ---------------------------------------------------------------------------------
    def transcription_opened(
        self, *, stream_id: str, participant_identity: str, attributes: Mapping[str, str] | None, now: float
    ) -> tuple[Message, bool]:
        """A transcription stream began; returns the message and whether it is new to the list."""
        attributes = attributes or {}
        segment_id = attributes.get(SEGMENT_ID_ATTRIBUTE) or stream_id
        key = (participant_identity, segment_id)
        self._segments[stream_id] = _Segment(key=key, stream_id=stream_id, text="")
        self._latest[key] = stream_id
        message_id = self._ids.get(key)
        existing = self._messages.get(message_id) if message_id is not None else None
        if existing is None:
            speaker = self._speaker(participant_identity)
            message = Message(
                id=self._unused_id(segment_id, participant_identity),
                speaker=speaker,
                kind=MessageKind.TRANSCRIPT,
                text="",
                first_seen=now,
                final=is_final(attributes),
                participant_identity=participant_identity,
                cancelled=self._turn_cancelled and speaker is Speaker.USER,
            )
            self._ids[key] = message.id
            self._keys[message.id] = key
            return self._store(message), True
        # A user's interim updates arrive as new full-text streams: keep the text until this stream
        # brings its own, so the line does not flicker empty.
        return self._store(replace(existing, final=is_final(attributes))), False

    def transcription_chunk(self, *, stream_id: str, text: str) -> Message | None:
        """Text arrived on an open stream; None when the stream is unknown (already closed)."""
        segment = self._segments.get(stream_id)
        if segment is None:
            return None
        segment.text += text
        if self._latest.get(segment.key) != stream_id:
            return None  # a stale update: a newer stream of the segment owns the text
        message_id = self._ids.get(segment.key)
        current = self._messages.get(message_id) if message_id is not None else None
        if current is None:
            return None
        return self._store(replace(current, text=segment.text))

    def transcription_closed(self, *, stream_id: str, attributes: Mapping[str, str] | None) -> Message | None:
        """The stream ended; the trailer's attributes decide whether the segment is final."""
        segment = self._segments.pop(stream_id, None)
        if segment is None:
            return None
        if self._latest.get(segment.key) != stream_id:
            return None  # a stale update closing late: it neither changes the text nor the final flag
        del self._latest[segment.key]
        message_id = self._ids.get(segment.key)
        current = self._messages.get(message_id) if message_id is not None else None
        if current is None:
            return None
        final = is_final(attributes)
        text = segment.text if segment.text or final else current.text
        return self._store(replace(current, text=text, final=final))

    # -- push-to-talk turns -----------------------------------------------------------------------------
    def user_turn_started(self, now: float) -> None:
        """The talk key went down: a new turn, and the end of a cancelled one."""
        self._seal_cancelled()
        self._turn_started = now

    def user_turn_cancelled(self) -> list[Message]:
        """The agent cancelled the current turn: the user's transcripts of it are marked (and returned, to
        publish), and so are those still arriving until the next turn starts."""
        started = self._turn_started
        if started is None:
            return []
        self._turn_cancelled = True
        return [
            self._store(replace(message, cancelled=True))
            for message in list(self._messages.values())
            if message.speaker is Speaker.USER
            and message.kind is MessageKind.TRANSCRIPT
            and not message.cancelled
            and message.first_seen >= started
            and message.id not in self._from_history
        ]

    def close_user_turn(self) -> None:
        """No push-to-talk turns any more (open mic): nothing arriving from now on is cancelled."""
        self._seal_cancelled()
        self._turn_started = None

    def _seal_cancelled(self) -> None:
        """End the cancelled turn. livekit-agents ends a user segment only with a final transcript, so
        after a turn cancelled before one the next turn's words arrive in the same segment: a segment of
        the cancelled turn is forgotten here, and what comes in it later is a message of its own."""
        if not self._turn_cancelled:
            return
        self._turn_cancelled = False
        for message in self._messages.values():
            key = self._keys.get(message.id) if message.cancelled else None
            if key is not None:
                del self._keys[message.id]
                self._ids.pop(key, None)

    # -- chat -------------------------------------------------------------------------------------------
    def chat(
        self, *, message_id: str, participant_identity: str, text: str, now: float
    ) -> tuple[Message, bool]:
        """A whole chat message, sent (the local echo) or received; the same id again is an edit.

        Returns the message and whether it is new to the list.
        """
        existing = self._messages.get(message_id)
        if existing is not None and existing.participant_identity == participant_identity:
            return self._store(replace(existing, text=text)), False
        message = Message(
            id=message_id,
            speaker=self._speaker(participant_identity),
            kind=MessageKind.CHAT,
            text=text,
            first_seen=now,
            final=True,
            participant_identity=participant_identity,
        )
        if existing is not None:  # another participant reused the id: keep both
            message = replace(message, id=self._unused_id(message_id, participant_identity))
        return self._store(message, in_time_order=True), True

    def history(
        self, *, message_id: str, speaker: Speaker, participant_identity: str, text: str, first_seen: float
    ) -> Message | None:
        """A message from the agent's own record of the conversation (fetched on join or reconnect).

        What we saw live keeps its place and its id: a history item is matched to a live message from the
        same speaker with the same text that no other history item has matched yet, and only what we
        missed (we joined late, or were away) is added — so a second "yes" we did not hear still shows.
        """
        wanted = " ".join(text.split())
        if not wanted or message_id in self._messages or message_id in self._claims:
            return None
        for message in self._messages.values():
            if (
                message.speaker is speaker
                and message.id not in self._claimed_by
                and message.id not in self._from_history
                and " ".join(message.text.split()) == wanted
            ):
                self._claims[message_id] = message.id
                self._claimed_by[message.id] = message_id
                return None
        self._from_history.add(message_id)
        message = Message(
            id=message_id,
            speaker=speaker,
            kind=MessageKind.TRANSCRIPT,
            text=text,
            first_seen=first_seen,
            final=True,
            participant_identity=participant_identity,
        )
        return self._store(message)

    def clear(self) -> None:
        self._messages.clear()
        self._segments.clear()
        self._ids.clear()
        self._keys.clear()
        self._latest.clear()
        self.close_user_turn()
        self._claims.clear()
        self._claimed_by.clear()
        self._from_history.clear()

    def _unused_id(self, wanted: str, participant_identity: str) -> str:
        """``wanted``, or one made from it that no message has: a segment or chat id reused by another
        participant, or a segment continued after a cancelled turn, must not collide with the first."""
        if wanted not in self._messages:
            return wanted
        candidate, count = f"{participant_identity}/{wanted}", 1
        while candidate in self._messages:
            count += 1
            candidate = f"{participant_identity}/{wanted}#{count}"
        return candidate

    def _store(self, message: Message, *, in_time_order: bool = False) -> Message:
        """Keep ``message``: in place if it is known, else last — or, with ``in_time_order``, before the
        messages first seen after it. A chat we send is stored when its send returns, and a fast reply can
        arrive before that; its ``first_seen`` (taken before the send) puts the question above its answer,
        as components-js's useSessionMessages lists them."""
        later = 0
        if in_time_order and message.id not in self._messages:
            for stored in reversed(self._messages.values()):
                if stored.first_seen <= message.first_seen:
                    break
                later += 1
        if later:
            items = list(self._messages.items())
            items.insert(len(items) - later, (message.id, message))
            self._messages = dict(items)
        else:
            self._messages[message.id] = message
        if self._max_messages is not None and len(self._messages) > self._max_messages:
            oldest = next(iter(self._messages))
            del self._messages[oldest]
            key = self._keys.pop(oldest, None)
            if key is not None:
                self._ids.pop(key, None)
                self._latest.pop(key, None)
            self._from_history.discard(oldest)
            self._claimed_by.pop(oldest, None)  # its history item stays claimed: a re-fetch skips it
        return message
