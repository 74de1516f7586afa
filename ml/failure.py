"""Keras LSTM over the last W steps of a machine: failure probability within the horizon and
remaining useful life, as two heads of one network (one batched call scores the fleet).

The RUL head is linear (in units of the RUL cap), so it is not bounded by the cap; training
stops when the loss on held-out units stops improving, keeping the best epoch, and the
failure probability is calibrated on those units (``ml.calibration``).
TensorFlow is imported only when a model is built or loaded.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ml.calibration import Calibrator

__all__ = ["FailureModel"]


def _keras():  # noqa: ANN202 - the keras module
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras  # lazy: TensorFlow costs seconds and ~500 MB; only LSTM users pay

    return keras


class FailureModel:
    family = "lstm"

    def __init__(
        self,
        *,
        window: int,
        n_inputs: int,
        horizon_h: float,
        rul_cap_h: float,
        units: int = 32,
        seed: int = 7,
    ) -> None:
        self.window, self.n_inputs, self.units, self.seed = window, n_inputs, units, seed
        self.horizon_h, self.rul_cap_h = horizon_h, rul_cap_h
        self.net: Any | None = None  # a keras.Model once built or loaded (keras is untyped)
        self.calibrator = Calibrator.identity()

    def _build(self) -> Any:  # the keras.Model it builds (keras is untyped)
        keras = _keras()
        keras.utils.set_random_seed(self.seed)
        inputs = keras.Input((self.window, self.n_inputs))
        hidden = keras.layers.LSTM(self.units)(inputs)
        hidden = keras.layers.Dense(16, activation="relu")(hidden)
        prob = keras.layers.Dense(1, activation="sigmoid", name="failure")(hidden)
        rul = keras.layers.Dense(1, name="rul")(hidden)  # rul / cap, unbounded
        self.net = keras.Model(inputs, [prob, rul])
        self.net.compile(
            optimizer=keras.optimizers.Adam(3e-3),
            loss=["binary_crossentropy", "mse"],  # lists: keras 3 reorders dicts (keras#20346)
            loss_weights=[1.0, 2.0],
        )
        return self.net

    def fit(
        self,
        x: np.ndarray,
        fail: np.ndarray,
        rul_h: np.ndarray,
        *,
        epochs: int = 6,
        batch_size: int = 256,
        on_epoch: Callable[[int, dict], None] | None = None,
        sample_weight: np.ndarray | None = None,
        val: np.ndarray | None = None,
    ) -> dict:
        """Train on the windows not in ``val`` (a mask of held-out units' windows), stopping
        when their loss stops improving; calibrate on them. ``on_epoch(epoch, logs)``
        reports progress. Returns the best epoch's losses.

        No class weights: unweighted cross-entropy keeps the output close to a probability,
        and the calibration makes "failure probability ≥ 80 %" mean what it says.
        """
        keras = _keras()
        net = self._build()
        val = np.zeros(len(x), bool) if val is None else val
        w = np.ones(len(x), "float32") if sample_weight is None else sample_weight
        target = np.minimum(rul_h, self.rul_cap_h) / self.rul_cap_h
        callbacks = (
            []
            if not on_epoch
            else [keras.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: on_epoch(e, logs))]
        )
        validation = None
        if val.any():
            callbacks.append(keras.callbacks.EarlyStopping(patience=2, restore_best_weights=True))
            validation = (x[val], [fail[val], target[val]], [w[val], w[val]])
        history = net.fit(
            x[~val],
            [fail[~val], target[~val]],
            epochs=epochs,
            batch_size=batch_size,
            verbose=0,
            callbacks=callbacks,
            shuffle=True,
            sample_weight=[w[~val], w[~val]],
            validation_data=validation,
        )
        if val.any():
            raw, _ = self._raw(x[val])
            self.calibrator = Calibrator.fit(raw, fail[val], w[val])
        key = "val_loss" if "val_loss" in history.history else "loss"
        best = int(np.argmin(history.history[key]))
        return {k: float(v[best]) for k, v in history.history.items()} | {"epochs_run": best + 1}

    def _raw(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        assert self.net is not None, "fit or load the model first"
        prob, rul = self.net.predict_on_batch(x)  # ~5x faster than calling the model
        return np.asarray(prob).ravel(), np.maximum(np.asarray(rul).ravel(), 0.0) * self.rul_cap_h

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(calibrated failure probability, remaining useful life in hours) for a batch."""
        if len(x) == 0:
            return np.zeros(0), np.zeros(0)
        raw, rul = self._raw(x)
        return self.calibrator(raw), rul

    def save(self, path: Path) -> None:
        assert self.net is not None, "fit or load the model first"
        path.mkdir(parents=True, exist_ok=True)
        self.net.save(path / "lstm.keras")
        (path / "failure.json").write_text(
            json.dumps(
                {
                    "window": self.window,
                    "n_inputs": self.n_inputs,
                    "horizon_h": self.horizon_h,
                    "rul_cap_h": self.rul_cap_h,
                    "units": self.units,
                    "seed": self.seed,
                    "family": self.family,
                    "calibration": self.calibrator.to_json(),
                }
            )
        )

    @classmethod
    def load(cls, path: Path) -> FailureModel:
        meta = json.loads((path / "failure.json").read_text())
        calibration = meta.pop("calibration", None)
        meta.pop("family", None)
        model = cls(**meta)
        model.net = _keras().models.load_model(path / "lstm.keras")
        model.calibrator = Calibrator.from_json(calibration)
        return model
