"""The machine page's caption says the bucket width the figure was served in, in the units
that fit it: ranges read from the ten-minute rollups round the asked width up to whole
rollups, so the caption reads it from the buckets themselves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd

from callbacks.machine import _served_step
from maintenance.rendering.human_units import format_duration

END = datetime(2026, 12, 6, tzinfo=UTC)


def _frame(step_s: int, n: int) -> pd.DataFrame:
    ts = pd.to_datetime([END - timedelta(seconds=step_s * k) for k in range(n)], utc=True)
    return pd.DataFrame({"sensor_id": [1] * n + [2] * n, "ts": list(ts) * 2})


def test_a_30_day_range_says_the_rollup_width_it_was_served_in():
    start = END - timedelta(days=30)  # asked: 4,320 s; served: 4,800 s (eight rollups)
    step = _served_step(_frame(4800, 540), start, END)
    assert step == 4800 and format_duration(step) == "1 h 20 min"


def test_without_two_buckets_the_asked_width_is_said():
    start = END - timedelta(hours=1)
    assert _served_step(_frame(6, 1), start, END) == 6  # 3,600 s / 600 points
    assert _served_step(pd.DataFrame({"sensor_id": [], "ts": []}), start, END) == 6
