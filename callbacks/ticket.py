"""Ticket detail: show it, tick SOP steps, comment, change status. Every callback checks
the role on the server; the domain functions check again who may touch which ticket."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx, set_props
from sqlalchemy.exc import IntegrityError, OperationalError

from callbacks.resolve_parts import register_parts
from callbacks.resolve_ticket import dialog_opening, submit_resolution, transition
from config import Settings
from data.db import Database
from data.models import TicketStatus
from maintenance.people.accounts import UserInfo
from maintenance.people.permissions import Action, allowed
from maintenance.repair.ticket_detail import readings_around, ticket_activity, ticket_detail
from maintenance.repair.ticket_work import (
    WorkError,
    add_comment,
    done_steps,
    set_step,
)
from web.server.auth import AccessDenied, require
from web.views.resolve_dialog import DETAIL_DIALOG as D
from web.views.resolve_dialog import answer_states, message_outputs
from web.views.resolve_form import Answers, error_alert
from web.views.ticket import (
    TICKET_ACTIONS,
    TICKET_ACTIVITY,
    TICKET_ALARM,
    TICKET_BODY,
    TICKET_COMMENT_ERROR,
    TICKET_COMMENT_FORM,
    TICKET_COMMENT_SUBMIT,
    TICKET_COMMENT_TEXT,
    TICKET_COMMENTS,
    TICKET_DETAIL_ACTION,
    TICKET_FEEDBACK,
    TICKET_GRAPH,
    TICKET_HEADER,
    TICKET_HISTORY,
    TICKET_ID,
    TICKET_REFRESH,
    TICKET_SOP,
    TICKET_SOP_AFTER,
    TICKET_STEP,
    TICKET_STEPS,
    TICKET_STEPS_FEEDBACK,
    TICKET_STEPS_NOTE,
    comment_list,
    detail_outputs,
    history_list,
    steps_note,
)
from web.views.ticket_graph import readings_figure

_TARGET = {
    "start": TicketStatus.IN_PROGRESS,
    "release": TicketStatus.OPEN,
    "reopen": TicketStatus.OPEN,
}


def register(app: dash.Dash, db: Database, settings: Settings) -> None:
    @app.callback(
        Output(TICKET_HEADER, "children"),
        Output(TICKET_ACTIONS, "children"),
        Output(TICKET_ALARM, "children"),
        Output(TICKET_SOP, "children"),
        Output(TICKET_STEPS, "children"),
        Output(TICKET_STEPS_NOTE, "children"),
        Output(TICKET_SOP_AFTER, "children"),
        Output(TICKET_COMMENT_FORM, "hidden"),
        Output(TICKET_BODY, "hidden"),
        Input(TICKET_ID, "data"),
        Input(TICKET_REFRESH, "data"),
    )
    def show(ticket_id: int | None, _refresh: int) -> tuple:
        user = require(Action.TICKET_VIEW)
        with db.session() as s:
            detail = ticket_detail(session=s, ticket_id=ticket_id or 0, user=user)
        return detail_outputs(detail, ticket_id, can_write_sops=allowed(user.role, Action.SOP_EDIT))

    @app.callback(Output(TICKET_GRAPH, "figure"), Input(TICKET_ID, "data"))
    def graph(ticket_id: int | None) -> object:
        require(Action.TICKET_VIEW)
        with db.session() as s:
            return readings_figure(readings_around(session=s, ticket_id=ticket_id or 0))

    @app.callback(
        Output(TICKET_COMMENTS, "children"),
        Output(TICKET_HISTORY, "children"),
        Input(TICKET_ID, "data"),
        Input(TICKET_REFRESH, "data"),
        Input(TICKET_ACTIVITY, "data"),
    )
    def activity(ticket_id: int | None, _refresh: int, _activity: int) -> tuple:
        require(Action.TICKET_VIEW)
        with db.session() as s:
            comments, history = ticket_activity(session=s, ticket_id=ticket_id or 0)
        return comment_list(comments), history_list(history)

    # `tick` and `act` declare no outputs and set what they change with `set_props`: Dash
    # calls a callback whose inputs appear in a newly drawn part of the page (the checklist
    # and the buttons `show` draws) unless all its outputs were drawn with them, and with
    # none declared that holds. Declared outputs cost two round trips on every load that
    # could only answer "nothing to do".
    @app.callback(
        Input({"type": TICKET_STEP, "version": ALL, "step": ALL}, "value"),
        State(TICKET_ID, "data"),
        State(TICKET_ACTIVITY, "data"),
        State(TICKET_REFRESH, "data"),
        prevent_initial_call=True,
    )
    def tick(_values: list, ticket_id: int | None, n: int, refresh: int) -> None:
        user = require(Action.TICKET_VIEW)
        if len(ctx.triggered) != 1 or not isinstance(ctx.triggered_id, dict) or not ticket_id:
            raise dash.exceptions.PreventUpdate  # not a click on one step
        version_id, step = ctx.triggered_id["version"], ctx.triggered_id["step"]
        done = bool(ctx.triggered[0]["value"])
        with db.session() as s:
            stored = done_steps(session=s, ticket_id=ticket_id, sop_version_id=version_id)
        if (step in stored) == done:
            raise dash.exceptions.PreventUpdate  # already so: nothing to save
        try:
            require(Action.TICKET_WORK)
            _save_step(db, ticket_id, version_id, step, done, user)
        except (AccessDenied, WorkError) as exc:  # redraw the checklist as it is stored
            set_props(TICKET_STEPS_FEEDBACK, {"children": _error(str(exc), "ticket-steps-error")})
            set_props(TICKET_REFRESH, {"data": (refresh or 0) + 1})
            return
        with db.session() as s:  # the counter follows the tick, not the next reload
            detail = ticket_detail(session=s, ticket_id=ticket_id, user=user)
        set_props(TICKET_STEPS_FEEDBACK, {"children": None})
        set_props(TICKET_ACTIVITY, {"data": (n or 0) + 1})
        set_props(TICKET_STEPS_NOTE, {"children": steps_note(detail)})

    @app.callback(
        Output(TICKET_COMMENT_TEXT, "invalid"),
        Output(TICKET_COMMENT_ERROR, "children"),
        Output(TICKET_COMMENT_TEXT, "value"),
        Output(TICKET_ACTIVITY, "data", allow_duplicate=True),
        Input(TICKET_COMMENT_SUBMIT, "n_clicks"),
        State(TICKET_COMMENT_TEXT, "value"),
        State(TICKET_ID, "data"),
        State(TICKET_ACTIVITY, "data"),
        prevent_initial_call=True,
    )
    def comment(_n: int, text: str | None, ticket_id: int | None, n: int) -> tuple:
        try:
            user = require(Action.TICKET_COMMENT)
            with db.session() as s:
                add_comment(session=s, ticket_id=ticket_id or 0, body=text, user=user)
        except (AccessDenied, WorkError) as exc:
            return True, str(exc), dash.no_update, dash.no_update
        return False, "", "", (n or 0) + 1

    @app.callback(  # no outputs: see `tick`
        Input({"type": TICKET_DETAIL_ACTION, "action": ALL}, "n_clicks"),
        State(TICKET_ID, "data"),
        State(TICKET_REFRESH, "data"),
        prevent_initial_call=True,
    )
    def act(_clicks: list, ticket_id: int | None, refresh: int) -> None:
        if not ctx.triggered or not ctx.triggered[0]["value"] or not ticket_id:
            raise dash.exceptions.PreventUpdate  # not a click
        action = ctx.triggered_id["action"]
        try:
            require(Action.TICKET_WORK)
        except AccessDenied as exc:
            set_props(TICKET_FEEDBACK, {"children": _error(str(exc))})
            set_props(D.modal, {"is_open": False})
            return
        if action == "resolve":
            title, down_start, down_end, still = dialog_opening(db, ticket_id)
            set_props(D.modal, {"is_open": True})
            set_props(D.title, {"children": title})
            set_props(D.down_start, {"value": down_start})
            set_props(D.down_end, {"value": down_end})
            set_props(D.still, {"children": still})
            return
        set_props(TICKET_FEEDBACK, {"children": _transition(db, ticket_id, _TARGET[action])})
        set_props(TICKET_REFRESH, {"data": (refresh or 0) + 1})
        set_props(D.modal, {"is_open": False})

    @app.callback(
        Output(TICKET_FEEDBACK, "children", allow_duplicate=True),
        Output(TICKET_REFRESH, "data", allow_duplicate=True),
        Output(D.modal, "is_open", allow_duplicate=True),
        *message_outputs(D),
        Input(D.submit, "n_clicks"),
        State(TICKET_ID, "data"),
        State(TICKET_REFRESH, "data"),
        *answer_states(D),
        prevent_initial_call=True,
    )
    def resolve(_n: int, ticket_id: int | None, refresh: int, *answers: object) -> tuple:
        form = Answers(*answers)
        return submit_resolution(db, ticket_id, refresh, form, element="ticket-detail")

    register_parts(app, db, D, State(TICKET_ID, "data"))

    @app.callback(
        Output(D.modal, "is_open", allow_duplicate=True),
        Input(D.cancel, "n_clicks"),
        prevent_initial_call=True,
    )
    def cancel(_n: int) -> bool:
        require(Action.TICKET_VIEW)
        return False


def _save_step(
    db: Database, ticket_id: int, version_id: int, step: int, done: bool, user: UserInfo
) -> None:
    """Save one tick; a second click racing the first may hit the unique step row, and
    then the retry finds it stored."""
    for attempt in (1, 2):
        try:
            with db.session() as s:
                set_step(
                    session=s,
                    ticket_id=ticket_id,
                    sop_version_id=version_id,
                    step=step,
                    done=done,
                    user=user,
                )
            return
        except (IntegrityError, OperationalError):
            if attempt == 2:
                raise


def _transition(db: Database, ticket_id: int, to: TicketStatus) -> dbc.Alert:
    return transition(db, ticket_id, to, element="ticket-detail")


def _error(text: str, element_id: str = "ticket-detail-error") -> dbc.Alert:
    return error_alert(text, element_id)
