"""Options the two model CLIs share (``python -m cli.train``, ``python -m cli.evaluate``): how
supplied files are read and which failure model is trained, spelled and read once."""

from __future__ import annotations

import argparse
from pathlib import Path

from ml.dataset import RunToFailure, load_csv
from ml.windows import FAMILIES, Params

__all__ = ["add_file_options", "add_model_options", "read_files", "model_params"]

Group = argparse.ArgumentParser | argparse._ArgumentGroup


def add_file_options(group: Group) -> None:
    """How long-format CSV files are read: their step, resampling, numeric times."""
    group.add_argument("--step-s", type=float, help="seconds per step (default: the data's)")
    group.add_argument("--resample", action="store_true", help="average readings onto --step-s")
    group.add_argument("--time-unit-s", type=float, default=1.0, help="seconds per numeric time")


def read_files(readings: Path, failures: Path, args: argparse.Namespace) -> RunToFailure:
    """Readings and failures CSVs, read with the options of ``add_file_options``."""
    return load_csv(
        readings,
        failures,
        step_s=args.step_s,
        resample=args.resample,
        time_unit_s=args.time_unit_s,
    )


def add_model_options(group: Group, *, stride_flag: str) -> None:
    """The failure model's family and shape; ``stride_flag`` names the training stride."""
    group.add_argument(
        "--family",
        choices=FAMILIES,
        default="auto",
        help="failure model: tree, lstm, blend, or auto (the best of them on held-out units)",
    )
    group.add_argument("--epochs", type=int, default=Params.epochs)
    group.add_argument("--window", type=int, default=Params.window)
    group.add_argument(
        "--horizon-h",
        type=_horizon,
        default="auto",
        help='hours of "fails within H"; auto (default): the candidate whose out-of-fold alarms '
        "on the training units come closest to 90%% recall at 80%% precision (ml.horizon)",
    )
    group.add_argument("--rul-cap-h", type=float, default=Params.rul_cap_h)
    group.add_argument(
        stride_flag, type=int, default=Params.stride, help="steps between training windows"
    )


def _horizon(text: str) -> float | str:
    if text == "auto":
        return text
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of hours or 'auto': {text!r}") from None
    if not 0 < value <= 24 * 30:
        raise argparse.ArgumentTypeError(f"hours between 0 and 720, not {value:g}")
    return value


def model_params(
    args: argparse.Namespace, data: RunToFailure, *, stride: int, seed: int = Params.seed
) -> Params:
    """Params from ``add_model_options``, on the data's own step when it has one."""
    return Params(
        window=args.window,
        step_s=data.step_s or Params.step_s,
        horizon_h=Params.horizon_h if args.horizon_h == "auto" else args.horizon_h,
        choose_horizon=args.horizon_h == "auto",
        rul_cap_h=args.rul_cap_h,
        stride=stride,
        epochs=args.epochs,
        seed=seed,
        family=args.family,
    )
