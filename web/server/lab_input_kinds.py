"""The declared kinds of the lab pages' callback inputs (explore, models, tuning) and of the
model-health page's, merged into the one table by ``input_schema.py``."""

from __future__ import annotations

from web.server.input_kinds import (
    ANY,
    COUNT,
    FLAG,
    NUMBER,
    SCALAR,
    TEXT,
    TEXTS,
    TIMESTAMP,
    ByKey,
    Kind,
    choice,
    list_of,
    matching,
    record,
    whole,
)
from web.views import lab_explore as explore
from web.views import lab_models as lab_models
from web.views import lab_tune as lab_tune
from web.views import model_health

__all__ = ["LAB_KINDS", "LAB_WILDCARDS"]

_TOKEN = matching(r"[0-9a-f]{1,32}", "a token")
_TUNING_ROW = record(
    "a threshold's outcome",
    threshold=NUMBER.required,
    **{k: COUNT.required for k in ("tp", "fn", "fp", "tn", "true_alarms", "raised")},
    **{k: COUNT.required for k in ("caught", "failures", "false_alarms")},
    machine_weeks=NUMBER.required,
    **{k: NUMBER for k in ("precision", "recall", "false_alarms_per_machine_week")},
    median_lead_h=NUMBER,
)
_TUNING = record(
    "a threshold sweep",
    column=choice("prob", "anomaly").required,
    **{k: NUMBER.required for k in ("horizon_h", "min_lead_h", "saved", "clear_below")},
    rows=list_of(_TUNING_ROW.required, at_least=1).required,
    pr=record(
        "a precision-recall curve",
        **{k: list_of(NUMBER).required for k in ("recall", "precision", "thresholds")},
        average_precision=NUMBER,
    ).required,
)
_SCORE_JOB = record(
    "a scoring job",
    machines=TEXTS.required,
    start=TIMESTAMP.required,
    end=TIMESTAMP.required,
    step=NUMBER.required,  # seconds per bucket
    **{k: COUNT.required for k in ("next", "rows")},
)
_COUNTERS = (lab_models.REFRESH, lab_tune.REFRESH)  # stores a callback bumps so another redraws
_TEXT_VALUES = (
    explore.EXPLORE_FEATURE,
    explore.EXPLORE_RANGE,
    lab_tune.SCORE,
    model_health.MH_TYPE,  # a machine type
    lab_models.field_id("train", "source"),
    lab_models.field_id("backtest", "source"),
    lab_models.field_id("train", "family"),  # checked against the model families
)
_LAB_NUMBERS = [
    lab_models.field_id(form, f)
    for form, fields in (
        ("train", ("machines", "days", "seed", "window", "horizon_h", "epochs")),
        ("backtest", ("machines", "days", "seed")),
    )
    for f in fields
]

LAB_KINDS: dict[tuple[str, str], Kind | ByKey] = {
    **{(c, "data"): COUNT for c in _COUNTERS},
    **{(c, "value"): TEXT for c in _TEXT_VALUES},
    **{(c, "value"): NUMBER for c in _LAB_NUMBERS},
    # stores
    (explore.EXPLORE_INIT, "data"): ANY,  # only its arrival matters
    (explore.EXPLORE_META, "data"): record(
        "the features shown", names=TEXTS.required, lines=whole(1, 100).required
    ),
    (explore.TIMELINE_JOB, "data"): _SCORE_JOB,
    (lab_models.SHOWN, "data"): _TOKEN,
    (lab_tune.DATA, "data"): _TUNING,
    # form fields
    (explore.EXPLORE_MACHINES, "value"): TEXTS,
    (explore.EXPLORE_SENSORS, "value"): TEXTS,
    (explore.EXPLORE_STEP, "value"): NUMBER,
    (explore.EXPLORE_HORIZON, "value"): NUMBER,
    (lab_models.PAIR, "value"): matching(r"[0-9]{1,9}:[0-9]{1,9}", "a model pair"),
    (lab_models.field_id("train", "contamination"), "value"): SCALAR,
    (lab_models.field_id("train", "features"), "value"): TEXTS.required,
    (lab_tune.SLIDER, "value"): NUMBER,
    (lab_tune.MOVE_CLEAR, "value"): FLAG,
    (lab_models.LAB_TABS, "active_tab"): choice(*lab_models.LAB_TAB_IDS),
}

LAB_WILDCARDS: dict[str, dict[str, Kind]] = {
    t: {"job": _TOKEN}
    for t in (
        explore.TIMELINE,
        explore.TIMELINE_JOB,
        explore.TIMELINE_PROGRESS,
        explore.TIMELINE_TICK,
    )
}
