"""How the product says lengths of time and measured values to people: one place, so the
fleet, the banner, the reports, the timeline and the PDFs all say "12 min" alike."""

from __future__ import annotations

__all__ = [
    "format_duration",
    "format_hours",
    "format_remaining",
    "format_apart",
    "format_crossing",
]


def format_duration(seconds: float) -> str:
    """0.5 s, 42 s, 12 min, 1 h 20 min, 2 d 3 h: a length of time in the units that fit it."""
    if seconds < 10:  # a model step may be a fraction of a second
        return f"{max(0.0, seconds):.2g} s"
    if round(seconds) < 60:
        return f"{round(seconds)} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h" + (f" {minutes} min" if minutes else "")
    days, hours = divmod(round(seconds / 3600), 24)
    return f"{days} d" + (f" {hours} h" if hours else "")


def format_hours(hours: float | None, missing: str = "—") -> str:
    """A number of hours as ``format_duration`` says it; ``missing`` for None."""
    return missing if hours is None else format_duration(hours * 3600)


def format_remaining(rul_hours: float | None) -> str:
    """A remaining useful life in wall-clock hours, as "≈ 4 min"; empty when unknown."""
    return "" if rul_hours is None else f"≈ {format_hours(rul_hours)}"


def format_apart(value: float, limit: float, *, least: int = 1, most: int = 4) -> tuple[str, str]:
    """A reading (``least`` decimals or more) and the limit it broke (as set, e.g. 70 or
    3.6), with as many decimals as show them apart: 5.43 and 5.40, never 5.4 and 5.4."""
    for digits in range(least, most + 1):
        shown = f"{value:.{digits}f}"
        if shown != f"{limit:.{digits}f}":
            return shown, (f"{limit:g}" if digits == least else f"{limit:.{digits}f}")
    return shown, f"{limit:.{most}f}"


def format_crossing(
    value: float | None, limit: float | None, unit: str | None, *, percent: bool = False
) -> str:
    """A number and the limit it crossed, told apart: "5.43 mm/s (limit 5.40)", a
    probability as "87% (threshold 80%)", a model's score as "0.91 (threshold 0.7)";
    empty without a value."""
    if value is None:
        return ""
    measured = unit is not None  # a sensor's reading (its unit may be ""), not a model's
    scale, least, sign = (100, 0, "%") if percent else (1, 1 if measured else 2, "")
    after = f" {unit}" if unit else sign
    if limit is None:
        return f"{value * scale:.{least}f}{after}"
    shown, bound = format_apart(value * scale, limit * scale, least=least)
    if measured:
        return f"{shown}{after} (limit {bound})"
    return f"{shown}{sign} (threshold {bound}{sign})"
