"""Run-to-failure data from outside the project through the documented CLIs: held-out
evaluation beside the same-run baseline, and training that promotes only after a backtest
on held-out units of the same data."""

from __future__ import annotations

import json
import math
import re

import pandas as pd
import pytest
from factories import make_settings, wear_history, write_history
from sqlalchemy import select

from cli.evaluate import JSON_KEYS
from cli.evaluate import main as evaluate_main
from cli.train import main as train_main
from data.db import Database, upgrade_schema
from data.models import LabRun, LabRunStatus, ModelVersion
from ml import pipeline
from ml.dataset import load_csv
from ml.families import pick
from ml.registry import active_versions
from ml.windows import Params

SMALL = ["--window", "12", "--rul-cap-h", "24", "--train-stride", "2"]


@pytest.fixture
def external(tmp_path):
    """Training and test presses (another seed, other units) as CSV files."""
    train_files = write_history(tmp_path / "train", *wear_history(units=12, seed=1))
    test_files = write_history(tmp_path / "test", *wear_history(units=6, seed=2, ids="int"))
    return train_files, test_files


@pytest.mark.parametrize("family", ["tree", "auto"])
def test_evaluate_json_on_supplied_data_reports_model_and_baseline(external, capsys, family):
    (r, f), (r2, f2) = external
    argv = ["--train-readings", str(r), "--train-failures", str(f)]
    argv += ["--test-readings", str(r2), "--test-failures", str(f2), "--json", "--no-progress"]
    argv += SMALL + ["--family", family, "--epochs", "3", "--stride", "2"]
    argv += ["--horizon-h", "6"] if family == "tree" else []  # auto: chosen on training units
    result = evaluate_main(argv)
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(JSON_KEYS) <= set(line)
    assert line["family"] in ("tree", "lstm", "blend")
    assert family == "auto" or line["family"] == family
    for key in ("rul_rmse_h", "rul_rmse_last2h_h", "baseline_rul_rmse_h", "recall", "train_s"):
        assert line[key] is not None and math.isfinite(line[key]), key
    assert line["rul_rmse_h"] < 12  # lives are 20–40 h: guessing the cap would be far worse
    assert line["anomaly_auc"] is not None  # no onsets given: near vs far from a failure
    assert line["rul_rmse_at_last_h"] is None  # no --test-rul given
    assert line["horizon_h"] in ((6.0,) if family == "tree" else (6.0, 12.0, 18.0, 24.0))
    if family == "auto":  # every candidate up to the RUL cap was replayed out of fold
        assert set(result["horizon_choice"]) == {"6", "12", "18", "24"}
        # the alarms come from the forest (its probability chosen with H); the LSTM may only
        # join for the remaining life, in the blend
        assert set(result["family_choice"]) == {"tree", "blend"}
        assert line["family"] in ("tree", "blend")
        # judged on both RUL targets: overall and in the last 2 h (lives of 20-40 h: every
        # held-out unit fails, so both are measured)
        for scores in result["family_choice"].values():
            assert scores["val_rul_rmse_h"] > 0 and scores["val_rul_rmse_last2h_h"] > 0
        assert line["family"] == pick(result["family_choice"])


def test_evaluate_counts_caught_failures_by_mode_when_the_failures_name_it(external, capsys):
    (r, f), (r2, f2) = external
    named = pd.read_csv(f2)
    named["mode"] = ["bearing" if i % 2 else "seal" for i in range(len(named))]
    named.to_csv(f2, index=False)
    argv = ["--train-readings", str(r), "--train-failures", str(f), "--family", "tree"]
    argv += ["--test-readings", str(r2), "--test-failures", str(f2), "--no-progress"]
    result = evaluate_main([*argv, *SMALL, "--horizon-h", "6", "--stride", "2"])
    for who in ("", "baseline_"):
        by_mode = result[f"{who}caught_by_mode"]
        assert set(by_mode) == {"bearing", "seal"}
        assert sum(caught for caught, _ in by_mode.values()) == result[f"{who}caught"]
        assert sum(counted for _, counted in by_mode.values()) == result["failures"]
    printed = capsys.readouterr().out
    caught, counted = result["caught_by_mode"]["seal"]
    assert re.search(rf"caught, seal +{caught} of {counted} +\d+ of {counted}\n", printed)
    # what the forests see, in the words the lab uses ("window + drift, extremes")
    assert re.search(r"forest columns  window( \+ [a-z ,]+)? \(chosen", printed), printed


@pytest.mark.parametrize(("family", "expected"), [("lstm", 0.8), ("tree", 0.9)])
def test_the_chosen_threshold_goes_to_the_forests_not_to_an_lstm_asked_by_name(
    monkeypatch, tmp_path, family, expected
):
    # the threshold is chosen with H on the forests' out-of-fold probability: it says nothing
    # about the LSTM's, which keeps the product's 0.8. The choice itself is fixed here (its
    # own tests are in tests/unit/test_horizon.py) so that it asks for 0.9.
    def chose(*_args, **_kwargs):
        return 12.0, "classifier", 0.9, {"horizon_h": 12.0, "alarm_threshold": 0.9}

    monkeypatch.setattr(pipeline, "choose_horizon", chose)
    data = load_csv(*write_history(tmp_path, *wear_history(units=8, seed=1)))
    params = Params(window=12, step_s=600.0, stride=4, epochs=1, family=family, choose_horizon=True)
    trained = pipeline.train(data, params)
    assert trained.params.horizon_h == 12.0
    assert trained.params.alarm_threshold == expected == trained.losses["alarm_threshold"]


def test_evaluate_scores_still_running_units_at_their_last_reading(tmp_path, capsys):
    train_files = write_history(tmp_path / "train", *wear_history(units=10, seed=1))
    readings, failures = wear_history(units=5, seed=3)
    cut = readings.groupby("unit").head(120)  # every test unit still runs: 20 h of its life
    last = cut.groupby("unit")["time"].max()
    rul = (failures.set_index("unit")["failure"] - last).dt.total_seconds() / 3600
    test_r, _ = write_history(tmp_path / "test", cut, failures.iloc[:0])
    rul.rename("rul_h").reset_index().to_csv(tmp_path / "rul.csv", index=False)
    argv = ["--train-readings", str(train_files[0]), "--train-failures", str(train_files[1])]
    argv += [
        "--test-readings",
        str(test_r),
        "--test-failures",
        str(tmp_path / "test" / "failures.csv"),
    ]
    argv += ["--test-rul", str(tmp_path / "rul.csv"), "--json", "--no-progress"] + SMALL
    result = evaluate_main(argv)
    assert result["units_at_last"] == 5
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (
        line["rul_rmse_at_last_h"] is not None and line["baseline_rul_rmse_at_last_h"] is not None
    )
    assert line["recall"] is None  # no failure in the test data: nothing to catch


def test_promote_on_supplied_csvs_backtests_on_their_held_out_units(
    external, tmp_path, monkeypatch
):
    settings = make_settings(tmp_path)
    monkeypatch.setenv("PDM_VAR_DIR", str(settings.var_dir))
    (r, f), _ = external
    train_main(
        ["--source", "csv", "--readings", str(r), "--failures", str(f), "--promote"]
        + ["--window", "12", "--horizon-h", "6", "--stride", "2"]
    )
    db = Database(settings.effective_database_url)
    upgrade_schema(db.engine)
    with db.session() as s:
        assert active_versions(session=s) == {"anomaly": 1, "failure": 1}
        run = s.scalar(select(LabRun).where(LabRun.kind == "backtest"))
        assert run.status is LabRunStatus.DONE, run.error
        assert run.params["source"] == "supplied"
        units = run.result["metrics"]["candidate"]
        assert units["failures"] == 3  # a quarter of the 12 presses, each ran to failure once
        failure = s.scalar(select(ModelVersion).where(ModelVersion.kind == "failure"))
        assert failure.metrics["family"] in ("tree", "lstm", "blend")  # auto: the best on held-out
        assert failure.params["step_s"] == 600.0 and failure.params["family"] == "auto"
