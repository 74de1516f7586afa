"""What the model lab's "Train, backtest, promote" section shows of its runs: the header
with the new labels, the latest run's progress and loss curve, the runs table and a
backtest's comparison with the active pair (no database here: the callbacks read)."""

from __future__ import annotations

from datetime import datetime

import dash_bootstrap_components as dbc
from dash import html

from data.models import LabRun, LabRunStatus
from ml.lab.pairs import Pair, family_name
from ml.trees import COLUMN_SETS, columns_text

__all__ = ["comparison", "header", "loss_figure", "note", "progress", "runs_table"]

# ids of this page's components
LAB_BACKTEST_CSV = "lab-backtest-csv"
LAB_COMPARE_EMPTY = "lab-compare-empty"
LAB_COMPARE_TABLE = "lab-compare-table"
LAB_NEW_LABELS = "lab-new-labels"
LAB_RUNS_TABLE = "lab-runs-table"
LAB_RUN_STAGE = "lab-run-stage"

_STATUS_COLOUR = {"queued": "secondary", "running": "info", "done": "success", "failed": "danger"}


def _when(t: datetime | None) -> str:
    return f"{t:%Y-%m-%d %H:%M:%S}" if t else "—"


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.0f} %"


def _num(x: float | None, fmt: str = "{:.2f}") -> str:
    return "—" if x is None else fmt.format(x)


def header(active: Pair | None, labels: dict[str, int]) -> list:
    """The section's header: the active pair and the labels gathered since it was trained."""
    badge = (
        dbc.Badge(f"Active: {active.label}", color="success", className="me-2")
        if active
        else dbc.Badge("No active model: threshold rules only", color="secondary", className="me-2")
    )
    detail = (
        f"{labels['confirmed']} confirmed failures, {labels['false_alarms']} false alarms, "
        f"{labels['breakdowns']} recorded breakdowns"
    )
    return [
        badge,
        dbc.Badge(
            f"{labels['total']} new labels since the active model was trained",
            color="warning" if labels["total"] else "light",
            text_color="dark",
            className="me-1",
            id=LAB_NEW_LABELS,
        ),
        html.Span(f"({detail}; retraining uses them)", className="small text-muted"),
    ]


def loss_figure(run: LabRun | None) -> dict:
    """The latest training run's loss per epoch, or a note that there is none yet."""
    curve = (run.curve if run else None) or []
    epochs = [p["epoch"] for p in curve]
    keys = sorted({k for p in curve for k in p if k != "epoch"}, key=lambda k: k != "loss")
    traces = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": "total loss" if key == "loss" else key.replace("_", " "),
            "x": epochs,
            "y": [p.get(key) for p in curve],
        }
        for key in keys
    ]
    if not traces:  # an empty state, not empty axes
        return {
            "data": [],
            "layout": {
                "xaxis": {"visible": False},
                "yaxis": {"visible": False},
                "margin": {"l": 10, "r": 10, "t": 10, "b": 10},
                "annotations": [
                    {
                        "text": "No lab training run yet:<br>its loss curve will draw here",
                        "showarrow": False,
                        "font": {"color": "#6c757d"},
                        "xref": "paper",
                        "yref": "paper",
                    }
                ],
            },
        }
    title = f"Loss per epoch, run #{run.id}"
    return {
        "data": traces,
        "layout": {
            "title": {"text": title, "font": {"size": 13}, "x": 0.02},
            "margin": {"l": 40, "r": 10, "t": 30, "b": 70},
            "xaxis": {"title": {"text": "epoch"}, "dtick": 1},
            "legend": {"orientation": "h", "y": -0.45},
            "uirevision": "loss",
        },
    }


def progress(run: LabRun | None) -> object:
    """The latest run's stage and progress bar, with its error if it failed."""
    if run is None:
        return html.Div("No run yet: start a training run.", className="text-muted small mb-2")
    running = run.status in (LabRunStatus.QUEUED, LabRunStatus.RUNNING)
    return html.Div(
        [
            html.Div(
                f"#{run.id} {run.kind} · {run.status.value}"
                + ("" if run.stage in ("done", run.status.value) else f" · {run.stage}"),
                className="small mb-1",
                id=LAB_RUN_STAGE,
            ),
            dbc.Progress(
                value=round(100 * run.progress),
                label=f"{100 * run.progress:.0f} %",
                striped=running,
                animated=running,
                color=_STATUS_COLOUR[run.status.value],
                className="mb-2",
            ),
            html.Div(run.error, className="text-danger small") if run.error else None,
        ]
    )


def _summary(run: LabRun) -> str:
    r = run.result or {}
    if run.kind == "train" and "versions" in r:
        v = r["versions"]
        family = family_name(r.get("family"))
        seen = r.get("tree_columns")
        sees = f"; its forests see the {columns_text(seen)}" if seen in COLUMN_SETS else ""
        return f"anomaly v{v['anomaly']} + failure v{v['failure']} ({family}){_why(r)}{sees}"
    if "metrics" in r:
        c = r["metrics"]["candidate"]
        return f"recall {_pct(c.get('recall'))}, precision {_pct(c.get('precision'))}"
    return run.error[:60] if run.error else ""


def _why(result: dict) -> str:
    """Why ``auto`` kept its family: each candidate's RUL error on the held-out machines,
    which neither learned from, overall and in the last 2 h before a failure (the blend is
    kept only when it is 2 % better overall and no worse in those hours)."""
    choice = result.get("family_choice") or {}
    if len(choice) < 2:
        return ""
    if all(s.get("val_rul_rmse_last2h_h") is None for s in choice.values()):
        errors = ", ".join(
            f"{family_name(f)} {_num(s.get('val_rul_rmse_h'))} h" for f, s in choice.items()
        )
        return f"; RUL error on held-out machines (none of them failed): {errors}"
    errors = ", ".join(
        f"{family_name(f)} {_num(s.get('val_rul_rmse_h'))} / "
        f"{_num(s.get('val_rul_rmse_last2h_h'))} h"
        for f, s in choice.items()
    )
    return f"; RUL error on held-out machines, overall / last 2 h before a failure: {errors}"


def runs_table(runs: list[LabRun], names: dict[int, str]) -> object:
    """The latest runs: kind, status, who queued them, when, and what came out."""
    if not runs:
        return None
    rows = [
        html.Tr(
            [
                html.Td(f"#{r.id}"),
                html.Td(r.kind),
                html.Td(dbc.Badge(r.status.value, color=_STATUS_COLOUR[r.status.value])),
                html.Td(names.get(r.created_by, "scheduler")),
                html.Td(_when(r.created_at)),
                html.Td(_summary(r), className="small"),
            ]
        )
        for r in runs
    ]
    head = html.Thead(
        html.Tr([html.Th(h) for h in ("Run", "Kind", "Status", "By", "Queued", "Result")])
    )
    return dbc.Table(
        [head, html.Tbody(rows)], size="sm", hover=True, className="small mb-0", id=LAB_RUNS_TABLE
    )


def comparison(run: LabRun | None, pair: Pair | None) -> object:
    """The chosen pair's latest backtest beside the active pair's, or why there is none."""
    if pair is None:
        return None
    if run is None:
        return dbc.Alert(
            f"No backtest of {pair.label} on record yet: it cannot be promoted before one.",
            color="light",
            className="py-2 small",
            id=LAB_COMPARE_EMPTY,
        )
    metrics = run.result.get("metrics", {})
    models = [m for m in ("candidate", "active") if m in metrics]
    names = {"candidate": pair.label, "active": "active pair"}
    if "active" in run.result.get("versions", {}):
        a = run.result["versions"]["active"]
        names["active"] = f"active: anomaly v{a['anomaly']} + failure v{a['failure']}"
    lines = [
        ("Failures caught", lambda m: f"{m['caught']} of {m['failures']}"),
        ("Recall", lambda m: _pct(m.get("recall"))),
        ("Precision", lambda m: _pct(m.get("precision"))),
        ("Alarms raised", lambda m: str(m["raised"])),
        ("False alarms", lambda m: str(m["false_alarms"])),
        ("False alarms per machine-week", lambda m: _num(m.get("false_alarms_per_machine_week"))),
        ("Median lead time", lambda m: _num(m.get("median_lead_h"), "{:.1f} h")),
    ]
    body = [
        html.Tr([html.Th(label)] + [html.Td(fmt(metrics[m])) for m in models])
        for label, fmt in lines
    ]
    # each pair at the threshold in force were it active: the plant's, or its training's
    at = run.result.get("thresholds") or {m: run.result.get("threshold", 0.8) for m in models}
    body.insert(
        0, html.Tr([html.Th("Alarm threshold")] + [html.Td(f"{at[m]:.2f}") for m in models])
    )
    verdict = (
        dbc.Badge("beats the active pair", color="success")
        if run.result.get("beats_active") and "active" in metrics
        else dbc.Badge("no better than the active pair", color="warning", text_color="dark")
        if "active" in metrics
        else dbc.Badge("nothing active to compare with", color="light", text_color="dark")
    )
    return html.Div(
        [
            html.Div(
                [
                    html.Span(
                        f"Backtest #{run.id} on {run.result.get('data', '')} ",
                        className="small me-2",
                    ),
                    verdict,
                    html.A(
                        "report (CSV)",
                        href=f"/lab/backtest/{run.id}.csv",
                        className="small ms-3",
                        id=LAB_BACKTEST_CSV,
                    ),
                    html.A(
                        "scores (Parquet)",
                        href=f"/lab/backtest/{run.id}/scores.parquet",
                        className="small ms-2",
                    ),
                ],
                className="mb-1",
            ),
            dbc.Table(
                [
                    html.Thead(html.Tr([html.Th("")] + [html.Th(names[m]) for m in models])),
                    html.Tbody(body),
                ],
                bordered=True,
                size="sm",
                className="small",
                id=LAB_COMPARE_TABLE,
            ),
        ]
    )


def note(text: str, colour: str) -> dbc.Alert:
    """How an action went."""
    return dbc.Alert(text, color=colour, className="py-2", dismissable=True)
