"""The model lab's runs on both databases: a training run queued as from the page and run by
the worker's job, a backtest of its candidate against the active pair, the promotion guard,
and the closed loop's labels from technicians' verdicts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from factories import add_user, make_settings
from sqlalchemy import select

from data.models import (
    AuditLog,
    Downtime,
    DowntimeKind,
    LabRun,
    LabRunStatus,
    Machine,
    Priority,
    Role,
    Ticket,
    TicketStatus,
)
from ml.lab.labels import new_labels_since, verdicts
from ml.lab.runs import LabError, promote_pair, queue_run, run_next
from ml.lab.scored import ScoredSet, tuning_set
from ml.registry import active_versions
from worker import seed_demo

SMALL = {"machines": 4, "days": 2.0, "seed": 3, "window": 30, "epochs": 2}


def _run(db, settings, **queue) -> LabRun:
    with db.session() as s:
        run_id = queue_run(session=s, **queue).id
    assert run_next(db, settings) == 1
    with db.session() as s:
        run = s.get(LabRun, run_id)
        s.expunge(run)
    return run


def test_train_backtest_promote(db, tmp_path):
    settings = make_settings(tmp_path)
    engineer = add_user(db, "eng", Role.ENGINEER)
    assert run_next(db, settings) == 0  # nothing queued

    train = _run(db, settings, kind="train", params=SMALL, user_id=engineer)
    assert train.status is LabRunStatus.DONE, train.error
    assert (train.anomaly_version, train.failure_version) == (1, 1)
    assert [p["epoch"] for p in train.curve] == [1, 2] and train.curve[-1]["loss"] > 0
    assert train.progress == 1.0 and train.result["failures"] > 0
    pair = {"anomaly": 1, "failure": 1}

    with db.session() as s, pytest.raises(LabError, match="No backtest"):
        promote_pair(session=s, pair=pair, user_id=engineer)
    with db.session() as s:
        assert active_versions(session=s) == {}

    bt = _run(
        db,
        settings,
        kind="backtest",
        params={"machines": 3, "days": 2.0, "seed": 77},
        user_id=engineer,
        anomaly_version=1,
        failure_version=1,
    )
    assert bt.status is LabRunStatus.DONE, bt.error
    metrics = bt.result["metrics"]["candidate"]
    assert set(metrics) >= {"recall", "precision", "false_alarms_per_machine_week"}
    assert "active" not in bt.result["metrics"]  # nothing active to compare with yet
    scored = ScoredSet.load(tmp_path / "var" / "lab" / f"run-{bt.id}")
    assert set(scored.scores["unit"]) and scored.meta["horizon_h"] == 6.0

    with db.session() as s:
        promote_pair(session=s, pair=pair, user_id=engineer)
    with db.session() as s:
        assert active_versions(session=s) == pair
        actions = s.scalars(select(AuditLog.action).where(AuditLog.user_id == engineer)).all()
        assert {"lab.train", "lab.backtest", "model.promote"} <= set(actions)
        found = tuning_set(s)
        assert found is not None and found[1] == "candidate"  # the active pair's scores

    # a second candidate is replayed next to the active pair, on the same windows
    train2 = _run(db, settings, kind="train", params={**SMALL, "seed": 5}, user_id=engineer)
    bt2 = _run(
        db,
        settings,
        kind="backtest",
        params={"machines": 3, "days": 2.0, "seed": 77},
        user_id=engineer,
        anomaly_version=train2.anomaly_version,
        failure_version=train2.failure_version,
    )
    assert bt2.status is LabRunStatus.DONE, bt2.error
    side = bt2.result["metrics"]
    assert set(side) == {"candidate", "active"}
    assert side["active"]["machine_weeks"] == pytest.approx(side["candidate"]["machine_weeks"])
    assert isinstance(bt2.result["beats_active"], bool)
    with db.session() as s:
        assert tuning_set(s)[1] == "active"  # v1 is still the active one


def test_bad_parameters_are_refused_with_the_field(db):
    with db.session() as s:
        with pytest.raises(LabError) as bad:
            queue_run(session=s, kind="train", params={"epochs": 0}, user_id=None)
        assert bad.value.field == "epochs"
        with pytest.raises(LabError) as bad:
            queue_run(session=s, kind="train", params={"features": []}, user_id=None)
        assert bad.value.field == "features"
        with pytest.raises(LabError, match="no failure model v9|no anomaly model v9"):
            queue_run(
                session=s,
                kind="backtest",
                params={},
                user_id=None,
                anomaly_version=9,
                failure_version=9,
            )
        assert s.scalars(select(LabRun)).all() == []


def test_a_failing_run_is_recorded_not_raised(db, tmp_path):
    settings = make_settings(tmp_path)
    with db.session() as s:  # the plant has no readings: a plant-only run cannot start
        run_id = queue_run(
            session=s, kind="train", params={**SMALL, "source": "plant"}, user_id=None
        ).id
    assert run_next(db, settings) == 1
    with db.session() as s:
        run = s.get(LabRun, run_id)
        assert run.status is LabRunStatus.FAILED and "no readings" in run.error


def test_verdicts_are_labels(db, tmp_path):
    settings = make_settings(tmp_path, demo_machines=2)
    seed_demo(settings, db)
    now = datetime.now(UTC)
    with db.session() as s:
        machine_id = s.scalar(select(Machine.id).order_by(Machine.id).limit(1))
        real = Ticket(
            machine_id=machine_id,
            code="PRED_FAILURE",
            title="t",
            priority=Priority.CRITICAL,
            status=TicketStatus.RESOLVED,
            created_at=now - timedelta(hours=5),
            started_at=now - timedelta(hours=4),
            resolved_at=now - timedelta(hours=3),
            failure_confirmed=True,
        )
        false = Ticket(
            machine_id=machine_id,
            code="ANOMALY",
            title="t",
            priority=Priority.HIGH,
            status=TicketStatus.RESOLVED,
            created_at=now - timedelta(hours=2),
            resolved_at=now - timedelta(hours=1),
            failure_confirmed=False,
        )
        s.add_all([real, false])
        s.flush()
        s.add(
            Downtime(
                machine_id=machine_id,
                kind=DowntimeKind.BREAKDOWN,
                started_at=now - timedelta(hours=4, minutes=30),
                ended_at=now - timedelta(hours=3),
                ticket_id=real.id,
            )
        )
    with db.session() as s:
        told = verdicts(session=s)
        assert list(told["confirmed"]) == [True, False]
        # a confirmed failure is dated by its breakdown, a false alarm by its ticket
        assert (
            abs((told["time"].iat[0] - (now - timedelta(hours=4, minutes=30))).total_seconds()) < 1
        )
        assert abs((told["time"].iat[1] - (now - timedelta(hours=2))).total_seconds()) < 1
        counts = new_labels_since(session=s, since=now - timedelta(hours=3, minutes=30))
        assert counts == {"confirmed": 1, "false_alarms": 1, "breakdowns": 1, "total": 3}
        assert new_labels_since(session=s, since=datetime.now(UTC))["total"] == 0
