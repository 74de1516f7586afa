"""``/api/v1/machines``: the fleet's machines and their sensors, with the admin page's
validation and audit (``maintenance.fleet_admin.machine_admin``)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from flask import Response, jsonify
from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, Field

from data.db import Database
from maintenance.fleet_admin.machine_admin import (
    MachineDetail,
    create_machine,
    machine_detail,
    machine_rows,
    retire_machine,
    update_machine,
)
from maintenance.fleet_admin.machine_specs import MachineError
from maintenance.people.permissions import Action
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

__all__ = ["machines_api"]


class SensorIn(BaseModel):
    id: int | None = Field(None, description="an existing sensor's id, to change it")
    key: str = Field(max_length=32, description="the key its payloads carry")
    kind: str = Field(max_length=32)
    unit: str = Field("", max_length=16)
    warn_low: float | None = None
    warn_high: float | None = None
    crit_low: float | None = None
    crit_high: float | None = None


class SensorOut(SensorIn):
    id: int | None = None


class MachineIn(BaseModel):
    name: str = Field(max_length=64)
    type: str = Field(max_length=32)
    location: str = Field("", max_length=64)
    line: str = Field("", max_length=64)
    sensors: list[SensorIn] = Field(max_length=50)


class MachineOut(BaseModel):
    id: int
    name: str
    type: str
    location: str
    line: str
    retired_at: datetime | None
    sensors: list[SensorOut]


class MachineSummary(BaseModel):
    id: int
    name: str
    type: str
    location: str
    line: str
    sensors: int
    retired_at: datetime | None


class MachinePath(BaseModel):
    machine_id: int = Field(ge=1, le=2**31 - 1)


class MachineList(PageQuery):
    retired: bool | None = Field(None, description="true: only retired; false: in service")


MachinePage = Page[MachineSummary]


def _out(d: MachineDetail) -> MachineOut:
    spec = d.machine
    sensors = [SensorOut(id=s.id, **s.values()) for s in spec.sensors]
    return MachineOut(id=d.id, **spec.values(), retired_at=d.retired_at, sensors=sensors)


def _refused(err: MachineError) -> ProblemError:
    errors = [
        FieldProblem(
            field=f"sensors.{e.sensor}.{e.field}" if e.sensor is not None else e.field,
            message=e.message,
        )
        for e in err.errors
    ]
    return ProblemError(400, "The machine was not saved.", errors=errors)


def machines_api(db: Database) -> APIBlueprint:
    bp = api_blueprint("api_machines", Tag(name="machines", description="machines and sensors"))

    def detail_or_404(s: Any, machine_id: int) -> MachineOut:
        found = machine_detail(session=s, machine_id=machine_id)
        if found is None:
            raise ProblemError(404, f"No machine {machine_id}.")
        return _out(found)

    def answer(out: MachineOut, status: int = 200) -> Response:
        body = out.model_dump(mode="json")
        return json_response(body, status, headers={"ETag": etag_of(body)})

    @bp.get("/machines", responses={200: MachinePage, **STANDARD_RESPONSES})
    def list_machines(query: MachineList) -> Response:
        """Machines by id, in service and retired."""
        require_api(Action.FLEET_VIEW)
        after = decode_cursor(query.cursor, (int,))
        with db.session() as s:
            rows = sorted(machine_rows(session=s), key=lambda r: r.id)
        if query.retired is not None:
            rows = [r for r in rows if (r.retired_at is not None) == query.retired]
        if after is not None:
            rows = [r for r in rows if r.id > after[0]]
        items, cursor = page_of(rows[: query.limit + 1], query.limit, lambda r: (r.id,))
        page = MachinePage(items=[MachineSummary(**asdict(r)) for r in items], next_cursor=cursor)
        return jsonify(page.model_dump(mode="json"))

    @bp.get("/machines/<int:machine_id>", responses={200: MachineOut, **STANDARD_RESPONSES})
    def get_machine(path: MachinePath) -> Response:
        """One machine with its sensors; the ETag names this version for If-Match."""
        require_api(Action.FLEET_VIEW)
        with db.session() as s:
            return answer(detail_or_404(s, path.machine_id))

    @bp.post("/machines", responses={201: MachineOut, **STANDARD_RESPONSES})
    def create(body: MachineIn) -> Response:
        """A new machine and its sensors (admin); audited under the token's name."""
        user = require_api(Action.FLEET_ADMIN_EDIT)
        with db.session() as s:
            try:
                saved = create_machine(session=s, raw=body.model_dump(), user_id=user.id)
            except MachineError as err:
                raise _refused(err) from None
            out = detail_or_404(s, saved.machine_id)
        return answer(out, 201)

    @bp.put(
        "/machines/<int:machine_id>",
        responses={200: MachineOut, **STANDARD_RESPONSES, **UPDATE_RESPONSES},
    )
    def update(path: MachinePath, header: IfMatch, body: MachineIn) -> Response:
        """Change a machine (admin). Needs If-Match; sensors are matched by id or key,
        new keys are added, sensors left out are kept."""
        user = require_api(Action.FLEET_ADMIN_EDIT)
        with db.session() as s:
            current = detail_or_404(s, path.machine_id)
            check_if_match(etag_of(current.model_dump(mode="json")))
            raw = _sensors_by_key(body.model_dump(), current)
            try:
                update_machine(session=s, machine_id=path.machine_id, raw=raw, user_id=user.id)
            except MachineError as err:
                raise _refused(err) from None
            out = detail_or_404(s, path.machine_id)
        return answer(out)

    @bp.post(
        "/machines/<int:machine_id>/retire",
        responses={200: MachineOut, **STANDARD_RESPONSES, **UPDATE_RESPONSES},
    )
    def retire(path: MachinePath, header: IfMatch) -> Response:
        """Take a machine out of service (admin); its history stays. Needs If-Match."""
        user = require_api(Action.FLEET_ADMIN_EDIT)
        with db.session() as s:
            check_if_match(etag_of(detail_or_404(s, path.machine_id).model_dump(mode="json")))
            if not retire_machine(session=s, machine_id=path.machine_id, user_id=user.id):
                raise ProblemError(409, f"Machine {path.machine_id} is retired already.")
            out = detail_or_404(s, path.machine_id)
        return answer(out)

    return bp


def _sensors_by_key(raw: dict[str, Any], current: MachineOut) -> dict[str, Any]:
    """A sensor given without its id but with an existing key is that sensor (an integration
    knows its keys, not our ids); new keys are new sensors."""
    ids = {s.key: s.id for s in current.sensors}
    for sensor in raw["sensors"]:
        if sensor.get("id") is None:
            sensor["id"] = ids.get(sensor["key"])
    return raw
