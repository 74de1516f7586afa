"""The family choice is fair: the units it judges the forest and the LSTM on are units
neither learned from nor stopped on."""

from __future__ import annotations

import numpy as np

from ml.families import lstm_split
from ml.windows import held_out_units


def _split(apart: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    units = np.repeat([f"u{i:02d}" for i in range(40)], 25)
    val = np.isin(units, list(held_out_units(units, 0.2, 3)))
    learn, stop = lstm_split(units, val, 0.2, 3, apart=apart)
    return units, val, learn, stop


def test_for_the_choice_the_lstm_stops_on_units_of_its_own():
    units, val, learn, stop = _split(apart=True)
    chosen_on, learned, stopped = (set(units[m]) for m in (val, learn, stop))
    assert len(chosen_on) == 8 and len(stopped) == 6 and len(learned) == 26
    assert not chosen_on & stopped and not chosen_on & learned and not learned & stopped
    assert chosen_on | learned | stopped == set(units)
    # whole units: every window of a unit is on one side
    assert all(len(set(stop[units == u])) == 1 for u in set(units))


def test_otherwise_it_stops_on_the_held_out_units():
    units, val, learn, stop = _split(apart=False)
    assert (stop == val).all() and (learn == ~val).all()
