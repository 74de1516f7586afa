"""The dashboard benchmark's pure helpers: percentiles, points per trace, request bodies and
the JSON line. No timing is asserted anywhere."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest

from bench.dashboard_app import outputs_of, request_body
from bench.dashboard_measure import Sample, Timing, percentile, trace_points
from bench.dashboard_report import DashResults, summary_json, targets


def test_percentile_interpolates_between_ranks_like_numpy():
    values = [5.0, 1.0, 4.0, 2.0, 3.0, 10.0]
    for q in (0, 50, 95, 100):
        assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)))
    assert percentile([7.0], 95) == 7.0


def test_percentile_of_nothing_is_an_error():
    with pytest.raises(ValueError):
        percentile([], 50)


def test_timing_reports_milliseconds():
    t = Timing.of([0.1, 0.2, 0.3])
    assert (t.runs, t.p50_ms, t.max_ms) == (3, pytest.approx(200.0), pytest.approx(300.0))


def test_trace_points_is_the_longest_trace():
    figure = {"data": [{"x": [1, 2, 3], "y": [1, 2, 3]}, {"x": ["a"] * 7, "y": [0] * 7}, {}]}
    assert trace_points(figure) == 7
    assert trace_points({"data": []}) == 0
    assert trace_points({}) == 0


def test_trace_points_counts_plotly_typed_arrays():
    y = np.arange(11, dtype="float64")
    typed = {"dtype": "f8", "bdata": base64.b64encode(y.tobytes()).decode()}
    assert trace_points({"data": [{"x": list(range(4)), "y": typed}]}) == 11


def test_outputs_of_reads_single_multi_and_pattern_keys():
    assert outputs_of("nav-user.children") == [("nav-user", "children")]
    key = '..{"machine":["ALL"],"type":"fleet-graph"}.extendData...fleet-cursor.data@ab12..'
    assert outputs_of(key) == [
        ('{"machine":["ALL"],"type":"fleet-graph"}', "extendData"),
        ("fleet-cursor", "data@ab12"),
    ]


def test_request_body_lists_the_concrete_ids_of_an_all_output():
    key = '..{"machine":["ALL"],"type":"fleet-graph"}.extendData...fleet-cursor.data..'
    body = request_body(
        key,
        [("fleet-tick", "n_intervals", 3)],
        [("fleet-cursor", "data", "2026-01-01T00:00:00+00:00")],
        [{"machine": 1}, {"machine": 2}],
    )
    assert body["outputs"] == [
        [
            {"id": {"machine": 1, "type": "fleet-graph"}, "property": "extendData"},
            {"id": {"machine": 2, "type": "fleet-graph"}, "property": "extendData"},
        ],
        {"id": "fleet-cursor", "property": "data"},
    ]
    assert body["inputs"] == [{"id": "fleet-tick", "property": "n_intervals", "value": 3}]
    assert body["changedPropIds"] == ["fleet-tick.n_intervals"]
    assert body["state"][0]["value"].startswith("2026")


def test_request_body_of_a_single_output_callback_is_a_dict():
    body = request_body("nav-user.children", [("app-url", "pathname", "/")])
    assert body["outputs"] == {"id": "nav-user", "property": "children"}


def _sample(p95_ms: float, points: int = 100) -> Sample:
    return Sample(Timing(10, p95_ms / 2, p95_ms, p95_ms), points, 1000)


def test_summary_json_has_the_issue_keys_and_the_30_day_ratio():
    r = DashResults(
        history={"1h": _sample(50), "1d": _sample(100, 1500), "30d": _sample(200, 1400)},
        naive={"30d": _sample(2000)},
        overview=_sample(150),
        tiles=200,
    )
    line = json.loads(summary_json(r))
    assert set(line) == {
        "p95_ms_1h",
        "p95_ms_1d",
        "p95_ms_30d",
        "max_points",
        "overview_p95_ms",
        "naive_ratio",
    }
    assert (line["max_points"], line["naive_ratio"], line["p95_ms_30d"]) == (1500, 10.0, 200.0)


def test_targets_are_reported_met_or_missed():
    r = DashResults(history={"1h": _sample(50), "1d": _sample(400, 6000)}, overview=_sample(150))
    verdicts = {t.name: t.ok for t in targets(r)}
    assert verdicts["machine detail, 1 hour: p95 ≤ 300 ms"] is True
    assert verdicts["machine detail, 1 day: p95 ≤ 300 ms"] is False
    assert verdicts["≤ 5,000 points per trace at every range"] is False
    assert verdicts["fleet overview, 0 machines: p95 ≤ 200 ms"] is True
