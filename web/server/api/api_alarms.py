"""``/api/v1/alarms``: list and filter, acknowledge, clear; the alarms page's own domain
functions (``maintenance.alarming.raise_clear``), the same roles, the same audit."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Literal

from flask import Response
from flask_openapi3 import APIBlueprint, Tag
from pydantic import AwareDatetime, BaseModel, Field

from data.db import Database
from data.models import Alarm
from maintenance.alarming.raise_clear import AlarmRow, acknowledge, clear, list_alarms
from maintenance.people.permissions import Action
from web.server.api.api_common import STANDARD_RESPONSES, api_blueprint, json_response
from web.server.api.api_guard import require_api
from web.server.api.api_paging import Page, PageQuery, decode_cursor, page_of
from web.server.api.api_problems import ProblemError

__all__ = ["alarms_api"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class AlarmQuery(PageQuery):
    machine_id: int | None = Field(None, ge=1, le=2**31 - 1)
    state: Literal["active", "acknowledged", "cleared"] | None = None
    since: AwareDatetime | None = Field(
        None, description="raised since (alarms still active are always listed)"
    )


class AlarmOut(BaseModel):
    id: int
    machine: str
    code: str
    severity: str
    source: str
    state: str
    message: str
    raised_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    cleared_at: datetime | None
    cleared_by: str | None
    silenced: bool
    ticket_id: int | None
    value: float | None = Field(description="the latest reading or probability")
    limit: float | None
    unit: str | None


class AlarmPath(BaseModel):
    alarm_id: int = Field(ge=1, le=2**31 - 1)


AlarmPage = Page[AlarmOut]


def _out(r: AlarmRow) -> AlarmOut:
    n = r.numbers
    return AlarmOut(
        id=r.id,
        machine=r.machine,
        code=r.code,
        severity=r.severity,
        source=r.source,
        state=r.state,
        message=r.message,
        raised_at=r.raised_at,
        acknowledged_at=r.acknowledged_at,
        acknowledged_by=r.acknowledged_by,
        cleared_at=r.cleared_at,
        cleared_by=r.cleared_by,
        silenced=r.silenced,
        ticket_id=r.ticket_id,
        value=n.value,
        limit=n.limit,
        unit=n.unit,
    )


def alarms_api(db: Database) -> APIBlueprint:
    bp = api_blueprint("api_alarms", Tag(name="alarms"))

    @bp.get("/alarms", responses={200: AlarmPage, **STANDARD_RESPONSES})
    def list_all(query: AlarmQuery) -> Response:
        """Alarms newest first (raised_at, then id), filtered by machine, state and time."""
        require_api(Action.ALARM_VIEW)
        before = decode_cursor(query.cursor, (datetime.fromisoformat, int))
        with db.session() as s:
            rows = list_alarms(
                session=s,
                since=query.since or _EPOCH,
                limit=query.limit + 1,
                machine_id=query.machine_id,
                state=query.state,
                before=before,  # type: ignore[arg-type]
            )
        items, cursor = page_of(rows, query.limit, lambda r: (r.raised_at.isoformat(), r.id))
        page = AlarmPage(items=[_out(r) for r in items], next_cursor=cursor)
        return json_response(page.model_dump(mode="json"))

    def one(alarm_id: int) -> AlarmOut:
        with db.session() as s:
            alarm = s.get(Alarm, alarm_id)
            if alarm is None:
                raise ProblemError(404, f"No alarm {alarm_id}.")
            at = (alarm.raised_at, alarm.id + 1)
            rows = list_alarms(session=s, since=_EPOCH, limit=1, before=at)
        return _out(rows[0])

    @bp.get("/alarms/<int:alarm_id>", responses={200: AlarmOut, **STANDARD_RESPONSES})
    def get_one(path: AlarmPath) -> Response:
        """One alarm."""
        require_api(Action.ALARM_VIEW)
        return json_response(one(path.alarm_id).model_dump(mode="json"))

    def act(alarm_id: int, action: Action, change: Callable[..., bool], done: str) -> Response:
        """Run the page's own ``change`` on the alarm as the token's account; 409 if done."""
        user = require_api(action)
        one(alarm_id)
        with db.session() as s:
            if not change(session=s, alarm_id=alarm_id, user_id=user.id):
                raise ProblemError(409, f"Alarm {alarm_id} was {done} already.")
        return json_response(one(alarm_id).model_dump(mode="json"))

    @bp.post(
        "/alarms/<int:alarm_id>/acknowledge",
        responses={200: AlarmOut, 409: None, **STANDARD_RESPONSES},
    )
    def ack(path: AlarmPath) -> Response:
        """Record that the token's system saw the alarm (audited); 409 if acknowledged."""
        return act(path.alarm_id, Action.ALARM_ACKNOWLEDGE, acknowledge, "acknowledged")

    @bp.post(
        "/alarms/<int:alarm_id>/clear", responses={200: AlarmOut, 409: None, **STANDARD_RESPONSES}
    )
    def clear_one(path: AlarmPath) -> Response:
        """Clear an alarm by hand (audited); 409 if cleared already."""
        return act(path.alarm_id, Action.ALARM_CLEAR, clear, "cleared")

    return bp
