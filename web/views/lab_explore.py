"""The model lab's explore section (layout); its callbacks live in callbacks/lab_explore.py,
its summary line and download links in lab_explore_summary.py.

Pick machines, sensors and a range; see the bucketed series, the windows' engineered
features over time and their distributions healthy vs pre-failure, a PCA of the windows, and
what the models said next to alarms and confirmed failures; download any of it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import parse_qs, urlencode

import dash_bootstrap_components as dbc
from dash import dcc, html

__all__ = [
    "Asked",
    "RANGES",
    "asked_period",
    "lab_link",
    "parse_search",
    "STEPS",
    "explore_section",
    "EXPLORE_INIT",
    "EXPLORE_MACHINES",
    "EXPLORE_SENSORS",
    "EXPLORE_RANGE",
    "EXPLORE_DATES",
    "EXPLORE_DATES_BOX",
    "EXPLORE_STEP",
    "EXPLORE_HORIZON",
    "EXPLORE_FEATURE",
    "EXPLORE_SUMMARY",
    "EXPLORE_RAW",
    "EXPLORE_FEATURES",
    "EXPLORE_DISTRIBUTIONS",
    "EXPLORE_DIST_NOTE",
    "EXPLORE_PCA",
    "EXPLORE_TIMELINE_BOX",
    "EXPLORE_META",
    "EXPLORE_DOWNLOADS",
    "TIMELINE",
    "TIMELINE_PROGRESS",
    "TIMELINE_TICK",
    "TIMELINE_JOB",
    "timeline_parts",
    "score_progress",
]

EXPLORE_INIT = "lab-explore-init"
EXPLORE_MACHINES = "lab-explore-machines"
EXPLORE_SENSORS = "lab-explore-sensors"
EXPLORE_RANGE = "lab-explore-range"
EXPLORE_DATES = "lab-explore-dates"
EXPLORE_DATES_BOX = "lab-explore-dates-box"
EXPLORE_STEP = "lab-explore-step"
EXPLORE_HORIZON = "lab-explore-horizon"
EXPLORE_FEATURE = "lab-explore-feature"
EXPLORE_SUMMARY = "lab-explore-summary"
EXPLORE_RAW = "lab-explore-raw"
EXPLORE_FEATURES = "lab-explore-features"
EXPLORE_DISTRIBUTIONS = "lab-explore-distributions"
EXPLORE_DIST_NOTE = "lab-explore-dist-note"
EXPLORE_PCA = "lab-explore-pca"
EXPLORE_TIMELINE_BOX = "lab-explore-timeline-box"
EXPLORE_META = "lab-explore-meta"
# the timeline's parts are rebuilt for every selection, their ids carrying its token: a
# late answer about an earlier selection finds no component to update
TIMELINE = "lab-explore-timeline"
TIMELINE_PROGRESS = "lab-explore-progress"
TIMELINE_TICK = "lab-explore-tick"
TIMELINE_JOB = "lab-explore-job"
EXPLORE_DOWNLOADS = "lab-explore-downloads"
LAB_EXPLORE = "lab-explore"
LAB_EXPLORE_EMPTY = "lab-explore-empty"
LAB_EXPLORE_NO_SCORES = "lab-explore-no-scores"
LAB_EXPLORE_ONE_CLASS = "lab-explore-one-class"

# range key -> (label, span); the callback trusts only these (and "custom" dates)
RANGES = {
    "6h": ("Last 6 h", timedelta(hours=6)),
    "1d": ("1 day", timedelta(days=1)),
    "7d": ("7 days", timedelta(days=7)),
    "30d": ("30 days", timedelta(days=30)),
}
STEPS = [
    {"label": "Step: the model's", "value": 0},
    {"label": "Step: 10 s", "value": 10},
    {"label": "Step: 1 min", "value": 60},
    {"label": "Step: 10 min", "value": 600},
    {"label": "Step: 1 h", "value": 3600},
]
_GRAPH_CONFIG = {"displaylogo": False}


@dataclass(frozen=True, slots=True)
class Asked:
    """What the lab's address asks the explore controls for (``/lab?type=pump&start=…``):
    a machine type (its machines are picked), one machine, and a range of days."""

    machine_type: str | None = None
    machine: str | None = None
    start: date | None = None
    end: date | None = None


def lab_link(*, machine_type: str, start: date, end: date, machine: str | None = None) -> str:
    """The lab with these days (first and last, both included) and machines pre-selected."""
    query = {"type": machine_type, "start": start.isoformat(), "end": end.isoformat()}
    return "/lab?" + urlencode(query | ({"machine": machine} if machine else {}))


def asked_period(query: Mapping[str, object]) -> Asked:
    """The address's ``type``, ``machine``, ``start`` and ``end`` (YYYY-MM-DD) from its
    parameters (Dash pages' layout keywords, or ``parse_search``); a date that does not
    parse, or a range that ends before it starts, asks for no dates."""

    def one(key: str) -> str | None:
        value = query.get(key)
        return (value.strip()[:64] or None) if isinstance(value, str) else None

    start, end = _day(one("start")), _day(one("end"))
    if start is None or end is None or end < start:
        start = end = None
    return Asked(one("type"), one("machine"), start, end)


def parse_search(search: str | None) -> dict[str, str]:
    """An address's query string as its first value per key."""
    return {k: v[0] for k, v in parse_qs((search or "").lstrip("?")).items()}


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text[:10]) if text else None
    except ValueError:
        return None


def explore_section(asked: Asked | None = None) -> html.Div:
    return html.Div(
        [
            dcc.Store(id=EXPLORE_INIT, data=True),
            dcc.Store(id=EXPLORE_META),
            _controls(asked or Asked()),
            html.Div(id=EXPLORE_SUMMARY, className="mb-2"),
            _card("Series (bucket means)", _graph(EXPLORE_RAW, 300)),
            _feature_row(),
            dbc.Row(
                [
                    dbc.Col(
                        _card("Windows in two dimensions (PCA)", _graph(EXPLORE_PCA, 380)), lg=5
                    ),
                    dbc.Col(_timeline_card(), lg=7),
                ]
            ),
        ],
        id=LAB_EXPLORE,
    )


def _controls(asked: Asked) -> dbc.Card:
    dated = asked.start is not None and asked.end is not None
    return dbc.Card(
        dbc.CardBody(
            [
                dbc.Row(
                    [
                        dbc.Col(
                            dcc.Dropdown(id=EXPLORE_MACHINES, multi=True, placeholder="Machines…"),
                            md=5,
                        ),
                        dbc.Col(
                            dcc.Dropdown(id=EXPLORE_SENSORS, multi=True, placeholder="Sensors…"),
                            md=4,
                        ),
                        dbc.Col(
                            dcc.Dropdown(id=EXPLORE_STEP, options=STEPS, value=0, clearable=False),
                            md=3,
                        ),
                    ],
                    className="g-2 mb-2",
                ),
                html.Div(
                    [
                        dbc.RadioItems(
                            id=EXPLORE_RANGE,
                            options=[{"label": v[0], "value": k} for k, v in RANGES.items()]
                            + [{"label": "Dates", "value": "custom"}],
                            value="custom" if dated else "1d",
                            inline=True,
                            className="btn-group filter-group me-2",
                            inputClassName="btn-check",
                            labelClassName="btn btn-outline-primary btn-sm",
                            labelCheckedClassName="active",
                        ),
                        html.Div(
                            dcc.DatePickerRange(
                                id=EXPLORE_DATES,
                                display_format="YYYY-MM-DD",
                                first_day_of_week=1,
                                minimum_nights=0,
                                start_date=asked.start.isoformat() if asked.start else None,
                                end_date=asked.end.isoformat() if asked.end else None,
                            ),
                            id=EXPLORE_DATES_BOX,
                            style={"display": "block" if dated else "none"},
                            className="me-2",
                        ),
                        dbc.InputGroup(
                            [
                                dbc.InputGroupText("Horizon H (real h)"),
                                dbc.Input(
                                    id=EXPLORE_HORIZON,
                                    type="number",
                                    min=0,
                                    step="any",
                                    debounce=True,
                                    placeholder="model's",
                                ),
                            ],
                            size="sm",
                            style={"width": "13rem"},
                            className="me-2",
                        ),
                        html.Div(id=EXPLORE_DOWNLOADS, className="ms-auto"),
                    ],
                    className="d-flex align-items-center flex-wrap gap-1",
                ),
            ]
        ),
        className="shadow-sm mb-2",
    )


def _feature_row() -> html.Div:
    picker = dcc.Dropdown(
        id=EXPLORE_FEATURE, clearable=False, placeholder="Feature…", style={"minWidth": "16rem"}
    )
    return html.Div(
        [
            html.Div(
                [html.Span("Feature", className="me-2 fw-semibold"), picker],
                className="d-flex align-items-center mb-2",
            ),
            dbc.Row(
                [
                    dbc.Col(_card("Feature over time", _graph(EXPLORE_FEATURES, 330)), lg=6),
                    dbc.Col(
                        _card(
                            "Healthy vs pre-failure windows",
                            html.Div(
                                [html.Div(id=EXPLORE_DIST_NOTE), _graph(EXPLORE_DISTRIBUTIONS, 330)]
                            ),
                        ),
                        lg=6,
                    ),
                ]
            ),
        ]
    )


def _timeline_card() -> dbc.Card:
    return dbc.Card(
        [
            dbc.CardHeader("Failure probability and anomaly score, alarms, confirmed failures"),
            html.Div(id=EXPLORE_TIMELINE_BOX, style={"minHeight": "440px"}),
        ],
        className="shadow-sm mb-3",
    )


def timeline_parts(token: str, job: dict | None, figure: dict) -> list:
    """The timeline for one selection: its graph, the progress of the scores still being
    read, and the interval and job that read them a few machines at a time."""
    todo = len(job["machines"]) if job else 0
    return [
        dcc.Store(id={"type": TIMELINE_JOB, "job": token}, data=job),
        dcc.Interval(id={"type": TIMELINE_TICK, "job": token}, interval=300, disabled=not todo),
        html.Div(
            score_progress(0, todo) if todo else "",
            id={"type": TIMELINE_PROGRESS, "job": token},
            className="mx-3 mt-2",
        ),
        dcc.Graph(
            id={"type": TIMELINE, "job": token},
            figure=figure,
            config=_GRAPH_CONFIG,
            style={"height": "420px"},
        ),
    ]


def score_progress(done: int, todo: int, rows: int = 0) -> object:
    """A progress bar while scores are read; nothing once they are all drawn, or why the
    lines stay empty."""
    if done < todo:
        return dbc.Progress(
            value=round(100 * done / todo),
            label=f"reading scores: {done}/{todo} machines",
            striped=True,
            animated=True,
            style={"height": "1.1rem"},
        )
    if rows == 0:
        return html.Small(
            "No model scored these machines in this range.",
            className="text-muted",
            id=LAB_EXPLORE_NO_SCORES,
        )
    return ""


def _graph(graph_id: str, height: int) -> dcc.Loading:
    return dcc.Loading(
        dcc.Graph(id=graph_id, config=_GRAPH_CONFIG, style={"minHeight": f"{height}px"}),
        delay_show=300,
    )


def _card(title: str, body: object) -> dbc.Card:
    return dbc.Card([dbc.CardHeader(title), body], className="shadow-sm mb-3")
