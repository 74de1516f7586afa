"""The training reference a model keeps for drift checks: per machine type, a sample of the
training windows' features with the anomaly score and failure probability the new models gave
them (``reference.npz`` beside the artefact; the registry row's ``metrics.reference`` counts
the windows per type). Models trained before this existed have none: drift says so."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["FILE", "PREDICTIONS", "Reference", "TypeReference", "load_reference", "sample_rows"]

FILE = "reference.npz"
PREDICTIONS = ("anomaly_score", "failure_probability")


@dataclass(frozen=True, slots=True)
class TypeReference:
    """One machine type's reference: features (n, F) and the scores (n, 2) in the order of
    ``PREDICTIONS`` (NaN where a model gave none)."""

    features: np.ndarray
    scores: np.ndarray


@dataclass(frozen=True, slots=True)
class Reference:
    feature_names: tuple[str, ...]
    by_type: dict[str, TypeReference]

    def save(self, directory: Path) -> Path:
        """Write ``reference.npz`` into ``directory`` (plain arrays, no pickles)."""
        arrays: dict[str, np.ndarray] = {"feature_names": np.array(self.feature_names)}
        for kind, ref in self.by_type.items():
            arrays[f"features/{kind}"] = ref.features.astype("float32")
            arrays[f"scores/{kind}"] = ref.scores.astype("float32")
        path = directory / FILE
        np.savez_compressed(path, **arrays)  # type: ignore[arg-type]
        return path

    def summary(self) -> dict[str, int]:
        """Windows kept per type (what the registry records)."""
        return {kind: len(ref.features) for kind, ref in self.by_type.items()}


def load_reference(directory: Path) -> Reference | None:
    """The reference stored beside an artefact, or None (a model of an earlier release)."""
    path = directory / FILE
    if not path.exists():
        return None
    with np.load(path, allow_pickle=False) as npz:
        names = tuple(str(n) for n in npz["feature_names"])
        kinds = [k.split("/", 1)[1] for k in npz.files if k.startswith("features/")]
        by_type = {
            kind: TypeReference(npz[f"features/{kind}"], npz[f"scores/{kind}"]) for kind in kinds
        }
    return Reference(names, by_type)


def sample_rows(types: np.ndarray, *, per_type: int, seed: int) -> np.ndarray:
    """Indices of at most ``per_type`` rows of each type, drawn without replacement."""
    rng = np.random.default_rng(seed)
    picked = [
        rng.choice(rows, size=min(per_type, len(rows)), replace=False)
        for rows in (np.flatnonzero(types == kind) for kind in np.unique(types))
    ]
    return np.sort(np.concatenate(picked)) if picked else np.array([], int)
