"""Component ids, defined once: pages build layouts with them, callbacks wire them."""

# app shell
URL = "app-url"
NAV_USER = "nav-user"
RED_BANNER = "red-banner"
RED_TICK = "red-tick"
ALARM_ACK = "alarm-ack"

# fleet page
FLEET_GRID = "fleet-grid"
FLEET_KPIS = "fleet-kpis"
FLEET_TICK = "fleet-tick"
FLEET_CURSOR = "fleet-cursor"
FLEET_GRAPH = "fleet-graph"
FLEET_BADGE = "fleet-badge"
FLEET_ALARMS = "fleet-alarms"
FLEET_RISK = "fleet-risk"
FLEET_MODE = "fleet-mode"
FLEET_TYPE = "fleet-type"
FLEET_LOCATION = "fleet-location"

# tickets page
TICKETS_FILTER = "tickets-filter"
TICKETS_TABLE = "tickets-table"
TICKETS_TICK = "tickets-tick"
TICKETS_FEEDBACK = "tickets-feedback"
TICKETS_REFRESH = "tickets-refresh"
TICKET_ACTION = "ticket-action"
RESOLVE_MODAL = "resolve-modal"
RESOLVE_TITLE = "resolve-title"
RESOLVE_TICKET = "resolve-ticket"
RESOLVE_OUTCOME = "resolve-outcome"
RESOLVE_OUTCOME_ERROR = "resolve-outcome-error"
RESOLVE_NOTE = "resolve-note"
RESOLVE_SUBMIT = "resolve-submit"
RESOLVE_CANCEL = "resolve-cancel"
RESOLVE_DOWN_START = "resolve-down-start"
RESOLVE_DOWN_END = "resolve-down-end"


def alarm_ack(alarm_id: int) -> dict[str, object]:
    return {"type": ALARM_ACK, "alarm": alarm_id}


def fleet_graph(machine_id: int) -> dict[str, object]:
    return {"type": FLEET_GRAPH, "machine": machine_id}


def fleet_badge(machine_id: int) -> dict[str, object]:
    return {"type": FLEET_BADGE, "machine": machine_id}


def fleet_alarms(machine_id: int) -> dict[str, object]:
    return {"type": FLEET_ALARMS, "machine": machine_id}


def fleet_risk(machine_id: int) -> dict[str, object]:
    return {"type": FLEET_RISK, "machine": machine_id}


def ticket_action(ticket_id: int, action: str) -> dict[str, object]:
    return {"type": TICKET_ACTION, "ticket": ticket_id, "action": action}


# machine detail page
MACHINE_NAME = "machine-name"
MACHINE_HEADER = "machine-header"
MACHINE_RANGE = "machine-range"
MACHINE_GRAPH = "machine-graph"
MACHINE_POINTS = "machine-points"
MACHINE_EVENTS = "machine-events"
MACHINE_TICK = "machine-tick"
MACHINE_CURSOR = "machine-cursor"

# alarms page
ALARMS_RANGE = "alarms-range"
ALARMS_GRID = "alarms-grid"
ALARMS_ACK = "alarms-ack"
ALARMS_CLEAR = "alarms-clear"
ALARMS_FEEDBACK = "alarms-feedback"
ALARMS_TICK = "alarms-tick"
ALARMS_REFRESH = "alarms-refresh"
SILENCE_MACHINE = "silence-machine"
SILENCE_HOURS = "silence-hours"
SILENCE_REASON = "silence-reason"
SILENCE_SUBMIT = "silence-submit"
SILENCE_FEEDBACK = "silence-feedback"
SILENCE_LIST = "silence-list"
SILENCE_CANCEL = "silence-cancel"


def silence_error(field: str) -> str:
    return f"silence-{field}-error"


def silence_cancel(silence_id: int) -> dict[str, object]:
    return {"type": SILENCE_CANCEL, "silence": silence_id}


# reports page
REPORT_RANGE = "report-range"
REPORT_PRESET = "report-preset"
REPORT_HEADLINE = "report-headline"
REPORT_KPIS = "report-kpis"
REPORT_WEEKS = "report-weeks"
REPORT_TYPES = "report-types"
REPORT_MACHINES = "report-machines"
REPORT_ALARMS = "report-alarms"
REPORT_CSV = "report-csv"
REPORT_PDF = "report-pdf"
REPORT_ERROR = "report-error"
REPORT_STORED = "report-stored"
