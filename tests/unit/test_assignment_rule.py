"""The assignment rule as a pure function: skill, shift (also past midnight), fallbacks, ties."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from maintenance.ticketing.assignment import Candidate, choose_technician, on_shift


def at(hour: int) -> datetime:
    return datetime(2026, 3, 2, hour, 30, tzinfo=UTC)


def tech(
    id_: int,
    skills: tuple[str, ...] = (),
    shift: tuple[int, int] | None = None,
    open_tickets: int = 0,
) -> Candidate:
    start, end = shift if shift else (None, None)
    return Candidate(id_, f"t{id_}", frozenset(skills), start, end, open_tickets)


@pytest.mark.parametrize(
    ("start", "end", "hour", "expected"),
    [
        (6, 14, 6, True),
        (6, 14, 13, True),
        (6, 14, 14, False),
        (6, 14, 5, False),
        (22, 6, 23, True),  # night shift wraps past midnight
        (22, 6, 0, True),
        (22, 6, 5, True),
        (22, 6, 6, False),
        (22, 6, 21, False),
        (None, None, 3, True),  # no shift: any time
        (8, 8, 3, True),  # start == end: round the clock
    ],
)
def test_on_shift(start: int | None, end: int | None, hour: int, expected: bool):
    assert on_shift(start, end, hour) is expected


def test_on_shift_with_skill_wins_over_fewer_open_tickets():
    choice = choose_technician(
        candidates=[tech(1, ("motor",), (6, 14), 0), tech(2, ("pump",), (6, 14), 3)],
        machine_type="pump",
        now=at(9),
    )
    assert choice.technician_id == 2
    assert choice.reason == "assigned: skill pump, on shift 06-14, 3 open tickets"


def test_night_shift_past_midnight_is_on_shift():
    candidates = [tech(1, ("pump",), (6, 14)), tech(2, ("pump",), (22, 6), 1)]
    choice = choose_technician(candidates=candidates, machine_type="pump", now=at(2))
    assert choice.technician_id == 2
    assert choice.reason == "assigned: skill pump, on shift 22-06, 1 open ticket"


def test_fallback_on_shift_any_skill_before_off_shift_with_skill():
    candidates = [tech(1, ("pump",), (14, 22)), tech(2, ("motor",), (6, 14), 2)]
    choice = choose_technician(candidates=candidates, machine_type="pump", now=at(9))
    assert choice.technician_id == 2
    assert choice.reason == (
        "assigned: no pump technician on shift: fewest open tickets on shift (2)"
    )


def test_fallback_off_shift_with_skill_before_anyone():
    candidates = [tech(1, ("motor",), (14, 22)), tech(2, ("pump",), (22, 6), 4)]
    choice = choose_technician(candidates=candidates, machine_type="pump", now=at(9))
    assert choice.technician_id == 2
    assert (
        choice.reason == "assigned: nobody on shift: skill pump, off shift (22-06), 4 open tickets"
    )


def test_fallback_anyone_with_fewest_open_tickets():
    candidates = [tech(1, ("motor",), (14, 22), 2), tech(2, (), (22, 6), 1)]
    choice = choose_technician(candidates=candidates, machine_type="pump", now=at(9))
    assert choice.technician_id == 2
    assert choice.reason == "assigned: nobody on shift, no pump technician: fewest open tickets (1)"


def test_unassigned_without_candidates():
    choice = choose_technician(candidates=[], machine_type="pump", now=at(9))
    assert choice.technician_id is None
    assert choice.reason == "unassigned: no active technician"


def test_ties_go_to_the_lowest_id_after_fewest_open_tickets():
    candidates = [
        tech(5, ("pump",), None, 1),
        tech(3, ("pump",), None, 1),
        tech(4, ("pump",), None, 2),
    ]
    choice = choose_technician(candidates=candidates, machine_type="pump", now=at(9))
    assert choice.technician_id == 3
    assert choice.reason == "assigned: skill pump, on shift any time, 1 open ticket"


def test_fewest_open_tickets_within_the_preferred_tier():
    candidates = [tech(1, ("pump",), None, 3), tech(2, ("pump",), (6, 14), 1), tech(3, (), None, 0)]
    choice = choose_technician(candidates=candidates, machine_type="pump", now=at(9))
    assert choice.technician_id == 2
