"""Data packet routing rules: sender stamping, recipients, replay de-duplication, holding."""

from __future__ import annotations

from livekit.protocol.models import DataPacket, UserPacket

from agent_tui.devserver.data_routing import DataOutbox, ReliableSequence, recipients, stamp_sender

PRESENT = ["user", "agent", "observer"]


def test_the_server_stamps_the_authenticated_sender_over_what_the_packet_claims() -> None:
    packet = DataPacket(
        participant_identity="forged", user=UserPacket(payload=b"x", participant_identity="forged")
    )
    stamp_sender(packet, identity="agent", sid="PA_1")
    assert (packet.participant_identity, packet.participant_sid) == ("agent", "PA_1")
    assert (packet.user.participant_identity, packet.user.participant_sid) == ("agent", "PA_1")


def test_without_destinations_everyone_but_the_sender_receives() -> None:
    assert recipients(DataPacket(), sender="agent", present=PRESENT) == ["user", "observer"]


def test_destinations_select_present_participants_only() -> None:
    packet = DataPacket(destination_identities=["user", "ghost", "agent"])
    assert recipients(packet, sender="agent", present=PRESENT) == ["user"]


def test_legacy_user_packet_destinations_are_honoured() -> None:
    packet = DataPacket(user=UserPacket(destination_identities=["observer"]))
    assert recipients(packet, sender="agent", present=PRESENT) == ["observer"]


def test_reliable_sequence_drops_replays_and_accepts_unnumbered_packets() -> None:
    sequence = ReliableSequence()
    assert [sequence.accept(n) for n in (1, 2, 2, 1, 3, 0, 0)] == [True, True, False, False, True, True, True]
    assert sequence.last == 3


def test_outbox_holds_packets_until_the_channel_opens_and_keeps_their_order() -> None:
    open_labels: set[str] = set()
    sent: list[tuple[str, bytes]] = []

    def send(label: str, payload: bytes) -> bool:
        if label not in open_labels:
            return False
        sent.append((label, payload))
        return True

    outbox = DataOutbox()
    outbox.deliver("_reliable", b"1", send)
    outbox.deliver("_lossy", b"2", send)
    assert (sent, len(outbox)) == ([], 2)
    open_labels.add("_reliable")
    outbox.deliver("_reliable", b"3", send)  # must not overtake the held lossy packet
    assert sent == [("_reliable", b"1")]
    open_labels.add("_lossy")
    outbox.release(send)
    assert sent == [("_reliable", b"1"), ("_lossy", b"2"), ("_reliable", b"3")]
    outbox.deliver("_reliable", b"4", send)
    assert sent[-1] == ("_reliable", b"4") and len(outbox) == 0
