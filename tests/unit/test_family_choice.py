"""The family choice is fair (the units it judges the forest and the LSTM on are units
neither learned from nor stopped on) and judges both RUL targets (overall and in the last
2 h before a failure)."""

from __future__ import annotations

import numpy as np
import pytest

from ml.families import lstm_split, pick
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


def _scores(tree: tuple, blend: tuple) -> dict:
    return {
        family: {"val_rul_rmse_h": overall, "val_rul_rmse_last2h_h": last}
        for family, (overall, last) in (("tree", tree), ("blend", blend))
    }


@pytest.mark.parametrize(
    ("tree", "blend", "kept"),
    [
        ((5.0, 4.0), (4.5, 3.5), "blend"),  # better on both
        ((5.0, 4.0), (4.5, 4.0), "blend"),  # better overall, as good near a failure
        ((5.0, 4.0), (4.5, 4.4), "tree"),  # better overall, worse where it counts
        ((5.0, 4.0), (4.95, 3.0), "tree"),  # within 2 % overall: the simpler model
        ((5.0, None), (4.5, None), "blend"),  # no held-out unit near a failure: overall alone
        ((5.0, float("nan")), (4.5, float("nan")), "blend"),
        ((None, None), (4.5, 3.5), "tree"),  # the forest could not be judged
        ((5.0, 4.0), (None, 3.0), "tree"),  # nor the blend
    ],
)
def test_the_blend_is_kept_only_where_it_is_better_overall_and_near_a_failure(tree, blend, kept):
    assert pick(_scores(tree, blend)) == kept


def test_a_forest_alone_is_the_forest():
    assert pick({"tree": {"val_rul_rmse_h": 5.0, "val_rul_rmse_last2h_h": 4.0}}) == "tree"
