"""``ml.scoring.assemble`` (the score job's fleet array, built at once) gives what one pivot per
machine gives: the same machines in the same order, the same values with gaps filled forward
then backward, the same machines left out for coverage, duplicates averaged."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.scoring import assemble

SENSORS = ("rpm", "temperature", "vibration")
WINDOW, END = 12, 1000


def _pivoted(frame: pd.DataFrame, min_coverage: float = 0.95):
    """The reference: one pivot per machine (the job's code before)."""
    buckets = np.arange(END - WINDOW + 1, END + 1)
    frame = frame[frame["bucket"].isin(buckets) & frame["kind"].isin(SENSORS)]
    xs, types, ids = [], [], []
    for (machine_id, kind), part in frame.groupby(["machine_id", "type"]):
        grid = part.pivot_table(index="bucket", columns="kind", values="value")
        grid = grid.reindex(index=buckets, columns=list(SENSORS))
        if grid.notna().all(axis=1).mean() < min_coverage:
            continue
        xs.append(grid.ffill().bfill().to_numpy(float))
        types.append(kind)
        ids.append(machine_id)
    if not xs:
        return np.zeros((0, WINDOW, len(SENSORS))), np.array([], dtype=str), np.array([], int)
    return np.stack(xs), np.array(types), np.array(ids)


def _frame(seed: int, machines: int = 30) -> pd.DataFrame:
    """Bucket means with gaps (some machines barely covered), a sensor some machines lack,
    readings outside the window, an unknown kind and a few duplicate rows."""
    rng = np.random.default_rng(seed)
    rows = []
    for m in range(machines):
        kind = ("pump", "motor", "fan")[m % 3]
        missing = rng.random() * 0.3  # share of buckets left out for this machine
        for b in range(END - WINDOW - 3, END + 2):
            for s in SENSORS + ("humidity",):
                if s == "vibration" and m % 7 == 0:
                    continue  # this machine has no such sensor
                if rng.random() < missing:
                    continue
                rows.append((m * 3 + 1, kind, s, b, float(rng.normal(m, 1.0))))
    frame = pd.DataFrame(rows, columns=["machine_id", "type", "kind", "bucket", "value"])
    return pd.concat([frame, frame.sample(20, random_state=seed).assign(value=-1.0)])


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("coverage", [0.95, 0.5, 0.0])
def test_the_fleet_array_equals_one_pivot_per_machine(seed, coverage):
    frame = _frame(seed)
    x3, types, ids = assemble(
        frame, window=WINDOW, sensors=SENSORS, end_bucket=END, min_coverage=coverage
    )
    want_x3, want_types, want_ids = _pivoted(frame, coverage)
    assert len(ids) > 0
    np.testing.assert_array_equal(ids, want_ids)
    np.testing.assert_array_equal(types, want_types)
    np.testing.assert_allclose(x3, want_x3, equal_nan=True)
    if coverage == 0.0:
        assert np.isnan(x3).any()  # a sensor a machine never had stays unknown


def test_nothing_in_the_window_gives_empty_arrays():
    frame = _frame(4).assign(bucket=5)
    x3, types, ids = assemble(frame, window=WINDOW, sensors=SENSORS, end_bucket=END)
    assert x3.shape == (0, WINDOW, len(SENSORS)) and len(types) == len(ids) == 0
