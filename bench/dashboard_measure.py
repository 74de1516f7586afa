"""The measurements of ``bench.dashboard``: repeated callback requests after warm-ups, the
naive fetch-every-row-and-plot baseline timed the same way, and the pure helpers they need
(percentiles, points per trace, payload sizes)."""

from __future__ import annotations

import base64
import json
import math
import resource
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from data.db import Database
from data.models import Reading
from web.views.fleet import FLEET_CURSOR, FLEET_GRAPH, FLEET_GRID
from web.views.machine import MACHINE_CURSOR, MACHINE_GRAPH

from .dashboard_app import Call, Endpoint, LiveFeed, SensorRef

__all__ = [
    "Sample",
    "TickSample",
    "Timing",
    "fleet_ticks",
    "history",
    "json_bytes",
    "machine_sensors",
    "machine_ticks",
    "naive_figure",
    "naive_history",
    "overview",
    "peak_rss_mb",
    "percentile",
    "trace_points",
]

FLEET_TICK_S = 2  # pages/fleet.py: dcc.Interval(interval=2000)
MACHINE_TICK_S = 5  # pages/machine.py: dcc.Interval(interval=5000)


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile, interpolated between closest ranks (numpy's default)."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True, slots=True)
class Timing:
    runs: int
    p50_ms: float
    p95_ms: float
    max_ms: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Timing:
        ms = [s * 1000 for s in seconds]
        return cls(len(ms), percentile(ms, 50), percentile(ms, 95), max(ms))


def trace_points(figure: dict[str, Any]) -> int:
    """The most points any trace of a figure (as sent, JSON) carries."""
    return max(
        (_length(trace.get(axis)) for trace in figure.get("data", []) for axis in ("x", "y")),
        default=0,
    )


def _length(values: Any) -> int:
    if values is None:
        return 0
    if isinstance(values, dict) and "bdata" in values:  # Plotly's typed array (base64)
        if "shape" in values:
            return int(str(values["shape"]).split(",")[0])
        import numpy as np

        return len(base64.b64decode(values["bdata"])) // np.dtype(values["dtype"]).itemsize
    return len(values)


def json_bytes(value: Any) -> int:
    """Size of a value as compact JSON, as Dash sends it."""
    return len(json.dumps(value, separators=(",", ":")).encode())


def peak_rss_mb() -> float:
    """Peak resident set of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass(frozen=True, slots=True)
class Sample:
    """One measured row: request times, the most points in a trace, the largest body."""

    timing: Timing
    points: int
    bytes: int


def _repeat(
    call: Callable[[int], Call], repeat: int, warmup: int, look: Callable[[Call], int]
) -> Sample:
    seconds, points, size = [], 0, 0
    for i in range(warmup + repeat):
        answer = call(i)
        if i >= warmup:
            seconds.append(answer.seconds)
            points, size = max(points, look(answer)), max(size, len(answer.body))
    return Sample(Timing.of(seconds), points, size)


def history(
    endpoint: Endpoint, names: Sequence[str], range_key: str, repeat: int, warmup: int
) -> Sample:
    """The machine page's ``draw`` for one range, machine after machine."""
    return _repeat(
        lambda i: endpoint.draw(names[i % len(names)], range_key),
        repeat,
        warmup,
        lambda a: trace_points(a.response()[MACHINE_GRAPH]["figure"]),
    )


def naive_figure(db: Database, sensor_ids: Sequence[int], start: datetime, end: datetime) -> str:
    """What a first version would do: fetch every row of the range, plot every point
    (one trace per sensor, one row each) and serialise the figure."""
    import pandas as pd
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    stmt = (
        select(Reading.sensor_id, Reading.ts, Reading.value)
        .where(Reading.sensor_id.in_(sensor_ids), Reading.ts >= start, Reading.ts < end)
        .order_by(Reading.sensor_id, Reading.ts)
    )
    with db.session() as s:
        frame = pd.DataFrame(s.execute(stmt).all(), columns=["sensor_id", "ts", "value"])
    fig = make_subplots(rows=len(sensor_ids), cols=1, shared_xaxes=True)
    for row, sensor_id in enumerate(sensor_ids, start=1):
        part = frame[frame["sensor_id"] == sensor_id]
        fig.add_trace(go.Scatter(x=part["ts"], y=part["value"], mode="lines"), row, 1)
    return fig.to_json()


def naive_history(
    db: Database,
    sensors: dict[str, list[int]],
    names: Sequence[str],
    span: timedelta,
    repeat: int,
    warmup: int,
) -> Sample:
    """The naive baseline, timed like the dashboard: same machines in the same order."""

    def call(i: int) -> Call:
        started = time.perf_counter()
        end = datetime.now(UTC)
        text = naive_figure(db, sensors[names[i % len(names)]], end - span, end)
        return Call(time.perf_counter() - started, text.encode())

    return _repeat(call, repeat, warmup, lambda a: trace_points(json.loads(a.body)))


def overview(endpoint: Endpoint, repeat: int, warmup: int) -> tuple[Sample, int, str]:
    """The fleet page's ``build`` with no filter: the sample, the tiles and the cursor."""
    last: list[Call] = []

    def call(_i: int) -> Call:
        last[:] = [endpoint.build()]
        return last[0]

    sample = _repeat(call, repeat, warmup, lambda a: 0)
    answer = last[0].response()
    return sample, len(answer[FLEET_GRID]["children"]), answer[FLEET_CURSOR]["data"]


@dataclass(frozen=True, slots=True)
class TickSample:
    """Live ticks: request times and, per graph, the largest payload of one tick."""

    timing: Timing
    graphs: int
    per_graph_bytes: int  # whole response body / graphs updated
    extend_bytes: int  # the largest extendData of one graph alone
    readings_per_tick: int  # new readings per sensor before each tick


def _ticks(
    send: Callable[[str, int], Call],
    cursor_of: Callable[[dict[str, Any]], str],
    extends: Callable[[dict[str, Any]], list[Any]],
    feed: LiveFeed,
    sensors: Sequence[SensorRef],
    cursor: str,
    every_s: int,
    repeat: int,
    warmup: int,
) -> TickSample:
    # never start behind the feed's clock: earlier phases may have stored newer readings
    cursor = max(datetime.fromisoformat(cursor), feed.clock).isoformat()
    seconds, per_graph, extend, graphs = [], 0, 0, 0
    for i in range(warmup + repeat):
        feed.advance(sensors, every_s)
        answer = send(cursor, i + 1)
        response = answer.response()
        cursor = cursor_of(response)
        if i >= warmup:
            parts = extends(response)
            graphs = len(parts)
            seconds.append(answer.seconds)
            per_graph = max(per_graph, len(answer.body) // max(graphs, 1))
            extend = max([extend, *(json_bytes(p) for p in parts)])
    return TickSample(Timing.of(seconds), graphs, per_graph, extend, every_s)


def fleet_ticks(
    endpoint: Endpoint,
    feed: LiveFeed,
    sensors: Sequence[SensorRef],
    cursor: str,
    repeat: int,
    warmup: int,
) -> TickSample:
    """The fleet page's ``tick`` for every machine's tile, with fresh readings before each."""
    machine_ids = list(dict.fromkeys(s.machine_id for s in sensors))
    graphs = [
        json.dumps({"machine": m, "type": FLEET_GRAPH}, separators=(",", ":")) for m in machine_ids
    ]
    return _ticks(
        lambda c, n: endpoint.tick(machine_ids, c, n),
        lambda r: r[FLEET_CURSOR]["data"],
        lambda r: [r[k]["extendData"] for k in graphs if k in r],
        feed,
        sensors,
        cursor,
        FLEET_TICK_S,
        repeat,
        warmup,
    )


def machine_ticks(
    endpoint: Endpoint,
    feed: LiveFeed,
    sensors: Sequence[SensorRef],
    range_key: str,
    repeat: int,
    warmup: int,
) -> TickSample:
    """The machine page's ``live`` tick (one graph) of the machine of ``sensors``, after
    drawing the range once."""
    name = sensors[0].machine
    cursor = endpoint.draw(name, range_key).response()[MACHINE_CURSOR]["data"]
    return _ticks(
        lambda c, n: endpoint.live(name, range_key, c, n),
        lambda r: r[MACHINE_CURSOR]["data"],
        lambda r: [r[MACHINE_GRAPH]["extendData"]],
        feed,
        sensors,
        cursor,
        MACHINE_TICK_S,
        repeat,
        warmup,
    )


def machine_sensors(sensors: Sequence[SensorRef]) -> dict[str, list[int]]:
    """Machine name -> its sensor ids."""
    out: dict[str, list[int]] = {}
    for s in sensors:
        out.setdefault(s.machine, []).append(s.sensor_id)
    return out
