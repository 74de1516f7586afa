"""Saving a threshold tuned in the model lab: an audited setting change like any other
(``maintenance.ops.app_settings``), optionally moving the failure alarm's clear level with it
so the live hysteresis is the one the lab replayed (clear level = 75 % of the threshold)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from config import Settings
from maintenance.ops.app_settings import change_setting, setting_rows
from ml.alarm_policy import CLEAR_RATIO

__all__ = ["THRESHOLD_SETTING", "SavedThreshold", "current_thresholds", "save_threshold"]

# score column of a backtest: the setting that raises its live alarm
THRESHOLD_SETTING = {"prob": "failure_threshold", "anomaly": "anomaly_threshold"}


@dataclass(frozen=True, slots=True)
class SavedThreshold:
    key: str
    value: float
    clear_below: float | None  # the failure alarm's new clear level, when it moved too


def current_thresholds(*, session: Session, settings: Settings) -> dict[str, float]:
    """The effective values of the threshold settings and the failure clear level."""
    keys = {*THRESHOLD_SETTING.values(), "failure_clear_below"}
    return {
        r.key: float(r.value)
        for r in setting_rows(session=session, settings=settings)
        if r.key in keys
    }


def save_threshold(
    *,
    session: Session,
    settings: Settings,
    column: str,
    value: float,
    move_clear: bool,
    user_id: int,
) -> SavedThreshold:
    """Store ``value`` as the threshold of ``column``'s alarm (validated, audited); with
    ``move_clear`` and the failure probability, the clear level becomes 75 % of it in the
    same unit of work. Raises ``SettingError`` with a message for the person saving."""
    key = THRESHOLD_SETTING[column]
    if not (move_clear and column == "prob"):
        saved = change_setting(
            session=session, settings=settings, key=key, raw=value, user_id=user_id
        )
        return SavedThreshold(key, float(saved), None)
    clear = round(CLEAR_RATIO * float(value), 4)
    current = current_thresholds(session=session, settings=settings)[key]
    # each change is validated on its own (clear level below the threshold): raising the
    # threshold goes first, lowering it second
    steps = [(key, value), ("failure_clear_below", clear)]
    for name, raw in steps if float(value) > current else steps[::-1]:
        change_setting(session=session, settings=settings, key=name, raw=raw, user_id=user_id)
    return SavedThreshold(key, float(value), clear)
