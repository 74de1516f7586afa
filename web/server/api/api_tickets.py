"""``/api/v1/tickets``: list and filter, one ticket with its SOP checklist's progress and
comments, open a ticket by hand, change its status and comment, through the ticket pages'
own domain functions (the same status flow, the same per-ticket rules, the same audit)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from flask import Response
from flask_openapi3 import APIBlueprint, Tag
from pydantic import AwareDatetime, BaseModel, Field, field_validator
from sqlalchemy.orm import Session

from data.db import Database
from data.models import Machine, Priority, TicketStatus
from maintenance.people.accounts import UserInfo
from maintenance.people.permissions import Action
from maintenance.repair.ticket_detail import TicketDetail, ticket_activity, ticket_detail
from maintenance.repair.ticket_work import WorkError, add_comment
from maintenance.ticketing.ticket_flow import TransitionError, change_status, open_ticket
from maintenance.ticketing.ticket_list import TicketRow, ticket_page
from web.server.api.api_common import (
    STANDARD_RESPONSES,
    UPDATE_RESPONSES,
    IfMatch,
    api_blueprint,
    json_response,
)
from web.server.api.api_guard import require_api
from web.server.api.api_paging import Page, PageQuery, decode_cursor, page_of
from web.server.api.api_preconditions import check_if_match, etag_of
from web.server.api.api_problems import FieldProblem, ProblemError

__all__ = ["tickets_api"]

_CODE = re.compile(r"^[A-Z][A-Z0-9_]{0,31}$")


class TicketQuery(PageQuery):
    status: TicketStatus | None = None
    machine_id: int | None = Field(None, ge=1, le=2**31 - 1)


class _TicketBase(BaseModel):
    id: int
    machine: str
    code: str
    title: str
    priority: Priority
    status: TicketStatus
    technician: str | None
    created_at: datetime
    failure_confirmed: bool | None
    joined_alarms: int


class TicketSummary(_TicketBase):
    escalated_at: datetime | None


class StepOut(BaseModel):
    number: int = Field(description="1-based")
    text: str
    done: bool


class ChecklistOut(BaseModel):
    sop: str
    version: int
    current_version: int
    steps: list[StepOut]
    done: int
    total: int


class CommentOut(BaseModel):
    author: str
    body: str
    created_at: datetime


class TicketOut(_TicketBase):
    assignment_reason: str
    resolution: str
    cause: str
    action_taken: str
    alarm_code: str | None
    checklist: ChecklistOut | None
    comments: list[CommentOut]


class TicketPath(BaseModel):
    ticket_id: int = Field(ge=1, le=2**31 - 1)


class NewTicket(BaseModel):
    machine_id: int = Field(ge=1, le=2**31 - 1)
    title: str = Field(min_length=1, max_length=200)
    priority: Priority = Priority.LOW
    code: str = Field("MANUAL", description="error code: upper case, digits, _ (SOP lookup)")

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        if not _CODE.match(value):
            raise ValueError("upper-case letters, digits and _, starting with a letter, ≤ 32")
        return value


class StatusChange(BaseModel):
    to: TicketStatus
    failure_confirmed: bool | None = Field(None, description="required when resolving")
    cause: str = Field("", max_length=2000)
    action_taken: str = Field("", max_length=2000)
    resolution: str = Field("", max_length=4000)
    stopped_at: AwareDatetime | None = Field(None, description="downtime of a real failure")
    running_at: AwareDatetime | None = None


class NewComment(BaseModel):
    body: str = Field(min_length=1, max_length=20000)


class CommentCreated(BaseModel):
    id: int


TicketPage = Page[TicketSummary]


def _summary(r: TicketRow) -> TicketSummary:
    return TicketSummary(
        id=r.id,
        machine=r.machine,
        code=r.code,
        title=r.title,
        priority=r.priority,
        status=r.status,
        technician=r.technician,
        created_at=r.created_at,
        escalated_at=r.escalated_at,
        failure_confirmed=r.failure_confirmed,
        joined_alarms=r.joined,
    )


def _checklist(d: TicketDetail) -> ChecklistOut | None:
    c = d.checklist
    if c is None:
        return None
    steps = [StepOut(number=i + 1, text=t, done=i in c.done) for i, t in enumerate(c.steps)]
    return ChecklistOut(
        sop=c.title,
        version=c.version,
        current_version=c.current_version,
        steps=steps,
        done=sum(s.done for s in steps),
        total=len(steps),
    )


def _detail(s: Session, ticket_id: int, user: UserInfo) -> TicketOut:
    d = ticket_detail(session=s, ticket_id=ticket_id, user=user)
    if d is None:
        raise ProblemError(404, f"No ticket {ticket_id}.")
    comments, _history = ticket_activity(session=s, ticket_id=ticket_id)
    return TicketOut(
        id=d.id,
        machine=d.machine,
        code=d.code,
        title=d.title,
        priority=d.priority,
        status=d.status,
        technician=d.technician,
        assignment_reason=d.assignment_reason,
        created_at=d.created_at,
        failure_confirmed=d.failure_confirmed,
        resolution=d.resolution,
        cause=d.cause,
        action_taken=d.action_taken,
        alarm_code=d.alarm.code if d.alarm else None,
        joined_alarms=len(d.joined),
        checklist=_checklist(d),
        comments=[
            CommentOut(author=c.author, body=c.body, created_at=c.created_at) for c in comments
        ],
    )


def _tagged(out: TicketOut, status: int = 200) -> Response:
    body = out.model_dump(mode="json")
    return json_response(body, status, headers={"ETag": _etag(body)})


def _etag(body: dict[str, Any]) -> str:
    return etag_of({k: v for k, v in body.items() if k != "comments"})  # comments add, never edit


def tickets_api(db: Database) -> APIBlueprint:
    bp = api_blueprint("api_tickets", Tag(name="tickets", description="work orders"))

    @bp.get("/tickets", responses={200: TicketPage, **STANDARD_RESPONSES})
    def list_all(query: TicketQuery) -> Response:
        """Tickets by id, filtered by status and machine."""
        require_api(Action.TICKET_VIEW)
        after = decode_cursor(query.cursor, (int,))
        with db.session() as s:
            rows = ticket_page(
                session=s,
                after_id=after[0] if after else None,
                limit=query.limit + 1,
                status=query.status,
                machine_id=query.machine_id,
            )
        items, cursor = page_of(rows, query.limit, lambda r: (r.id,))
        page = TicketPage(items=[_summary(r) for r in items], next_cursor=cursor)
        return json_response(page.model_dump(mode="json"))

    @bp.get("/tickets/<int:ticket_id>", responses={200: TicketOut, **STANDARD_RESPONSES})
    def get_one(path: TicketPath) -> Response:
        """One ticket: its SOP checklist's progress and its comments; ETag for If-Match."""
        user = require_api(Action.TICKET_VIEW)
        with db.session() as s:
            return _tagged(_detail(s, path.ticket_id, user))

    @bp.post("/tickets", responses={201: TicketOut, 409: None, **STANDARD_RESPONSES})
    def create(body: NewTicket) -> Response:
        """Open a ticket by hand, assigned as the rules assign (audited under the token)."""
        user = require_api(Action.TICKET_OPEN)
        with db.session() as s:
            machine = s.get(Machine, body.machine_id)
            if machine is None or machine.retired_at is not None:
                bad = FieldProblem(field="machine_id", message="no machine in service with this id")
                raise ProblemError(400, "Unknown machine.", errors=[bad])
            ticket = open_ticket(
                session=s,
                machine_id=machine.id,
                code=body.code,
                title=body.title,
                priority=body.priority,
                user_id=user.id,
            )
            if ticket is None:
                raise ProblemError(409, f"{machine.name} has an open {body.code} ticket already.")
            out = _detail(s, ticket.id, user)
        return _tagged(out, 201)

    @bp.post(
        "/tickets/<int:ticket_id>/status",
        responses={200: TicketOut, **STANDARD_RESPONSES, **UPDATE_RESPONSES},
    )
    def set_status(path: TicketPath, header: IfMatch, body: StatusChange) -> Response:
        """Move a ticket along its flow with the UI's rules. Needs If-Match."""
        user = require_api(Action.TICKET_WORK)
        downtime = None
        if body.stopped_at is not None and body.running_at is not None:
            downtime = (body.stopped_at, body.running_at)
        with db.session() as s:
            check_if_match(_etag(_detail(s, path.ticket_id, user).model_dump(mode="json")))
            try:
                change_status(
                    session=s,
                    ticket_id=path.ticket_id,
                    to=body.to,
                    user=user,
                    resolution=body.resolution,
                    failure_confirmed=body.failure_confirmed,
                    downtime=downtime,
                    cause=body.cause,
                    action_taken=body.action_taken,
                )
            except TransitionError as err:
                raise ProblemError(409, str(err)) from None
            out = _detail(s, path.ticket_id, user)
        return _tagged(out)

    @bp.post(
        "/tickets/<int:ticket_id>/comments", responses={201: CommentCreated, **STANDARD_RESPONSES}
    )
    def comment(path: TicketPath, body: NewComment) -> Response:
        """Add a plain-text comment, under the token's name."""
        user = require_api(Action.TICKET_COMMENT)
        with db.session() as s:
            _detail(s, path.ticket_id, user)
            try:
                comment_id = add_comment(
                    session=s, ticket_id=path.ticket_id, body=body.body, user=user
                )
            except WorkError as err:
                raise ProblemError(403 if "may" in str(err) else 400, str(err)) from None
        return json_response(CommentCreated(id=comment_id).model_dump(), 201)

    return bp
