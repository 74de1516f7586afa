"""Values stored on a power-of-two step at a sensor kind's resolution (``data.value_steps``)."""

from __future__ import annotations

import numpy as np
import pytest

from data.value_steps import StepTable, binary_step


@pytest.mark.parametrize(
    ("resolution", "step"), [(0.01, 1 / 128), (0.001, 1 / 1024), (0.1, 1 / 16), (1, 1), (5, 4)]
)
def test_the_step_is_the_largest_power_of_two_not_above_the_resolution(resolution, step):
    assert binary_step(resolution) == step


def test_values_keep_within_half_a_step_and_other_sensors_keep_theirs():
    rng = np.random.default_rng(0)
    table = StepTable.of_kinds(
        {1: "temperature", 2: "vibration", 7: "rpm"}, {"temperature": 0.01, "rpm": 0.1}
    )
    sids = rng.choice([1, 2, 7, 9], size=5000)  # 9: a sensor added after the table was made
    values = rng.normal(60, 5, size=5000)
    out = table.apply(sids, values)
    step = np.select([sids == 1, sids == 7], [1 / 128, 1 / 16], 0.0)
    on = step > 0
    assert np.all(np.abs(out[on] - values[on]) <= step[on] / 2)
    assert np.all(out[on] / step[on] == np.round(out[on] / step[on]))  # exact multiples
    assert np.array_equal(out[~on], values[~on])
    assert np.array_equal(table.apply(sids, out), out)  # a redelivery stores the same value
    assert [table.value(int(s), float(v)) for s, v in zip(sids, values, strict=True)] == list(out)
    assert not StepTable({}) and table
