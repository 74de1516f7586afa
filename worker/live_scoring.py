"""The ``score`` job: every machine with enough recent data through the active models in one
batch; the predictions are stored and drive the prediction alarms."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import numpy as np
from prometheus_client import Counter, Gauge

from data.fleet_queries import machine_names
from data.live_window import LiveWindow
from maintenance.alarming.prediction_alarms import (
    apply_predictions,
    in_wall_time,
    store_predictions,
)
from ml.alarm_policy import PredictionPolicy
from ml.live_context import LifeContext
from ml.registry import active_versions
from ml.scoring import FleetScorer, assemble
from worker.context import JobContext

__all__ = ["current_scorer", "prediction_policy", "score"]

log = logging.getLogger(__name__)
PREDICTIONS = Counter("pdm_predictions_total", "Machine scorings written")
ML_MODE = Gauge(
    "pdm_ml_mode", "1 for the mode in force: models, or threshold rules alone", ["mode"]
)


def score(ctx: JobContext, shard: tuple[int, int] | None = None) -> int:
    """Score every machine with enough recent data; predictions drive alarms. ``shard``
    (k, K): only the machines with machine_id % K == k (measured in bench/scoring_shards.py;
    the schedule runs the whole fleet on the lease holder)."""
    scorer = current_scorer(ctx)
    if scorer is None:
        return 0
    now = datetime.now(UTC)
    step = ctx.settings.live_step_s
    end_bucket = int(now.timestamp() // step) - 1
    with ctx.db.session() as session:
        frame = _window(ctx, step, shard).frame(
            session=session, first_bucket=end_bucket - scorer.window + 1, last_bucket=end_bucket
        )
    x3, types, ids = assemble(
        frame, window=scorer.window, sensors=scorer.sensors, end_bucket=end_bucket
    )
    with ctx.db.session() as session:
        context = _life(ctx, scorer)(session, ids, scorer.sensors, now)
    scores = scorer.score(x3, types, ids, _names(ctx, ids), context)
    scores = in_wall_time(scores=scores, time_scale=ctx.settings.live_time_scale)
    with ctx.db.session() as session:
        store_predictions(session=session, scores=scores, now=now, versions=scorer.versions)
        apply_predictions(session=session, scores=scores, now=now, policy=prediction_policy(ctx))
    PREDICTIONS.inc(len(scores))
    return len(scores)


def prediction_policy(ctx: JobContext) -> PredictionPolicy:
    """The alarm thresholds in force (settings changed in the app included)."""
    s = ctx.overrides.current()
    return PredictionPolicy(
        failure_threshold=s.failure_threshold,
        failure_clear_below=s.failure_clear_below,
        anomaly_threshold=s.anomaly_threshold,
        clear_after=timedelta(seconds=s.alarm_clear_after_s),
    )


def current_scorer(ctx: JobContext) -> FleetScorer | None:
    """The active models, reloaded when the registry's active versions change."""
    state = ctx.scoring
    with ctx.db.session() as session:
        versions = active_versions(session=session)
        if versions != state.versions:
            state.scorer = FleetScorer.from_registry(session) if versions else None
            state.versions = versions
            log.info("scoring with %s", versions or "threshold rules only (no active model)")
    ML_MODE.labels("models").set(1 if state.scorer else 0)
    ML_MODE.labels("rules").set(0 if state.scorer else 1)
    return state.scorer


def _names(ctx: JobContext, ids: np.ndarray) -> np.ndarray:
    """Machine names for the ids, so each machine is judged against its own baseline."""
    with ctx.db.session() as session:
        names = machine_names(session=session)
    return np.array([names.get(int(i), "") for i in ids])


def _window(ctx: JobContext, step_s: float, shard: tuple[int, int] | None) -> LiveWindow:
    """The bucket means kept between ticks (new when the live step or the shard changed)."""
    state = ctx.scoring
    if state.window is None or (state.window.step_s, state.window.shard) != (step_s, shard):
        state.window = LiveWindow(step_s=step_s, shard=shard)
    return state.window


def _life(ctx: JobContext, scorer: FleetScorer) -> LifeContext:
    """The machines' current lives, as the active models' window sees them."""
    window_s = scorer.window * ctx.settings.live_step_s
    state = ctx.scoring
    if state.life is None or state.life.window_s != window_s:
        scale = ctx.settings.ml_step_s / ctx.settings.live_step_s
        state.life = LifeContext(window_s=window_s, scale=scale)
    return state.life
