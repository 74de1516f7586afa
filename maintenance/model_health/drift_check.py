"""One drift check: the recent period's live windows and scorings of every machine type
against the active model's training reference (``ml.drift_live``), stored as ``drift_results``
rows, one per type and feature or score."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from data.models import DriftResult, Machine, Prediction
from ml.drift_live import LiveWindows, MachineDrift, TypeDrift, machine_drift, type_drift
from ml.drift_reference import PREDICTIONS, Reference
from ml.features import Baseline

__all__ = ["DriftRules", "period_scores", "prune_checks", "store_check"]


@dataclass(frozen=True, slots=True)
class DriftRules:
    """The drift settings in force: a feature's PSI that counts as drift, how many checks in a
    row raise the alarm, and the fewest live windows a type needs to be judged."""

    psi_threshold: float
    alarm_checks: int
    min_windows: int
    machine_psi_threshold: float = 2.0  # one machine's level features against its type's


def period_scores(*, session: Session, since: datetime) -> pd.DataFrame:
    """The scorings since ``since``: index machine id, columns type and the scores."""
    rows = session.execute(
        select(
            Prediction.machine_id,
            Machine.type,
            Prediction.anomaly_score,
            Prediction.failure_probability,
        )
        .join(Machine, Machine.id == Prediction.machine_id)
        .where(Prediction.ts >= since)
    ).all()
    frame = pd.DataFrame(rows, columns=["machine_id", "type", *PREDICTIONS])
    return frame.set_index("machine_id").astype({n: float for n in PREDICTIONS})


def prune_checks(*, session: Session, before: datetime) -> int:
    """Forget the checks made before ``before`` (about 20 rows per type every 5 minutes);
    returns how many rows went."""
    result = session.execute(delete(DriftResult).where(DriftResult.checked_at < before))
    return int(getattr(result, "rowcount", 0) or 0)


def store_check(
    *,
    session: Session,
    reference: Reference | None,
    baseline: Baseline,
    live: LiveWindows,
    scores: pd.DataFrame,
    types: list[str],
    period: tuple[datetime, datetime],
    model_version: int | None,
    rules: DriftRules,
    now: datetime,
) -> list[DriftResult]:
    """Compare every type in ``types`` and add its rows (flushed, not committed): per input
    feature and score, and per level feature the machine that moved most on its own (kind
    "machine")."""
    common: dict[str, object] = {"checked_at": now, "period_start": period[0]}
    common |= {"period_end": period[1], "model_version": model_version}
    rows: list[DriftResult] = []
    machines = None
    if reference is not None:
        machines = machine_drift(reference=reference, baseline=baseline, live=live)
    for kind in types:
        drift = None
        if reference is not None:
            drift = type_drift(
                reference=reference,
                baseline=baseline,
                live=live,
                scores=scores[scores["type"] == kind],
                machine_type=kind,
            )
        if drift is None:
            rows.append(DriftResult(machine_type=kind, status="no reference", **common))
            continue
        rows += _rows(drift, int((live.types == kind).sum()), reference, rules, common)
        if machines is not None:
            rows += _machine_rows(machines, kind, reference, rules, common)
    session.add_all(rows)
    session.flush()
    return rows


def _rows(
    drift: TypeDrift,
    windows: int,
    reference: Reference | None,
    rules: DriftRules,
    common: dict[str, object],
) -> list[DriftResult]:
    assert reference is not None
    n_reference = len(reference.by_type[drift.machine_type].features)
    d = drift.drift
    out = []
    for i, name in enumerate(drift.names):
        judged = drift.n_current[i] >= rules.min_windows and windows >= rules.min_windows
        over = judged and bool(d.psi[i] >= rules.psi_threshold)
        out.append(
            DriftResult(
                machine_type=drift.machine_type,
                feature=name,
                kind="prediction" if name in PREDICTIONS else "input",
                status=("drift" if over else "ok") if judged else "too few",
                psi=_num(d.psi[i]),
                ks_stat=_num(d.ks[i]),
                p_value=_num(d.p_value[i]),
                missing_rate=_num(drift.missing[i]),
                out_of_range_rate=_num(d.out_of_range[i]),
                n_reference=n_reference,
                n_current=int(drift.n_current[i]),
                worst_machine_id=int(drift.worst_machine[i])
                if drift.worst_machine[i] > 0
                else None,
                reference_shares=np.round(d.reference_shares[i], 4).tolist(),
                current_shares=np.round(d.current_shares[i], 4).tolist(),
                **common,
            )
        )
    return out


def _machine_rows(
    machines: MachineDrift,
    kind: str,
    reference: Reference | None,
    rules: DriftRules,
    common: dict[str, object],
) -> list[DriftResult]:
    """Per level feature, the type's machine with the highest PSI of its own windows
    against the type's reference (machines with fewer than the minimum windows left out)."""
    assert reference is not None
    judged = (machines.types == kind) & (machines.windows >= rules.min_windows)
    if not judged.any():
        return []
    psi = np.where(judged[:, None] & np.isfinite(machines.psi), machines.psi, -np.inf)
    out = []
    for j, name in enumerate(machines.names):
        row = int(np.argmax(psi[:, j]))
        value = float(psi[row, j])
        if not np.isfinite(value):
            continue
        out.append(
            DriftResult(
                machine_type=kind,
                feature=name,
                kind="machine",
                status="drift" if value >= rules.machine_psi_threshold else "ok",
                psi=_num(value),
                n_reference=len(reference.by_type[kind].features),
                n_current=int(machines.windows[row]),
                worst_machine_id=int(machines.machine_ids[row]),
                **common,
            )
        )
    return out


def _num(x: float) -> float | None:
    return None if not np.isfinite(x) else round(float(x), 6)
