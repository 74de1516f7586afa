"""The explore view's arithmetic: the grid a selection is read on, window labels,
distributions and the projection (pure functions, no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from callbacks.lab_explore import parse
from ml.lab.explore import MAX_CELLS, MAX_STEPS, MIN_WINDOW, Selection, plan
from ml.lab.explore_stats import distributions, projection, window_labels

END = datetime(2026, 5, 4, 12, 0, 7, tzinfo=UTC)
KINDS = ("temperature", "vibration", "rpm")


def _selection(machines: int, span: timedelta, step: int = 0, horizon_h: float = 0) -> Selection:
    names = tuple(f"m{i}" for i in range(machines))
    return Selection(names, KINDS, END - span, END, step, horizon_h)


def test_the_models_step_window_and_horizon_when_the_range_is_small():
    grid = plan(_selection(1, timedelta(hours=1)), model_step_s=60, time_scale=1)
    assert (grid.step_s, grid.window, grid.horizon_s, grid.raised) == (60, 60, 6 * 3600, False)
    assert grid.start.timestamp() % 60 == 0 and grid.end.timestamp() % 60 == 0
    assert grid.end <= END and grid.steps == 60


def test_the_demo_clock_shrinks_the_horizon_and_the_settling():
    grid = plan(_selection(1, timedelta(minutes=20)), model_step_s=1, time_scale=60)
    assert (grid.step_s, grid.window) == (1, 60)
    assert grid.horizon_s == pytest.approx(360) and grid.settle_s == pytest.approx(60)
    asked = plan(_selection(1, timedelta(minutes=20), horizon_h=2), model_step_s=1, time_scale=60)
    assert asked.horizon_s == 7200


@pytest.mark.parametrize("machines", [1, 5, 20, 60])
@pytest.mark.parametrize("days", [0.25, 1, 7, 30, 365])
def test_the_step_is_raised_to_stay_within_the_budget(machines: int, days: float):
    grid = plan(_selection(machines, timedelta(days=days)), model_step_s=1, time_scale=60)
    assert grid.steps <= MAX_STEPS
    assert machines * len(KINDS) * grid.steps <= MAX_CELLS + machines * len(KINDS)
    assert MIN_WINDOW <= grid.window <= 60
    if grid.step_s >= 600:  # long steps come from the ten-minute rollups
        assert grid.step_s % 600 == 0


def test_a_finer_step_than_the_budget_allows_is_raised_and_said_so():
    grid = plan(_selection(20, timedelta(days=30), step=10), model_step_s=60, time_scale=1)
    assert grid.raised and grid.step_s > 10


def test_labels_healthy_pre_failure_and_down():
    hour = 3600.0
    ends = np.arange(1, 25) * hour
    starts = ends - hour
    failures = pd.DataFrame({"failure": [10 * hour], "repaired": [12 * hour]})
    labels, ttf = window_labels(starts, ends, failures, horizon_s=3 * hour, settle_s=hour)
    assert labels[:6].tolist() == ["healthy"] * 6  # ends at 1..6 h: 9..4 h ahead
    assert labels[6:10].tolist() == ["pre-failure"] * 4  # ends at 7..10 h: within 3 h
    assert labels[10:13].tolist() == ["down"] * 3  # starts before 13 h (repair + settling)
    assert labels[13:].tolist() == ["healthy"] * 11
    assert ttf[6] == 3 and np.isinf(ttf[10:]).all()


def test_distributions_share_bins_and_projection_has_two_axes():
    rng = np.random.default_rng(1)
    features = np.vstack([rng.normal(0, 1, (200, 3)), rng.normal(4, 1, (20, 3))])
    labels = np.array(["healthy"] * 200 + ["pre-failure"] * 20)
    dist = distributions(features, ["a", "b", "c"], labels, bins=10)
    for _, part in dist.groupby("feature"):
        healthy, warned = (part[part["label"] == x] for x in ("healthy", "pre-failure"))
        assert healthy["left"].tolist() == warned["left"].tolist()
        assert healthy["count"].sum() == 200 and warned["count"].sum() == 20
        assert warned["share"].sum() == pytest.approx(1)
    coords, (one, two) = projection(features)
    assert coords.shape == (220, 2) and one >= two > 0
    assert projection(features[:2]) is None


def test_the_controls_make_a_selection_or_say_what_is_missing():
    now = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
    picked = (["m1"], ["rpm"])
    assert parse(None, ["rpm"], "1d", None, None, 0, None, now=now).startswith("Pick one")
    one_day = parse(*picked, "1d", None, None, 60, None, now=now)
    assert (one_day.start, one_day.end, one_day.step_s) == (now - timedelta(days=1), now, 60)
    days = parse(*picked, "custom", "2026-05-01", "2026-05-02", 7, 0.5, now=now)
    assert (days.start, days.end) == (
        datetime(2026, 5, 1, tzinfo=UTC),
        datetime(2026, 5, 3, tzinfo=UTC),
    )
    assert days.step_s == 0 and days.horizon_h == 0.5  # 7 s is not offered: the model's
    assert parse(*picked, "custom", "2026-05-04", "2026-05-09", 0, None, now=now).end == now
    assert (
        parse(*picked, "custom", None, None, 0, None, now=now) == "Pick the first and the last day."
    )
    assert "at most" in parse(*picked, "custom", "2024-01-01", "2026-05-01", 0, None, now=now)
