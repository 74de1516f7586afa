"""The model lab's runs on both databases: a training run queued as from the page and run by
the worker's job, a backtest of its candidate against the active pair, the promotion guard,
and the closed loop's labels from technicians' verdicts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from factories import add_user, make_settings, wait_until
from sqlalchemy import select

from data.fleet_queries import sensor_directory
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
from data.readings import insert_readings
from maintenance.ops.demo_seed import seed_demo
from maintenance.ops.model_lab import lab_setup
from ml.lab.backtest import has_backtest, promote_pair
from ml.lab.labels import new_labels_since, verdicts
from ml.lab.params import LabError
from ml.lab.plant_history import history_from_db
from ml.lab.queue import queue_run
from ml.lab.runs import run_next
from ml.lab.scored import ScoredSet, tuning_set
from ml.registry import active_versions
from ml.windows import Params, build_windows, verdict_weights

SMALL = {"machines": 4, "days": 2.0, "seed": 3, "window": 30, "epochs": 2, "family": "lstm"}


def _run(db, settings, **queue) -> LabRun:
    with db.session() as s:
        run_id = queue_run(session=s, **queue).id
    assert run_next(db, lab_setup(settings, db)) == 1
    with db.session() as s:
        run = s.get(LabRun, run_id)
        s.expunge(run)
    return run


def test_train_backtest_promote(db, tmp_path):
    settings = make_settings(tmp_path)
    engineer = add_user(db, "eng", Role.ENGINEER)
    assert run_next(db, lab_setup(settings, db)) == 0  # nothing queued

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
    assert run_next(db, lab_setup(settings, db)) == 1
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


def test_plant_history_takes_the_verdicts_and_training_weighs_them(db, tmp_path):
    """Readings of one machine for a day; a ticket confirmed as a real failure the rpm never
    showed, and a false alarm: the first is a failure of the history, both ride along as
    verdicts, and the windows before them weigh ``verdict_weight``."""
    seed_demo(make_settings(tmp_path, demo_machines=1), db)
    end = datetime.now(UTC).replace(second=0, microsecond=0)
    with db.session() as s:
        machine = s.scalars(select(Machine).order_by(Machine.id)).first()
        sensors = {
            k: sid for (m, k), sid in sensor_directory(session=s).items() if m == machine.name
        }
        rows = [
            (sensors[kind], end - timedelta(minutes=i), value)
            for i in range(24 * 60)
            for kind, value in (("temperature", 60.0), ("vibration", 2.0), ("rpm", 1500.0))
        ]
        insert_readings(session=s, rows=rows)
        for hours_ago, confirmed in ((10, True), (4, False)):
            s.add(
                Ticket(
                    machine_id=machine.id,
                    code="PRED_FAILURE",
                    title="t",
                    priority=Priority.CRITICAL,
                    status=TicketStatus.RESOLVED,
                    created_at=end - timedelta(hours=hours_ago),
                    resolved_at=end - timedelta(hours=hours_ago - 1),
                    failure_confirmed=confirmed,
                )
            )
        name = machine.name
    with db.session() as s:
        data = history_from_db(session=s, days=2, step_s=60, labels=True)
    assert list(data.failures["unit"]) == [name]  # the rpm never stopped: the verdict says so
    failure = data.failures["failure"].iat[0]
    assert abs((failure - (end - timedelta(hours=9))).total_seconds()) <= 60  # resolved time
    assert list(data.verdicts["confirmed"]) == [True, False]

    params = Params(window=30, stride=5, horizon_h=2.0, verdict_weight=3.0)
    w = build_windows(data, params)
    weights = verdict_weights(w, data.verdicts, params)
    told = data.verdicts["time"].map(lambda t: t.timestamp()).to_numpy()
    near = np.zeros(len(w.ends), bool)
    for t in told:
        near |= (w.ends <= t) & (w.ends >= t - 2 * 3600)
    assert near.sum() > 10 and (~near).sum() > 10
    assert (weights[near] == 3.0).all() and (weights[~near] == 1.0).all()


def test_the_weekly_retrain_promotes_only_when_a_setting_allows(db, tmp_path):
    quiet = make_settings(tmp_path)  # PDM_LAB_AUTO_PROMOTE off: the default
    assert quiet.lab_auto_promote is False
    first = _run(db, quiet, kind="retrain", params=SMALL, user_id=None)
    assert first.status is LabRunStatus.DONE, first.error
    assert first.result["promoted"] is False and first.result["beats_active"] is True
    with db.session() as s:
        assert active_versions(session=s) == {}  # it won (nothing active), still not promoted
        assert has_backtest(s, {"anomaly": 1, "failure": 1}) is not None  # its own backtest

    allowed = make_settings(tmp_path, lab_auto_promote=True)
    second = _run(db, allowed, kind="retrain", params={**SMALL, "seed": 8}, user_id=None)
    assert second.status is LabRunStatus.DONE, second.error
    assert second.result["promoted"] is True
    with db.session() as s:
        assert active_versions(session=s) == {"anomaly": 2, "failure": 2}


def test_the_worker_runs_queued_lab_runs_and_queues_the_weekly_retrain(stack, tmp_path):
    from data.models import JobRun
    from worker import Worker
    from worker.lab_jobs import retrain

    worker = Worker(stack.settings, stack.db)
    with stack.db.session() as s:
        run_id = queue_run(session=s, kind="train", params=SMALL, user_id=None).id
        cut = queue_run(session=s, kind="train", params=SMALL, user_id=None)
        cut.status = LabRunStatus.RUNNING  # a worker stopped in the middle of this one
        s.flush()
        cut_id = cut.id
    worker.start()
    try:
        assert wait_until(lambda: _status(stack.db, run_id) is LabRunStatus.DONE, timeout=120)
    finally:
        worker.stop()
    with stack.db.session() as s:
        assert s.scalar(select(JobRun.id).where(JobRun.job == "lab", JobRun.ok.is_(True)))
        cut = s.get(LabRun, cut_id)
        assert cut.status is LabRunStatus.FAILED and "interrupted" in cut.error
    assert retrain(worker.context) == 1  # the Monday job's body: queue, the lab job runs it
    with stack.db.session() as s:
        queued = s.scalars(select(LabRun).where(LabRun.kind == "retrain")).one()
        assert queued.status is LabRunStatus.QUEUED
        assert queued.params["source"] == "plant+simulator"


def _status(db, run_id: int) -> LabRunStatus:
    with db.session() as s:
        return s.get(LabRun, run_id).status
