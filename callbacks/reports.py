"""Reports page: keep the preset and the date pickers in step and draw the range, in one
callback."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, ctx

from config import Settings
from data.db import Database
from maintenance.people.permissions import Action
from maintenance.reporting.breakdown_report import build_report, list_reports
from web.server.auth import AccessDenied, require
from web.views.reports import (
    REPORT_ALARMS,
    REPORT_CSV,
    REPORT_ERROR,
    REPORT_HEADLINE,
    REPORT_KPIS,
    REPORT_MACHINES,
    REPORT_PDF,
    REPORT_PRESET,
    REPORT_RANGE,
    REPORT_STORED,
    REPORT_TYPES,
    REPORT_WEEKS,
    RangeError,
    alarms_figure,
    chart,
    headline,
    kpis,
    machines_figure,
    parse_day_range,
    preset_days,
    stored,
    types_figure,
    weeks_figure,
)


def register(app: dash.Dash, db: Database, settings: Settings) -> None:
    @app.callback(
        Output(REPORT_PRESET, "value"),
        Output(REPORT_RANGE, "start_date"),
        Output(REPORT_RANGE, "end_date"),
        Output(REPORT_HEADLINE, "children"),
        Output(REPORT_KPIS, "children"),
        Output(REPORT_WEEKS, "children"),
        Output(REPORT_TYPES, "children"),
        Output(REPORT_MACHINES, "children"),
        Output(REPORT_ALARMS, "children"),
        Output(REPORT_CSV, "href"),
        Output(REPORT_PDF, "href"),
        Output(REPORT_STORED, "children"),
        Output(REPORT_ERROR, "children"),
        Input(REPORT_PRESET, "value"),
        Input(REPORT_RANGE, "start_date"),
        Input(REPORT_RANGE, "end_date"),
    )
    def report(preset: str, start: str | None, end: str | None) -> tuple:
        """A preset sets the date pickers, dates set the matching preset ("custom" if none),
        and the range is drawn, in one request (not one to keep them in step and a second
        to draw)."""
        try:
            require(Action.REPORT_VIEW)
        except AccessDenied as exc:
            return (*[dash.no_update] * 12, dbc.Alert(str(exc), color="warning"))
        today = datetime.now(UTC).date()
        if ctx.triggered_id == REPORT_RANGE and start and end:
            matching = [
                p
                for p in ("last-week", "4w", "90d")
                if preset_days(p, today)
                == (date.fromisoformat(start[:10]), date.fromisoformat(end[:10]))
            ]
            synced = ((matching[0] if matching else "custom"), dash.no_update, dash.no_update)
        else:
            days = preset_days(preset, today)
            if days is None:  # "custom": the pickers are the user's to set
                raise dash.exceptions.PreventUpdate
            start, end = days[0].isoformat(), days[1].isoformat()
            synced = (dash.no_update, start, end)
        return (*synced, *_draw(start, end))

    def _draw(start: str, end: str) -> tuple:
        try:
            first, stop = parse_day_range(start[:10], end[:10])
        except RangeError as err:
            return (*[dash.no_update] * 9, dbc.Alert(str(err), color="warning"))
        now = datetime.now(UTC)
        with db.session() as s:
            report = build_report(session=s, start=first, end=stop, now=now)
            reports = list_reports(session=s)
        query = urlencode({"start": start[:10], "end": end[:10]})
        return (
            headline(report, _preset_label(first.date(), stop.date() - timedelta(days=1), now)),
            kpis(report),
            chart(weeks_figure(report)),
            chart(types_figure(report)),
            chart(machines_figure(report)),
            chart(alarms_figure(report)),
            f"/reports/export.csv?{query}",
            f"/reports/export.pdf?{query}",
            stored(reports),
            "",
        )


_LABELS = {"last-week": "Last week", "4w": "Last 4 weeks", "90d": "Last 90 days"}


def _preset_label(first: date, last: date, now: datetime) -> str:
    """The preset's name when the range is one ("Last week"), else nothing."""
    return next(
        (name for key, name in _LABELS.items() if preset_days(key, now.date()) == (first, last)),
        "",
    )
