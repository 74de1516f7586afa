"""Results of ``bench.dashboard``: the table, the targets (reported, never asserted), the JSON
line and the run's block in docs/benchmarks.md (between ``bench:dashboard-…`` markers, as
``bench.report`` does for the ingest runs)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .dashboard_app import Seeded
from .dashboard_measure import Sample, TickSample
from .report import write_run

__all__ = ["DashResults", "Target", "render", "summary_json", "targets", "update_docs"]

RANGE_LABELS = {"1h": "1 hour", "1d": "1 day", "30d": "30 days"}
P95_MS = 300.0
POINTS = 5_000
OVERVIEW_P95_MS = 200.0
PAYLOAD_BYTES = 10_000  # 10 KB, 1 KB = 1,000 bytes


@dataclass
class DashResults:
    """Everything one run measured."""

    history: dict[str, Sample] = field(default_factory=dict)  # range key -> machine draw
    naive: dict[str, Sample] = field(default_factory=dict)  # range key -> naive baseline
    overview: Sample | None = None
    tiles: int = 0
    fleet_tick: TickSample | None = None
    machine_tick: TickSample | None = None
    rss_mb: float = 0.0  # peak RSS after the dashboard's measurements
    rss_naive_mb: float = 0.0  # … and after the naive baseline's
    seeded: list[Seeded] = field(default_factory=list)
    vacuum_s: float = 0.0
    settings: dict[str, str] = field(default_factory=dict)

    def ratio(self, key: str) -> float:
        dash, naive = self.history.get(key), self.naive.get(key)
        return naive.timing.p95_ms / dash.timing.p95_ms if dash and naive else 0.0

    @property
    def max_points(self) -> int:
        return max((s.points for s in self.history.values()), default=0)

    @property
    def payload_bytes(self) -> int:
        """The largest live payload per tick per graph, whichever way it is counted."""
        ticks = [t for t in (self.fleet_tick, self.machine_tick) if t]
        return max((max(t.per_graph_bytes, t.extend_bytes) for t in ticks), default=0)


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    measured: str
    ok: bool


def targets(r: DashResults) -> list[Target]:
    """The issue's targets, judged on this run's numbers."""
    out = [
        Target(
            f"machine detail, {RANGE_LABELS.get(key, key)}: p95 ≤ {P95_MS:.0f} ms",
            f"{s.timing.p95_ms:,.0f} ms",
            s.timing.p95_ms <= P95_MS,
        )
        for key, s in r.history.items()
    ]
    out.append(
        Target(
            f"≤ {POINTS:,} points per trace at every range",
            f"{r.max_points:,}",
            r.max_points <= POINTS,
        )
    )
    if r.overview:
        out.append(
            Target(
                f"fleet overview, {r.tiles} machines: p95 ≤ {OVERVIEW_P95_MS:.0f} ms",
                f"{r.overview.timing.p95_ms:,.0f} ms",
                r.overview.timing.p95_ms <= OVERVIEW_P95_MS,
            )
        )
    out.append(
        Target(
            "live update ≤ 10 KB per tick per graph",
            _kb(r.payload_bytes),
            r.payload_bytes <= PAYLOAD_BYTES,
        )
    )
    return out


def _kb(n: int) -> str:
    return f"{n / 1000:,.1f} KB"


def _row(label: str, s: Sample | TickSample, points: str, size: str) -> str:
    t = s.timing
    return (
        f"| {label} | {t.runs} | {t.p50_ms:,.1f} | {t.p95_ms:,.1f} | {t.max_ms:,.1f} "
        f"| {points} | {size} |"
    )


def render(r: DashResults) -> str:
    """The results as Markdown tables (printed and written to the docs)."""
    out = [
        "| measurement | runs | p50 ms | p95 ms | max ms | points per trace | largest response |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for key, s in r.history.items():
        label = RANGE_LABELS.get(key, key)
        out.append(_row(f"machine detail `draw`, {label}", s, f"{s.points:,}", _kb(s.bytes)))
        if key in r.naive:
            n = r.naive[key]
            out.append(_row(f"naive fetch-all + plot, {label}", n, f"{n.points:,}", _kb(n.bytes)))
    if r.overview:
        o = r.overview
        out.append(_row(f"fleet overview `build`, {r.tiles} tiles", o, "", _kb(o.bytes)))
    for label, t in (
        (f"fleet `tick`, {r.tiles} tiles", r.fleet_tick),
        ("machine `live` tick, 1 hour", r.machine_tick),
    ):
        if t:
            size = f"{_kb(t.per_graph_bytes)} per graph (extendData alone ≤ {_kb(t.extend_bytes)})"
            readings = f"{t.readings_per_tick} new/sensor"
            graphs = f"{t.graphs} graph{'s' if t.graphs != 1 else ''}"
            out.append(_row(f"{label} ({graphs})", t, readings, size))
    out += ["", "| range | naive p95 / dashboard p95 |", "| --- | ---: |"]
    out += [f"| {RANGE_LABELS.get(k, k)} | {r.ratio(k):,.1f}× |" for k in r.history if k in r.naive]
    out += [
        "",
        f"Peak RSS of the measuring process (web app and client): {r.rss_mb:,.0f} MiB after the "
        f"dashboard's requests, {r.rss_naive_mb:,.0f} MiB after the naive baseline.",
        "",
        "| target | measured | result |",
        "| --- | ---: | --- |",
    ]
    out += [f"| {t.name} | {t.measured} | {'met' if t.ok else '**missed**'} |" for t in targets(r)]
    return "\n".join(out)


def seeding(r: DashResults) -> str:
    """One sentence on the data the run measured."""
    if not r.seeded:
        return "Data: the given database as it was (`--no-seed`)."
    parts = [
        f"{s.machines} machines × {_span(s.days)} at 10 s: {s.readings:,} readings, "
        f"{s.failures} failures, in {s.seconds:,.0f} s ({s.readings / max(s.seconds, 1e-9):,.0f}/s)"
        for s in r.seeded
    ]
    return (
        "Data, seeded by `worker.backfill` into one database: "
        + "; then ".join(parts)
        + f"; then `VACUUM (ANALYZE) readings` in {r.vacuum_s:,.1f} s."
    )


def _span(days: float) -> str:
    return f"{days:g} days" if days >= 1 else f"{days * 1440:g} min"


def summary_json(r: DashResults) -> str:
    """The one-line JSON the issue asks for (``naive_ratio`` is the 30-day range's)."""
    p95 = {k: round(s.timing.p95_ms, 1) for k, s in r.history.items()}
    return json.dumps(
        {
            "p95_ms_1h": p95.get("1h"),
            "p95_ms_1d": p95.get("1d"),
            "p95_ms_30d": p95.get("30d"),
            "max_points": r.max_points,
            "overview_p95_ms": round(r.overview.timing.p95_ms, 1) if r.overview else None,
            "naive_ratio": round(r.ratio("30d"), 1),
        }
    )


def update_docs(path: Path, *, section: str, r: DashResults, command: str, code: str) -> None:
    """Replace the ``section`` block of ``path`` with this run (appended when missing)."""
    settings = ", ".join(f"`{k}={v}`" for k, v in r.settings.items())
    body = [seeding(r), "", f"Settings: {settings}", "", render(r)]
    heading = f"### Latest {section} run"  # a level below the dashboard's own section
    write_run(path, section=section, command=command, code=code, body=body, heading=heading)
