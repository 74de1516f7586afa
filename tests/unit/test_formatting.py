"""How times and values are said to people (maintenance.rendering.human_units) and the lab's
clocks."""

from __future__ import annotations

import pytest

from maintenance.rendering.human_units import (
    format_apart,
    format_crossing,
    format_duration,
    format_hours,
    format_remaining,
)
from web.views.lab_explore_summary import model_time
from web.views.lab_tune import kpi_cards, model_hours


@pytest.mark.parametrize(
    ("seconds", "said"),
    [
        (0, "0 s"),
        (0.5, "0.5 s"),
        (42.4, "42 s"),
        (59.6, "1 min"),
        (40 * 60, "40 min"),
        (3599, "1 h"),
        (80 * 60, "1 h 20 min"),
        (86_399, "1 d"),
        (51 * 3600 + 10, "2 d 3 h"),
    ],
)
def test_durations_are_said_in_the_units_that_fit(seconds: float, said: str):
    assert format_duration(seconds) == said


def test_hours_and_remaining_life():
    assert format_hours(40 / 3600) == "40 s"
    assert format_hours(None) == "—"
    assert format_remaining(0.07) == "≈ 4 min"
    assert format_remaining(None) == ""


def test_a_value_and_its_limit_are_shown_apart():
    assert format_apart(5.43, 5.4) == ("5.43", "5.40")
    assert format_apart(72.3, 70.0) == ("72.3", "70")  # the limit as it was set
    assert format_apart(70.04, 70.0) == ("70.04", "70.00")
    assert format_apart(5.40001, 5.4, most=2) == ("5.40", "5.40")  # as close as shown


def test_the_labs_two_tabs_say_the_same_horizon():
    explore = model_time(6 * 60, 60)  # recorded data: H is 6 min of it
    tune = model_hours(6, 60, live=True)  # backtests: H is 6 model hours
    assert explore == "6 min (the models' 6 h at 60×)"
    assert tune == "6 h of model time (6 min live)"
    assert model_time(6 * 3600, 1) == model_hours(6, 1) == "6 h"  # one clock: nothing to add


def test_tune_cards_mark_model_time_in_the_demo():
    row = {
        "precision": 1.0, "recall": 1.0, "true_alarms": 3, "raised": 3, "caught": 3,
        "failures": 3, "false_alarms_per_machine_week": 0.0, "false_alarms": 0,
        "machine_weeks": 2.0, "median_lead_h": 3.2,
    }  # fmt: skip
    cards = str(kpi_cards(row, horizon_h=6, min_lead_h=2, time_scale=60))
    assert "within 6 h (model time)" in cards and "3 h 12 min" in cards


def test_a_crossing_shows_the_number_its_unit_and_the_limit_told_apart():
    assert format_crossing(5.43, 5.4, "mm/s") == "5.43 mm/s (limit 5.40)"
    assert format_crossing(0.87, 0.8, None, percent=True) == "87% (threshold 80%)"
    assert format_crossing(0.801, 0.8, None, percent=True) == "80.1% (threshold 80.0%)"
    assert format_crossing(0.91, 0.7, None) == "0.91 (threshold 0.7)"  # a model's score
    assert format_crossing(4.0, None, "mm/s") == "4.0 mm/s"  # no limit known
    assert format_crossing(None, 5.4, "mm/s") == ""
    assert format_crossing(3.0, 2.5, "") == "3.0 (limit 2.5)"  # a unitless sensor
