"""The declared kinds of the admin pages' callback inputs (machines, users, notifications,
settings, jobs, parts, plans, SOPs), merged into the one table by ``input_schema.py``."""

from __future__ import annotations

from maintenance.people.permissions import Scope
from web.server.input_kinds import (
    COUNT,
    ID,
    ID_CHOICE,
    NUMBER,
    SCALAR,
    SMALL,
    TEXT,
    TEXTS,
    ByKey,
    Kind,
    choice,
    list_of,
    matching,
    record,
    rows,
    whole,
)
from web.views.account import ACCOUNT_END, ACCOUNT_REFRESH
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
from web.views.admin_tokens import (
    TOKENS_DAYS,
    TOKENS_GRID,
    TOKENS_NAME,
    TOKENS_REFRESH,
    TOKENS_ROLE,
    TOKENS_SCOPES,
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
from web.views.sops import SOPS_BASE, SOPS_CODE, SOPS_REFRESH, SOPS_SEARCH, SOPS_TEXT, SOPS_VERSION

__all__ = ["ADMIN_KINDS", "ADMIN_WILDCARDS"]

_ROW = whole(0, 10_000)
_NAME = matching(r"[a-z0-9_]{1,64}", "a name")
_SENSOR_FIELDS = ByKey(
    "field", {f: TEXT if f in ("key", "kind", "unit") else SCALAR for f in SENSOR_FIELDS}
)
_COUNTERS = (  # stores a callback bumps so another redraws
    ACCOUNT_REFRESH,
    ADMIN_MACHINES_REFRESH,
    NOTIFY_REFRESH,
    PARTS_REFRESH,
    PLANS_REFRESH,
    SETTINGS_REFRESH,
    SOPS_REFRESH,
    TOKENS_REFRESH,
    USERS_REFRESH,
)
_TEXT_VALUES = (
    ADMIN_MACHINE_NAME,
    ADMIN_MACHINE_TYPE,
    ADMIN_MACHINE_LOCATION,
    ADMIN_MACHINE_LINE,
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
    SOPS_SEARCH,
    SOPS_TEXT,
    SOPS_VERSION,
    TOKENS_NAME,
    TOKENS_ROLE,
    USERS_NEW_NAME,
    USERS_NEW_EMAIL,
    USERS_NEW_ROLE,
    USERS_NEW_MODE,
    USERS_NEW_PASSWORD,
    USERS_ROLE,
    USERS_EMAIL,
    USERS_SHIFT,
    USERS_TEMP_PASSWORD,
)

ADMIN_KINDS: dict[tuple[str, str], Kind | ByKey] = {
    **{(c, "data"): COUNT for c in _COUNTERS},
    **{(c, "value"): TEXT for c in _TEXT_VALUES},
    # stores
    (ADMIN_MACHINE_ID, "data"): ID,
    (ADMIN_MACHINE_SHOW, "data"): record("a machine to show", id=ID, n=NUMBER),
    (ADMIN_SENSOR_ID, "data"): ID,
    (NOTIFY_CHANNEL_ID, "data"): ID,
    (PARTS_ID, "data"): ID,
    (SOPS_BASE, "data"): ID,
    (SOPS_CODE, "data"): TEXT,
    # form fields
    (PLANS_MACHINE, "value"): ID_CHOICE,
    (PLANS_EVERY_DAYS, "value"): SMALL,
    (PLANS_EVERY_HOURS, "value"): SMALL,
    (PLANS_LEAD, "value"): SMALL,
    (PARTS_STOCK, "value"): SMALL,
    (PARTS_MIN, "value"): SMALL,
    (TOKENS_DAYS, "value"): SMALL,
    (TOKENS_SCOPES, "value"): list_of(choice(*(s.value for s in Scope)).required),
    (ADMIN_SENSOR_FIELD, "value"): _SENSOR_FIELDS,
    (SETTING_INPUT, "value"): TEXT,  # parsed and bounded by the setting's own check
    (NOTIFY_EVENTS, "value"): TEXTS,
    (USERS_SKILLS, "value"): TEXTS,
    (USERS_SHIFT_START, "value"): SCALAR,
    (USERS_SHIFT_END, "value"): SCALAR,
    # grids: the rows the server sent, echoed back
    (USERS_GRID, "selectedRows"): rows(id=ID.required),
    (ADMIN_MACHINES_GRID, "selectedRows"): rows(id=ID.required),
    (NOTIFY_CHANNELS_GRID, "selectedRows"): rows(id=ID.required),
    (TOKENS_GRID, "selectedRows"): rows(id=ID.required, name=TEXT),
    (PLANS_GRID, "selectedRows"): rows(plan_id=ID.required, plan=TEXT),
    (PARTS_GRID, "selectedRows"): rows(
        id=ID.required,
        **{k: TEXT for k in ("number", "name", "unit", "machine_types")},
        **{k: SMALL for k in ("stock", "min_stock")},
    ),
}

ADMIN_WILDCARDS: dict[str, dict[str, Kind]] = {
    ACCOUNT_END: {"session": ID},
    JOB_RUN: {"job": _NAME},
    **{t: {"key": _NAME} for t in (SETTING_INPUT, SETTING_SAVE, SETTING_RESET)},
    SETTING_ERROR: {"key": _NAME},
    **{
        t: {"row": _ROW}
        for t in (
            ADMIN_SENSOR_FIELD,
            ADMIN_SENSOR_ERROR,
            ADMIN_SENSOR_ID,
            ADMIN_SENSOR_REMOVE,
        )
    },
}
