"""The measurements of ``bench.lab``: the explore tab (its ``draw`` callback, the
exports, one timeline tick) against fetching the selection's raw readings into pandas.

Each measurement runs once untimed under ``tracemalloc`` (its peak: Python objects and numpy
or pandas buffers, not SQLite's own memory), then up to ``repeat`` timed runs, fewer when
they pass ``budget_s`` (never fewer than ``MIN_RUNS``). No timing is asserted anywhere."""

from __future__ import annotations

import itertools
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import bindparam, text

from data.db import Database
from data.models import UtcDateTime

from .dashboard_measure import Timing

REPO = Path(__file__).resolve().parent.parent
if str(REPO / "tests") not in sys.path:  # tests/scored_sets.py, for bench.lab_tune
    sys.path.insert(0, str(REPO / "tests"))

__all__ = [
    "EXPORTS",
    "MIN_RUNS",
    "ExploreCell",
    "Measured",
    "explore_cell",
    "measure",
    "naive_readings",
    "score_tick",
]

MIN_RUNS = 2
EXPORTS = (("series", "csv"), ("series", "parquet"), ("features", "parquet"), ("scores", "csv"))


@dataclass(frozen=True, slots=True)
class Measured:
    timing: Timing
    peak_mb: float  # tracemalloc peak of the untimed first run, MiB
    size: int = 0  # rows or bytes of the answer, as the table says


def measure(
    fn: Callable[[int], Any], *, repeat: int, budget_s: float, size: Callable[[Any], int]
) -> Measured:
    """``fn(i)`` once under tracemalloc (warm-up and memory), then timed ``repeat`` times or
    until ``budget_s`` has passed, whichever comes first (at least ``MIN_RUNS``)."""
    tracing = tracemalloc.is_tracing()
    if not tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    answer = fn(0)
    peak = tracemalloc.get_traced_memory()[1] - base
    if not tracing:
        tracemalloc.stop()
    seconds: list[float] = []
    started = time.perf_counter()
    for i in itertools.count(1):
        if len(seconds) >= max(repeat, MIN_RUNS) or (
            len(seconds) >= MIN_RUNS and time.perf_counter() - started > budget_s
        ):
            break
        t = time.perf_counter()
        answer = fn(i)
        seconds.append(time.perf_counter() - t)
    return Measured(Timing.of(seconds), peak / 2**20, size(answer))


# --- explore -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExploreCell:
    days: float
    machines: int
    readings: int  # raw readings in the selection (the naive fetch's rows)
    draw: Measured  # explore() + the callback's figures + Dash's JSON; size: bytes
    naive: Measured  # plain SQL of every raw reading into pandas; size: rows
    exports: dict[str, Measured]  # "series.csv" … -> the file; size: bytes

    @property
    def ratio(self) -> float:
        """Naive p95 over draw p95 (above 1: the draw answers sooner than the raw fetch)."""
        return self.naive.timing.p95_ms / self.draw.timing.p95_ms


def naive_readings(
    db: Database, sensor_ids: Sequence[int], start: datetime, end: datetime
) -> pd.DataFrame:
    """The baseline: every raw reading of the selection, one plain SQL query, into pandas
    (times parsed into datetimes, as anyone would before plotting or resampling)."""
    sql = text(
        "SELECT sensor_id, ts, value FROM readings"
        " WHERE sensor_id IN :ids AND ts >= :start AND ts < :end ORDER BY sensor_id, ts"
    ).bindparams(
        bindparam("ids", expanding=True),
        bindparam("start", type_=UtcDateTime()),
        bindparam("end", type_=UtcDateTime()),
    )
    params = {"ids": list(sensor_ids), "start": start, "end": end}
    with db.engine.connect() as conn:
        return pd.read_sql_query(sql, conn, params=params, parse_dates={"ts": {"utc": True}})


def explore_cell(
    db: Database,
    names: Sequence[str],
    sensors: Sequence[str],
    end: datetime,
    days: float,
    scale: dict[str, float],
    *,
    repeat: int,
    budget_s: float,
) -> ExploreCell:
    """The draw callback, the exports and the naive fetch for ``names`` over the last
    ``days`` before ``end``."""
    from dash._utils import to_json

    from callbacks.lab_explore import outputs
    from ml.lab.explore import Selection
    from ml.lab.explore_data import sensor_refs
    from web.server.lab_export import _encode, _frame

    selection = Selection(tuple(names), tuple(sensors), end - timedelta(days=days), end)

    def draw(_i: int) -> bytes:
        from ml.lab.explore import explore

        with db.session() as s:
            found = explore(session=s, selection=selection, **scale)
        drawn = outputs(found, selection, None, 0.8, scale["time_scale"])
        return to_json(list(drawn)).encode()

    with db.session() as s:
        ids = sensor_refs(session=s, machines=list(names), kinds=list(sensors))["sensor_id"]
    naive = measure(
        lambda _i: naive_readings(db, ids.tolist(), selection.start, selection.end),
        repeat=repeat,
        budget_s=budget_s,
        size=len,
    )

    def export(what: str, fmt: str) -> Callable[[int], bytes]:
        def run(_i: int) -> bytes:
            with db.session() as s:
                frame, _grid = _frame(s, selection, what, scale)
            return _encode(frame, fmt)

        return run

    return ExploreCell(
        days=days,
        machines=len(names),
        readings=naive.size,
        draw=measure(draw, repeat=repeat, budget_s=budget_s, size=len),
        naive=naive,
        exports={
            f"{what}.{fmt}": measure(export(what, fmt), repeat=repeat, budget_s=budget_s, size=len)
            for what, fmt in EXPORTS
        },
    )


def score_tick(
    db: Database,
    names: Sequence[str],
    end: datetime,
    days: float,
    scale: dict[str, float],
    *,
    repeat: int,
    budget_s: float,
) -> Measured:
    """One machine's scores over the range, as one timeline tick reads them (the machines
    taken in turn); size: buckets returned."""
    from ml.lab.explore import Selection, grid_for, score_step, scores

    selection = Selection(tuple(names), ("temperature",), end - timedelta(days=days), end)
    with db.session() as s:
        grid = grid_for(session=s, selection=selection, **scale)

    def tick(i: int) -> pd.DataFrame:
        with db.session() as s:
            machine = [names[i % len(names)]]
            return scores(
                session=s, machines=machine, start=grid.start, end=grid.end, step_s=score_step(grid)
            )

    return measure(tick, repeat=repeat, budget_s=budget_s, size=len)
