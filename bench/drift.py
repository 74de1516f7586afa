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
from ml.drift_live import LiveWindows, machine_drift, period_windows, type_drift
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
    "new_type",
)
NEW_TYPE = "fan"  # a type the models never saw


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
    elif scenario == "new_type":  # five machines of a new type join the fleet at the change
        new = out.loc[after & (out["type"] == first_type)].copy()
        new["unit"] = new["unit"].str.replace(first_type, NEW_TYPE)
        new["type"] = NEW_TYPE
        new["temperature"] += 10.0  # another machine: runs hotter
        out = pd.concat([out, new], ignore_index=True)
    return out


def checks(trained: Trained, frame: pd.DataFrame, args: argparse.Namespace) -> pd.DataFrame:
    """PSI of every feature and type at every check, and of every machine's level features
    (kind "machine", with its id): rows (hour, type, feature, kind, psi, p, machine)."""
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
        hour = (end - first) * step / 3600
        for kind in np.unique(live.types):
            if kind not in reference.by_type:  # type_drift's None: the job's "no reference"
                out.append((hour, kind, "", "no reference", np.nan, np.nan, -1))
                continue
            d = type_drift(
                reference=reference,
                baseline=trained.baseline,
                live=live,
                scores=scores_of(trained, live, kind),
                machine_type=kind,
            )
            assert d is not None
            out += [
                (hour, kind, n, "prediction" if n in PREDICTIONS else "input", p, k, -1)
                for n, p, k in zip(d.names, d.drift.psi, d.drift.p_value, strict=True)
            ]
        per = machine_drift(reference=reference, baseline=trained.baseline, live=live)
        assert per is not None
        for row, machine in enumerate(per.machine_ids):
            out += [
                (hour, str(per.types[row]), n, "machine", float(p), np.nan, int(machine))
                for n, p in zip(per.names, per.psi[row], strict=True)
            ]
    return pd.DataFrame(out, columns=["hour", "type", "feature", "kind", "psi", "p", "machine"])


def false_alarms(
    table: pd.DataFrame, threshold: float, runs: int, days: float, kind: str = "input"
) -> float:
    """Alarms the control would have raised per type-month (a raise: the ``runs``-th check
    in a row over the threshold on any input feature of the type; ``kind`` "machine": on any
    machine's own level features)."""
    table = table[table["kind"] == kind]
    raised = 0
    for _, part in table.groupby("type"):
        over = (part.groupby("hour")["psi"].max() >= threshold).astype(int)
        streak = over.groupby((over == 0).cumsum()).cumsum()
        raised += int((streak == runs).sum())
    return raised / (table["type"].nunique() * days / 30)


def delay(
    table: pd.DataFrame, threshold: float, runs: int, change_at: float, kind: str = "input"
) -> str:
    """Hours from the change to the check where ``runs`` checks in a row had an input feature
    over ``threshold`` (any type; the alarm's rule), and which feature was worst then
    (``kind`` "machine": a machine's own levels, and which machine)."""
    table = table[table["kind"] == kind]
    worst = table.loc[table.groupby("hour")["psi"].idxmax()].set_index("hour")
    over = (worst["psi"] >= threshold).astype(int)
    streak = over.groupby((over == 0).cumsum()).cumsum()
    hit = streak[streak >= runs]
    if hit.empty:
        return "none"
    hour = float(hit.index[0])
    row = worst.loc[hour]
    who = f"machine {row['machine']} " if kind == "machine" else ""
    return f"{hour - change_at:+.1f} h ({who}{row['type']} {row['feature']}, PSI {row['psi']:.2f})"


def timing(
    trained: Trained,
    frame: pd.DataFrame,
    machines: int,
    period_h: float,
    cap: int | None = MAX_WINDOWS,
) -> tuple[float, float]:
    """Seconds of one check over ``machines`` machines (the fleet tiled with new ids), with
    the job's cap of windows per type or (``cap`` None, the baseline) every window: the
    type check (windows, features, statistics) and then every machine's own check."""
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
    typed = time.perf_counter()
    machine_drift(reference=reference, baseline=trained.baseline, live=live)
    return typed - started, time.perf_counter() - typed


def print_timing(trained: Trained, base: pd.DataFrame, args: argparse.Namespace) -> None:
    """Seconds of one check over 100 and 1,000 machines, three runs each (median), with the
    job's cap and, as the same-run baseline, with every window; the machines' own check
    (every window of every machine, by cumulative sums) timed after the capped one."""
    frame = as_frame(base, trained.params.step_s)
    print(
        "| machines | type check, capped (median of 3) | + every machine's own check "
        "| total | type check over every window (baseline) |"
    )
    print("| ---: | ---: | ---: | ---: | ---: |")
    for machines in (100, 1000):
        capped = sorted(timing(trained, frame, machines, args.period_h) for _ in range(3))
        typed, own = capped[1]
        every = sorted(timing(trained, frame, machines, args.period_h, None)[0] for _ in range(3))
        print(
            f"| {machines} | {typed:.2f} s | {own:.2f} s | {typed + own:.2f} s | {every[1]:.2f} s |"
        )


def new_type_scores(trained: Trained, frame: pd.DataFrame, args: argparse.Namespace) -> str:
    """What the models say about the new type's windows in the last period (they score it
    with another type's forest and the average type's baseline), against its source type's
    machines: the share of windows with an anomaly score ≥ 0.5 and a failure probability
    ≥ 0.8 (the live alarm thresholds)."""
    step = trained.params.step_s
    last = int(frame["bucket"].max())
    live = period_windows(
        frame,
        sensors=SENSORS,
        window=trained.params.window,
        stride=5,
        first_bucket=last - int(args.period_h * 3600 / step) + 1,
        last_bucket=last,
        max_per_type=MAX_WINDOWS,
    )
    cells = []
    for kind in (sorted(set(live.types) - {NEW_TYPE})[0], NEW_TYPE):
        got = scores_of(trained, live, kind)
        anomalous = (got["anomaly_score"] >= 0.5).mean()
        failing = (got["failure_probability"] >= 0.8).mean()
        cells.append(f"{kind}: {anomalous:.0%} anomalous, {failing:.0%} over 0.8")
    return "; ".join(cells)


def _judged(table: pd.DataFrame, unknown: pd.DataFrame) -> int:
    """Machines of the types without a reference that the machine check judged anyway."""
    mine = table["type"].isin(unknown["type"]) & (table["kind"] == "machine")
    return int(table.loc[mine, "machine"].nunique())


def print_machine_table(
    tables: dict[str, pd.DataFrame], args: argparse.Namespace, checked_days: float
) -> None:
    """Each machine's own check: the highest PSI of any machine's level features before and
    after the change, the alarm's delay at each machine threshold, the control's false
    alarms per machine-month."""
    print(
        "\n| scenario | machine PSI before the change: max (machine, feature) | after: max | "
        + " | ".join(f"delay at machine PSI ≥ {t}" for t in args.machine_thresholds)
        + " |"
    )
    print("| --- | --- | --- |" + " --- |" * len(args.machine_thresholds))
    for scenario, table in tables.items():
        rows = table[table["kind"] == "machine"]
        cells = []
        for part in (rows[rows["hour"] <= args.change_at_h], rows[rows["hour"] > args.change_at_h]):
            top = part.loc[part["psi"].idxmax()]
            cells.append(f"{top['psi']:.2f} ({top['machine']}, {top['type']} {top['feature']})")
        cells += [
            delay(table, t, args.runs, args.change_at_h, "machine") for t in args.machine_thresholds
        ]
        print(f"| {scenario} | " + " | ".join(cells) + " |")
    if "control" in tables:
        rows = tables["control"][tables["control"]["kind"] == "machine"]
        machines = rows["machine"].nunique()
        raised = [
            false_alarms(rows, t, args.runs, checked_days, "machine")
            for t in args.machine_thresholds
        ]
        print(
            f"control ({machines} machines): false machine drift alarms per type-month: "
            + ", ".join(
                f"{r:.2f} at {t}" for r, t in zip(raised, args.machine_thresholds, strict=True)
            )
        )


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
    parser.add_argument("--skip-timing", action="store_true", help="scenarios only")
    parser.add_argument("--thresholds", type=float, nargs="+", default=[0.1, 0.25, 0.5, 1.0])
    parser.add_argument("--machine-thresholds", type=float, nargs="+", default=[1.5, 2.0, 3.0])
    parser.add_argument("--scenarios", nargs="+", choices=SCENARIOS, default=list(SCENARIOS))
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=UserWarning)  # sklearn's, once per predict
    trained = trained_models(args)
    base = simulated(args.machines, args.days, 12).readings
    if args.timing:
        return print_timing(trained, base, args)
    start = base["time"].min() + pd.Timedelta(hours=args.change_at_h)
    tables = {}
    for scenario in args.scenarios:
        frame = as_frame(change(base, scenario, start), trained.params.step_s)
        tables[scenario] = checks(trained, frame, args)
        if scenario == "new_type":
            print("new_type, the last period's windows:", new_type_scores(trained, frame, args))
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
    for scenario, table in tables.items():
        unknown = table[table["kind"] == "no reference"]
        if not unknown.empty:
            print(
                f"\n{scenario}: no reference for type(s) {sorted(set(unknown['type']))} from "
                f"{unknown['hour'].min() - args.change_at_h:+.1f} h on, in "
                f"{unknown['hour'].nunique()} of {table['hour'].nunique()} checks; machines "
                f"of those types in the machine check: {_judged(table, unknown)}"
            )
    checked_days = (args.days * 24 - args.period_h) / 24
    print_machine_table(tables, args, checked_days)
    if "control" not in tables:
        return
    rates = [false_alarms(tables["control"], t, args.runs, checked_days) for t in args.thresholds]
    print(
        f"\ncontrol: false drift alarms per type-month over {checked_days:.1f} days of checks: "
        + ", ".join(f"{r:.1f} at {t}" for r, t in zip(rates, args.thresholds, strict=True))
    )
    control = tables["control"]
    control = control[control["kind"] != "machine"]
    per_feature = control.groupby("feature")["psi"].max().sort_values()
    print("\ncontrol, highest PSI per feature over every check and type:")
    print(per_feature.round(3).to_string())
    if not args.skip_timing:
        print_timing(trained, base, args)


if __name__ == "__main__":
    main()
