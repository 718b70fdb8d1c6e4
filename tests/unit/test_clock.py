from datetime import UTC, datetime, timedelta

from server.exam.clock import Tick, clock_state

T0 = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
NINETY = timedelta(minutes=90)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_before_the_start_the_whole_duration_remains():
    state = clock_state(NINETY, [], at(-10))
    assert (state.started_at, state.remaining, state.running, state.over) == (None, NINETY, False, False)


def test_after_the_start_time_runs_down_to_the_deadline():
    state = clock_state(NINETY, [Tick("start", T0)], at(30))
    assert state.deadline == at(90)
    assert state.remaining == timedelta(minutes=60)
    assert state.running


def test_remaining_time_is_never_negative_and_the_clock_is_over():
    state = clock_state(NINETY, [Tick("start", T0)], at(95))
    assert state.remaining == timedelta(0)
    assert state.over and not state.running


def test_a_pause_stops_the_clock_and_moves_the_deadline():
    ticks = [Tick("start", T0), Tick("pause", at(20))]
    paused = clock_state(NINETY, ticks, at(35))
    assert paused.paused and paused.remaining == timedelta(minutes=70)
    resumed = clock_state(NINETY, [*ticks, Tick("resume", at(40))], at(50))
    assert resumed.deadline == at(110)
    assert resumed.remaining == timedelta(minutes=60)


def test_an_extension_adds_its_seconds():
    state = clock_state(NINETY, [Tick("start", T0), Tick("extend", at(10), seconds=300)], at(90))
    assert state.remaining == timedelta(minutes=5)


def test_events_after_now_are_not_yet_counted():
    state = clock_state(NINETY, [Tick("start", T0), Tick("extend", at(60), seconds=600)], at(30))
    assert state.deadline == at(90)


def test_a_candidate_pause_inside_a_room_pause_does_not_end_it():
    ticks = [
        Tick("start", T0),
        Tick("pause", at(10)),  # the whole room stops (a power cut)
        Tick("pause", at(12), scope="candidate"),  # and this candidate's computer is being mended
        Tick("resume", at(15), scope="candidate"),  # the computer works again: the room is still paused
    ]
    assert clock_state(NINETY, ticks, at(16)).paused
    resumed = clock_state(NINETY, [*ticks, Tick("resume", at(20))], at(30))
    assert not resumed.paused and resumed.deadline == at(100)  # the 10 paused minutes counted once


def test_overlapping_pauses_count_their_union():
    ticks = [
        Tick("start", T0),
        Tick("pause", at(10), scope="candidate"),
        Tick("pause", at(12)),
        Tick("resume", at(14), scope="candidate"),
        Tick("resume", at(18)),
        Tick("resume", at(19)),  # a second resume changes nothing
    ]
    assert clock_state(NINETY, ticks, at(30)).deadline == at(98)


def test_an_end_stops_the_clock_for_good_even_while_paused():
    ticks = [Tick("start", T0), Tick("pause", at(20)), Tick("end", at(80))]
    before = clock_state(NINETY, ticks, at(79))
    assert before.paused and before.remaining == timedelta(minutes=70)
    ended = clock_state(NINETY, [*ticks, Tick("resume", at(85)), Tick("extend", at(85), seconds=600)], at(86))
    assert ended.over and not ended.running and not ended.paused
    assert (ended.deadline, ended.remaining) == (at(80), timedelta(0))
