"""Routing of data-channel packets between participants.

Every data-channel message is a ``livekit.DataPacket``: user packets, text and byte stream frames, RPC
requests/acks/responses, chat, transcriptions. The server does not interpret them; it stamps the sender
(the SDK trusts the server, not the packet, for who sent it), picks the recipients from
``destination_identities`` (everyone else when empty), and forwards on the recipient's channel of the
same kind. Two rules make delivery dependable for a voice client:

- data for a participant whose channel is not open yet is held, not dropped, so a greeting sent the
  moment someone joins still arrives;
- reliable packets carry a per-sender sequence; the server remembers the last one so that a resumed
  client (which replays its unacknowledged packets from ``ReconnectResponse.last_message_seq``) neither
  loses nor duplicates a message.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final

from livekit.protocol.models import DataPacket

RELIABLE_LABEL: Final = "_reliable"
LOSSY_LABEL: Final = "_lossy"
ROUTED_LABELS: Final = frozenset({RELIABLE_LABEL, LOSSY_LABEL})

# Held packets per recipient: about 60 MB of 64 kB stream chunks at worst, and a bound against a peer
# whose channel never opens.
_MAX_HELD: Final = 1000


def stamp_sender(packet: DataPacket, *, identity: str, sid: str, is_agent: bool = False) -> None:
    """Overwrite the sender fields of ``packet`` with the authenticated sender.

    One exception, as livekit-server makes it: an agent may open a *text* stream on a participant's
    behalf (livekit-agents publishes the user's transcription with the user as sender), so an agent's
    text-stream header that names another identity keeps it and is marked ``generated``.
    """
    if (
        is_agent
        and packet.HasField("stream_header")
        and packet.stream_header.HasField("text_header")
        and packet.participant_identity
        and packet.participant_identity != identity
    ):
        packet.stream_header.text_header.generated = True
        packet.participant_sid = sid
        return
    packet.participant_identity = identity
    packet.participant_sid = sid
    if packet.HasField("user"):
        packet.user.participant_identity = identity
        packet.user.participant_sid = sid


def recipients(packet: DataPacket, *, sender: str, present: Iterable[str]) -> list[str]:
    """Who gets ``packet``: its destination identities that are present, else everyone but the sender."""
    destinations = set(packet.destination_identities)
    if not destinations and packet.HasField("user"):
        destinations = set(packet.user.destination_identities)
    others = [identity for identity in present if identity != sender]
    if not destinations:
        return others
    return [identity for identity in others if identity in destinations]


class ReliableSequence:
    """The last reliable sequence number seen from one sender, for replay de-duplication."""

    def __init__(self) -> None:
        self.last = 0

    def accept(self, sequence: int) -> bool:
        """Whether a reliable packet with ``sequence`` is new; 0 means the sender does not number packets."""
        if sequence == 0:
            return True
        if sequence <= self.last:
            return False
        self.last = sequence
        return True


@dataclass(frozen=True)
class HeldPacket:
    """A serialized packet waiting for its channel to open."""

    label: str
    payload: bytes


class DataOutbox:
    """Packets for one recipient, sent at once when its channel is open and held until then."""

    def __init__(self) -> None:
        self._held: deque[HeldPacket] = deque(maxlen=_MAX_HELD)

    def deliver(self, label: str, payload: bytes, send: Callable[[str, bytes], bool]) -> None:
        """Send ``payload`` on ``label`` via ``send`` (False: channel not open), or hold it in order."""
        if self._held or not send(label, payload):
            self._held.append(HeldPacket(label, payload))
            self.release(send)

    def release(self, send: Callable[[str, bytes], bool]) -> None:
        """Send held packets in order, as far as their channels are open."""
        while self._held:
            head = self._held[0]
            if not send(head.label, head.payload):
                return
            self._held.popleft()

    def __len__(self) -> int:
        return len(self._held)
