"""Held-out evaluation of the models beside a same-run tree baseline (the library of
``python -m cli.evaluate``): any run-to-failure data in, the live alarm logic replayed,
numbers out."""

from ml.evaluate.core import Scored, evaluate, load_trained, score_windows

__all__ = ["Scored", "evaluate", "load_trained", "score_windows"]
