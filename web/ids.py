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
