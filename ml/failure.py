"""Keras LSTM over the last W steps of a machine: failure probability within the horizon and
remaining useful life, as two heads of one network (one batched call scores the fleet).

TensorFlow is imported only when a model is built or loaded.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

__all__ = ["FailureModel"]


def _keras():  # noqa: ANN202 - the keras module
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    return keras


class FailureModel:
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
        self.net = None

    def _build(self) -> None:
        keras = _keras()
        keras.utils.set_random_seed(self.seed)
        inputs = keras.Input((self.window, self.n_inputs))
        hidden = keras.layers.LSTM(self.units)(inputs)
        hidden = keras.layers.Dense(16, activation="relu")(hidden)
        prob = keras.layers.Dense(1, activation="sigmoid", name="failure")(hidden)
        rul = keras.layers.Dense(1, activation="sigmoid", name="rul")(hidden)  # rul / cap
        self.net = keras.Model(inputs, [prob, rul])
        self.net.compile(
            optimizer=keras.optimizers.Adam(3e-3),
            loss=["binary_crossentropy", "mse"],  # lists: keras 3 reorders dicts (keras#20346)
            loss_weights=[1.0, 2.0],
        )

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
    ) -> dict:
        """Train; ``on_epoch(epoch, logs)`` reports progress. Returns the last epoch's losses.

        No class weights: unweighted cross-entropy keeps the output a calibrated probability,
        which is what a "failure probability ≥ 80 %" threshold needs.
        """
        keras = _keras()
        self._build()
        callbacks = (
            [keras.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: on_epoch(e, logs))]
            if on_epoch
            else []
        )
        history = self.net.fit(
            x,
            [fail, np.minimum(rul_h, self.rul_cap_h) / self.rul_cap_h],
            epochs=epochs,
            batch_size=batch_size,
            verbose=0,
            callbacks=callbacks,
            shuffle=True,
            sample_weight=None if sample_weight is None else [sample_weight, sample_weight],
        )
        return {k: float(v[-1]) for k, v in history.history.items()}

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(failure probability, remaining useful life in hours) for a batch of windows."""
        if len(x) == 0:
            return np.zeros(0), np.zeros(0)
        prob, rul = self.net.predict_on_batch(x)  # ~5x faster than calling the model
        return np.asarray(prob).ravel(), np.asarray(rul).ravel() * self.rul_cap_h

    def save(self, path: Path) -> None:
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
                }
            )
        )

    @classmethod
    def load(cls, path: Path) -> FailureModel:
        meta = json.loads((path / "failure.json").read_text())
        model = cls(**meta)
        model.net = _keras().models.load_model(path / "lstm.keras")
        return model
