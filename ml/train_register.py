"""Train both models on a labelled history and register them as candidates.

The command that does it from the terminal is ``python -m cli.train``; the lab's runs and the
demo's first start call ``train_and_register`` too. Activating a pair needs a backtest on
record first (``ml.lab.runs.backtest_and_promote``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from data.db import Database
from ml.dataset import RunToFailure
from ml.features import feature_names
from ml.pipeline import Trained, train
from ml.registry import register
from ml.windows import Params

__all__ = ["train_and_register"]

log = logging.getLogger(__name__)


def train_and_register(
    *,
    db: Database,
    models_dir: Path,
    data: RunToFailure,
    params: Params,
    progress: Callable[[str, float], None] | None = None,
    on_epoch: Callable[[int, dict], None] | None = None,
    extra_metrics: dict | None = None,
) -> dict[str, int]:
    """Train on ``data``, store the artefacts under ``models_dir``, register both as
    candidates; returns {kind: version}."""
    started = time.perf_counter()
    trained: Trained = train(data, params, progress, on_epoch)
    root = models_dir / datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    anomaly_dir, failure_dir = trained.save(root)
    seconds = round(time.perf_counter() - started, 1)
    span = data.span()
    extra = extra_metrics or {}
    if trained.reference is not None:  # windows per type kept for drift checks
        extra = {**extra, "reference": trained.reference.summary()}
    metrics = {
        "anomaly": {"train_seconds": seconds, **extra},
        "failure": {"train_seconds": seconds, "family": trained.family, **trained.losses, **extra},
    }
    versions = {}
    with db.session() as session:
        for kind, path in (("anomaly", anomaly_dir), ("failure", failure_dir)):
            model = register(
                session=session,
                kind=kind,
                artefact=path,
                params=asdict(params),
                features=feature_names(data.sensors),
                metrics=metrics[kind],
                train_from=span[0],
                train_to=span[1],
            )
            versions[kind] = model.version
    log.info("trained in %.1fs: %s", seconds, versions)
    return versions
