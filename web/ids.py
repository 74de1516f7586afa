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


# ticket detail page (/ticket/<id>)
TICKET_ID = "ticket-id"
TICKET_REFRESH = "ticket-refresh"  # a status changed: redraw the page
TICKET_ACTIVITY = "ticket-activity"  # a step or comment saved: redraw comments and history
TICKET_HEADER = "ticket-header"
TICKET_ALARM = "ticket-alarm"
TICKET_GRAPH = "ticket-graph"
TICKET_SOP = "ticket-sop"
TICKET_SOP_AFTER = "ticket-sop-after"
TICKET_SOP_VERSION = "ticket-sop-version"
TICKET_STEPS = "ticket-steps"
TICKET_STEPS_NOTE = "ticket-steps-note"
TICKET_STEPS_FEEDBACK = "ticket-steps-feedback"
TICKET_ACTIONS = "ticket-actions"
TICKET_DETAIL_ACTION = "ticket-detail-action"
TICKET_FEEDBACK = "ticket-feedback"
TICKET_COMMENTS = "ticket-comments"
TICKET_COMMENT_FORM = "ticket-comment-form"
TICKET_COMMENT_TEXT = "ticket-comment-text"
TICKET_COMMENT_ERROR = "ticket-comment-error"
TICKET_COMMENT_SUBMIT = "ticket-comment-submit"
TICKET_HISTORY = "ticket-history"
TICKET_RESOLVE_MODAL = "ticket-resolve-modal"
TICKET_RESOLVE_TITLE = "ticket-resolve-title"
TICKET_RESOLVE_OUTCOME = "ticket-resolve-outcome"
TICKET_RESOLVE_OUTCOME_ERROR = "ticket-resolve-outcome-error"
TICKET_RESOLVE_NOTE = "ticket-resolve-note"
TICKET_RESOLVE_DOWN_START = "ticket-resolve-down-start"
TICKET_RESOLVE_DOWN_END = "ticket-resolve-down-end"
TICKET_RESOLVE_SUBMIT = "ticket-resolve-submit"
TICKET_RESOLVE_CANCEL = "ticket-resolve-cancel"


def ticket_detail_action(action: str) -> dict[str, object]:
    return {"type": TICKET_DETAIL_ACTION, "action": action}


# SOP library (/sops)
SOPS_CODE = "sops-code"
SOPS_SEARCH = "sops-search"
SOPS_LIST = "sops-list"
SOPS_REFRESH = "sops-refresh"
SOPS_HEADER = "sops-header"
SOPS_VERSION = "sops-version"
SOPS_BODY = "sops-body"
SOPS_HISTORY = "sops-history"
SOPS_EDITOR = "sops-editor"
SOPS_BASE = "sops-base"  # store: the version the editor started from
SOPS_TEXT = "sops-text"
SOPS_TEXT_ERROR = "sops-text-error"
SOPS_PREVIEW = "sops-preview"
SOPS_SAVE = "sops-save"
SOPS_FEEDBACK = "sops-feedback"

# audit page
AUDIT_RANGE = "audit-range"
AUDIT_GRID = "audit-grid"
AUDIT_CSV = "audit-csv"
AUDIT_ERROR = "audit-error"
