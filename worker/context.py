"""What every job body is handed: the settings, the database, and the state jobs keep."""

from __future__ import annotations

from dataclasses import dataclass, field

from config import Settings
from data.db import Database
from data.live_window import LiveWindow
from ingest.writer import Drainer
from maintenance.ops.app_settings import Overrides
from ml.live_context import LifeContext
from ml.scoring import FleetScorer

__all__ = ["JobContext", "ScoringState"]


@dataclass(slots=True)
class ScoringState:
    """What the score job keeps between runs: the active models, their registry versions
    (reloaded when those change), the machines' life context and the window of bucket means
    (``data.live_window``: a tick reads only the buckets that changed)."""

    scorer: FleetScorer | None = None
    versions: dict[str, int] | None = None
    life: LifeContext | None = None
    window: LiveWindow | None = None


@dataclass(frozen=True, slots=True)
class JobContext:
    """One worker's jobs share this; ``overrides`` gives the settings changed in the app
    (no restart), ``settings`` those the process started with."""

    settings: Settings
    db: Database
    overrides: Overrides
    drainer: Drainer
    scoring: ScoringState = field(default_factory=ScoringState)
