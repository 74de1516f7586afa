"""Fleet overview: build the tiles once per filter, then extend their sparklines every tick
(no redraw: ``extendData`` appends, ``uirevision`` keeps any zoom)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import dash
import pandas as pd
from dash import ALL, Input, Output, State, ctx, html

from config import Settings
from data.db import Database
from data.fleet_queries import kind_units, open_ticket_count
from data.machine_series import fleet_sparklines
from data.readings import readings_since
from maintenance.machine_status.machine_state import MachineCard, machine_cards
from maintenance.ops.app_settings import Overrides
from maintenance.people.permissions import Action
from maintenance.reporting.breakdown_report import build_report, week_start_of
from ml.lab.pairs import family_name
from ml.registry import active_family, active_versions
from web.server.auth import require
from web.views.fleet import (
    ANY,
    FLEET_ALARMS,
    FLEET_BADGE,
    FLEET_CARD,
    FLEET_CLOCK,
    FLEET_CURSOR,
    FLEET_EMPTY,
    FLEET_GRAPH,
    FLEET_GRID,
    FLEET_KPIS,
    FLEET_LOCATION,
    FLEET_MODE,
    FLEET_RISK,
    FLEET_SPARK_LEGEND,
    FLEET_TICK,
    FLEET_TYPE,
    STATUS_LABEL,
    alarm_class,
    alarm_line,
    badge_class,
    card_class,
    clock_note,
    kpi_strip,
    machine_tile,
    mode_badge,
    risk_class,
    risk_line,
)
from web.views.fleet_sparkline import (
    LIVE_KINDS,
    LIVE_POINTS,
    SPARK_MINUTES,
    epoch_ms,
    sparkline_legend,
    sparkline_series,
)

_HISTORY = timedelta(minutes=SPARK_MINUTES)
_SPARK_STEP_S = 30  # 30 points per sparkline: enough to see a trend, light for 200 tiles


def register(app: dash.Dash, db: Database, settings: Settings) -> None:
    live = Overrides(settings, db)  # the failure threshold: the plant's, or the model's

    @app.callback(
        Output(FLEET_GRID, "children"),
        Output(FLEET_KPIS, "children"),
        Output(FLEET_CURSOR, "data"),
        Output(FLEET_MODE, "children"),
        Output(FLEET_TYPE, "options"),
        Output(FLEET_LOCATION, "options"),
        Output(FLEET_CLOCK, "children"),
        Output(FLEET_SPARK_LEGEND, "children"),
        Input(FLEET_TYPE, "value"),
        Input(FLEET_LOCATION, "value"),
    )
    def build(type_: str, location: str) -> tuple:
        require(Action.FLEET_VIEW)
        now = datetime.now(UTC)
        with db.session() as s:
            every = machine_cards(session=s)
            cards = _filtered(every, type_, location)
            spark = fleet_sparklines(
                session=s,
                machine_ids=[c.id for c in cards],
                kinds=LIVE_KINDS,
                start=now - _HISTORY,
                step_s=_SPARK_STEP_S,
            )
            kpis = _kpis(s, cards, now)
            versions = active_versions(session=s)
            family = family_name(active_family(session=s))
            units = kind_units(session=s, kinds=LIVE_KINDS)
        series = sparkline_series(spark)
        threshold = live.current().failure_threshold
        tiles = [machine_tile(c, series.get(c.id, {}), threshold) for c in cards]
        if not tiles:
            tiles = [_empty(bool(every))]
        return (
            tiles,
            kpis,
            now.isoformat(),
            mode_badge(versions, family),
            _options(c.type for c in every),
            _options(c.location for c in every),
            clock_note(settings.live_time_scale),
            sparkline_legend(units) if cards else None,
        )

    @app.callback(
        Output({"type": FLEET_GRAPH, "machine": ALL}, "extendData"),
        Output({"type": FLEET_BADGE, "machine": ALL}, "children"),
        Output({"type": FLEET_BADGE, "machine": ALL}, "className"),
        Output({"type": FLEET_ALARMS, "machine": ALL}, "children"),
        Output({"type": FLEET_ALARMS, "machine": ALL}, "className"),
        Output({"type": FLEET_RISK, "machine": ALL}, "children"),
        Output({"type": FLEET_RISK, "machine": ALL}, "className"),
        Output({"type": FLEET_CARD, "machine": ALL}, "className"),
        Output(FLEET_MODE, "children", allow_duplicate=True),
        Output(FLEET_KPIS, "children", allow_duplicate=True),
        Output(FLEET_CURSOR, "data", allow_duplicate=True),
        Input(FLEET_TICK, "n_intervals"),
        State(FLEET_CURSOR, "data"),
        State(FLEET_TYPE, "value"),
        State(FLEET_LOCATION, "value"),
        prevent_initial_call=True,
    )
    def tick(_n: int, cursor: str | None, type_: str, location: str) -> tuple:
        require(Action.FLEET_VIEW)
        machine_ids = [o["id"]["machine"] for o in ctx.outputs_list[0]]
        since = _parse_cursor(cursor)
        now = datetime.now(UTC)
        with db.session() as s:
            every = machine_cards(session=s)
            cards = {c.id: c for c in every}
            df = readings_since(session=s, machine_ids=machine_ids, kinds=LIVE_KINDS, since=since)
            kpis = _kpis(s, _filtered(every, type_, location), now)
            versions = active_versions(session=s)
            family = family_name(active_family(session=s))
        by_machine = dict(tuple(df.groupby("machine_id"))) if not df.empty else {}
        extend = [
            _extension(by_machine[m]) if m in by_machine else dash.no_update for m in machine_ids
        ]
        shown = [cards.get(m) for m in machine_ids]  # None: retired since the page was built
        threshold = live.current().failure_threshold
        return (
            extend,
            [STATUS_LABEL[c.status] if c else "Retired" for c in shown],
            [badge_class(c.status if c else "idle") for c in shown],
            [alarm_line(c) if c else "" for c in shown],
            [alarm_class(c) if c else "text-muted" for c in shown],
            [risk_line(c, now) if c else "" for c in shown],
            [risk_class(c, threshold) if c else "small" for c in shown],
            [card_class(c.status if c else "idle") for c in shown],
            mode_badge(versions, family),
            kpis,
            _cursor(df, since),
        )


def _filtered(cards: list[MachineCard], type_: str | None, location: str | None) -> list:
    return [
        c
        for c in cards
        if (not type_ or type_ == ANY or c.type == type_)
        and (not location or location == ANY or c.location == location)
    ]


def _options(values: object) -> list[dict]:
    return [{"label": "All", "value": ANY}] + [
        {"label": v, "value": v} for v in sorted(set(values))
    ]


_WEEK_CACHE: dict[str, tuple[float, object]] = {}
_WEEK_TTL_S = 30.0  # availability this week moves slowly; the tiles tick every 2 s


def _this_week(session: object, now: datetime) -> object:
    """This week's report, reused for 30 s (per web process)."""
    cached = _WEEK_CACHE.get("week")
    if cached is not None and time.monotonic() - cached[0] < _WEEK_TTL_S:
        return cached[1]
    week = build_report(session=session, start=week_start_of(now), end=now, now=now)
    _WEEK_CACHE["week"] = (time.monotonic(), week)
    return week


def _kpis(session: object, cards: list[MachineCard], now: datetime) -> object:
    week = _this_week(session, now)
    names = {c.name for c in cards}
    shown = [m.stats for m in week.machines if m.name in names]
    availability = sum(shown[1:], shown[0]).availability if shown else None
    with_tickets = open_ticket_count(session=session)
    return kpi_strip(cards, with_tickets, availability)


def _empty(filtered: bool) -> object:
    text = (
        "No machine matches these filters."
        if filtered
        else "No machines yet. Add machines, or start the simulator to see a demo fleet."
    )
    return html.Div(text, className="alert alert-light", id=FLEET_EMPTY)


def _extension(df: pd.DataFrame | None) -> object:
    """extendData for one sparkline: new points of both traces, keeping the last LIVE_POINTS."""
    if df is None or df.empty:
        return dash.no_update
    xs, ys = [], []
    for kind in LIVE_KINDS:  # epoch milliseconds, like the tiles' first draw
        part = df[df["kind"] == kind]
        xs.append(epoch_ms(part["ts"]).tolist())
        ys.append(part["value"].astype(float).round(3).tolist())
    return [{"x": xs, "y": ys}, [0, 1], LIVE_POINTS]


def _cursor(df: pd.DataFrame, fallback: datetime) -> str:
    """The newest timestamp already shown: the next tick asks only for later readings."""
    return (df["ts"].max() if not df.empty else fallback).isoformat()


def _parse_cursor(cursor: str | None) -> datetime:
    now = datetime.now(UTC)
    try:
        ts = datetime.fromisoformat(cursor) if cursor else now - _HISTORY
    except ValueError:
        ts = now - _HISTORY
    return max(ts, now - _HISTORY)  # a stale tab catches up with at most the live window
