"""What a model-lab run may be asked: kinds, data sources, defaults, and the checks that
turn a form's values into a run's parameters (``LabError`` names the field at fault)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from ml.windows import FAMILIES, Params

__all__ = [
    "KINDS",
    "SOURCES",
    "TRAIN_DEFAULTS",
    "BACKTEST_DEFAULTS",
    "LabError",
    "check_params",
    "train_params",
    "describe",
]

KINDS = ("train", "backtest", "retrain")
SOURCES = ("simulator", "plant", "plant+simulator")
TRAIN_DEFAULTS = {
    "source": "simulator",
    "machines": 12,
    "days": 6.0,
    "seed": 1,
    "window": 60,
    "horizon_h": 6.0,
    "epochs": 4,
    "contamination": "auto",
    "features": ["temperature", "vibration", "rpm"],
    "family": "auto",  # the forest, or the blend where its RUL is better on held-out units
}
BACKTEST_DEFAULTS = {"source": "simulator", "machines": 8, "days": 5.0, "seed": 99}
_LIMITS = {"machines": (1, 200), "days": (0.5, 90.0), "window": (10, 240), "epochs": (1, 50)}


class LabError(ValueError):
    """A run's parameters are not acceptable; ``field`` names the control, ``messages`` has
    one message per refused control (a form refused on several at once)."""

    def __init__(self, message: str, field: str = "", others: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.messages = {field: message, **(others or {})}


def check_params(kind: str, params: dict) -> dict:
    """Defaults filled in and every value checked; raises LabError naming every field at
    fault (each with its own message), the first one as ``field``."""
    if kind not in KINDS:
        raise LabError(f"unknown run kind {kind!r}")
    merged = {**(TRAIN_DEFAULTS if kind != "backtest" else BACKTEST_DEFAULTS), **params}
    refused: dict[str, str] = {}

    def check(field: str, fn: Callable[[], None]) -> None:
        try:
            fn()
        except LabError as err:
            refused.setdefault(field, str(err))

    check("source", lambda: _source(kind, merged))
    for key, (low, high) in _LIMITS.items():
        if key in merged:
            check(key, partial(_number, merged, key, low, high))
    if kind != "backtest":
        check("contamination", lambda: _contamination(merged))
        check("family", lambda: _family(merged))
        check("features", lambda: _features(merged))
        check("horizon_h", lambda: _horizon(merged))
    if refused:
        # the text says every refusal (logs, a plain message); ``messages`` has each one
        raise LabError(" ".join(refused.values()), next(iter(refused)), refused)
    return merged


def _source(kind: str, merged: dict) -> None:
    supplied = kind == "backtest" and merged.get("source") == "supplied"  # the CLI's held-out units
    if merged.get("source") not in SOURCES and not supplied:
        raise LabError("Choose a data source.", "source")


def _number(merged: dict, key: str, low: float, high: float) -> None:
    try:
        value = float(merged[key])
    except (TypeError, ValueError):
        raise LabError(f"{key.capitalize()} must be a number.", key) from None
    if not low <= value <= high or (key != "days" and value != int(value)):
        raise LabError(f"{key.capitalize()} must be between {low:g} and {high:g}.", key)
    merged[key] = value if key == "days" else int(value)


def _contamination(merged: dict) -> None:
    contamination = merged.get("contamination", "auto")
    if isinstance(contamination, str):
        contamination = contamination.strip().lower() or "auto"
    if contamination != "auto":
        try:
            contamination = float(contamination)
        except (TypeError, ValueError):
            raise LabError("Contamination is 'auto' or a share.", "contamination") from None
        if not 0 < contamination <= 0.5:
            raise LabError("Contamination must be above 0 and at most 0.5.", "contamination")
    merged["contamination"] = contamination


def _family(merged: dict) -> None:
    if merged.get("family", Params.family) not in FAMILIES:
        raise LabError("Choose a failure model: tree, lstm, blend or auto.", "family")


def _features(merged: dict) -> None:
    chosen = merged.get("features") or []
    if not chosen or not set(chosen) <= {"temperature", "vibration", "rpm"}:
        raise LabError("Pick at least one sensor to learn from.", "features")
    merged["features"] = [s for s in ("temperature", "vibration", "rpm") if s in chosen]


def _horizon(merged: dict) -> None:
    try:
        horizon = float(merged["horizon_h"])
    except (TypeError, ValueError):
        raise LabError("The horizon must be a number of hours.", "horizon_h") from None
    if not 0.5 <= horizon <= 48:
        raise LabError("The horizon must be between 0.5 and 48 hours.", "horizon_h")


def train_params(p: dict) -> Params:
    return Params(
        window=int(p["window"]),
        horizon_h=float(p["horizon_h"]),
        epochs=int(p["epochs"]),
        contamination=p.get("contamination", "auto"),
        stride=10 if float(p["days"]) * int(p.get("machines", 1)) <= 200 else 5,
        family=p.get("family", Params.family),
    )


def describe(params: dict) -> str:
    source = {"simulator": "simulated", "plant": "plant", "plant+simulator": "plant + simulated"}
    if params["source"] == "supplied":
        return f"held-out units of the training data: {params['label']}"
    text = f"{source[params['source']]}: "
    if params["source"] == "plant":
        return text + f"last {params['days']:g} days"
    return text + f"{params['machines']} machines × {params['days']:g} days, seed {params['seed']}"
