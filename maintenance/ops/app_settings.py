"""Settings an admin may change in the app: validated, audited, applied without a restart.

The environment (``config.Settings``) gives every value its default; a change made in the
app is stored in ``app_settings`` and overrides it until reset. Processes read the
overrides through ``Overrides``, which asks the database at most every few seconds.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from config import Settings
from data.db import Database
from data.models import AppSetting, AuditLog, utcnow
from ml.registry import active

__all__ = [
    "EDITABLE",
    "Editable",
    "Overrides",
    "SettingError",
    "SettingRow",
    "change_setting",
    "model_defaults",
    "reset_setting",
    "setting_rows",
]


@dataclass(frozen=True, slots=True)
class Editable:
    label: str
    help: str
    kind: type  # float | int
    low: float
    high: float
    unit: str = ""


EDITABLE: dict[str, Editable] = {
    "failure_threshold": Editable(
        "Failure alarm threshold",
        "Failure probability that raises a PRED_FAILURE alarm, a critical ticket and the red "
        "warning.",
        float,
        0.05,
        1.0,
    ),
    "failure_clear_below": Editable(
        "Failure alarm clears below",
        "The alarm is held until the probability falls below this (hysteresis); must be "
        "lower than the threshold.",
        float,
        0.01,
        0.99,
    ),
    "anomaly_threshold": Editable(
        "Anomaly threshold",
        "Anomaly score that, sustained, raises an ANOMALY warning.",
        float,
        0.05,
        1.0,
    ),
    "alarm_clear_after_s": Editable(
        "Alarm clears after",
        "How long a condition must be gone before its alarm clears.",
        float,
        5,
        86400,
        "s",
    ),
    "retention_raw_days": Editable(
        "Keep raw readings",
        "Older readings are kept only as ten-minute aggregates (min, max, mean).",
        int,
        1,
        3650,
        "days",
    ),
    "retention_rollup_days": Editable(
        "Keep ten-minute aggregates",
        "Older aggregates are removed; 0 keeps them for ever.",
        int,
        0,
        36500,
        "days",
    ),
    "escalate_critical_min": Editable(
        "Escalate CRITICAL tickets after",
        "A critical ticket nobody has started by then is escalated to the managers.",
        int,
        1,
        10080,
        "min",
    ),
    "escalate_high_min": Editable(
        "Escalate HIGH tickets after",
        "A high-priority ticket nobody has started by then is escalated to the managers.",
        int,
        1,
        10080,
        "min",
    ),
    "escalate_low_min": Editable(
        "Escalate LOW tickets after",
        "A low-priority ticket nobody has started by then is escalated to the managers.",
        int,
        1,
        43200,
        "min",
    ),
}


class SettingError(ValueError):
    """A value that cannot be used; the message is meant for the person who typed it."""


@dataclass(frozen=True, slots=True)
class SettingRow:
    key: str
    spec: Editable
    value: Any
    default: Any
    overridden: bool
    chosen_by_model: bool = False  # the default is the active model's (``model_defaults``)


def _stored(session: Session) -> dict[str, Any]:
    return {s.key: s.value.get("value") for s in session.scalars(select(AppSetting))}


def model_defaults(session: Session) -> dict[str, float]:
    """Defaults the active failure model's training chose: its alarm threshold, where the
    out-of-fold replay of its training units asked for more than 0.8 (``ml.horizon``)."""
    model = active(session=session, kind="failure")
    threshold = (model.metrics or {}).get("alarm_threshold") if model else None
    return {} if threshold is None else {"failure_threshold": float(threshold)}


def effective(
    settings: Settings, stored: dict[str, Any], chosen: dict[str, float] | None = None
) -> Settings:
    """The environment's settings with the app's changes applied; where neither sets a
    value that the active model ``chosen``, the model's."""
    known = {k: v for k, v in stored.items() if k in EDITABLE}
    for key, value in (chosen or {}).items():
        if key not in known and key not in settings.model_fields_set:
            known[key] = value
    return settings.model_copy(update=known) if known else settings


def setting_rows(*, session: Session, settings: Settings) -> list[SettingRow]:
    stored, chosen = _stored(session), model_defaults(session)
    defaults = effective(settings, {}, chosen)
    return [
        SettingRow(
            key,
            spec,
            stored.get(key, getattr(defaults, key)),
            getattr(defaults, key),
            key in stored,
            getattr(defaults, key) != getattr(settings, key),
        )
        for key, spec in EDITABLE.items()
    ]


def _parse(key: str, raw: object) -> float | int:
    spec = EDITABLE.get(key)
    if spec is None:
        raise SettingError("This setting cannot be changed in the app.")
    try:
        value = spec.kind(float(str(raw).strip()))
        if spec.kind is int and float(str(raw).strip()) != value:
            raise ValueError
    except (TypeError, ValueError):
        raise SettingError(f"Enter a {'whole ' if spec.kind is int else ''}number.") from None
    if not spec.low <= value <= spec.high:
        raise SettingError(
            f"Between {spec.low:g} and {spec.high:g}{' ' + spec.unit if spec.unit else ''}."
        )
    return value


def change_setting(
    *, session: Session, settings: Settings, key: str, raw: object, user_id: int
) -> float | int:
    """Validate, store and audit one change; raises SettingError with a message."""
    value = _parse(key, raw)
    stored = _stored(session)
    merged = effective(settings, {**stored, key: value}, model_defaults(session))
    if merged.failure_clear_below >= merged.failure_threshold:
        raise SettingError("The clear level must stay below the failure alarm threshold.")
    before = stored.get(key, getattr(settings, key))
    row = session.get(AppSetting, key) or AppSetting(key=key, value={})
    row.value, row.updated_at, row.updated_by = {"value": value}, utcnow(), user_id
    session.add(row)
    session.add(
        AuditLog(
            user_id=user_id,
            action="setting.change",
            entity="setting",
            entity_id=key,
            before={"value": before},
            after={"value": value},
        )
    )
    return value


def reset_setting(*, session: Session, settings: Settings, key: str, user_id: int) -> bool:
    row = session.get(AppSetting, key)
    if row is None:
        return False
    session.delete(row)
    session.add(
        AuditLog(
            user_id=user_id,
            action="setting.reset",
            entity="setting",
            entity_id=key,
            before={"value": row.value.get("value")},
            after={"value": getattr(effective(settings, {}, model_defaults(session)), key)},
        )
    )
    return True


class Overrides:
    """The current effective settings for a process, re-read at most every ``ttl_s``."""

    def __init__(self, settings: Settings, db: Database, ttl_s: float = 3.0) -> None:
        self.base, self.db, self.ttl_s = settings, db, ttl_s
        self._current, self._at = settings, float("-inf")
        self._lock = threading.Lock()

    def current(self) -> Settings:
        with self._lock:
            if time.monotonic() - self._at >= self.ttl_s:
                with self.db.session() as session:
                    stored, chosen = _stored(session), model_defaults(session)
                    self._current = effective(self.base, stored, chosen)
                self._at = time.monotonic()
            return self._current

    def failure_threshold_with(self, chosen: float) -> float:
        """The failure alarm's threshold in force were a model whose training chose
        ``chosen`` active: the environment's or the app's where set, else ``chosen``."""
        with self.db.session() as session:
            stored = _stored(session)
        return effective(self.base, stored, {"failure_threshold": chosen}).failure_threshold
