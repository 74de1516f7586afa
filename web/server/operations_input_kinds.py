"""The declared kinds of the operations pages' callback inputs (fleet, machine, alarms,
tickets, the resolve dialogs, reports, the shell), merged into the one table by
``input_schema.py``."""

from __future__ import annotations

from web.server.input_kinds import (
    COUNT,
    ID,
    ID_CHOICE,
    LIST,
    NUMBER,
    SMALL,
    TEXT,
    TIMESTAMP,
    ByKey,
    Kind,
    choice,
    rows,
    whole,
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

__all__ = ["OPERATIONS_KINDS", "OPERATIONS_WILDCARDS"]

_ACTIONS = choice("start", "release", "reopen", "resolve")
_ROW = whole(0, 10_000)
_PART_FIELDS = ByKey("field", {"part": ID_CHOICE, "qty": SMALL})
_COUNTERS = (  # stores a callback bumps so another redraws
    ALARMS_REFRESH,
    TICKET_FILES_REFRESH,
    TICKET_REFRESH,
    TICKETS_REFRESH,
    TICKET_ACTIVITY,
)
_TEXT_VALUES = (
    FLEET_TYPE,
    FLEET_LOCATION,
    MACHINE_RANGE,
    REPORT_PRESET,
    SILENCE_REASON,
    TICKET_COMMENT_TEXT,
    TICKETS_FILTER,
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

OPERATIONS_KINDS: dict[tuple[str, str], Kind | ByKey] = {
    **{(c, "data"): COUNT for c in _COUNTERS},
    **{(c, "value"): TEXT for c in _TEXT_VALUES},
    # stores
    (TICKET_ID, "data"): ID,
    (RESOLVE_TICKET, "data"): ID,
    (MACHINE_NAME, "data"): TEXT,
    (FLEET_CURSOR, "data"): TIMESTAMP,
    (MACHINE_CURSOR, "data"): TIMESTAMP,
    # form fields
    (ALARMS_RANGE, "value"): choice("active", "1", "7", "30"),
    (SILENCE_MACHINE, "value"): ID_CHOICE,
    (SILENCE_HOURS, "value"): NUMBER,
    (TICKET_PARTS_SELECT, "value"): ID_CHOICE,
    (TICKET_PARTS_QTY, "value"): SMALL,
    (TICKET_ASSIGN_SELECT, "value"): ID_CHOICE,
    (RESOLVE_PART, "value"): _PART_FIELDS,
    (TICKET_RESOLVE_PART, "value"): _PART_FIELDS,
    (TICKET_STEP, "value"): LIST,  # the checklist's ticked steps
    # grids: the rows the server sent, echoed back
    (ALARMS_GRID, "selectedRows"): rows(id=ID.required),
}

OPERATIONS_WILDCARDS: dict[str, dict[str, Kind]] = {
    ALARM_ACK: {"alarm": ID},
    SILENCE_CANCEL: {"silence": ID},
    TICKET_ACTION: {"ticket": ID, "action": _ACTIONS},
    TICKET_DETAIL_ACTION: {"action": _ACTIONS},
    TICKET_STEP: {"version": ID, "step": whole(0, 1000)},
    **{t: {"row": _ROW} for t in (RESOLVE_PART, TICKET_RESOLVE_PART)},
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
}
