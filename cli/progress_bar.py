"""A progress bar on the terminal for the model layer's ``progress(stage, fraction)`` calls."""

from __future__ import annotations

from collections.abc import Callable

from tqdm import tqdm

__all__ = ["bar"]


def bar(*, enabled: bool = True, leave: bool = True) -> Callable[[str, float], None]:
    """A tqdm bar from 0 to 100 % showing the current stage; closes itself at 100 % (the
    training pipeline ends with "done", 1.0). ``leave``: keep the finished bar on screen."""
    progress_bar = tqdm(
        total=100,
        desc="training",
        unit="%",
        bar_format="{l_bar}{bar}| {postfix}",
        disable=not enabled,
        leave=leave,
    )

    def progress(stage: str, fraction: float) -> None:
        progress_bar.n = round(fraction * 100)
        progress_bar.set_postfix_str(stage)
        progress_bar.refresh()
        if fraction >= 1:
            progress_bar.close()

    return progress
