"""The data-track rules alone: the sliding-window frame rate, and the board's bookkeeping of tracks,
wanted names, counts, latest frames and rate-limited updates (time is passed in, never slept)."""

from __future__ import annotations

import pytest

from agent_tui.session.data_tracks import DataTrackBoard, FrameRateWindow, ReceivedFrame


def feed(window: FrameRateWindow, *, rate: float, start: float, seconds: float) -> float:
    """Frames at ``rate`` per second from ``start`` for ``seconds``; returns the last arrival time."""
    count = round(rate * seconds)
    for i in range(count):
        window.add(start + i / rate)
    return start + (count - 1) / rate


def test_a_steady_track_measures_its_rate_once_the_window_is_full() -> None:
    window = FrameRateWindow(2.0)
    last = feed(window, rate=30, start=100.0, seconds=5)
    assert window.rate(last) == pytest.approx(30, rel=0.02)


def test_just_subscribed_the_rate_comes_from_the_intervals_seen_not_a_half_empty_window() -> None:
    window = FrameRateWindow(2.0)
    last = feed(window, rate=10, start=0.0, seconds=0.5)  # five frames, 0.4 s apart end to end
    assert window.rate(last) == pytest.approx(10)


def test_one_frame_alone_has_no_rate_and_nothing_is_zero() -> None:
    window = FrameRateWindow(2.0)
    assert window.rate(0.0) == 0.0
    window.add(1.0)
    assert window.rate(1.0) == 0.0


def test_a_stalled_track_falls_to_zero_within_one_window() -> None:
    window = FrameRateWindow(2.0)
    last = feed(window, rate=20, start=0.0, seconds=4)
    assert window.rate(last + 1.0) == pytest.approx(10, rel=0.1)  # half the window still holds frames
    assert window.rate(last + 2.0) == 0.0


def test_the_window_must_be_positive() -> None:
    with pytest.raises(ValueError):
        FrameRateWindow(0)


def test_memory_is_bounded_however_fast_frames_come() -> None:
    window = FrameRateWindow(2.0, max_arrivals=100)
    for i in range(10_000):
        window.add(i / 10_000)
    assert len(window._arrivals) == 100


def board_with_track(**kwargs: float) -> DataTrackBoard:
    board = DataTrackBoard(**kwargs)
    board.published(sid="DTR_1", name="pose", participant_identity="agent-1")
    return board


def test_a_published_track_is_listed_unsubscribed_with_nothing_received() -> None:
    board = board_with_track()
    (view,) = board.views(0.0)
    assert (view.sid, view.name, view.participant_identity) == ("DTR_1", "pose", "agent-1")
    assert (view.subscribed, view.frames, view.frame_rate, view.latest) == (False, 0, 0.0, None)


def test_frames_count_and_the_latest_is_kept_with_its_user_timestamp() -> None:
    board = board_with_track()
    board.set_subscribed("DTR_1", True)
    board.frame("DTR_1", b"a", 1000, 10.0)
    board.frame("DTR_1", b"b", None, 10.1)
    view = board.view("DTR_1", 10.1)
    assert view is not None
    assert view.frames == 2
    assert view.latest == ReceivedFrame(b"b", None, 10.1)
    assert view.frame_rate == pytest.approx(10)


def test_updates_are_due_on_the_first_frame_then_at_most_once_per_interval() -> None:
    board = board_with_track(update_interval_s=0.5)
    due = [board.frame("DTR_1", b"x", None, 100.0 + i * 0.1) for i in range(12)]
    assert [i for i, d in enumerate(due) if d] == [0, 5, 10]


def test_a_frame_of_an_unknown_track_is_ignored() -> None:
    board = DataTrackBoard()
    assert board.frame("DTR_x", b"x", None, 0.0) is False
    assert board.views(0.0) == []


def test_wanting_a_name_returns_the_published_tracks_of_it_to_subscribe() -> None:
    board = board_with_track()
    board.published(sid="DTR_2", name="other", participant_identity="agent-1")
    assert board.want("pose", every_frame=False) == ["DTR_1"]
    assert board.is_wanted("pose") and not board.is_wanted("other")
    board.set_subscribed("DTR_1", True)
    assert board.want("pose", every_frame=False) == []  # already subscribed


def test_a_name_wanted_before_its_track_exists_is_remembered() -> None:
    board = DataTrackBoard()
    assert board.want("pose", every_frame=True) == []
    board.published(sid="DTR_9", name="pose", participant_identity="agent-1")
    assert board.is_wanted("pose")
    assert board.every_frame("DTR_9")


def test_every_frame_is_only_ever_added_by_wanting_again() -> None:
    board = board_with_track()
    board.want("pose", every_frame=True)
    board.want("pose", every_frame=False)
    assert board.every_frame("DTR_1")


def test_unwanting_returns_the_subscribed_tracks_and_marks_them_unsubscribed() -> None:
    board = board_with_track()
    board.want("pose", every_frame=True)
    board.set_subscribed("DTR_1", True)
    assert board.unwant("pose") == ["DTR_1"]
    view = board.view("DTR_1", 0.0)
    assert view is not None and not view.subscribed
    assert not board.is_wanted("pose") and not board.every_frame("DTR_1")


def test_unpublishing_gives_the_last_view_and_forgets_the_track() -> None:
    board = board_with_track()
    board.frame("DTR_1", b"x", 5, 1.0)
    last = board.unpublished("DTR_1", 1.0)
    assert last is not None and last.frames == 1
    assert board.unpublished("DTR_1", 1.0) is None
    assert board.views(1.0) == []


def test_a_participant_leaving_takes_its_tracks_only() -> None:
    board = board_with_track()
    board.published(sid="DTR_2", name="pose", participant_identity="someone-else")
    gone = board.participant_left("agent-1", 0.0)
    assert [view.sid for view in gone] == ["DTR_1"]
    assert [view.sid for view in board.views(0.0)] == ["DTR_2"]


def test_clearing_forgets_the_tracks_but_keeps_the_wanted_names_for_the_next_start() -> None:
    board = board_with_track()
    board.want("pose", every_frame=True)
    board.clear()
    assert board.views(0.0) == []
    assert board.is_wanted("pose")
