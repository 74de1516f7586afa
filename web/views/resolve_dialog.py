"""The resolve dialog (outcome, cause, action taken, spare parts used, when the machine
stopped and ran again), shared by the tickets list and the ticket detail page, each with its
own ids; and the dependencies its callbacks read and fill."""

from __future__ import annotations

from dataclasses import dataclass

import dash_bootstrap_components as dbc
from dash import ALL, Output, State, html

__all__ = [
    "DialogIds",
    "TICKETS_DIALOG",
    "DETAIL_DIALOG",
    "resolve_modal",
    "part_rows",
    "part_row",
    "answer_states",
    "message_outputs",
    "still_alarming",
]

# ids of this page's components
RESOLVE_MODAL = "resolve-modal"
RESOLVE_TITLE = "resolve-title"
RESOLVE_TICKET = "resolve-ticket"
RESOLVE_OUTCOME = "resolve-outcome"
RESOLVE_OUTCOME_ERROR = "resolve-outcome-error"
RESOLVE_CAUSE = "resolve-cause"
RESOLVE_ACTION = "resolve-action"
RESOLVE_PARTS = "resolve-parts"
RESOLVE_PARTS_ADD = "resolve-parts-add"
RESOLVE_PARTS_ERROR = "resolve-parts-error"
RESOLVE_PART = "resolve-part"  # one parts row: resolve_part(RESOLVE_PART, row, field)
RESOLVE_ALERT = "resolve-alert"
RESOLVE_STILL = "resolve-still-alarming"
RESOLVE_SUBMIT = "resolve-submit"
RESOLVE_CANCEL = "resolve-cancel"
RESOLVE_DOWN_START = "resolve-down-start"
RESOLVE_DOWN_END = "resolve-down-end"
TICKET_RESOLVE_MODAL = "ticket-resolve-modal"
TICKET_RESOLVE_TITLE = "ticket-resolve-title"
TICKET_RESOLVE_OUTCOME = "ticket-resolve-outcome"
TICKET_RESOLVE_OUTCOME_ERROR = "ticket-resolve-outcome-error"
TICKET_RESOLVE_CAUSE = "ticket-resolve-cause"
TICKET_RESOLVE_ACTION = "ticket-resolve-action"
TICKET_RESOLVE_PARTS = "ticket-resolve-parts"
TICKET_RESOLVE_PARTS_ADD = "ticket-resolve-parts-add"
TICKET_RESOLVE_PARTS_ERROR = "ticket-resolve-parts-error"
TICKET_RESOLVE_PART = "ticket-resolve-part"
TICKET_RESOLVE_ALERT = "ticket-resolve-alert"
TICKET_RESOLVE_STILL = "ticket-resolve-still-alarming"
TICKET_RESOLVE_DOWN_START = "ticket-resolve-down-start"
TICKET_RESOLVE_DOWN_END = "ticket-resolve-down-end"
TICKET_RESOLVE_SUBMIT = "ticket-resolve-submit"
TICKET_RESOLVE_CANCEL = "ticket-resolve-cancel"


def resolve_part(kind: str, row: object, field: str) -> dict[str, object]:
    """A field (part, qty, remove) of one spare-parts row of a resolve dialog."""
    return {"type": kind, "row": row, "field": field}


@dataclass(frozen=True, slots=True)
class DialogIds:
    modal: str
    title: str
    outcome: str
    outcome_error: str
    cause: str
    action: str
    parts: str  # the rows
    parts_add: str
    parts_error: str
    part: str  # pattern type of a row's fields
    down_start: str
    down_end: str
    alert: str  # a refusal that belongs to no one field
    submit: str
    cancel: str
    still: str  # the ticket's alarms that are still active, said before resolving

    def error(self, field_id: str) -> str:
        return f"{field_id}-error"

    def part_field(self, row: object, field: str) -> dict[str, object]:
        return resolve_part(self.part, row, field)


TICKETS_DIALOG = DialogIds(
    modal=RESOLVE_MODAL,
    title=RESOLVE_TITLE,
    outcome=RESOLVE_OUTCOME,
    outcome_error=RESOLVE_OUTCOME_ERROR,
    cause=RESOLVE_CAUSE,
    action=RESOLVE_ACTION,
    parts=RESOLVE_PARTS,
    parts_add=RESOLVE_PARTS_ADD,
    parts_error=RESOLVE_PARTS_ERROR,
    part=RESOLVE_PART,
    down_start=RESOLVE_DOWN_START,
    down_end=RESOLVE_DOWN_END,
    alert=RESOLVE_ALERT,
    submit=RESOLVE_SUBMIT,
    cancel=RESOLVE_CANCEL,
    still=RESOLVE_STILL,
)
DETAIL_DIALOG = DialogIds(
    modal=TICKET_RESOLVE_MODAL,
    title=TICKET_RESOLVE_TITLE,
    outcome=TICKET_RESOLVE_OUTCOME,
    outcome_error=TICKET_RESOLVE_OUTCOME_ERROR,
    cause=TICKET_RESOLVE_CAUSE,
    action=TICKET_RESOLVE_ACTION,
    parts=TICKET_RESOLVE_PARTS,
    parts_add=TICKET_RESOLVE_PARTS_ADD,
    parts_error=TICKET_RESOLVE_PARTS_ERROR,
    part=TICKET_RESOLVE_PART,
    down_start=TICKET_RESOLVE_DOWN_START,
    down_end=TICKET_RESOLVE_DOWN_END,
    alert=TICKET_RESOLVE_ALERT,
    submit=TICKET_RESOLVE_SUBMIT,
    cancel=TICKET_RESOLVE_CANCEL,
    still=TICKET_RESOLVE_STILL,
)

# fields with an input of their own, marked invalid with the message under it
_TEXT_FIELDS = ("cause", "action", "down_start", "down_end")


def answer_states(i: DialogIds) -> list[State]:
    """The dialog's answers, in the order of ``resolve_form.Answers``."""
    return [
        State(i.outcome, "value"),
        State(i.cause, "value"),
        State(i.action, "value"),
        State(i.down_start, "value"),
        State(i.down_end, "value"),
        State(i.part_field(ALL, "part"), "value"),
        State(i.part_field(ALL, "qty"), "value"),
    ]


def message_outputs(i: DialogIds, *, again: bool = False) -> list[Output]:
    """Where the messages go, in the order of ``resolve_form.messages`` (``again``: for a
    second callback writing them)."""
    targets = [
        (component, prop)
        for f in _TEXT_FIELDS
        for component, prop in ((getattr(i, f), "invalid"), (i.error(getattr(i, f)), "children"))
    ]
    targets += [(i.outcome_error, "children"), (i.parts_error, "children"), (i.alert, "children")]
    return [Output(c, prop, allow_duplicate=again) for c, prop in targets]


def _text(label: str, input_id: str, placeholder: str) -> html.Div:
    return html.Div(
        [
            dbc.Label(label, html_for=input_id, className="mb-1"),
            dbc.Textarea(id=input_id, placeholder=placeholder, maxLength=2000, rows=2),
            dbc.FormFeedback(id=f"{input_id}-error", type="invalid"),
        ],
        className="mt-3",
    )


def _when(label: str, input_id: str, error_id: str) -> dbc.Col:
    return dbc.Col(
        [
            dbc.Label(label, html_for=input_id, className="small"),
            # to the second: a stop of 40 s is not "10:03 to 10:03"
            dbc.Input(id=input_id, type="datetime-local", step=1, size="sm"),
            dbc.FormFeedback(id=error_id, type="invalid"),
        ]
    )


def part_row(i: DialogIds, row: int, options: list[dict]) -> dbc.Row:
    """One part used: which (the parts for the machine's type) and how many."""
    return dbc.Row(
        [
            dbc.Col(
                dbc.Select(
                    id=i.part_field(row, "part"),
                    options=options,
                    placeholder="Choose a part",
                    size="sm",
                ),
                width=8,
            ),
            dbc.Col(
                dbc.Input(
                    id=i.part_field(row, "qty"),
                    type="number",
                    min=1,
                    step=1,
                    value=1,
                    size="sm",
                    placeholder="Qty",
                ),
                width=3,
            ),
            dbc.Col(
                html.Button(
                    id=i.part_field(row, "remove"),
                    className="btn-close",
                    style={"fontSize": "0.7rem"},
                    title="Remove this part",
                    **{"aria-label": "Remove this part"},
                ),
                width=1,
            ),
        ],
        className="g-2 mb-1 align-items-center resolve-part-row",
    )


def part_rows(i: DialogIds, options: list[dict]) -> tuple[list, bool]:
    """The picker as the dialog opens: one empty row, and the Add button hidden when no part
    fits the machine."""
    if not options:
        note = html.Div("No spare parts are listed for this machine type.", className="form-text")
        return [note], True
    return [part_row(i, 0, options)], False


def _parts(i: DialogIds) -> html.Div:
    return html.Div(
        [
            dbc.Label("Spare parts used", className="mb-0"),
            html.Div(
                "Taken from stock when you resolve; rows without a part are left out.",
                className="form-text mt-0 mb-1",
            ),
            html.Div(id=i.parts),
            dbc.Button(
                "+ Add part", id=i.parts_add, color="link", size="sm", className="p-0", n_clicks=0
            ),
            html.Div(id=i.parts_error, className="invalid-feedback d-block"),
        ],
        className="mt-3",
    )


def _downtime(i: DialogIds) -> html.Div:
    return html.Div(
        [
            html.Div(
                "For a real failure: when the machine stopped and ran again "
                "(UTC). The breakdown report counts it.",
                className="form-text mb-1",
            ),
            dbc.Row(
                [
                    _when("Machine stopped", i.down_start, i.error(i.down_start)),
                    _when("Running again", i.down_end, i.error(i.down_end)),
                ],
                className="g-2",
            ),
        ],
        className="mt-3",
    )


def resolve_modal(i: DialogIds) -> dbc.Modal:
    outcome = dbc.RadioItems(
        id=i.outcome,
        options=[
            {"label": "Real failure, fixed", "value": "failure"},
            {"label": "False alarm, nothing wrong", "value": "false_alarm"},
        ],
    )
    body = [
        html.Div(id=i.still),
        dbc.Label("Outcome", html_for=i.outcome, className="mb-1"),
        outcome,
        html.Div(id=i.outcome_error, className="invalid-feedback d-block"),
        _text("Cause", i.cause, "What was wrong, e.g. outboard bearing worn"),
        _text("Action taken", i.action, "What you did, e.g. replaced the bearing, 1.9 mm/s after"),
        _parts(i),
        _downtime(i),
        html.Div(id=i.alert),
    ]
    return dbc.Modal(
        [
            dbc.ModalHeader(dbc.ModalTitle(id=i.title, children="Resolve ticket")),
            dbc.ModalBody(body),
            dbc.ModalFooter(
                [
                    dbc.Button("Cancel", id=i.cancel, color="secondary", outline=True),
                    dbc.Button("Resolve", id=i.submit, color="success"),
                ]
            ),
        ],
        id=i.modal,
        is_open=False,
        scrollable=True,
        size="lg",
    )


def still_alarming(alarms: list[tuple[str, str]]) -> object:
    """A warning above the answers when some of the ticket's alarms (code, message) are
    still active: resolving answers for them too, and they open nothing new until they
    clear and come back."""
    if not alarms:
        return ""
    return dbc.Alert(
        [
            html.Div("Still alarming:", className="fw-semibold"),
            html.Ul([html.Li([html.Code(code), " ", message]) for code, message in alarms]),
            html.Div(
                "Resolving answers for these too: they open no new ticket until they clear "
                "and come back. Check the readings first if the machine should be healthy.",
                className="small",
            ),
        ],
        color="warning",
        className="py-2",
    )
