"""Results of ``bench.lab``: the tables, the block for docs/benchmarks.md and the JSON line.
Targets are reported, never asserted."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

from .lab_measure import EXPORTS, ExploreCell, Measured
from .lab_tune import TuneRow
from .report import machine

__all__ = ["LabResults", "Seeded", "block", "render", "summary_json"]


@dataclass(frozen=True, slots=True)
class Seeded:
    machines: int
    days: float
    readings: int
    failures: int
    seconds: float
    scorings: int
    scoring_seconds: float


@dataclass
class LabResults:
    """Everything one run measured."""

    command: str = ""
    tune: list[TuneRow] = field(default_factory=list)
    explore: list[ExploreCell] = field(default_factory=list)
    ticks: dict[float, Measured] = field(default_factory=dict)  # days -> one machine's scores
    seeded: Seeded | None = None
    rss_mb: float = 0.0
    settings: dict[str, str] = field(default_factory=dict)


def _ms(m: Measured) -> str:
    t = m.timing
    digits = 2 if t.p95_ms < 10 else 0
    return f"{t.p50_ms:,.{digits}f} / {t.p95_ms:,.{digits}f}"


def _kb(n: int) -> str:
    return f"{n / 1000:,.0f} KB" if n >= 10_000 else f"{n / 1000:,.1f} KB"


def _days(d: float) -> str:
    return f"{d:g} day" + ("" if d == 1 else "s")


def render(r: LabResults) -> str:
    """The results as Markdown tables."""
    out = [
        "| scored history | windows | thresholds | measurement | runs | p50 / p95 ms | peak MiB |",
        "| --- | ---: | ---: | --- | ---: | ---: | ---: |",
    ]
    for row in r.tune:
        name = f"{row.label}: {row.machines} machines, {row.failures} failures"
        for what, m in (
            ("open the tab (`tuning_view` + store)", row.open),
            ("sweep + PR curve alone", row.sweep),
            ("slider move (look-up, patches, JSON)", row.move),
            ("baseline: `replay_alarms` + `alarm_metrics`, 1 threshold", row.baseline),
        ):
            out.append(
                f"| {name} | {row.windows:,} | {row.thresholds} | {what} | {m.timing.runs} "
                f"| {_ms(m)} | {m.peak_mb:,.1f} |"
            )
    out += [
        "",
        "| scored history | baseline p95 / slider move p95 | open p95 / baseline p95 |",
        "| --- | ---: | ---: |",
    ]
    out += [f"| {t.label} | {t.ratio:,.0f}× | {t.open_in_replays:,.1f}× |" for t in r.tune]
    out += [
        "",
        "| range | machines | raw readings | draw p50 / p95 ms | draw peak MiB | response "
        "| naive fetch p50 / p95 ms | naive peak MiB | naive p95 / draw p95 |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for c in r.explore:
        out.append(
            f"| {_days(c.days)} | {c.machines} | {c.readings:,} | {_ms(c.draw)} "
            f"| {c.draw.peak_mb:,.1f} | {_kb(c.draw.size)} | {_ms(c.naive)} "
            f"| {c.naive.peak_mb:,.1f} | {c.ratio:,.1f}× |"
        )
    names = [f"{what}.{fmt}" for what, fmt in EXPORTS]
    out += [
        "",
        "| range | machines | "
        + " | ".join(f"`{n}` p50 / p95 ms" for n in names)
        + " | largest file "
        "| peak MiB |",
        "| --- | ---: | " + " | ".join("---:" for _ in names) + " | ---: | ---: |",
    ]
    for c in r.explore:
        exports = [c.exports[n] for n in names]
        out.append(
            f"| {_days(c.days)} | {c.machines} | "
            + " | ".join(_ms(m) for m in exports)
            + f" | {_kb(max(m.size for m in exports))} | {max(m.peak_mb for m in exports):,.1f} |"
        )
    if r.ticks:
        out += [
            "",
            "| range | one machine's scores (a timeline tick): runs | p50 / p95 ms | buckets "
            "| peak MiB |",
            "| --- | ---: | ---: | ---: | ---: |",
        ]
        out += [
            f"| {_days(d)} | {m.timing.runs} | {_ms(m)} | {m.size:,} | {m.peak_mb:,.1f} |"
            for d, m in r.ticks.items()
        ]
    out += ["", f"Peak RSS of the measuring process: {r.rss_mb:,.0f} MiB."]
    return "\n".join(out)


def seeding(r: LabResults) -> str:
    s = r.seeded
    if s is None:
        return "Data: none seeded."
    return (
        f"Data: `synthetic_scored` histories ({', '.join(t.label for t in r.tune)} windows, "
        f"seed 5), made in the run; SQLite seeded by `worker.backfill` (seed 7): "
        f"{s.machines} machines × {s.days:g} days at 10 s, {s.readings:,} readings, "
        f"{s.failures} failure{'' if s.failures == 1 else 's'}, in {s.seconds:,.0f} s; "
        f"then {s.scorings:,} scorings (one per machine every 5 s) in {s.scoring_seconds:,.0f} s."
    )


def block(r: LabResults) -> str:
    """What goes into docs/benchmarks.md: when, where, the command, the data, the tables."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    settings = ", ".join(f"`{k}={v}`" for k, v in r.settings.items())
    return "\n".join(
        [
            f"Run {stamp} on {machine()}.",
            "",
            f"Command: `{r.command}`",
            "",
            seeding(r),
            "",
            f"Settings: {settings}",
            "",
            render(r),
        ]
    )


def summary_json(r: LabResults) -> str:
    """One line: the largest history's tuning numbers and the explore cells' worst case."""
    big = max(r.tune, key=lambda t: t.windows) if r.tune else None
    largest = max(r.explore, key=lambda c: c.readings) if r.explore else None
    exports = [m for c in r.explore for m in c.exports.values()]
    return json.dumps(
        {
            "tune_windows": big.windows if big else 0,
            "tune_open_p95_ms": round(big.open.timing.p95_ms, 1) if big else None,
            "tune_move_p95_ms": round(big.move.timing.p95_ms, 3) if big else None,
            "tune_baseline_p95_ms": round(big.baseline.timing.p95_ms, 1) if big else None,
            "tune_ratio": round(big.ratio, 1) if big else None,
            "explore_cells": len(r.explore),
            "draw_p95_ms_max": round(max(c.draw.timing.p95_ms for c in r.explore), 1)
            if r.explore
            else None,
            "export_p95_ms_max": round(max(m.timing.p95_ms for m in exports), 1)
            if exports
            else None,
            "naive_ratio": round(largest.ratio, 1) if largest else None,
            "draw_peak_mb_max": round(max(c.draw.peak_mb for c in r.explore), 1)
            if r.explore
            else None,
            "naive_peak_mb_max": round(max(c.naive.peak_mb for c in r.explore), 1)
            if r.explore
            else None,
        }
    )
