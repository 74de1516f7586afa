"""Drift measurements: PSI of the live window features against a trained model's reference on
simulated fleets with no change (the control) and with changes made on purpose, the delay
until the drift alarm's condition holds, and the time of one drift check over 1,000 machines.

    python -m bench.drift            # trains small models (about a minute), prints the tables

Scenarios, each a fresh simulated fleet of another seed than training, the change starting
at ``--change-at-h`` into it: ``control`` (none); ``recalibration`` (one machine's
temperature sensor reads +3 °C after a recalibration); ``recalibration_type`` (the same
offset on every machine of one type); ``ambient`` (temperature of every machine rises
linearly by 3 °C over 12 h, a hotter summer in fast motion); ``duty`` (one type runs at 90 %
of its rpm). Checks run every ``--check-h`` model hours over the last ``--period-h`` hours;
the alarm holds when ``--runs`` checks in a row have a feature above the PSI threshold.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import joblib
import numpy as np
import pandas as pd

from maintenance.ops.model_lab import simulated
from ml.drift_live import LiveWindows, period_windows, type_drift
from ml.drift_reference import PREDICTIONS
from ml.features import epoch_seconds
from ml.pipeline import Trained, train
from ml.windows import Params
from worker.drift_job import MAX_WINDOWS

SENSORS = ("temperature", "vibration", "rpm")


def as_frame(readings: pd.DataFrame, step_s: float) -> pd.DataFrame:
    """Long readings (unit, type, time, sensors…) as the database's bucketed frame."""
    ids = {u: i + 1 for i, u in enumerate(sorted(readings["unit"].unique()))}
    wide = readings.assign(
        machine_id=readings["unit"].map(ids),
        bucket=(epoch_seconds(readings["time"]) // step_s).astype("int64"),
    )
    long = wide.melt(
        id_vars=["machine_id", "type", "bucket"],
        value_vars=list(SENSORS),
        var_name="kind",
        value_name="value",
    )
    return long[["machine_id", "type", "kind", "bucket", "value"]]


def scores_of(trained: Trained, live: LiveWindows, kind: str) -> pd.DataFrame:
    """What the score job would have stored for the type's windows."""
    rows = live.types == kind
    x3, types = live.x3[rows], live.types[rows]
    from ml.features import window_features
    from ml.inputs import Context

    anomaly = trained.anomaly.score(window_features(x3, types, trained.baseline), types).score
    prob, _ = trained.predict(x3, types, Context(np.full(len(x3), 24.0)))
    return pd.DataFrame(
        {"anomaly_score": anomaly, "failure_probability": prob}, index=live.machine_ids[rows]
    )


SCENARIOS = (
    "control",
    "recalibration",
    "recalibration_8",
    "recalibration_type",
    "ambient",
    "duty",
)


def change(readings: pd.DataFrame, scenario: str, start: pd.Timestamp) -> pd.DataFrame:
    """The readings with the scenario's change from ``start`` on."""
    out = readings.copy()
    after = out["time"] >= start
    first_type = sorted(out["type"].unique())[0]
    if scenario in ("recalibration", "recalibration_8"):
        unit = sorted(out.loc[out["type"] == first_type, "unit"].unique())[0]
        offset = 8.0 if scenario == "recalibration_8" else 3.0
        out.loc[after & (out["unit"] == unit), "temperature"] += offset
    elif scenario == "recalibration_type":
        out.loc[after & (out["type"] == first_type), "temperature"] += 3.0
    elif scenario == "ambient":
        hours = (out["time"] - start).dt.total_seconds() / 3600
        out.loc[after, "temperature"] += (3.0 * hours / 12).clip(upper=3.0)[after]
    elif scenario == "duty":
        out.loc[after & (out["type"] == first_type), "rpm"] *= 0.9
    return out


def checks(trained: Trained, frame: pd.DataFrame, args: argparse.Namespace) -> pd.DataFrame:
    """PSI of every feature and type at every check: rows (hour, type, feature, psi)."""
    step = trained.params.step_s
    period = int(args.period_h * 3600 / step)
    first, last = int(frame["bucket"].min()), int(frame["bucket"].max())
    reference = trained.reference
    assert reference is not None
    out = []
    for end in range(first + period, last + 1, int(args.check_h * 3600 / step)):
        live = period_windows(
            frame,
            sensors=SENSORS,
            window=trained.params.window,
            stride=5,
            first_bucket=end - period + 1,
            last_bucket=end,
            max_per_type=MAX_WINDOWS,
        )
        for kind in reference.by_type:
            d = type_drift(
                reference=reference,
                baseline=trained.baseline,
                live=live,
                scores=scores_of(trained, live, kind),
                machine_type=kind,
            )
            assert d is not None
            hour = (end - first) * step / 3600
            out += [
                (hour, kind, n, "prediction" if n in PREDICTIONS else "input", p, k)
                for n, p, k in zip(d.names, d.drift.psi, d.drift.p_value, strict=True)
            ]
    return pd.DataFrame(out, columns=["hour", "type", "feature", "kind", "psi", "p"])


def false_alarms(table: pd.DataFrame, threshold: float, runs: int, days: float) -> float:
    """Alarms the control would have raised per type-month (a raise: the ``runs``-th check
    in a row over the threshold on any input feature of the type)."""
    table = table[table["kind"] == "input"]
    raised = 0
    for _, part in table.groupby("type"):
        over = (part.groupby("hour")["psi"].max() >= threshold).astype(int)
        streak = over.groupby((over == 0).cumsum()).cumsum()
        raised += int((streak == runs).sum())
    return raised / (table["type"].nunique() * days / 30)


def delay(table: pd.DataFrame, threshold: float, runs: int, change_at: float) -> str:
    """Hours from the change to the check where ``runs`` checks in a row had an input feature
    over ``threshold`` (any type; the alarm's rule), and which feature was worst then."""
    table = table[table["kind"] == "input"]
    worst = table.loc[table.groupby("hour")["psi"].idxmax()].set_index("hour")
    over = (worst["psi"] >= threshold).astype(int)
    streak = over.groupby((over == 0).cumsum()).cumsum()
    hit = streak[streak >= runs]
    if hit.empty:
        return "none"
    hour = float(hit.index[0])
    row = worst.loc[hour]
    return f"{hour - change_at:+.1f} h ({row['type']} {row['feature']}, PSI {row['psi']:.2f})"


def timing(
    trained: Trained,
    frame: pd.DataFrame,
    machines: int,
    period_h: float,
    cap: int | None = MAX_WINDOWS,
) -> float:
    """Seconds of one check over ``machines`` machines (the fleet tiled with new ids), with
    the job's cap of windows per type or (``cap`` None, the baseline) every window."""
    step = trained.params.step_s
    last = int(frame["bucket"].max())
    period = int(period_h * 3600 / step)
    part = frame[frame["bucket"] > last - period]
    n = part["machine_id"].max()
    big = pd.concat(
        [part.assign(machine_id=part["machine_id"] + k * n) for k in range(machines // n + 1)]
    )
    big = big[big["machine_id"] <= machines]
    reference = trained.reference
    assert reference is not None
    scores = pd.DataFrame(
        {"anomaly_score": np.random.default_rng(0).random(machines * 72)},
        index=np.repeat(np.arange(machines), 72),
    ).assign(failure_probability=0.01)
    started = time.perf_counter()
    live = period_windows(
        big,
        sensors=SENSORS,
        window=trained.params.window,
        stride=5,
        first_bucket=last - period + 1,
        last_bucket=last,
        max_per_type=cap,
    )
    for kind in reference.by_type:
        type_drift(
            reference=reference,
            baseline=trained.baseline,
            live=live,
            scores=scores,
            machine_type=kind,
        )
    return time.perf_counter() - started


def print_timing(trained: Trained, base: pd.DataFrame, args: argparse.Namespace) -> None:
    """Seconds of one check over 100 and 1,000 machines, three runs each (median), with the
    job's cap and, as the same-run baseline, with every window."""
    frame = as_frame(base, trained.params.step_s)
    print("| machines | one check, capped (median of 3) | every window (baseline) |")
    print("| ---: | ---: | ---: |")
    for machines in (100, 1000):
        capped = sorted(timing(trained, frame, machines, args.period_h) for _ in range(3))
        every = sorted(timing(trained, frame, machines, args.period_h, None) for _ in range(3))
        print(f"| {machines} | {capped[1]:.2f} s | {every[1]:.2f} s |")


def trained_models(args: argparse.Namespace) -> Trained:
    """Small models on a simulated fleet (tree family), kept in ``--cache`` if given."""
    if args.cache and Path(args.cache).exists():
        return joblib.load(args.cache)
    started = time.perf_counter()
    trained = train(
        simulated(args.machines, args.train_days, 11), Params(family="tree", n_estimators=100)
    )
    print(f"trained in {time.perf_counter() - started:.0f} s")
    if args.cache:
        joblib.dump(trained, args.cache)
    return trained


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--machines", type=int, default=15)
    parser.add_argument("--train-days", type=float, default=6)
    parser.add_argument("--days", type=float, default=4)
    parser.add_argument("--change-at-h", type=float, default=36)
    parser.add_argument("--period-h", type=float, default=24)
    parser.add_argument("--check-h", type=float, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cache", help="keep the trained models in this joblib file")
    parser.add_argument("--timing", action="store_true", help="only time one check")
    parser.add_argument("--thresholds", type=float, nargs="+", default=[0.1, 0.25, 0.5, 1.0])
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=UserWarning)  # sklearn's, once per predict
    trained = trained_models(args)
    base = simulated(args.machines, args.days, 12).readings
    if args.timing:
        return print_timing(trained, base, args)
    start = base["time"].min() + pd.Timedelta(hours=args.change_at_h)
    tables = {}
    for scenario in SCENARIOS:
        frame = as_frame(change(base, scenario, start), trained.params.step_s)
        tables[scenario] = checks(trained, frame, args)
    print(
        "\n| scenario | input PSI before the change: max (p95) | input PSI after: max (feature) "
        "| score PSI after: max (score) | "
        + " | ".join(f"delay at PSI ≥ {t}" for t in args.thresholds)
        + " |"
    )
    print("| --- | ---: | ---: | ---: |" + " --- |" * len(args.thresholds))
    for scenario, table in tables.items():
        inputs = table[table["kind"] == "input"]
        scores = table[table["kind"] == "prediction"]
        before = inputs[inputs["hour"] <= args.change_at_h]
        after = inputs[inputs["hour"] > args.change_at_h]
        worst = after.loc[after["psi"].idxmax()]
        late = scores[scores["hour"] > args.change_at_h]
        worst_score = late.loc[late["psi"].idxmax()]
        cells = [delay(table, t, args.runs, args.change_at_h) for t in args.thresholds]
        print(
            f"| {scenario} | {before['psi'].max():.3f} ({before['psi'].quantile(0.95):.3f}) | "
            f"{worst['psi']:.2f} ({worst['type']} {worst['feature']}) | "
            f"{worst_score['psi']:.2f} ({worst_score['type']} {worst_score['feature']}) | "
            + " | ".join(cells)
            + " |"
        )
    checked_days = (args.days * 24 - args.period_h) / 24
    rates = [false_alarms(tables["control"], t, args.runs, checked_days) for t in args.thresholds]
    print(
        f"\ncontrol: false drift alarms per type-month over {checked_days:.1f} days of checks: "
        + ", ".join(f"{r:.1f} at {t}" for r, t in zip(rates, args.thresholds, strict=True))
    )
    control = tables["control"]
    per_feature = control.groupby("feature")["psi"].max().sort_values()
    print("\ncontrol, highest PSI per feature over every check and type:")
    print(per_feature.round(3).to_string())
    print_timing(trained, base, args)


if __name__ == "__main__":
    main()
