"""Train both models, register them as candidates and, with ``--promote``, activate them.

python -m ml.train                                   # a fresh simulated fleet history
python -m ml.train --machines 30 --days 14 --promote
python -m ml.train --readings r.csv --failures f.csv # any run-to-failure data (docs/ml.md)
"""

from __future__ import annotations

import argparse
import logging
import threading
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from config import Settings, load_settings
from data.db import Database, upgrade_schema
from ml.cli_options import add_file_options, add_model_options, model_params, read_files
from ml.dataset import RunToFailure, simulate_history
from ml.features import feature_names
from ml.pipeline import Params, Trained, held_out_units, train
from ml.registry import register

__all__ = ["train_and_register", "demo_training", "autotrain", "main"]

log = logging.getLogger(__name__)


def _bar():  # noqa: ANN202 - a progress callback drawing a tqdm bar
    from tqdm import tqdm

    bar = tqdm(total=100, desc="training", unit="%", bar_format="{l_bar}{bar}| {postfix}")

    def progress(stage: str, fraction: float) -> None:
        bar.n = round(fraction * 100)
        bar.set_postfix_str(stage)
        bar.refresh()
        if fraction >= 1:
            bar.close()

    return progress


def train_and_register(
    *,
    db: Database,
    models_dir: Path,
    data: RunToFailure,
    params: Params,
    promote_now: bool,
    progress=None,
    on_epoch=None,
    extra_metrics: dict | None = None,
    settings: Settings | None = None,
    held_out: RunToFailure | None = None,
    label: str = "",
) -> dict[str, int]:  # noqa: ANN001
    """Train on ``data``, store the artefacts, register both; returns {kind: version}.
    ``promote_now`` first backtests the pair and keeps that backtest on record (nothing is
    promoted without one), which needs ``settings``: on ``held_out`` (units of the same
    source kept out of training, named by ``label``) when given, else on a held-out
    simulated fleet."""
    started = time.perf_counter()
    trained: Trained = train(data, params, progress, on_epoch)
    root = models_dir / datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    anomaly_dir, failure_dir = trained.save(root)
    seconds = round(time.perf_counter() - started, 1)
    span = data.span()
    versions = {}
    with db.session() as session:
        for kind, path, metrics in (
            ("anomaly", anomaly_dir, {"train_seconds": seconds, **(extra_metrics or {})}),
            (
                "failure",
                failure_dir,
                {
                    "train_seconds": seconds,
                    "family": trained.family,
                    **trained.losses,
                    **(extra_metrics or {}),
                },
            ),
        ):
            model = register(
                session=session,
                kind=kind,
                artefact=path,
                params=asdict(params),
                features=feature_names(data.sensors),
                metrics=metrics,
                train_from=span[0],
                train_to=span[1],
            )
            versions[kind] = model.version
    if promote_now:
        from ml.lab.backtest import promote_pair
        from ml.lab.runs import record_backtest

        if settings is None:
            raise ValueError("promoting needs settings to backtest the models first")
        if held_out is not None:
            params_bt = {"source": "supplied", "label": label or "supplied data"}
            record_backtest(db, settings, versions, params_bt, data=held_out)
        else:
            record_backtest(db, settings, versions, {"machines": 6, "days": 3.0, "seed": 4242})
        with db.session() as session:
            promote_pair(session=session, pair=versions, user_id=None)
    log.info("trained in %.1fs: %s%s", seconds, versions, " (active)" if promote_now else "")
    return versions


def demo_training(settings: Settings, db: Database, *, progress=None) -> dict[str, int]:  # noqa: ANN001
    """The small models the embedded demo trains on first start (well under a minute)."""
    data = simulate_history(machines=15, days=6, seed=settings.simulator_seed + 1000)
    params = Params(epochs=4, stride=10, family="auto")
    return train_and_register(
        db=db,
        models_dir=settings.effective_models_dir,
        data=data,
        params=params,
        promote_now=True,
        progress=progress,
        settings=settings,
    )


def autotrain(settings: Settings, db: Database) -> threading.Thread | None:
    """First start of the demo: train small models in the background when none is active."""
    from ml.registry import active_versions

    with db.session() as session:
        if active_versions(session=session):
            return None

    def run() -> None:
        try:
            demo_training(settings, db, progress=_bar())
        except Exception:  # noqa: BLE001 - the platform keeps running on threshold rules
            log.exception("training the demo models failed; threshold rules only")

    print(
        "  No model is active yet: training small demo models in the background "
        "(threshold rules work meanwhile).",
        flush=True,
    )
    thread = threading.Thread(target=run, name="autotrain", daemon=True)
    thread.start()
    return thread


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        prog="python -m ml.train",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--machines", type=int, default=30, help="simulated fleet size")
    p.add_argument("--days", type=float, default=14, help="simulated history length")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--source",
        choices=("simulator", "db", "csv"),
        default="simulator",
        help="simulator: a fresh labelled fleet history (default); db: this "
        "platform's database; csv: --readings and --failures files",
    )
    p.add_argument("--readings", type=Path, help="long-format readings CSV (--source csv)")
    p.add_argument("--failures", type=Path, help="failures CSV (unit, failure[, repaired])")
    add_file_options(p)
    add_model_options(p, stride_flag="--stride")
    p.add_argument(
        "--promote",
        action="store_true",
        help="backtest the new models (csv: on a quarter of the units, kept out of training) "
        "and activate them",
    )
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    settings = load_settings()
    db = Database(settings.effective_database_url)
    upgrade_schema(db.engine)
    supplied = args.source == "csv" or bool(args.readings)
    if supplied:
        if not (args.readings and args.failures):
            p.error("--source csv needs --readings and --failures")
        data = read_files(args.readings, args.failures, args)
    elif args.source == "db":
        from ml.history import history_from_db

        with db.session() as session:
            data = history_from_db(
                session=session,
                days=args.days,
                step_s=settings.live_step_s,
                time_scale=settings.ml_step_s / settings.live_step_s,
            )
        print(
            f"{data.readings['unit'].nunique()} machines, {len(data.failures)} failures "
            f"found in the database"
        )
    else:
        data = simulate_history(
            machines=args.machines, days=args.days, seed=args.seed, progress=True
        )
    params = model_params(args, data, stride=args.stride)
    held_out = None
    if args.promote and supplied:
        kept = held_out_units(np.array(data.units()), 0.25, params.seed)
        if not kept:
            p.error("--promote on supplied data needs at least three units (a quarter is held out)")
        held_out = data.subset(kept)
        data = data.subset(set(data.units()) - kept)
        print(f"held out for the promotion backtest: {len(kept)} units {sorted(kept)}")
    versions = train_and_register(
        db=db,
        models_dir=settings.effective_models_dir,
        data=data,
        params=params,
        promote_now=args.promote,
        progress=_bar(),
        settings=settings,
        held_out=held_out,
        label=str(args.readings),
    )
    print(f"registered {versions}{' and promoted them' if args.promote else ' as candidates'}")


if __name__ == "__main__":
    main()
