"""A lab run's progress, stage and loss curve, written to its row as the run goes."""

from __future__ import annotations

import time

from sqlalchemy import update

from data.db import Database
from data.models import LabRun

__all__ = ["Reporter", "Scaled"]


class Reporter:
    """Writes a run's progress to its row, at most every half second (the last one always)."""

    def __init__(self, db: Database, run_id: int) -> None:
        self.db, self.run_id, self.last = db, run_id, 0.0
        self.curve: list[dict] = []

    def __call__(self, stage: str, fraction: float, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < 0.5 and fraction < 1:
            return
        self.last = now
        with self.db.session() as session:
            session.execute(
                update(LabRun)
                .where(LabRun.id == self.run_id)
                .values(stage=stage[:200], progress=round(min(max(fraction, 0.0), 1.0), 4))
            )

    def epoch(self, epoch: int, logs: dict) -> None:
        self.curve.append({"epoch": epoch + 1, **{k: round(float(v), 5) for k, v in logs.items()}})
        with self.db.session() as session:
            session.execute(
                update(LabRun).where(LabRun.id == self.run_id).values(curve=list(self.curve))
            )


class Scaled:
    """A reporter for one part of a longer run (progress offset + share)."""

    def __init__(self, report: Reporter | Scaled, share: float, offset: float) -> None:
        self.report, self.share, self.offset = report, share, offset
        self.curve: list[dict] = report.curve

    def __call__(self, stage: str, fraction: float, *, force: bool = False) -> None:
        self.report(stage, self.offset + self.share * fraction, force=force)

    def epoch(self, epoch: int, logs: dict) -> None:
        self.report.epoch(epoch, logs)
