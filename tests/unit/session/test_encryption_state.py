"""Per-participant encryption states: the SDK's numbers, which states are failures, and when a change is
a problem worth an EncryptionError."""

from __future__ import annotations

from livekit import rtc

from agent_tui.session import EncryptionState
from agent_tui.session.encryption_state import EncryptionTracker, describe_failure, unreadable_publication


def test_every_sdk_state_maps_to_the_state_of_the_same_name() -> None:
    for name, value in rtc.EncryptionState.items():
        assert EncryptionState.from_rtc(value) is EncryptionState[name]
    assert len(EncryptionState) == len(rtc.EncryptionState.items())


def test_an_unknown_sdk_state_is_an_internal_error() -> None:
    assert EncryptionState.from_rtc(99) is EncryptionState.INTERNAL_ERROR


def test_failures_are_the_states_that_lose_media() -> None:
    failures = {state for state in EncryptionState if state.is_failure}
    assert failures == {
        EncryptionState.ENCRYPTION_FAILED,
        EncryptionState.DECRYPTION_FAILED,
        EncryptionState.MISSING_KEY,
        EncryptionState.INTERNAL_ERROR,
    }


def test_a_first_state_is_a_change_from_nothing() -> None:
    tracker = EncryptionTracker("me")
    change = tracker.update("agent", EncryptionState.NEW)
    assert change is not None
    assert (change.identity, change.state, change.previous, change.problem) == (
        "agent",
        EncryptionState.NEW,
        None,
        None,
    )
    assert tracker.states == {"agent": EncryptionState.NEW}


def test_the_same_state_again_is_no_change() -> None:
    tracker = EncryptionTracker("me")
    tracker.update("agent", EncryptionState.OK)
    assert tracker.update("agent", EncryptionState.OK) is None


def test_entering_a_failure_is_a_problem_once_and_recovery_is_not() -> None:
    tracker = EncryptionTracker("me")
    tracker.update("agent", EncryptionState.OK)
    failed = tracker.update("agent", EncryptionState.DECRYPTION_FAILED)
    assert failed is not None and failed.problem is not None
    assert failed.previous is EncryptionState.OK
    assert "agent" in failed.problem and "same shared key" in failed.problem
    assert tracker.update("agent", EncryptionState.DECRYPTION_FAILED) is None
    missing = tracker.update("agent", EncryptionState.MISSING_KEY)
    assert missing is not None and missing.problem is not None and "no key" in missing.problem
    recovered = tracker.update("agent", EncryptionState.KEY_RATCHETED)
    assert recovered is not None and recovered.problem is None


def test_states_are_per_participant_and_forgotten_when_one_leaves() -> None:
    tracker = EncryptionTracker("me")
    tracker.update("agent", EncryptionState.OK)
    tracker.update("other", EncryptionState.DECRYPTION_FAILED)
    tracker.forget("other")
    assert tracker.states == {"agent": EncryptionState.OK}
    again = tracker.update("other", EncryptionState.DECRYPTION_FAILED)
    assert again is not None and again.previous is None and again.problem is not None


def test_our_own_encryption_failing_is_worded_as_ours() -> None:
    tracker = EncryptionTracker("me")
    change = tracker.update("me", EncryptionState.ENCRYPTION_FAILED)
    assert change is not None and change.problem is not None
    assert change.problem.startswith("Our media could not be encrypted")
    assert describe_failure("agent", EncryptionState.ENCRYPTION_FAILED, local=False).startswith(
        "agent's media could not be encrypted"
    )


def test_every_problem_is_one_line() -> None:
    failures = [state for state in EncryptionState if state.is_failure]
    messages = [describe_failure("agent", state, local=False) for state in failures]
    messages.append(unreadable_publication("agent"))
    assert all("\n" not in message and "agent" in message for message in messages)
