"""Train both models, register them as candidates and, with ``--promote``, activate them.

python -m cli.train                                   # a fresh simulated fleet history
python -m cli.train --machines 30 --days 14 --promote
python -m cli.train --readings r.csv --failures f.csv # any run-to-failure data (docs/ml.md)
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np

from cli.options import add_file_options, add_model_options, model_params, read_files
from cli.progress_bar import bar
from config import load_settings
from data.db import Database, upgrade_schema
from maintenance.ops.model_lab import lab_setup, simulated
from ml.dataset import RunToFailure
from ml.lab.plant_history import history_from_db
from ml.lab.runs import backtest_and_promote
from ml.train_register import train_and_register
from ml.windows import held_out_units

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m cli.train",
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
    return p


def main(argv: list[str] | None = None) -> None:
    p = _parser()
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
        data = simulated(args.machines, args.days, args.seed, progress=True)
    params = model_params(args, data, stride=args.stride)
    held_out: RunToFailure | None = None
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
        progress=bar(),
    )
    if args.promote:
        setup = lab_setup(settings, db)
        backtest_and_promote(db, setup, versions, held_out=held_out, label=str(args.readings))
    print(f"registered {versions}{' and promoted them' if args.promote else ' as candidates'}")


if __name__ == "__main__":
    main()
