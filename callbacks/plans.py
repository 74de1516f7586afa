"""Plans page: every role reads the next due dates; managers, engineers and admins create
and deactivate plans (checked on the server, again in the domain)."""

from __future__ import annotations

from datetime import datetime

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, ctx

from config import Settings
from data.db import Database
from data.models import utcnow
from maintenance.people.permissions import Action, allowed
from maintenance.planning.preventive_plans import (
    PlanDue,
    PlanError,
    create_plan,
    due_plans,
    machine_choices,
    set_active,
)
from maintenance.procedures.sop_library import list_sops
from web.server.auth import AccessDenied, require
from web.views.plans import (
    PLANS_CODE,
    PLANS_CREATE,
    PLANS_DEACTIVATE,
    PLANS_ERROR,
    PLANS_EVERY_DAYS,
    PLANS_EVERY_HOURS,
    PLANS_FEEDBACK,
    PLANS_FORM,
    PLANS_GRID,
    PLANS_LEAD,
    PLANS_MACHINE,
    PLANS_NAME,
    PLANS_OK,
    PLANS_REFRESH,
    PLANS_TYPE,
)

_FIELD_IDS = {
    "name": PLANS_NAME,
    "code": PLANS_CODE,
    "target": PLANS_MACHINE,
    "every": PLANS_EVERY_DAYS,
    "lead": PLANS_LEAD,
}


def _when(t: datetime | None) -> str:
    return f"{t:%Y-%m-%d %H:%M}" if t else "—"


def _row(d: PlanDue) -> dict:
    return {
        "plan_id": d.plan_id,
        "plan": d.plan,
        "code": d.code,
        "machine": d.machine,
        "every": d.every,
        "last_done": _when(d.last_done_at),
        "hours_since": None if d.hours_since is None else round(d.hours_since, 1),
        "next_due": _when(d.due_at) if d.due_at or d.hours_since is None else "not running",
        "status": "active" if d.active else "inactive",
    }


def register(app: dash.Dash, db: Database, settings: Settings) -> None:
    @app.callback(
        Output(PLANS_GRID, "rowData"),
        Output(PLANS_MACHINE, "options"),
        Output(PLANS_CODE, "options"),
        Output(PLANS_TYPE, "options"),
        Output(PLANS_FORM, "style"),
        Output(PLANS_DEACTIVATE, "style"),
        Input(PLANS_REFRESH, "data"),
    )
    def show(_refresh: int) -> tuple:
        user = require(Action.PLAN_VIEW)
        with db.session() as s:
            rows = [_row(d) for d in due_plans(s, utcnow(), include_inactive=True, store=False)]
            machines = machine_choices(s)
            sops = list_sops(session=s)
        none = [{"label": "—", "value": ""}]
        options = none + [
            {"label": f"{name} ({kind})", "value": str(i)} for i, name, kind in machines
        ]
        codes = none + [{"label": f"{p.code}: {p.title}", "value": p.code} for p in sops]
        types = none + [{"label": t, "value": t} for t in sorted({k for _, _, k in machines})]
        shown = {} if allowed(user.role, Action.PLAN_EDIT) else {"display": "none"}
        return rows, options, codes, types, shown, shown

    @app.callback(
        Output(PLANS_FEEDBACK, "children"),
        Output(PLANS_REFRESH, "data"),
        *(Output(i, "invalid") for i in _FIELD_IDS.values()),
        *(Output(f"{i}-error", "children") for i in _FIELD_IDS.values()),
        Input(PLANS_CREATE, "n_clicks"),
        Input(PLANS_DEACTIVATE, "n_clicks"),
        State(PLANS_NAME, "value"),
        State(PLANS_CODE, "value"),
        State(PLANS_MACHINE, "value"),
        State(PLANS_TYPE, "value"),
        State(PLANS_EVERY_DAYS, "value"),
        State(PLANS_EVERY_HOURS, "value"),
        State(PLANS_LEAD, "value"),
        State(PLANS_GRID, "selectedRows"),
        State(PLANS_REFRESH, "data"),
        prevent_initial_call=True,
    )
    def change(_c, _d, name, code, machine, kind, days, hours, lead, selected, refresh) -> tuple:
        blank = (False,) * len(_FIELD_IDS) + ("",) * len(_FIELD_IDS)
        try:
            user = require(Action.PLAN_EDIT)
            with db.session() as s:
                if ctx.triggered_id == PLANS_DEACTIVATE:
                    if not selected:
                        raise PlanError("Select a plan first.")
                    set_active(session=s, user=user, plan_id=selected[0]["plan_id"], active=False)
                    text = f"Plan {selected[0]['plan']} deactivated."
                else:
                    create_plan(
                        session=s,
                        user=user,
                        name=name,
                        code=code,
                        machine_id=int(machine) if machine else None,
                        machine_type=kind,
                        every_days=days,
                        every_running_hours=hours,
                        lead_days=3 if lead is None else lead,
                    )
                    text = f"Plan {name} created."
        except (PlanError, AccessDenied) as exc:
            messages = getattr(exc, "messages", {})
            if set(messages) & set(_FIELD_IDS):  # each message beside its field
                keys = list(_FIELD_IDS)
                return (
                    None,
                    dash.no_update,
                    *(k in messages for k in keys),
                    *(messages.get(k, "") for k in keys),
                )
            return dbc.Alert(str(exc), color="danger", id=PLANS_ERROR), dash.no_update, *blank
        ok = dbc.Alert(text, color="success", id=PLANS_OK, duration=4000, className="py-2")
        return ok, (refresh or 0) + 1, *blank
