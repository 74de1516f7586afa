"""The model lab wired to this platform: its folders, the alarm threshold in force and the
simulator as a source of labelled histories, handed to ``ml.lab.runs`` (which reads no
settings itself); and the small models the demo trains on its first start."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from config import Settings
from data.db import Database
from maintenance.ops.app_settings import Overrides
from ml.dataset import RunToFailure
from ml.lab.runs import LabSetup, backtest_and_promote
from ml.train_register import train_and_register
from ml.windows import Params
from simulator.labelled import labelled_history

__all__ = ["lab_setup", "simulated", "demo_training"]


def simulated(
    machines: int,
    days: float,
    seed: int,
    *,
    end: datetime | None = None,
    progress: bool = False,
) -> RunToFailure:
    """A labelled history of a simulated demo fleet (faults at random, ground truth kept),
    ending at ``end`` (default: now)."""
    readings, failures = labelled_history(
        machines=machines, days=days, seed=seed, end=end, progress=progress
    )
    return RunToFailure(readings, failures)


def lab_setup(settings: Settings, db: Database, overrides: Overrides | None = None) -> LabSetup:
    """What the lab's runs need from this installation; ``overrides``: the process's own
    reader of the settings changed in the app (a worker has one), else a new one."""
    overrides = overrides or Overrides(settings, db)
    return LabSetup(
        models_dir=settings.effective_models_dir,
        results_dir=settings.var_dir / "lab",
        live_step_s=settings.live_step_s,
        time_scale=settings.ml_step_s / settings.live_step_s,
        auto_promote=settings.lab_auto_promote,
        failure_threshold=overrides.failure_threshold_with,
        simulate=simulated,
    )


def demo_training(
    settings: Settings, db: Database, *, progress: Callable[[str, float], None] | None = None
) -> dict[str, int]:
    """The small models the embedded demo trains on first start (well under a minute),
    backtested and activated."""
    data = simulated(15, 6, settings.simulator_seed + 1000)
    versions = train_and_register(
        db=db,
        models_dir=settings.effective_models_dir,
        data=data,
        params=Params(epochs=4, stride=10, family="auto"),
        progress=progress,
    )
    backtest_and_promote(db, lab_setup(settings, db), versions)
    return versions
