"""The ticket page's "Parts used" card: what was taken from stock, and (for whoever works
on the ticket while it is in progress) a part picker with a quantity."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from maintenance.stock.spare_parts import PartRow, UsedPart

__all__ = ["parts_card", "used_list", "part_options"]

# ids of this page's components
TICKET_PARTS_USED = "ticket-parts-used"
TICKET_PARTS_FORM = "ticket-parts-form"
TICKET_PARTS_SELECT = "ticket-parts-select"
TICKET_PARTS_QTY = "ticket-parts-qty"
TICKET_PARTS_SUBMIT = "ticket-parts-submit"
TICKET_PARTS_FEEDBACK = "ticket-parts-feedback"
TICKET_PARTS = "ticket-parts"
TICKET_PARTS_ERROR = "ticket-parts-error"
TICKET_PARTS_OK = "ticket-parts-ok"


def parts_card() -> dbc.Card:
    form = html.Div(
        [
            dbc.Row(
                [
                    dbc.Col(dbc.Select(id=TICKET_PARTS_SELECT, options=[], size="sm"), width=8),
                    dbc.Col(
                        dbc.Input(
                            id=TICKET_PARTS_QTY,
                            type="number",
                            min=1,
                            step=1,
                            value=1,
                            size="sm",
                            placeholder="Qty",
                        ),
                        width=4,
                    ),
                ],
                className="g-2",
            ),
            dbc.Button(
                "Record part",
                id=TICKET_PARTS_SUBMIT,
                color="primary",
                size="sm",
                className="mt-2",
            ),
        ],
        id=TICKET_PARTS_FORM,
        hidden=True,
        className="mt-2",
    )
    return dbc.Card(
        [
            dbc.CardHeader("Parts used"),
            dbc.CardBody(
                [html.Div(id=TICKET_PARTS_USED), form, html.Div(id=TICKET_PARTS_FEEDBACK)]
            ),
        ],
        className="shadow-sm mb-3",
        id=TICKET_PARTS,
    )


def used_list(used: list[UsedPart]) -> object:
    if not used:
        return html.Div("No parts recorded.", className="text-muted small")
    return html.Ul(
        [
            html.Li(
                f"{u.quantity} {u.unit} {u.number} · {u.name} — {u.user}, "
                f"{u.used_at:%Y-%m-%d %H:%M} UTC"
            )
            for u in used
        ],
        className="small mb-0",
    )


def part_options(parts: list[PartRow]) -> list[dict]:
    return [
        {
            "label": f"{p.number} · {p.name} ({p.stock} {p.unit} in stock)",
            "value": str(p.id),
            "disabled": p.stock <= 0,
        }
        for p in parts
    ]
