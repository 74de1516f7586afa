"""The kind of every input and state of every callback, and of every wildcard of a pattern
id, in one table: ``web/server/callback_checks.py`` refuses a request whose values do not fit
before the callback runs, so callbacks receive the types their signatures say.

A property that means the same everywhere has its kind here once (``n_clicks`` is a
count); ``value``, ``data`` and ``selectedRows`` mean what their component holds and are
listed per component. ``test_callback_inputs.py`` fails for a callback input that is in
neither place."""

from __future__ import annotations

from web.server.input_kinds import (
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
from web.views import lab_explore as explore
from web.views import lab_models as lab_models
from web.views import lab_tune as lab_tune
from web.views.admin_jobs import JOB_RUN
from web.views.admin_machines import (
    ADMIN_MACHINE_ID,
    ADMIN_MACHINE_LINE,
    ADMIN_MACHINE_LOCATION,
    ADMIN_MACHINE_NAME,
    ADMIN_MACHINE_SHOW,
    ADMIN_MACHINE_TYPE,
    ADMIN_MACHINES_GRID,
    ADMIN_MACHINES_REFRESH,
    ADMIN_SENSOR_ERROR,
    ADMIN_SENSOR_FIELD,
    ADMIN_SENSOR_ID,
    ADMIN_SENSOR_REMOVE,
    SENSOR_FIELDS,
)
from web.views.admin_notifications import (
    NOTIFY_CHANNEL_ID,
    NOTIFY_CHANNELS_GRID,
    NOTIFY_EVENTS,
    NOTIFY_KIND,
    NOTIFY_NAME,
    NOTIFY_REFRESH,
    NOTIFY_SECRET,
    NOTIFY_TARGET,
)
from web.views.admin_settings import (
    SETTING_ERROR,
    SETTING_INPUT,
    SETTING_RESET,
    SETTING_SAVE,
    SETTINGS_REFRESH,
)
from web.views.admin_users import (
    USERS_EMAIL,
    USERS_GRID,
    USERS_NEW_EMAIL,
    USERS_NEW_MODE,
    USERS_NEW_NAME,
    USERS_NEW_PASSWORD,
    USERS_NEW_ROLE,
    USERS_REFRESH,
    USERS_ROLE,
    USERS_SHIFT,
    USERS_SHIFT_END,
    USERS_SHIFT_START,
    USERS_SKILLS,
    USERS_TEMP_PASSWORD,
)
from web.views.alarms import (
    ALARMS_GRID,
    ALARMS_RANGE,
    ALARMS_REFRESH,
    SILENCE_CANCEL,
    SILENCE_HOURS,
    SILENCE_MACHINE,
    SILENCE_REASON,
)
from web.views.fleet import (
    FLEET_ALARMS,
    FLEET_BADGE,
    FLEET_CARD,
    FLEET_CURSOR,
    FLEET_GRAPH,
    FLEET_LOCATION,
    FLEET_RISK,
    FLEET_TYPE,
)
from web.views.machine import MACHINE_CURSOR, MACHINE_NAME, MACHINE_RANGE
from web.views.parts import (
    PARTS_GRID,
    PARTS_ID,
    PARTS_MIN,
    PARTS_NAME,
    PARTS_NUMBER,
    PARTS_REFRESH,
    PARTS_STOCK,
    PARTS_TYPES,
    PARTS_UNIT,
)
from web.views.plans import (
    PLANS_CODE,
    PLANS_EVERY_DAYS,
    PLANS_EVERY_HOURS,
    PLANS_GRID,
    PLANS_LEAD,
    PLANS_MACHINE,
    PLANS_NAME,
    PLANS_REFRESH,
    PLANS_TYPE,
)
from web.views.reports import REPORT_PRESET
from web.views.resolve_dialog import (
    RESOLVE_ACTION,
    RESOLVE_CAUSE,
    RESOLVE_DOWN_END,
    RESOLVE_DOWN_START,
    RESOLVE_OUTCOME,
    RESOLVE_PART,
    RESOLVE_TICKET,
    TICKET_RESOLVE_ACTION,
    TICKET_RESOLVE_CAUSE,
    TICKET_RESOLVE_DOWN_END,
    TICKET_RESOLVE_DOWN_START,
    TICKET_RESOLVE_OUTCOME,
    TICKET_RESOLVE_PART,
)
from web.views.shell import ALARM_ACK
from web.views.sops import SOPS_BASE, SOPS_CODE, SOPS_REFRESH, SOPS_SEARCH, SOPS_TEXT, SOPS_VERSION
from web.views.ticket import (
    TICKET_ACTIVITY,
    TICKET_COMMENT_TEXT,
    TICKET_DETAIL_ACTION,
    TICKET_ID,
    TICKET_REFRESH,
    TICKET_STEP,
)
from web.views.ticket_assign import TICKET_ASSIGN_SELECT
from web.views.ticket_files import TICKET_FILES_REFRESH
from web.views.ticket_parts import TICKET_PARTS_QTY, TICKET_PARTS_SELECT
from web.views.tickets import TICKET_ACTION, TICKETS_FILTER, TICKETS_REFRESH

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
    ADMIN_MACHINES_REFRESH,
    ALARMS_REFRESH,
    lab_models.REFRESH,
    lab_tune.REFRESH,
    NOTIFY_REFRESH,
    PARTS_REFRESH,
    PLANS_REFRESH,
    SETTINGS_REFRESH,
    SOPS_REFRESH,
    TICKET_FILES_REFRESH,
    TICKET_REFRESH,
    TICKETS_REFRESH,
    USERS_REFRESH,
    TICKET_ACTIVITY,
)
_TEXT_VALUES = (
    ADMIN_MACHINE_NAME,
    ADMIN_MACHINE_TYPE,
    ADMIN_MACHINE_LOCATION,
    ADMIN_MACHINE_LINE,
    FLEET_TYPE,
    FLEET_LOCATION,
    MACHINE_RANGE,
    NOTIFY_NAME,
    NOTIFY_KIND,
    NOTIFY_TARGET,
    NOTIFY_SECRET,
    PARTS_NUMBER,
    PARTS_NAME,
    PARTS_UNIT,
    PARTS_TYPES,  # "pump,press": split by the callback
    PLANS_NAME,
    PLANS_CODE,
    PLANS_TYPE,
    REPORT_PRESET,
    SILENCE_REASON,
    SOPS_SEARCH,
    SOPS_TEXT,
    SOPS_VERSION,
    TICKET_COMMENT_TEXT,
    TICKETS_FILTER,
    USERS_NEW_NAME,
    USERS_NEW_EMAIL,
    USERS_NEW_ROLE,
    USERS_NEW_MODE,
    USERS_NEW_PASSWORD,
    USERS_ROLE,
    USERS_EMAIL,
    USERS_SHIFT,
    USERS_TEMP_PASSWORD,
    explore.EXPLORE_FEATURE,
    explore.EXPLORE_RANGE,
    lab_tune.SCORE,
    lab_models.field_id("train", "source"),
    lab_models.field_id("backtest", "source"),
    lab_models.field_id("train", "family"),  # checked against the model families
    # the resolve dialogs' fields (datetime-local text is parsed by the form)
    RESOLVE_OUTCOME,
    RESOLVE_CAUSE,
    RESOLVE_ACTION,
    RESOLVE_DOWN_START,
    RESOLVE_DOWN_END,
    TICKET_RESOLVE_OUTCOME,
    TICKET_RESOLVE_CAUSE,
    TICKET_RESOLVE_ACTION,
    TICKET_RESOLVE_DOWN_START,
    TICKET_RESOLVE_DOWN_END,
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
    (TICKET_ID, "data"): ID,
    (RESOLVE_TICKET, "data"): ID,
    (ADMIN_MACHINE_ID, "data"): ID,
    (ADMIN_MACHINE_SHOW, "data"): record("a machine to show", id=ID, n=NUMBER),
    (ADMIN_SENSOR_ID, "data"): ID,
    (NOTIFY_CHANNEL_ID, "data"): ID,
    (PARTS_ID, "data"): ID,
    (SOPS_BASE, "data"): ID,
    (SOPS_CODE, "data"): TEXT,
    (MACHINE_NAME, "data"): TEXT,
    (FLEET_CURSOR, "data"): TIMESTAMP,
    (MACHINE_CURSOR, "data"): TIMESTAMP,
    (explore.EXPLORE_INIT, "data"): ANY,  # only its arrival matters
    (explore.EXPLORE_META, "data"): record(
        "the features shown", names=TEXTS.required, lines=whole(1, 100).required
    ),
    (explore.TIMELINE_JOB, "data"): _SCORE_JOB,
    (lab_tune.DATA, "data"): _TUNING,
    # form fields
    (ALARMS_RANGE, "value"): choice("active", "1", "7", "30"),
    (SILENCE_MACHINE, "value"): ID_CHOICE,
    (SILENCE_HOURS, "value"): NUMBER,
    (PLANS_MACHINE, "value"): ID_CHOICE,
    (PLANS_EVERY_DAYS, "value"): SMALL,
    (PLANS_EVERY_HOURS, "value"): SMALL,
    (PLANS_LEAD, "value"): SMALL,
    (PARTS_STOCK, "value"): SMALL,
    (PARTS_MIN, "value"): SMALL,
    (TICKET_PARTS_SELECT, "value"): ID_CHOICE,
    (TICKET_PARTS_QTY, "value"): SMALL,
    (TICKET_ASSIGN_SELECT, "value"): ID_CHOICE,
    (RESOLVE_PART, "value"): _PART_FIELDS,
    (TICKET_RESOLVE_PART, "value"): _PART_FIELDS,
    (ADMIN_SENSOR_FIELD, "value"): _SENSOR_FIELDS,
    (SETTING_INPUT, "value"): TEXT,  # parsed and bounded by the setting's own check
    (TICKET_STEP, "value"): LIST,  # the checklist's ticked steps
    (NOTIFY_EVENTS, "value"): TEXTS,
    (USERS_SKILLS, "value"): TEXTS,
    (USERS_SHIFT_START, "value"): SCALAR,
    (USERS_SHIFT_END, "value"): SCALAR,
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
    (ALARMS_GRID, "selectedRows"): rows(id=ID.required),
    (USERS_GRID, "selectedRows"): rows(id=ID.required),
    (ADMIN_MACHINES_GRID, "selectedRows"): rows(id=ID.required),
    (NOTIFY_CHANNELS_GRID, "selectedRows"): rows(id=ID.required),
    (PLANS_GRID, "selectedRows"): rows(plan_id=ID.required, plan=TEXT),
    (PARTS_GRID, "selectedRows"): rows(
        id=ID.required,
        **{k: TEXT for k in ("number", "name", "unit", "machine_types")},
        **{k: SMALL for k in ("stock", "min_stock")},
    ),
}

WILDCARDS: dict[str, dict[str, Kind]] = {
    ALARM_ACK: {"alarm": ID},
    SILENCE_CANCEL: {"silence": ID},
    TICKET_ACTION: {"ticket": ID, "action": _ACTIONS},
    TICKET_DETAIL_ACTION: {"action": _ACTIONS},
    TICKET_STEP: {"version": ID, "step": whole(0, 1000)},
    JOB_RUN: {"job": _NAME},
    **{t: {"key": _NAME} for t in (SETTING_INPUT, SETTING_SAVE, SETTING_RESET)},
    SETTING_ERROR: {"key": _NAME},
    **{t: {"row": _ROW} for t in (RESOLVE_PART, TICKET_RESOLVE_PART)},
    **{
        t: {"row": _ROW}
        for t in (
            ADMIN_SENSOR_FIELD,
            ADMIN_SENSOR_ERROR,
            ADMIN_SENSOR_ID,
            ADMIN_SENSOR_REMOVE,
        )
    },
    **{
        t: {"machine": ID}
        for t in (
            FLEET_CARD,
            FLEET_GRAPH,
            FLEET_BADGE,
            FLEET_ALARMS,
            FLEET_RISK,
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
