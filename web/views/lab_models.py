"""The model lab's "Train, backtest, promote" section: a training form, the runs with live
progress and loss curve, the registry's pairs, backtest comparisons side by side, promote and
roll back. Callbacks in callbacks/lab_models.py."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from ml.lab.params import BACKTEST_DEFAULTS, TRAIN_DEFAULTS

LAB_HEADER = "lab-header"
TICK = "lab-models-tick"
REFRESH = "lab-models-refresh"
SHOWN = "lab-models-shown"  # a digest of what is shown: a tick changing nothing draws nothing
FEEDBACK = "lab-models-feedback"
TRAIN = "lab-train-start"
RUNS = "lab-runs"
PROGRESS = "lab-run-progress"
LOSS = "lab-loss-graph"
PAIR = "lab-pair"
BACKTEST = "lab-backtest-start"
PROMOTE = "lab-promote"
ROLLBACK = "lab-rollback"
COMPARE = "lab-compare"
LAB_TABS = "lab-tabs"
TUNE_TAB = "tune"  # the tune tab's id in LAB_TABS
MODELS_TAB = "models"  # the train / backtest / promote tab's id
LAB_TAB_IDS = ("explore", TUNE_TAB, MODELS_TAB)
FAMILIES = [  # "auto": the forest, or the blend where its RUL is better (docs/ml.md)
    {"label": "Auto (forest, or forest + LSTM)", "value": "auto"},
    {"label": "Random forest", "value": "tree"},
    {"label": "LSTM", "value": "lstm"},
    {"label": "Forest + LSTM", "value": "blend"},
]
SOURCES = [
    {"label": "Simulated fleet", "value": "simulator"},
    {"label": "Plant history", "value": "plant"},
    {"label": "Plant + simulated", "value": "plant+simulator"},
]


def field_id(form: str, name: str) -> str:
    return f"lab-{form}-{name}"


def _field(form: str, name: str, label: str, control: object, md: int = 2) -> dbc.Col:
    return dbc.Col(
        [
            dbc.Label(label, html_for=field_id(form, name), className="small mb-0"),
            control,
            html.Div(id=field_id(form, name) + "-error", className="invalid-feedback d-block"),
        ],
        md=md,
    )


def _number(form: str, name: str, value: float, step: float = 1) -> dbc.Input:
    return dbc.Input(id=field_id(form, name), type="number", value=value, step=step, size="sm")


def _data_fields(form: str, defaults: dict) -> list[dbc.Col]:
    return [
        _field(
            form,
            "source",
            "Data",
            dbc.Select(
                id=field_id(form, "source"), options=SOURCES, value=defaults["source"], size="sm"
            ),
            md=3,
        ),
        _field(
            form, "machines", "Simulated machines", _number(form, "machines", defaults["machines"])
        ),
        _field(form, "days", "Days of history", _number(form, "days", defaults["days"], 0.5)),
        _field(form, "seed", "Seed", _number(form, "seed", defaults["seed"])),
    ]


def _train_card() -> dbc.Card:
    d = TRAIN_DEFAULTS
    model_fields = [
        _field("train", "window", "Window (steps)", _number("train", "window", d["window"])),
        _field(
            "train",
            "horizon_h",
            "Horizon (model h)",  # the training data's hours, not the demo's wall clock
            _number("train", "horizon_h", d["horizon_h"], 0.5),
        ),
        _field(
            "train",
            "family",
            "Failure model",
            dbc.Select(
                id=field_id("train", "family"), options=FAMILIES, value=d["family"], size="sm"
            ),
            md=3,
        ),
        _field("train", "epochs", "LSTM epochs", _number("train", "epochs", d["epochs"])),
        _field(
            "train",
            "contamination",
            "Contamination",
            dbc.Input(id=field_id("train", "contamination"), value="auto", size="sm"),
        ),
        _field(
            "train",
            "features",
            "Sensors learned from",
            dbc.Checklist(
                id=field_id("train", "features"),
                options=[{"label": s, "value": s} for s in d["features"]],
                value=list(d["features"]),
                inline=True,
                className="small",
            ),
            md=4,
        ),
    ]
    return dbc.Card(
        [
            dbc.CardHeader("Train a candidate"),
            dbc.CardBody(
                [
                    dbc.Row(_data_fields("train", d), className="g-2 mb-2"),
                    dbc.Row(model_fields, className="g-2 mb-2"),
                    dbc.Button("Start training", id=TRAIN, color="primary", size="sm"),
                    html.Span(
                        " Runs in the worker's background; progress and the loss curve follow "
                        "below. The result is a candidate: nothing changes until it is promoted.",
                        className="small text-muted",
                    ),
                ]
            ),
        ],
        className="mb-3",
    )


def _registry_card() -> dbc.Card:
    d = BACKTEST_DEFAULTS
    return dbc.Card(
        [
            dbc.CardHeader("Backtest, compare, promote"),
            dbc.CardBody(
                [
                    dbc.Row(
                        _field(
                            "backtest",
                            "pair",
                            "Model pair",
                            dcc.Dropdown(id=PAIR, clearable=False, placeholder="No models yet"),
                            md=12,
                        ),
                        className="g-2 mb-2",
                    ),
                    dbc.Row(_data_fields("backtest", d), className="g-2 mb-2"),
                    html.Div(
                        [
                            dbc.Button("Backtest", id=BACKTEST, color="secondary", size="sm"),
                            dbc.Button("Promote", id=PROMOTE, color="success", size="sm"),
                            dbc.Button("Roll back", id=ROLLBACK, color="outline-danger", size="sm"),
                        ],
                        className="d-flex gap-2 mb-2",
                    ),
                    html.Div(
                        "A backtest replays the pair and the active pair over the same held-out "
                        "history (another seed, or the plant's recorded days) through the live "
                        "alarm logic. Promotion needs a backtest of that exact pair on record.",
                        className="small text-muted mb-2",
                    ),
                    dcc.Loading(html.Div(id=COMPARE), type="dot"),
                ]
            ),
        ],
        className="mb-3",
    )


def models_section() -> html.Div:
    return html.Div(
        [
            html.Div(id=FEEDBACK),
            dbc.Row(
                [
                    dbc.Col([_train_card(), _registry_card()], lg=7),
                    dbc.Col(
                        dbc.Card(
                            [
                                dbc.CardHeader("Runs"),
                                dbc.CardBody(
                                    [
                                        html.Div(id=PROGRESS),
                                        dcc.Graph(
                                            id=LOSS,
                                            config={"displayModeBar": False},
                                            style={"height": "240px"},
                                        ),
                                        html.Div(id=RUNS),
                                    ]
                                ),
                            ]
                        ),
                        lg=5,
                    ),
                ]
            ),
            dcc.Interval(id=TICK, interval=1500),
            dcc.Store(id=REFRESH, data=0),
            dcc.Store(id=SHOWN),
        ]
    )
