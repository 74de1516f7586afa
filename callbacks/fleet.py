"""Fleet overview: build the cards once, then extend their graphs every tick (no redraw)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dash
import pandas as pd
from dash import ALL, Input, Output, State, ctx

from config import Settings
from data.db import Database
from data.fleet import machine_cards, open_ticket_count
from data.models import Role
from data.readings import readings_since
from ml.registry import active_versions
from web import ids
from web.auth import require
from web.components import (
    LIVE_KINDS,
    LIVE_POINTS,
    STATUS_COLOR,
    STATUS_LABEL,
    alarm_class,
    alarm_line,
    kpi_strip,
    machine_card,
    mode_badge,
    risk_class,
    risk_line,
)

_VIEWERS = tuple(Role)
_HISTORY = timedelta(minutes=10)


def register(app: dash.Dash, db: Database, settings: Settings) -> None:
    @app.callback(
        Output(ids.FLEET_GRID, "children"),
        Output(ids.FLEET_KPIS, "children"),
        Output(ids.FLEET_CURSOR, "data"),
        Output(ids.FLEET_MODE, "children"),
        Input(ids.FLEET_GRID, "id"),
    )
    def build(_grid_id: str) -> tuple:
        require(_VIEWERS)
        now = datetime.now(UTC)
        with db.session() as s:
            cards = machine_cards(session=s)
            tickets = open_ticket_count(session=s)
            df = readings_since(
                session=s, machine_ids=[c.id for c in cards], kinds=LIVE_KINDS, since=now - _HISTORY
            )
            versions = active_versions(session=s)
        grid = [machine_card(c, df[df["machine_id"] == c.id]) for c in cards]
        return grid, kpi_strip(cards, tickets), _cursor(df, now), mode_badge(versions)

    @app.callback(
        Output({"type": ids.FLEET_GRAPH, "machine": ALL}, "extendData"),
        Output({"type": ids.FLEET_BADGE, "machine": ALL}, "children"),
        Output({"type": ids.FLEET_BADGE, "machine": ALL}, "color"),
        Output({"type": ids.FLEET_ALARMS, "machine": ALL}, "children"),
        Output({"type": ids.FLEET_ALARMS, "machine": ALL}, "className"),
        Output({"type": ids.FLEET_RISK, "machine": ALL}, "children"),
        Output({"type": ids.FLEET_RISK, "machine": ALL}, "className"),
        Output(ids.FLEET_MODE, "children", allow_duplicate=True),
        Output(ids.FLEET_KPIS, "children", allow_duplicate=True),
        Output(ids.FLEET_CURSOR, "data", allow_duplicate=True),
        Input(ids.FLEET_TICK, "n_intervals"),
        State(ids.FLEET_CURSOR, "data"),
        prevent_initial_call=True,
    )
    def tick(_n: int, cursor: str | None) -> tuple:
        require(_VIEWERS)
        machine_ids = [o["id"]["machine"] for o in ctx.outputs_list[0]]
        since = _parse_cursor(cursor)
        with db.session() as s:
            cards = {c.id: c for c in machine_cards(session=s)}
            tickets = open_ticket_count(session=s)
            df = readings_since(session=s, machine_ids=machine_ids, kinds=LIVE_KINDS, since=since)
            versions = active_versions(session=s)
        extend = [_extension(df[df["machine_id"] == m]) for m in machine_ids]
        shown = [cards.get(m) for m in machine_ids]  # None: retired since the page was built
        return (
            extend,
            [STATUS_LABEL[c.status] if c else "Retired" for c in shown],
            [STATUS_COLOR[c.status] if c else "secondary" for c in shown],
            [alarm_line(c) if c else "" for c in shown],
            [alarm_class(c) if c else "text-muted" for c in shown],
            [risk_line(c) if c else "" for c in shown],
            [risk_class(c) if c else "small" for c in shown],
            mode_badge(versions),
            kpi_strip(list(cards.values()), tickets),
            _cursor(df, since),
        )


def _extension(df: pd.DataFrame) -> object:
    """extendData for one graph: new points of both traces, keeping the last LIVE_POINTS."""
    if df.empty:
        return dash.no_update
    xs, ys = [], []
    for kind in LIVE_KINDS:
        part = df[df["kind"] == kind]
        xs.append([t.isoformat() for t in part["ts"]])
        ys.append([float(v) for v in part["value"]])
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
