"""The tuning measurements of ``bench.lab``: opening the tune tab, the sweep alone and a slider
move, against the straightforward replay at one threshold (``ml.alarm_metrics``). Timed as
``bench.lab_measure.measure`` does; no timing is asserted anywhere."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from data.db import Database
from ml.lab.scored import ScoredSet

from .lab_measure import Measured, measure

__all__ = ["SLIDER", "TuneRow", "slider_move", "straightforward", "tune_row"]

# the slider's positions visited in turn, spread over the range (a drag, then jumps)
SLIDER = (0.8, 0.5, 0.65, 0.3, 0.9, 0.72, 0.15, 0.55, 0.85, 0.4)


@dataclass(frozen=True, slots=True)
class TuneRow:
    label: str
    windows: int
    machines: int
    failures: int
    thresholds: int
    open: Measured  # the tab's load: tuning_view (Parquet, sweep, PR curve) + the store
    sweep: Measured  # the compute alone: sweep over every threshold + PR curve
    move: Measured  # one slider move: look-up, patches, cards, note, Dash's JSON
    baseline: Measured  # replay_alarms + alarm_metrics at one threshold

    @property
    def ratio(self) -> float:
        """How many slider moves one straightforward replay costs (p95 over p95)."""
        return self.baseline.timing.p95_ms / self.move.timing.p95_ms

    @property
    def open_in_replays(self) -> float:
        """Opening the tab, in straightforward replays at one threshold (p95 over p95)."""
        return self.open.timing.p95_ms / self.baseline.timing.p95_ms


def straightforward(scored: ScoredSet, threshold: float) -> Any:
    """The reference implementation at one threshold: ``ml.alarm_metrics.replay_alarms`` (the live
    hysteresis walked window by window, per unit and segment between failures) and
    ``alarm_metrics``, as the unit tests use them."""
    from ml.alarm_metrics import alarm_metrics, replay_alarms
    from ml.alarm_policy import CLEAR_RATIO

    scores, failures = scored.scores, scored.failures
    horizon_h = float(scored.meta["horizon_h"])
    units = scores["unit"].astype(str).to_numpy()
    ends, values = scores["end"].to_numpy(float), scores["prob"].to_numpy(float)
    resets = {str(u): p["failure"].to_numpy(float) for u, p in failures.groupby("unit")}
    raises = replay_alarms(
        units,
        ends,
        values,
        resets=resets,
        threshold=threshold,
        clear_below=threshold * CLEAR_RATIO,
        clear_after_s=1800.0,
    )
    return alarm_metrics(
        raises,
        failures,
        horizon_h=horizon_h,
        scored={u: ends[units == u] for u in np.unique(units)},
        censor_after=float(ends.max()) - horizon_h * 3600.0,
    )


def slider_move(data: dict, value: float) -> str:
    """What ``callbacks.lab_tune``'s ``move`` does for a slider move (figures patched, not
    rebuilt), serialised as Dash sends it."""
    from dash._utils import to_json

    from callbacks.lab_tune import _clear_note, _patches
    from web.views import lab_tune as v

    row = min(data["rows"], key=lambda r: abs(r["threshold"] - value))
    figures = _patches(data, row, value)
    cards = v.kpi_cards(row, horizon_h=data["horizon_h"], min_lead_h=data["min_lead_h"])
    note, box = _clear_note(data, value, True)
    label = f"Save {value:.2f} as the failure alarm threshold"
    return to_json([cards, *figures, label, note, box, "", None])


def tune_row(
    label: str, scored: ScoredSet, db: Database, root: Path, *, repeat: int, budget_s: float
) -> TuneRow:
    """Every tuning measurement of one scored history; it is kept on record in ``db`` as a
    finished backtest (Parquet under ``root``), as the tab finds it."""
    from scored_sets import record_scored_run

    from callbacks.lab_tune import _store
    from ml.lab.tune import pr_curve, sweep, threshold_grid, tuning_view

    record_scored_run(
        db, scored, root, failure_version=int(scored.scores["failure_version"].iat[0])
    )
    saved = 0.8

    def open_tab(_i: int) -> dict:
        with db.session() as s:
            view = tuning_view(session=s, column="prob", extra_thresholds=[saved])
        assert view is not None, "the scored history was not found"
        return _store(view, saved, saved * 0.75)

    horizon_h, end = float(scored.meta["horizon_h"]), float(scored.meta["data_end"])
    grid = threshold_grid([saved])

    def compute(_i: int) -> pd.DataFrame:
        table = sweep(
            scored.scores, scored.failures, horizon_h=horizon_h, thresholds=grid, data_end=end
        )
        pr_curve(scored.scores, horizon_h=horizon_h, data_end=end)
        return table

    opened = measure(open_tab, repeat=repeat, budget_s=budget_s, size=lambda d: len(d["rows"]))
    data = open_tab(0)
    moves = repeat * 10  # a move is sub-millisecond: more of them for stable percentiles
    return TuneRow(
        label=label,
        windows=len(scored.scores),
        machines=int(scored.scores["unit"].nunique()),
        failures=len(scored.failures),
        thresholds=len(grid),
        open=opened,
        sweep=measure(compute, repeat=repeat, budget_s=budget_s, size=len),
        move=measure(
            lambda i: slider_move(data, SLIDER[i % len(SLIDER)]),
            repeat=moves,
            budget_s=budget_s,
            size=len,
        ),
        baseline=measure(
            lambda i: straightforward(scored, SLIDER[i % len(SLIDER)]),
            repeat=repeat,
            budget_s=budget_s,
            size=lambda m: m.raised,
        ),
    )
