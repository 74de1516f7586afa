"""The alarm horizon is chosen on the training units: as long as the data's warning needs, no
longer (``ml.horizon``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.alarm_metrics import window_alarm_metrics
from ml.horizon import (
    ALARM_THRESHOLDS,
    PROBABILITY_SOURCES,
    _partitions,
    _replayed,
    choose_horizon,
)
from ml.trees import unit_folds

_STEP_S = 600.0  # a window end every 10 minutes


def _fleet(lead_h: tuple[float, float], *, units: int = 20, seed: int = 0):
    """Units that each run 40-60 h to one failure; a wear signal ramps up from an onset that
    comes ``lead_h`` (drawn uniformly) before the failure, so the time left after the onset
    is uncertain by the width of ``lead_h``."""
    rng = np.random.default_rng(seed)
    rows, failures = [], []
    start = 1.7e9
    for u in range(units):
        life_h = rng.uniform(40, 60)
        lead = rng.uniform(*lead_h)
        t = np.arange(0, life_h * 3600, _STEP_S)
        since_onset_h = np.clip(t / 3600 - (life_h - lead), 0, None)
        signal = since_onset_h + rng.normal(0, 0.2, len(t))
        ttf = life_h - t / 3600
        rows.append(pd.DataFrame({"unit": f"u{u}", "end": start + t, "x": signal, "ttf": ttf}))
        failures.append({"unit": f"u{u}", "failure": start + life_h * 3600})
        failures[-1]["repaired"] = failures[-1]["failure"] + 3600
        start += 1e6
    w = pd.concat(rows, ignore_index=True)
    return w, pd.DataFrame(failures)


def _choose(w: pd.DataFrame, failures: pd.DataFrame) -> tuple[float, str, float, dict]:
    ttf = w["ttf"].to_numpy()
    return choose_horizon(
        w[["x"]].to_numpy(),
        units=w["unit"].to_numpy(),
        ends=w["end"].to_numpy(),
        ttf_h=ttf,
        fail_known=lambda h: np.ones(len(ttf), bool),
        rul_known=ttf <= 24,
        rul_cap_h=24.0,
        failures=failures,
    )


def test_an_uncertain_lead_gets_a_longer_horizon_than_six_hours():
    # the onset comes 8-16 h before the failure: "within 6 h" can only be said late, so a
    # 6 h alarm misses failures 2 h ahead; a longer horizon catches them and stays precise
    w, failures = _fleet((8.0, 16.0))
    chosen, source, threshold, info = _choose(w, failures)
    tried = info["horizon_choice"]
    assert set(tried) == {"6", "12", "18", "24"}
    assert tried["6"]["recall"] < 0.9
    assert chosen > 6
    best = tried[f"{chosen:g}"]
    assert best["recall"] >= 0.9 and best["precision"] >= 0.8
    assert info["horizon_h"] == chosen
    assert info["probability_source"] == source == best["source"]
    assert info["alarm_threshold"] == threshold == best["threshold"]


def test_each_horizon_is_tried_with_every_source_and_threshold_and_keeps_the_best():
    w, failures = _fleet((8.0, 16.0), seed=3)
    _chosen, _source, _threshold, info = _choose(w, failures)
    for tried in info["horizon_choice"].values():
        names = {f"{s} at {t:g}" for s in PROBABILITY_SOURCES for t in ALARM_THRESHOLDS}
        assert set(tried["candidates"]) == names
        kept = tried["candidates"][f"{tried['source']} at {tried['threshold']:g}"]
        assert {k: tried[k] for k in kept} == kept  # the row shows the kept pair's numbers
        assert kept["score"] == max(m["score"] for m in tried["candidates"].values())
        assert tried["threshold"] >= 0.8  # never below the product's threshold


def test_a_sharp_lead_keeps_the_shortest_horizon_that_works():
    # the onset always comes 4-4.5 h ahead: every horizon alarms at the onset, so they tie
    # and the most specific warning (6 h) wins
    w, failures = _fleet((4.0, 4.5))
    chosen, _source, threshold, info = _choose(w, failures)
    assert chosen == 6
    assert info["horizon_choice"]["6"]["recall"] >= 0.9
    assert threshold == 0.8  # every threshold alarms at the onset: the product's is kept


def test_too_few_units_keep_the_first_candidate_untried():
    w, failures = _fleet((8.0, 16.0), units=2)
    assert _choose(w, failures) == (6.0, "classifier", 0.8, {})


def test_the_replay_is_pooled_over_several_groupings_of_the_units_into_folds():
    w, failures = _fleet((8.0, 16.0), seed=5)
    units, x = w["unit"].to_numpy(), w[["x"]].to_numpy()
    groupings = []
    for partition in _partitions(7):
        folds = [set(units[test]) for _, test in unit_folds(5, partition).split(x, groups=units)]
        assert sum(map(len, folds)) == 20  # every unit in exactly one fold, whole
        groupings.append(sorted(map(sorted, folds)))
    assert len(groupings) == 3 and groupings[0] != groupings[1] != groupings[2]
    assert _partitions(7) == _partitions(7)  # the same seed, the same groupings

    # the counts of every grouping's replay are added up before recall and precision
    ends = w["end"].to_numpy()
    early = np.clip(w["x"].to_numpy() / 4, 0, 1)  # raises about 4 h after the onset
    late = np.clip(w["x"].to_numpy() / 12, 0, 1)  # about 12 h after: some too late
    each = [
        window_alarm_metrics(units, ends, p, failures, horizon_h=12.0, threshold=0.8)
        for p in (early, late)
    ]
    assert each[0]["recall"] != each[1]["recall"]
    pooled = _replayed([early, late], units, ends, failures, 12.0, 0.8)
    caught = sum(m["caught"] for m in each) / sum(m["failures"] for m in each)
    true = sum(m["true_raises"] for m in each) / sum(m["raised"] for m in each)
    assert pooled["recall"] == round(caught, 4) and pooled["precision"] == round(true, 4)
