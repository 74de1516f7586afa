"""Tiny real models (IsolationForest + Keras LSTM) trained on a small simulated fleet; the
registry; the scoring job's consequences in the database."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from factories import make_settings
from sqlalchemy import select

from data.models import Alarm, AlarmSource, ModelStatus, ModelVersion, Prediction, Ticket
from maintenance.alarming.prediction_alarms import FAILURE_CODE, apply_predictions
from maintenance.ops.demo_seed import seed_demo
from maintenance.ops.model_lab import lab_setup, simulated
from ml.alarm_policy import PredictionPolicy, live_hysteresis
from ml.anomaly import AnomalyModel
from ml.blend import BlendFailureModel
from ml.evaluate import score_windows
from ml.failure import FailureModel
from ml.features import lstm_inputs, window_features
from ml.inputs import failure_scores, load_failure_model, tree_features
from ml.lab.runs import backtest_and_promote
from ml.pipeline import train
from ml.registry import active_versions, promote, rollback
from ml.scoring import FleetScorer, MachineScore
from ml.train_register import train_and_register
from ml.trees import COLUMN_SETS, TreeFailureModel
from ml.windows import Params, build_windows

PARAMS = Params(window=30, epochs=3, stride=10, n_estimators=50, units=16)


@pytest.fixture(scope="module", params=["tree", "lstm", "blend", "tree-rul"])
def tiny(request):
    """A small model of each family; "tree-rul": forests whose probability is their remaining
    life calibrated (``probability_source="rul"``)."""
    family, _, source = request.param.partition("-")
    params = replace(PARAMS, family=family, probability_source=source or "classifier")
    return train(simulated(machines=9, days=4, seed=3), params)


def test_failing_machines_score_above_healthy_ones(tiny):
    held_out = build_windows(simulated(machines=6, days=3, seed=11), PARAMS, stride=5)
    failing = held_out.faulty & (held_out.ttf_h < 1.5)
    healthy = ~held_out.faulty & (held_out.ttf_h > 2 * PARAMS.horizon_h)
    assert failing.sum() > 10 and healthy.sum() > 100
    prob, rul = tiny.predict(held_out.x3, held_out.types, held_out.context())
    anomaly = tiny.anomaly.score(
        window_features(held_out.x3, held_out.types, tiny.baseline), held_out.types
    )
    assert prob[failing].mean() > prob[healthy].mean() + 0.3
    assert anomaly.score[failing].mean() > anomaly.score[healthy].mean() + 0.3
    assert np.median(rul[failing]) < np.median(rul[healthy])
    assert all(len(t) == 2 for t in anomaly.top_sensors)


def test_live_scoring_and_evaluation_give_the_same_score_for_the_same_window(tiny, tmp_path):
    held_out = build_windows(simulated(machines=4, days=2, seed=12), PARAMS, stride=50)
    evaluated = score_windows(tiny, held_out, rules_steps=20, progress=False)
    root = tmp_path / tiny.family
    tiny.save(root)  # live scoring loads the artefacts, as the worker does
    if tiny.params.probability_source == "rul":  # no classifier: the RUL forest decides
        assert tiny.failure.classifier is None and tiny.failure.probability == "rul"
    meta = json.loads((root / "failure" / "baseline.json").read_text())
    live = FleetScorer(
        anomaly=AnomalyModel.load(root / "anomaly"),
        failure=load_failure_model(root / "failure"),
        meta=meta,
        versions={"anomaly": 1, "failure": 1},
    )
    ids = np.arange(len(held_out.ends))
    scores = live.score(held_out.x3, held_out.types, ids, context=held_out.context())
    assert len(scores) > 0.9 * len(ids)  # stopped machines are not scored live
    by_id = {s.machine_id: s for s in scores}
    scored = np.array(sorted(by_id))
    assert np.allclose([by_id[i].failure_probability for i in scored], evaluated.prob[scored])
    assert np.allclose([by_id[i].rul_hours for i in scored], evaluated.rul_h[scored], atol=1e-4)
    assert np.allclose([by_id[i].anomaly_score for i in scored], evaluated.anomaly[scored])
    saved_as = getattr(live.failure, "probability", None)  # the LSTM has one probability
    assert saved_as == getattr(tiny.failure, "probability", None)


@pytest.mark.parametrize("tiny", ["tree"], indirect=True)
def test_machines_of_a_type_the_models_never_learned_are_left_to_the_rules(tiny, tmp_path, caplog):
    held_out = build_windows(simulated(machines=4, days=2, seed=12), PARAMS, stride=50)
    tiny.save(tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "failure" / "baseline.json").read_text())
    live = FleetScorer(
        anomaly=AnomalyModel.load(tmp_path / "m" / "anomaly"),
        failure=load_failure_model(tmp_path / "m" / "failure"),
        meta=meta,
        versions={"anomaly": 1, "failure": 1},
    )
    types = held_out.types.copy()
    types[::2] = "fan"  # a type joined the fleet after the models were trained
    ids = np.arange(len(types))
    args = (held_out.x3, types, ids)
    with caplog.at_level("WARNING", logger="ml.scoring"):
        scored = {s.machine_id for s in live.score(*args, context=held_out.context())}
        live.score(*args, context=held_out.context())
    assert scored and not scored & set(ids[::2].tolist())
    same = live.score(held_out.x3, held_out.types, ids, context=held_out.context())
    assert scored < {s.machine_id for s in same}  # the same windows are scored as their type
    told = [r for r in caplog.records if "'fan' are not scored" in r.getMessage()]
    assert len(told) == 1  # said once, not at every scoring


@pytest.mark.parametrize("tiny", ["blend"], indirect=True)
def test_a_blend_with_the_lstms_probability_keeps_it_through_save_and_load(tiny, tmp_path):
    held_out = build_windows(simulated(machines=4, days=2, seed=12), PARAMS, stride=50)
    x3, types, context = held_out.x3, held_out.types, held_out.context()
    # what the blend's forest sees besides the window is recorded as for a forest alone
    forest = tiny.failure.tree
    columns = (forest.context, forest.extremes, bool(forest.switches))
    assert COLUMN_SETS[tiny.losses["tree_columns"]] == columns
    variant = BlendFailureModel(tiny.failure.tree, tiny.failure.lstm, probability="lstm")
    variant.save(tmp_path / "blend")
    loaded = load_failure_model(tmp_path / "blend")
    assert isinstance(loaded, BlendFailureModel) and loaded.probability == "lstm"
    args = (x3, types, context, tiny.baseline, tiny.type_names)
    prob, rul = failure_scores(loaded, *args)
    lstm_prob, lstm_rul = failure_scores(tiny.failure.lstm, *args)
    tree_prob, tree_rul = failure_scores(tiny.failure.tree, *args)
    assert np.allclose(prob, lstm_prob) and not np.allclose(prob, tree_prob)
    assert np.allclose(rul, (lstm_rul + tree_rul) / 2, atol=1e-4)
    # the forest's probability stays the default, and blends saved before the choice load so
    assert load_failure_model_as_saved_before(tiny, tmp_path).probability == "tree"


def load_failure_model_as_saved_before(tiny, tmp_path):
    tiny.failure.save(tmp_path / "old")
    (tmp_path / "old" / "failure.json").write_text(json.dumps({"family": "blend"}))
    return load_failure_model(tmp_path / "old")


def test_registry_promotes_and_rolls_back(db, tmp_path):
    data = simulated(machines=3, days=1, seed=5)
    quick = Params(window=30, epochs=1, stride=20, n_estimators=20, units=8)
    first = train_and_register(db=db, models_dir=tmp_path, data=data, params=quick)
    backtest_and_promote(db, lab_setup(make_settings(tmp_path), db), first)
    second = train_and_register(db=db, models_dir=tmp_path, data=data, params=quick)
    assert first == {"anomaly": 1, "failure": 1} and second == {"anomaly": 2, "failure": 2}
    with db.session() as s:
        assert active_versions(session=s) == first
        promote(session=s, kind="failure", version=2)
        assert active_versions(session=s) == {"anomaly": 1, "failure": 2}
        assert rollback(session=s, kind="failure").version == 1
        statuses = dict(
            s.execute(
                select(ModelVersion.version, ModelVersion.status).where(
                    ModelVersion.kind == "failure"
                )
            ).all()
        )
        assert statuses == {1: ModelStatus.ACTIVE, 2: ModelStatus.CANDIDATE}
        assert rollback(session=s, kind="anomaly") is None  # nothing earlier to go back to


def _score(machine_id: int, prob: float, anomaly: float = 0.1) -> MachineScore:
    return MachineScore(machine_id, anomaly, anomaly >= 0.5, prob, 3.0, ["vibration"])


def test_one_failure_episode_opens_exactly_one_alarm_and_ticket(db, tmp_path):
    from config import load_settings

    seed_demo(load_settings(var_dir=tmp_path, demo_machines=3), db)
    policy = PredictionPolicy(clear_after=timedelta(minutes=1))
    t0 = datetime.now(UTC)
    # probability climbs, wobbles around the threshold, stays high, then falls for good
    series = [0.2, 0.5, 0.85, 0.75, 0.9, 0.65, 0.95, 0.97, 0.3, 0.2, 0.1, 0.1]
    for i, p in enumerate(series):
        with db.session() as s:
            apply_predictions(
                session=s,
                scores=[_score(1, p), _score(2, 0.05)],
                now=t0 + timedelta(seconds=30 * i),
                policy=policy,
            )
    with db.session() as s:
        alarms = s.scalars(select(Alarm).where(Alarm.source == AlarmSource.PREDICTION)).all()
        tickets = s.scalars(select(Ticket).where(Ticket.code == FAILURE_CODE)).all()
        assert len(alarms) == 1 and alarms[0].machine_id == 1
        assert alarms[0].cleared_at is not None  # cleared after a minute below 0.6
        assert len(tickets) == 1 and tickets[0].priority.value == "CRITICAL"
        # the title stays true for the ticket's life: no probability of the moment in it
        assert (
            tickets[0].title == "motor-01: failure predicted (probability over the 80% threshold)"
        )


def _healthy(machine: str) -> dict[str, float]:
    from simulator.fleet_physics import MACHINE_TYPES

    kind = MACHINE_TYPES[machine.split("-")[0]]
    return {"temperature": kind.temp, "vibration": kind.vibration, "rpm": kind.rpm}


def test_scoring_job_writes_predictions_with_model_versions(stack, tmp_path):
    from data.fleet_queries import sensor_directory
    from data.readings import insert_readings
    from worker import Worker
    from worker.live_scoring import prediction_policy, score

    settings = stack.settings.model_copy(update={"ml_time_scale": 60.0})  # 1 s per step
    seed_demo(settings, stack.db)
    data = simulated(machines=3, days=1, seed=5)
    quick = Params(window=30, epochs=1, stride=20, n_estimators=20, units=8)
    versions = train_and_register(db=stack.db, models_dir=tmp_path, data=data, params=quick)
    backtest_and_promote(stack.db, lab_setup(stack.settings, stack.db), versions)
    now = datetime.now(UTC)
    with stack.db.session() as s:
        rows = [
            (
                sid,
                now - timedelta(seconds=i),
                _healthy(m)[key] + (i % 3) * 0.01,
            )
            for (m, key), sid in sensor_directory(session=s).items()
            for i in range(300)  # five minutes: the job's 32 s window still finds a full one
        ]  # when a loaded machine takes a while to get there
        insert_readings(session=s, rows=rows)
    worker = Worker(settings, stack.db)  # not started: the job body is called directly
    # the live anomaly hold is the one the model lab replays, at any saved threshold
    for threshold in (0.7, 0.4):
        tuned = settings.model_copy(update={"anomaly_threshold": threshold})
        policy = prediction_policy(Worker(tuned, stack.db).context)
        assert policy.anomaly_threshold == threshold
        assert policy.anomaly_clear_below == live_hysteresis("anomaly", threshold)[0]
        assert policy.anomaly_clear_below < threshold
    assert score(worker.context) == 3
    with stack.db.session() as s:
        predictions = s.scalars(select(Prediction)).all()
    assert len(predictions) == 3
    assert all(p.model_versions == {"anomaly": 1, "failure": 1} for p in predictions)
    assert all(0 <= p.failure_probability <= 1 and p.rul_hours >= 0 for p in predictions)
    # a machine that stands still is not scored: it has already failed, rules say so
    with stack.db.session() as s:
        rpm = next(
            sid
            for (m, key), sid in sensor_directory(session=s).items()
            if m == "pump-01" and key == "rpm"
        )
        # the last seconds: mostly zeros among the healthy readings already there
        now = datetime.now(UTC)
        stopped = [
            (rpm, now - timedelta(seconds=k + f / 10), 0.0) for k in range(5) for f in range(1, 9)
        ]
        insert_readings(session=s, rows=stopped)
    assert score(worker.context) == 2


def test_history_from_the_database_finds_breakdowns(db, tmp_path):
    from config import load_settings
    from data.fleet_queries import sensor_directory
    from data.readings import insert_readings
    from ml.lab.plant_history import history_from_db

    seed_demo(load_settings(var_dir=tmp_path, demo_machines=3), db)
    now = datetime.now(UTC).replace(microsecond=0)
    healthy = {"temperature": 55.0, "vibration": 1.8, "rpm": 1480.0}
    with db.session() as s:
        sensors = sensor_directory(session=s)
        rows = []
        for (machine, key), sid in sensors.items():
            for i in range(120):  # two minutes at one reading per second
                value = healthy[key]
                if machine == "motor-01" and key == "rpm" and 60 <= i < 90:
                    value = 0.0  # stopped for 30 s, then repaired
                rows.append((sid, now - timedelta(seconds=120 - i), value))
        insert_readings(session=s, rows=rows)
        data = history_from_db(session=s, days=1, step_s=1.0, time_scale=60.0)
    assert data.readings["unit"].nunique() == 3
    assert len(data.readings) == 3 * 120
    [stop] = data.failures.itertuples()
    assert stop.unit == "motor-01"
    # 60 physics seconds per wall second: the 30 s stop lasts 29 physics minutes
    assert (stop.repaired - stop.failure) == timedelta(minutes=29)


def test_an_anomaly_warning_needs_a_sustained_score(db, tmp_path):
    from config import load_settings
    from maintenance.alarming.prediction_alarms import ANOMALY_CODE, store_predictions

    seed_demo(load_settings(var_dir=tmp_path, demo_machines=3), db)
    policy = PredictionPolicy(anomaly_sustained=3)
    t0 = datetime.now(UTC)
    for i, score in enumerate([0.9, 0.2, 0.9, 0.9, 0.95]):  # a blip, then three in a row
        with db.session() as s:
            scores = [_score(1, 0.1, anomaly=score)]
            store_predictions(
                session=s, scores=scores, now=t0 + timedelta(seconds=5 * i), versions={}
            )
            apply_predictions(
                session=s, scores=scores, now=t0 + timedelta(seconds=5 * i), policy=policy
            )
        with db.session() as s:
            raised = s.scalars(select(Alarm).where(Alarm.code == ANOMALY_CODE)).all()
        assert len(raised) == (1 if i == 4 else 0), i


def test_an_lstm_of_the_previous_release_still_scores(tmp_path):
    """Active models survive the upgrade: an LSTM that learned without the life context is
    scored without it (its inputs are the steps and the type only)."""
    data = simulated(machines=3, days=1, seed=5)
    params = Params(window=30, epochs=1, stride=20, n_estimators=20, family="tree")
    trained = train(data, params)
    w = build_windows(data, params)
    old = FailureModel(
        window=30, n_inputs=3 + len(trained.type_names), horizon_h=6, rul_cap_h=24, units=8
    )
    x = lstm_inputs(w.x3, w.types, trained.baseline, trained.type_names)
    old.fit(x, (w.ttf_h <= 6).astype("float32"), w.ttf_h.astype("float32"), epochs=1)
    old.save(tmp_path / "failure")
    loaded = load_failure_model(tmp_path / "failure")
    prob, rul = failure_scores(
        loaded, w.x3, w.types, w.context(), trained.baseline, trained.type_names
    )
    assert loaded.family == "lstm" and prob.shape == rul.shape == (len(w.ends),)
    assert np.allclose(prob, old.predict(x)[0])


def test_a_forest_sees_the_lives_drift_when_it_helps_and_one_of_the_previous_release_still_scores(
    tmp_path,
):
    """Whether the forests see each sensor's drift since early life and its wear rate, and
    its extremes in the window, is decided on out-of-fold errors and recorded; a forest with
    the drift scores the same window differently in a life that started elsewhere, and keeps
    both across save and load; a forest saved without ``context`` and ``extremes`` (earlier
    releases) is scored on the window alone."""
    data = simulated(machines=4, days=2, seed=6)
    params = Params(window=30, epochs=1, stride=10, n_estimators=20, family="tree")
    trained = train(data, params)
    chosen = COLUMN_SETS[trained.losses["tree_columns"]]
    assert (trained.failure.context, trained.failure.extremes, False) == chosen
    # the simulator's sensors are all measurements: no switch levels to choose
    without_switches = {name for name, columns in COLUMN_SETS.items() if not columns[2]}
    assert set(trained.losses["oof_rul_rmse_h_by_columns"]) == without_switches

    w = build_windows(data, params)
    ctx = w.context()
    model = TreeFailureModel(horizon_h=6, rul_cap_h=24, context=True, extremes=True)
    model.fit(
        tree_features(w.x3, w.types, ctx, trained.baseline, extremes=True),
        fail=(w.ttf_h <= 6).astype(float),
        fail_known=w.fail_known(6),
        rul_h=w.ttf_h,
        rul_known=w.rul_known(24),
        val=np.zeros(len(w.ends), bool),
        units=w.units,
    )
    n_window = window_features(w.x3[:2], w.types[:2], trained.baseline).shape[1]
    # the window, each sensor's lowest and highest value in it, its drift and wear rate
    assert model.regressor.n_features_in_ == n_window + 4 * len(data.sensors)
    names = trained.type_names
    _, rul = failure_scores(model, w.x3, w.types, ctx, trained.baseline, names)
    shifted = replace(ctx, early=ctx.early - 5 * np.array(trained.baseline.std[w.types[0]]))
    _, rul_shifted = failure_scores(model, w.x3, w.types, shifted, trained.baseline, names)
    assert not np.allclose(rul, rul_shifted)
    model.save(tmp_path / "new")
    again = load_failure_model(tmp_path / "new")
    assert again.context and again.extremes
    assert np.allclose(failure_scores(again, w.x3, w.types, ctx, trained.baseline, names)[1], rul)

    plain = window_features(w.x3, w.types, trained.baseline)
    model.context = model.extremes = False
    model.regressor.fit(plain, np.minimum(w.ttf_h, 24))
    model.classifier.fit(plain, w.ttf_h <= 6)
    model.save(tmp_path / "old")
    saved = json.loads((tmp_path / "old" / "failure.json").read_text())
    del saved["context"], saved["extremes"], saved["rul_map"]  # as an earlier release wrote it
    (tmp_path / "old" / "failure.json").write_text(json.dumps(saved))
    loaded = load_failure_model(tmp_path / "old")
    assert loaded.family == "tree" and not loaded.context and not loaded.extremes
    _, rul_old = failure_scores(loaded, w.x3, w.types, shifted, trained.baseline, names)
    assert np.allclose(rul_old, model.regressor.predict(plain))
