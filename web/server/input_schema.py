"""The kind of every input and state of every callback, and of every wildcard of a pattern
id, in one table: ``web/server/callback_checks.py`` refuses a request whose values do not fit
before the callback runs, so callbacks receive the types their signatures say.

A property that means the same everywhere has its kind here once (``n_clicks`` is a
count); ``value``, ``data`` and ``selectedRows`` mean what their component holds and are
listed per component. ``test_callback_inputs.py`` fails for a callback input that is in
neither place."""

from __future__ import annotations

from web import ids
from web import lab_explore_view as explore
from web import lab_models_view as lab_models
from web import lab_tune_view as lab_tune
from web.machine_admin_view import SENSOR_FIELDS
from web.server.inputs import (
    ANY,
    CHILDREN,
    COUNT,
    DAY,
    FLAG,
    ID,
    ID_CHOICE,
    LIST,
    NUMBER,
    PATH,
    SCALAR,
    SMALL,
    TEXT,
    TEXTS,
    TIMESTAMP,
    UPLOAD,
    ByKey,
    Kind,
    choice,
    list_of,
    matching,
    record,
    rows,
    whole,
)

__all__ = ["PROPERTY_KINDS", "KINDS", "WILDCARDS", "kind_of"]

PROPERTY_KINDS: dict[str, Kind] = {
    "n_clicks": COUNT,
    "n_intervals": COUNT,
    "pathname": PATH.required,  # a browser always has one
    "search": TEXT,
    "hash": TEXT,
    "start_date": DAY,
    "end_date": DAY,
    "is_open": FLAG,
    "filename": TEXT,
    "contents": UPLOAD,
    "children": CHILDREN,
    "options": LIST,
    # "id" holds the component's own id: checked as such, not by kind
}

_ACTIONS = choice("start", "release", "reopen", "resolve")
_ROW = whole(0, 10_000)
_TOKEN = matching(r"[0-9a-f]{1,32}", "a token")
_NAME = matching(r"[a-z0-9_]{1,64}", "a name")
_PART_FIELDS = ByKey("field", {"part": ID_CHOICE, "qty": SMALL})
_SENSOR_FIELDS = ByKey(
    "field", {f: TEXT if f in ("key", "kind", "unit") else SCALAR for f in SENSOR_FIELDS}
)
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
_COUNTERS = (  # stores a callback bumps so another redraws
    ids.ADMIN_MACHINES_REFRESH,
    ids.ALARMS_REFRESH,
    lab_models.REFRESH,
    lab_tune.REFRESH,
    ids.NOTIFY_REFRESH,
    ids.PARTS_REFRESH,
    ids.PLANS_REFRESH,
    ids.SETTINGS_REFRESH,
    ids.SOPS_REFRESH,
    ids.TICKET_FILES_REFRESH,
    ids.TICKET_REFRESH,
    ids.TICKETS_REFRESH,
    ids.USERS_REFRESH,
    ids.TICKET_ACTIVITY,
)
_TEXT_VALUES = (
    ids.ADMIN_MACHINE_NAME,
    ids.ADMIN_MACHINE_TYPE,
    ids.ADMIN_MACHINE_LOCATION,
    ids.ADMIN_MACHINE_LINE,
    ids.FLEET_TYPE,
    ids.FLEET_LOCATION,
    ids.MACHINE_RANGE,
    ids.NOTIFY_NAME,
    ids.NOTIFY_KIND,
    ids.NOTIFY_TARGET,
    ids.NOTIFY_SECRET,
    ids.PARTS_NUMBER,
    ids.PARTS_NAME,
    ids.PARTS_UNIT,
    ids.PARTS_TYPES,  # "pump,press": split by the callback
    ids.PLANS_NAME,
    ids.PLANS_CODE,
    ids.PLANS_TYPE,
    ids.REPORT_PRESET,
    ids.SILENCE_REASON,
    ids.SOPS_SEARCH,
    ids.SOPS_TEXT,
    ids.SOPS_VERSION,
    ids.TICKET_COMMENT_TEXT,
    ids.TICKETS_FILTER,
    ids.USERS_NEW_NAME,
    ids.USERS_NEW_EMAIL,
    ids.USERS_NEW_ROLE,
    ids.USERS_NEW_MODE,
    ids.USERS_NEW_PASSWORD,
    ids.USERS_ROLE,
    ids.USERS_EMAIL,
    ids.USERS_SHIFT,
    ids.USERS_TEMP_PASSWORD,
    explore.EXPLORE_FEATURE,
    explore.EXPLORE_RANGE,
    lab_tune.SCORE,
    lab_models.field_id("train", "source"),
    lab_models.field_id("backtest", "source"),
    lab_models.field_id("train", "family"),  # checked against the model families
    # the resolve dialogs' fields (datetime-local text is parsed by the form)
    ids.RESOLVE_OUTCOME,
    ids.RESOLVE_CAUSE,
    ids.RESOLVE_ACTION,
    ids.RESOLVE_DOWN_START,
    ids.RESOLVE_DOWN_END,
    ids.TICKET_RESOLVE_OUTCOME,
    ids.TICKET_RESOLVE_CAUSE,
    ids.TICKET_RESOLVE_ACTION,
    ids.TICKET_RESOLVE_DOWN_START,
    ids.TICKET_RESOLVE_DOWN_END,
)
_LAB_NUMBERS = [
    lab_models.field_id(form, f)
    for form, fields in (
        ("train", ("machines", "days", "seed", "window", "horizon_h", "epochs")),
        ("backtest", ("machines", "days", "seed")),
    )
    for f in fields
]

KINDS: dict[tuple[str, str], Kind | ByKey] = {
    **{(c, "data"): COUNT for c in _COUNTERS},
    **{(c, "value"): TEXT for c in _TEXT_VALUES},
    **{(c, "value"): NUMBER for c in _LAB_NUMBERS},
    # stores
    (ids.TICKET_ID, "data"): ID,
    (ids.RESOLVE_TICKET, "data"): ID,
    (ids.ADMIN_MACHINE_ID, "data"): ID,
    (ids.ADMIN_MACHINE_SHOW, "data"): record("a machine to show", id=ID, n=NUMBER),
    (ids.ADMIN_SENSOR_ID, "data"): ID,
    (ids.NOTIFY_CHANNEL_ID, "data"): ID,
    (ids.PARTS_ID, "data"): ID,
    (ids.SOPS_BASE, "data"): ID,
    (ids.SOPS_CODE, "data"): TEXT,
    (ids.MACHINE_NAME, "data"): TEXT,
    (ids.FLEET_CURSOR, "data"): TIMESTAMP,
    (ids.MACHINE_CURSOR, "data"): TIMESTAMP,
    (explore.EXPLORE_INIT, "data"): ANY,  # only its arrival matters
    (explore.EXPLORE_META, "data"): record(
        "the features shown", names=TEXTS.required, lines=whole(1, 100).required
    ),
    (explore.TIMELINE_JOB, "data"): _SCORE_JOB,
    (lab_tune.DATA, "data"): _TUNING,
    # form fields
    (ids.ALARMS_RANGE, "value"): choice("active", "1", "7", "30"),
    (ids.SILENCE_MACHINE, "value"): ID_CHOICE,
    (ids.SILENCE_HOURS, "value"): NUMBER,
    (ids.PLANS_MACHINE, "value"): ID_CHOICE,
    (ids.PLANS_EVERY_DAYS, "value"): SMALL,
    (ids.PLANS_EVERY_HOURS, "value"): SMALL,
    (ids.PLANS_LEAD, "value"): SMALL,
    (ids.PARTS_STOCK, "value"): SMALL,
    (ids.PARTS_MIN, "value"): SMALL,
    (ids.TICKET_PARTS_SELECT, "value"): ID_CHOICE,
    (ids.TICKET_PARTS_QTY, "value"): SMALL,
    (ids.TICKET_ASSIGN_SELECT, "value"): ID_CHOICE,
    (ids.RESOLVE_PART, "value"): _PART_FIELDS,
    (ids.TICKET_RESOLVE_PART, "value"): _PART_FIELDS,
    (ids.ADMIN_SENSOR_FIELD, "value"): _SENSOR_FIELDS,
    (ids.SETTING_INPUT, "value"): TEXT,  # parsed and bounded by the setting's own check
    (ids.TICKET_STEP, "value"): LIST,  # the checklist's ticked steps
    (ids.NOTIFY_EVENTS, "value"): TEXTS,
    (ids.USERS_SKILLS, "value"): TEXTS,
    (ids.USERS_SHIFT_START, "value"): SCALAR,
    (ids.USERS_SHIFT_END, "value"): SCALAR,
    (explore.EXPLORE_MACHINES, "value"): TEXTS,
    (explore.EXPLORE_SENSORS, "value"): TEXTS,
    (explore.EXPLORE_STEP, "value"): NUMBER,
    (explore.EXPLORE_HORIZON, "value"): NUMBER,
    (lab_models.PAIR, "value"): matching(r"[0-9]{1,9}:[0-9]{1,9}", "a model pair"),
    (lab_models.field_id("train", "contamination"), "value"): SCALAR,
    (lab_models.field_id("train", "features"), "value"): TEXTS.required,
    (lab_tune.SLIDER, "value"): NUMBER,
    (lab_tune.MOVE_CLEAR, "value"): FLAG,
    # grids: the rows the server sent, echoed back
    (ids.ALARMS_GRID, "selectedRows"): rows(id=ID.required),
    (ids.USERS_GRID, "selectedRows"): rows(id=ID.required),
    (ids.ADMIN_MACHINES_GRID, "selectedRows"): rows(id=ID.required),
    (ids.NOTIFY_CHANNELS_GRID, "selectedRows"): rows(id=ID.required),
    (ids.PLANS_GRID, "selectedRows"): rows(plan_id=ID.required, plan=TEXT),
    (ids.PARTS_GRID, "selectedRows"): rows(
        id=ID.required,
        **{k: TEXT for k in ("number", "name", "unit", "machine_types")},
        **{k: SMALL for k in ("stock", "min_stock")},
    ),
}

WILDCARDS: dict[str, dict[str, Kind]] = {
    ids.ALARM_ACK: {"alarm": ID},
    ids.SILENCE_CANCEL: {"silence": ID},
    ids.TICKET_ACTION: {"ticket": ID, "action": _ACTIONS},
    ids.TICKET_DETAIL_ACTION: {"action": _ACTIONS},
    ids.TICKET_STEP: {"version": ID, "step": whole(0, 1000)},
    ids.JOB_RUN: {"job": _NAME},
    **{t: {"key": _NAME} for t in (ids.SETTING_INPUT, ids.SETTING_SAVE, ids.SETTING_RESET)},
    ids.SETTING_ERROR: {"key": _NAME},
    **{t: {"row": _ROW} for t in (ids.RESOLVE_PART, ids.TICKET_RESOLVE_PART)},
    **{
        t: {"row": _ROW}
        for t in (
            ids.ADMIN_SENSOR_FIELD,
            ids.ADMIN_SENSOR_ERROR,
            ids.ADMIN_SENSOR_ID,
            ids.ADMIN_SENSOR_REMOVE,
        )
    },
    **{
        t: {"machine": ID}
        for t in (
            ids.FLEET_CARD,
            ids.FLEET_GRAPH,
            ids.FLEET_BADGE,
            ids.FLEET_ALARMS,
            ids.FLEET_RISK,
        )
    },
    **{
        t: {"job": _TOKEN}
        for t in (
            explore.TIMELINE,
            explore.TIMELINE_JOB,
            explore.TIMELINE_PROGRESS,
            explore.TIMELINE_TICK,
        )
    },
}


def kind_of(component: str, prop: str) -> Kind | ByKey | None:
    """The kind of ``prop`` of a component (its id, or its pattern's type); None: unknown."""
    return KINDS.get((component, prop)) or PROPERTY_KINDS.get(prop)
