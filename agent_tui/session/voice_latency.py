"""Client-measured voice-to-voice latency: from the end of the user's speech to the agent's first sound.

The agent reports its own ``e2e`` figure, but it starts at its VAD's idea of the end of speech and stops
when it *sends* the first frame, so it leaves out both network legs and our own buffering. This meter
measures what the user experiences, from the audio this client handles itself, and pure: the Session feeds
it ``(timestamp, rms)`` per frame and publishes the :class:`~.insight_events.VoiceLatency` it returns.

Inputs (one clock for both sides, e.g. ``time.monotonic()``; seconds):

* :meth:`VoiceLatencyMeter.mic_frame` for every mic frame we send, ``rms`` linear relative to full scale
  (``sqrt(mean(x²)) / 32768`` for int16; 1.0 is a full-scale square wave, -40 dBFS is 0.01);
* :meth:`VoiceLatencyMeter.agent_frame` for every agent frame received, same scale;
* with push-to-talk, :meth:`VoiceLatencyMeter.user_turn_started` / :meth:`~VoiceLatencyMeter.user_turn_ended`
  on key press and release (mic frames are then ignored: the release *is* the end of the turn), and
  :meth:`~VoiceLatencyMeter.user_turn_cancelled` when a turn is aborted.

Rules (defaults in :class:`VoiceLatencyConfig`):

* **Energy VAD with hangover.** A mic frame at or above ``speech_threshold_dbfs`` (-40 dBFS) is speech.
  An utterance ends once ``hangover_s`` (0.5 s) passed without speech, and its end is the **last loud
  frame**, not the end of the hangover: the hangover only decides that the pause was not a breath.
  Utterances shorter than ``min_speech_s`` (first to last loud frame) are clicks or bumps and ignored.
* **Agent onsets.** An agent frame at or above ``agent_threshold_dbfs`` (-50 dBFS; decoded agent audio
  is clean) is audible; it is an *onset* when the agent had been inaudible for ``agent_gap_s`` (0.2 s)
  before it, so the middle of a reply that was already playing never counts as a reply.
* **Pairing.** A user turn is paired with the first agent onset after its end. An onset inside the
  hangover (a fast agent) is held until the VAD decides: if the user resumes, it overlapped the user
  (and answers the previous turn if one is waiting); if the utterance ends, it answers this utterance.
  A later utterance supersedes a turn still waiting (LiveKit agents reply to the merged turn), and a
  reply later than ``max_latency_s`` is not paired; both count as ``unpaired``. Onsets with no turn
  waiting (the greeting, a reply's later sentences) are ignored.
* **Overlap.** A turn during which the agent was audible while the user spoke (a barge-in) is still
  measured, to the agent's next onset, and flagged ``overlapped``.

Assumptions: echo is cancelled (AEC on, or headphones); with the agent's voice leaking into the mic, the
agent's speech extends the user's and the figures are meaningless. Timestamps are taken where frames pass
our code, so the agent side includes network and jitter-buffer delay only up to that point.

Cost: O(1) per frame (comparisons and a few attribute writes, no allocation); allocation only per turn.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from agent_tui.session.agent_stream.events import LatencyStats, VoiceLatency, VoiceLatencySummary

SOURCE_VAD = "vad"
SOURCE_PTT = "ptt"


@dataclass(frozen=True)
class VoiceLatencyConfig:
    """Thresholds of the meter; the module doc explains each rule."""

    speech_threshold_dbfs: float = -40.0
    hangover_s: float = 0.5
    min_speech_s: float = 0.1
    agent_threshold_dbfs: float = -50.0
    agent_gap_s: float = 0.2
    max_latency_s: float = 15.0


def dbfs_to_linear(dbfs: float) -> float:
    """The linear RMS a dBFS level stands for (-40 dBFS → 0.01), so frames compare without a logarithm."""
    return float(10.0 ** (dbfs / 20.0))


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) of non-empty sorted values, interpolating linearly between ranks.

    Linear interpolation (numpy's default) rather than nearest rank, so p95 of a handful of turns moves
    smoothly instead of jumping to the maximum.
    """
    if not sorted_values:
        raise ValueError("percentile of no values")
    position = q * (len(sorted_values) - 1)
    low = math.floor(position)
    high = min(low + 1, len(sorted_values) - 1)
    fraction = position - low
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * fraction


def summarize(values_ms: Sequence[float]) -> LatencyStats:
    """Count, p50, p95, max and mean of a series (``None`` figures for an empty one)."""
    if not values_ms:
        return LatencyStats(count=0, p50_ms=None, p95_ms=None, max_ms=None, mean_ms=None)
    ordered = sorted(values_ms)
    return LatencyStats(
        count=len(ordered),
        p50_ms=percentile(ordered, 0.5),
        p95_ms=percentile(ordered, 0.95),
        max_ms=ordered[-1],
        mean_ms=sum(ordered) / len(ordered),
    )


class VoiceLatencyMeter:
    """The state machine of the module doc; single-threaded (feed it from the event loop)."""

    __slots__ = (
        "_agent_e2e_ms",
        "_agent_gap",
        "_agent_last_audible",
        "_agent_threshold",
        "_candidate",
        "_config",
        "_hangover",
        "_in_speech",
        "_last_loud",
        "_max_latency",
        "_min_speech",
        "_overlapped",
        "_pending_end",
        "_pending_overlapped",
        "_pending_source",
        "_push_to_talk",
        "_speech_start",
        "_speech_threshold",
        "_talking",
        "_turns",
        "_unpaired",
    )

    def __init__(self, config: VoiceLatencyConfig | None = None, *, push_to_talk: bool = False) -> None:
        self._config = config if config is not None else VoiceLatencyConfig()
        self._speech_threshold = dbfs_to_linear(self._config.speech_threshold_dbfs)
        self._agent_threshold = dbfs_to_linear(self._config.agent_threshold_dbfs)
        self._hangover = self._config.hangover_s
        self._min_speech = self._config.min_speech_s
        self._agent_gap = self._config.agent_gap_s
        self._max_latency = self._config.max_latency_s
        self._push_to_talk = push_to_talk
        self._turns: list[VoiceLatency] = []
        self._agent_e2e_ms: list[float] = []
        self._unpaired = 0
        self._reset_state()

    def _reset_state(self) -> None:
        self._in_speech = False  # an utterance is open (loud, or within its hangover)
        self._speech_start = 0.0
        self._last_loud = 0.0
        self._overlapped = False  # the agent was audible while the open utterance was loud
        self._candidate: float | None = None  # an agent onset inside the open utterance's hangover
        self._talking = False  # push-to-talk key held
        self._pending_end: float | None = None  # end of the user turn waiting for its reply
        self._pending_source = SOURCE_VAD
        self._pending_overlapped = False
        self._agent_last_audible: float | None = None

    # --- configuration and state -------------------------------------------------------------------

    @property
    def config(self) -> VoiceLatencyConfig:
        return self._config

    @property
    def push_to_talk(self) -> bool:
        return self._push_to_talk

    def set_push_to_talk(self, on: bool) -> None:
        """Switch between the VAD (mic frames) and explicit turn ends (key release); drops an open turn."""
        if on != self._push_to_talk:
            self._push_to_talk = on
            self._in_speech = False
            self._candidate = None
            self._talking = False

    @property
    def user_speaking(self) -> bool:
        """The VAD has an open utterance, or the talk key is held."""
        return self._in_speech or self._talking

    @property
    def pending(self) -> bool:
        """A user turn has ended and its reply has not been heard yet."""
        return self._pending_end is not None

    @property
    def unpaired(self) -> int:
        return self._unpaired

    @property
    def turns(self) -> tuple[VoiceLatency, ...]:
        return tuple(self._turns)

    def reset(self) -> None:
        """Forget the turn in progress (after a reconnect or an agent change); measured turns are kept."""
        self._reset_state()

    # --- user side ---------------------------------------------------------------------------------

    def mic_frame(self, ts: float, rms: float) -> VoiceLatency | None:
        """Account for one sent mic frame; returns a measured turn when this frame completes one."""
        if self._push_to_talk:
            return None
        if rms >= self._speech_threshold:
            if not self._in_speech:
                self._in_speech = True
                self._speech_start = ts
                self._overlapped = False
            elif self._agent_last_audible is not None and self._agent_last_audible >= self._speech_start:
                self._overlapped = True
            self._last_loud = ts
            candidate = self._candidate
            if candidate is not None:
                # the user went on: that onset was the agent talking over the user, which answers the
                # earlier turn if one was waiting
                self._candidate = None
                self._overlapped = True
                if self._pending_end is not None:
                    return self._complete(candidate)
            return None
        if self._in_speech and ts - self._last_loud >= self._hangover:
            return self._close_utterance()
        return None

    def _close_utterance(self) -> VoiceLatency | None:
        self._in_speech = False
        candidate, self._candidate = self._candidate, None
        if self._last_loud - self._speech_start < self._min_speech:
            # a click: not a turn; an onset it held still answers the turn waiting, if any
            if candidate is not None and self._pending_end is not None:
                return self._complete(candidate)
            return None
        self._start_pending(self._last_loud, SOURCE_VAD, self._overlapped)
        if candidate is not None:
            return self._complete(candidate)
        return None

    def user_turn_started(self, ts: float) -> None:
        """The talk key went down: the agent is interrupted, so a reply still waited for will not come."""
        if self._pending_end is not None:
            self._unpaired += 1
            self._pending_end = None
        self._talking = True
        self._speech_start = ts
        self._overlapped = False

    def user_turn_ended(self, ts: float, source: str = SOURCE_PTT) -> None:
        """The user's turn ended at ``ts`` (key release); also closes an utterance the VAD has open."""
        overlapped = self._overlapped and (self._talking or self._in_speech)
        self._talking = False
        self._in_speech = False
        self._candidate = None
        self._start_pending(ts, source, overlapped)

    def user_turn_cancelled(self) -> None:
        """The turn was aborted (push-to-talk cancel): no reply is expected, nothing is counted."""
        self._talking = False
        self._in_speech = False
        self._candidate = None
        self._pending_end = None

    def _start_pending(self, end: float, source: str, overlapped: bool) -> None:
        if self._pending_end is not None:
            self._unpaired += 1  # superseded: the agent answers the merged turn
        self._pending_end = end
        self._pending_source = source
        self._pending_overlapped = overlapped

    # --- agent side --------------------------------------------------------------------------------

    def agent_frame(self, ts: float, rms: float) -> VoiceLatency | None:
        """Account for one received agent frame; returns a measured turn when it is the reply's onset."""
        if rms < self._agent_threshold:
            return None
        last = self._agent_last_audible
        self._agent_last_audible = ts
        if self._talking:
            self._overlapped = True
        if last is not None and ts - last < self._agent_gap:
            return None  # the agent was already speaking
        if self._in_speech and ts > self._last_loud:
            if self._candidate is None:
                self._candidate = ts  # inside the hangover: wait for the VAD to decide
            return None
        if self._pending_end is not None and not self._talking and ts >= self._pending_end:
            return self._complete(ts)
        return None

    def record_agent_e2e(self, e2e_ms: float) -> None:
        """The agent's own ``e2e`` for a turn (from ``TurnMetrics``), summarised beside ours."""
        self._agent_e2e_ms.append(e2e_ms)

    def _complete(self, reply_start: float) -> VoiceLatency | None:
        end = self._pending_end
        if end is None:
            return None
        self._pending_end = None
        if reply_start - end > self._max_latency:
            self._unpaired += 1
            return None
        turn = VoiceLatency(
            turn=len(self._turns) + 1,
            latency_ms=(reply_start - end) * 1000.0,
            user_end=end,
            reply_start=reply_start,
            source=self._pending_source,
            overlapped=self._pending_overlapped,
        )
        self._turns.append(turn)
        return turn

    # --- results -----------------------------------------------------------------------------------

    def summary(self) -> VoiceLatencySummary:
        """Our per-turn figures and the agent's ``e2e`` figures, each as count, p50, p95, max and mean."""
        return VoiceLatencySummary(
            client=summarize([turn.latency_ms for turn in self._turns]),
            agent=summarize(self._agent_e2e_ms),
            unpaired=self._unpaired,
            pending=self._pending_end is not None,
        )
