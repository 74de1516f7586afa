"""The model lab's "Tune thresholds" section: a score, a threshold slider and what that
threshold would have done on the latest backtest's labelled history (KPI cards, the window
confusion matrix, the precision-recall curve, the trade-off over all thresholds), and
"Save threshold". Layout and KPI cards; figures in web/views/lab_tune_figures.py, callbacks in
callbacks/lab_tune.py."""

from __future__ import annotations

import math

import dash_bootstrap_components as dbc
from dash import dcc, html

from maintenance.rendering.human_units import format_hours

__all__ = ["tune_section", "kpi_cards", "empty_note", "model_hours"]

SCORE = "lab-tune-score"
SLIDER = "lab-tune-threshold"
DATA = "lab-tune-data"
REFRESH = "lab-tune-refresh"
SOURCE = "lab-tune-source"
EMPTY = "lab-tune-empty"
BODY = "lab-tune-body"
SAVED = "lab-tune-saved"
KPIS = "lab-tune-kpis"
CONFUSION = "lab-tune-confusion"
PR = "lab-tune-pr"
TRADEOFF = "lab-tune-tradeoff"
SAVE = "lab-tune-save"
MOVE_CLEAR = "lab-tune-move-clear"
CLEAR_NOTE = "lab-tune-clear-note"
CLEAR_BOX = "lab-tune-clear-box"
ERROR = "lab-tune-error"
FEEDBACK = "lab-tune-feedback"
LAB_TUNE_NONE = "lab-tune-none"
LAB_TUNE_SAVED_NOTE = "lab-tune-saved-note"
KPI_IDS = {
    "precision": "lab-tune-precision",
    "recall": "lab-tune-recall",
    "false_alarms": "lab-tune-false-alarms",
    "lead": "lab-tune-lead",
}
SCORES = [
    {"label": "Failure probability", "value": "prob"},
    {"label": "Anomaly score", "value": "anomaly"},
]
NO_BACKTEST = "No backtest on record yet: run one in Train, backtest, promote."

_GRAPH = {"displayModeBar": False}


def tune_section() -> html.Div:
    return html.Div(
        [
            dcc.Store(id=DATA),
            dcc.Store(id=REFRESH, data=0),
            # read when the tab is first opened (callbacks/lab_tune.py)
            html.Div(
                id=EMPTY, children=html.P("Reading the scored history…", className="text-muted")
            ),
            html.Div(
                [
                    html.Div(id=SOURCE, className="small text-muted mb-2"),
                    _controls(),
                    dbc.Row(id=KPIS, className="g-2 mb-3"),
                    dbc.Row(
                        [
                            dbc.Col(_graph(CONFUSION), lg=4),
                            dbc.Col(_graph(PR), lg=4),
                            dbc.Col(_graph(TRADEOFF), lg=4),
                        ],
                        className="g-2",
                    ),
                    _explanation(),
                ],
                id=BODY,
                style={"display": "none"},
            ),
        ]
    )


def _controls() -> dbc.Card:
    marks = {t / 10: f"{t / 10:g}" for t in range(1, 10)}
    return dbc.Card(
        dbc.CardBody(
            [
                dbc.Row(
                    [
                        dbc.Col(
                            dbc.RadioItems(id=SCORE, options=SCORES, value="prob", inline=True),
                            md="auto",
                        ),
                        dbc.Col(html.Div(id=SAVED, className="small text-muted"), md=True),
                    ],
                    className="align-items-center mb-2",
                ),
                dcc.Slider(
                    id=SLIDER,
                    min=0.05,
                    max=0.95,
                    step=0.01,
                    marks=marks,
                    updatemode="drag",  # a move is a look-up: follow the drag
                ),
                dbc.Row(
                    [
                        dbc.Col(dbc.Button("Save threshold", id=SAVE, color="primary"), md="auto"),
                        dbc.Col(
                            html.Div(
                                [
                                    dbc.Checkbox(
                                        id=MOVE_CLEAR,
                                        value=True,
                                        label="also move the clear level to 75 % of it",
                                    ),
                                    html.Div(id=CLEAR_NOTE, className="small text-muted"),
                                ],
                                id=CLEAR_BOX,
                            ),
                            md=True,
                        ),
                    ],
                    className="align-items-center mt-3",
                ),
                html.Div(id=ERROR, className="small text-danger mt-2"),
                html.Div(id=FEEDBACK, className="mt-2"),
            ]
        ),
        className="mb-3",
    )


def _graph(graph_id: str) -> dcc.Graph:
    # responsive: the section is drawn while its tab is hidden, so the figures must follow
    # their container's size once it shows
    return dcc.Graph(
        id=graph_id, config=_GRAPH, figure=_blank(), responsive=True, style={"height": "340px"}
    )


def _explanation() -> html.Small:
    return html.Small(
        "Alarms are replayed as the live scoring job would have raised them (raise at the "
        "threshold, hold until the score stays below 75 % of it for 30 minutes; the anomaly "
        "warning also needs six window ends in a row over the threshold and holds above "
        "0.5). A failure is caught when an alarm came at least the minimum lead before it; "
        "an alarm is true when a failure follows within the horizon; false alarms are per "
        "machine-week of scored time. The matrix and the curve judge single windows against "
        "the label “fails within the horizon”. The last horizon of the data is left out: "
        "what followed it is unknown.",
        className="text-muted d-block mt-2",
    )


def _blank() -> dict:
    return {"data": [], "layout": {"xaxis": {"visible": False}, "yaxis": {"visible": False}}}


def empty_note() -> dbc.Alert:
    return dbc.Alert(
        [
            html.Div(NO_BACKTEST, className="fw-semibold"),
            html.Small(
                "A backtest scores a labelled history (failures known) window by window; this "
                "tab then replays the alarms at any threshold and shows what each would have "
                "caught and how many false alarms it would have raised."
            ),
        ],
        color="info",
        id=LAB_TUNE_NONE,
    )


# --------------------------------------------------------------------------- KPI cards


def _pct(x: float | None) -> str:
    return "n/a" if _missing(x) else f"{100 * x:.0f} %"


def _missing(x: float | None) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _card(key: str, title: str, value: str, detail: str, colour: str = "") -> dbc.Col:
    body = dbc.CardBody(
        [
            html.Div(title, className="small text-muted"),
            html.Div(value, id=KPI_IDS[key], className=f"fs-3 fw-semibold {colour}"),
            html.Div(detail, id=KPI_IDS[key] + "-detail", className="small text-muted"),
        ],
        className="py-2",
    )
    return dbc.Col(dbc.Card(body, className="h-100"), md=3, sm=6)


def _good(x: float | None, target: float) -> str:
    if _missing(x):
        return "text-muted"
    return "text-success" if x >= target else "text-danger"


def model_hours(hours: float, time_scale: float, *, live: bool = False) -> str:
    """Hours on the models' clock (backtests replay model time), marked as such when live
    data runs on another clock (the demo's 60x simulator), with the live length if asked."""
    if time_scale == 1:
        return format_hours(hours)
    if not live:
        return f"{format_hours(hours)} (model time)"
    return f"{format_hours(hours)} of model time ({format_hours(hours / time_scale)} live)"


def kpi_cards(
    row: dict, *, horizon_h: float, min_lead_h: float, time_scale: float = 1.0
) -> list[dbc.Col]:
    """Precision, recall, false alarms per machine-week and median lead at one threshold
    (a row of the sweep), with the counts behind them."""
    fa = row.get("false_alarms_per_machine_week")
    lead = row.get("median_lead_h")
    horizon = model_hours(horizon_h, time_scale)
    return [
        _card(
            "precision",
            "Precision of alarms (target ≥ 80 %)",
            _pct(row.get("precision")),
            f"{row['true_alarms']} of {row['raised']} alarms had a failure within {horizon}",
            _good(row.get("precision"), 0.8),
        ),
        _card(
            "recall",
            "Failures caught (target ≥ 90 %)",
            _pct(row.get("recall")),
            f"caught {row['caught']} of {row['failures']}, at least {format_hours(min_lead_h)} "
            "ahead",
            _good(row.get("recall"), 0.9),
        ),
        _card(
            "false_alarms",
            "False alarms per machine-week",
            "n/a" if _missing(fa) else f"{fa:.2f}",
            f"{row['false_alarms']} false alarms in {row['machine_weeks']:.1f} machine-weeks",
        ),
        _card(
            "lead",
            "Median lead time",
            "n/a" if _missing(lead) else format_hours(lead),
            f"from the first alarm to the failure{'' if time_scale == 1 else ', model time'}"
            if not _missing(lead)
            else "nothing caught",
        ),
    ]
