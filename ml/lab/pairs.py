"""The registry seen as the lab sees it: pairs of models trained together (one anomaly and
one failure version from the same run), with their status and latest backtest."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.models import ModelStatus, ModelVersion

__all__ = ["Pair", "model_pairs", "family_name"]


@dataclass(frozen=True, slots=True)
class Pair:
    anomaly: int
    failure: int
    status: str  # active | candidate | retired | mixed
    created_at: datetime
    params: dict
    metrics: dict

    @property
    def key(self) -> str:
        return f"{self.anomaly}:{self.failure}"

    @property
    def versions(self) -> dict:
        return {"anomaly": self.anomaly, "failure": self.failure}

    @property
    def family(self) -> str:
        """The failure model's family in words."""
        return family_name(self.metrics.get("family"))

    @property
    def label(self) -> str:
        return f"anomaly v{self.anomaly} + failure v{self.failure} ({self.family})"


def family_name(family: str | None) -> str:
    """A failure model family in words (models of earlier releases recorded none: the LSTM)."""
    return {"tree": "random forest", "blend": "forest + LSTM"}.get(family or "lstm", "LSTM")


def model_pairs(*, session: Session) -> list[Pair]:
    """Newest first. Models trained together share their artefact directory's parent."""
    rows = session.scalars(select(ModelVersion).order_by(ModelVersion.id.desc())).all()
    anomalies = {str(Path(m.artefact).parent): m for m in rows if m.kind == "anomaly"}
    pairs = []
    for f in (m for m in rows if m.kind == "failure"):
        a = anomalies.get(str(Path(f.artefact).parent))
        if a is None:
            continue
        statuses = {a.status, f.status}
        status = statuses.pop().value if len(statuses) == 1 else "mixed"
        if status == "mixed" and ModelStatus.ACTIVE in {a.status, f.status}:
            status = "partly active"
        pairs.append(Pair(a.version, f.version, status, f.created_at, f.params, f.metrics))
    return pairs
