"""The tickets page: its ids and the ticket table."""

TICKETS_FILTER = "tickets-filter"
TICKETS_TABLE = "tickets-table"
TICKETS_TICK = "tickets-tick"
TICKETS_FEEDBACK = "tickets-feedback"
TICKETS_REFRESH = "tickets-refresh"
TICKET_ACTION = "ticket-action"


def ticket_action(ticket_id: int, action: str) -> dict[str, object]:
    return {"type": TICKET_ACTION, "ticket": ticket_id, "action": action}
