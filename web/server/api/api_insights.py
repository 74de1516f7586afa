"""``/api/v1/predictions``, ``/api/v1/reports`` and ``/api/v1/models``: what the models
and the reports say, read through the fleet page's, the machine page's, the reports page's
and the registry's own functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

from flask import Response
from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, Field, model_validator
from sqlalchemy import select

from data.db import Database
from data.fleet_queries import latest_predictions, machine_names
from data.machine_series import prediction_history
from data.models import Machine, ModelVersion
from maintenance.people.permissions import Action
from maintenance.reporting.breakdown_report import report_csv
from maintenance.reporting.report_data import ReportData, Stats, build_report
from maintenance.reporting.report_pdf import report_pdf
from ml.registry import KINDS, active
from web.server.api.api_common import STANDARD_RESPONSES, api_blueprint, json_response
from web.server.api.api_guard import require_api
from web.server.api.api_machines import MachinePath
from web.server.api.api_paging import RangeQuery
from web.server.api.api_problems import ProblemError

__all__ = ["insights_api"]

MAX_REPORT = timedelta(days=400)  # a few years of weeks would be a few MB for nobody


class PredictionOut(BaseModel):
    machine_id: int
    machine: str
    ts: datetime
    failure_probability: float | None
    anomaly_score: float | None
    is_anomaly: bool
    rul_hours: float | None
    top_sensors: list[str]
    model_versions: dict[str, int]


class LatestPredictions(BaseModel):
    items: list[PredictionOut]


class HistoryQuery(RangeQuery):
    max_points: int = Field(1500, ge=2, le=20000)


class PredictionPoint(BaseModel):
    ts: datetime
    failure_probability: float | None = Field(description="the bucket's highest")
    anomaly_score: float | None
    anomaly: bool = Field(description="any scoring in the bucket flagged an anomaly")


class PredictionHistory(BaseModel):
    machine_id: int
    points: list[PredictionPoint]


class ReportQuery(RangeQuery):
    format: Literal["json", "csv", "pdf"] = "json"

    @model_validator(mode="after")
    def _at_most_a_year_or_so(self) -> ReportQuery:
        if self.end - self.start > MAX_REPORT:
            raise ValueError(f"a report covers at most {MAX_REPORT.days} days")
        return self


class StatsOut(BaseModel):
    breakdowns: int
    breakdown_h: float
    repairs: int
    repair_h: float
    scheduled_h: float
    down_h: float
    operating_h: float
    availability: float | None
    mtbf_h: float | None
    mttr_h: float | None


class MachineStats(BaseModel):
    machine: str
    type: str
    stats: StatsOut


class ReportOut(BaseModel):
    # format=csv and format=pdf answer the reports page's CSV and PDF instead (documented
    # beside the JSON)
    model_config = {  # type: ignore[typeddict-unknown-key]
        "openapi_extra": {
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/pdf": {"schema": {"type": "string", "format": "binary"}},
            }
        }
    }

    start: datetime
    end: datetime
    generated_at: datetime
    total: StatsOut
    machines: list[MachineStats]
    breakdowns_per_week: dict[str, int]


class ModelOut(BaseModel):
    kind: str
    version: int
    status: str
    family: str | None
    created_at: datetime
    promoted_at: datetime | None
    train_from: datetime | None
    train_to: datetime | None
    metrics: dict


class ModelList(BaseModel):
    items: list[ModelOut]


def _num(x: float | None) -> float | None:
    return None if x is None or x != x else float(x)  # NaN -> null


def _stats(s: Stats) -> StatsOut:
    return StatsOut(
        breakdowns=s.breakdowns,
        breakdown_h=round(s.breakdown_h, 3),
        repairs=s.repairs,
        repair_h=round(s.repair_h, 3),
        scheduled_h=round(s.scheduled_h, 3),
        down_h=round(s.down_h, 3),
        operating_h=round(s.operating_h, 3),
        availability=s.availability,
        mtbf_h=s.mtbf_h,
        mttr_h=s.mttr_h,
    )


def _report(r: ReportData) -> ReportOut:
    return ReportOut(
        start=r.start,
        end=r.end,
        generated_at=r.generated_at,
        total=_stats(r.total),
        machines=[
            MachineStats(machine=m.name, type=m.type, stats=_stats(m.stats)) for m in r.machines
        ],
        breakdowns_per_week={w.label: w.breakdowns for w in r.weeks},
    )


def _model(m: ModelVersion) -> ModelOut:
    return ModelOut(
        kind=m.kind,
        version=m.version,
        status=m.status.value,
        family=(m.metrics or {}).get("family") if m.kind == "failure" else None,
        created_at=m.created_at,
        promoted_at=m.promoted_at,
        train_from=m.train_from,
        train_to=m.train_to,
        metrics=m.metrics or {},
    )


def insights_api(db: Database) -> APIBlueprint:
    bp = api_blueprint(
        "api_insights", Tag(name="insights", description="predictions, reports, models")
    )

    @bp.get("/predictions/latest", responses={200: LatestPredictions, **STANDARD_RESPONSES})
    def latest() -> Response:
        """Each machine's newest scoring: failure probability, remaining life, anomaly."""
        require_api(Action.FLEET_VIEW)
        with db.session() as s:
            names = machine_names(session=s)
            found = latest_predictions(session=s)
            items = [
                PredictionOut(
                    machine_id=mid,
                    machine=names.get(mid, "?"),
                    ts=p.ts,
                    failure_probability=p.failure_probability,
                    anomaly_score=p.anomaly_score,
                    is_anomaly=p.is_anomaly,
                    rul_hours=p.rul_hours,
                    top_sensors=list(p.top_sensors or []),
                    model_versions=dict(p.model_versions or {}),
                )
                for mid, p in sorted(found.items())
            ]
        return json_response(LatestPredictions(items=items).model_dump(mode="json"))

    @bp.get(
        "/machines/<int:machine_id>/predictions",
        responses={200: PredictionHistory, **STANDARD_RESPONSES},
    )
    def history(path: MachinePath, query: HistoryQuery) -> Response:
        """A machine's predictions over [start, end), bucketed in the database."""
        require_api(Action.FLEET_VIEW)
        with db.session() as s:
            if s.get(Machine, path.machine_id) is None:
                raise ProblemError(404, f"No machine {path.machine_id}.")
            frame = prediction_history(
                session=s,
                machine_id=path.machine_id,
                start=query.start,
                end=query.end,
                max_points=query.max_points,
            )
        points = [
            PredictionPoint(
                ts=r.ts.to_pydatetime(),
                failure_probability=_num(r.failure_probability),
                anomaly_score=_num(r.anomaly_score),
                anomaly=bool(r.anomaly),
            )
            for r in frame.itertuples(index=False)
        ]
        out = PredictionHistory(machine_id=path.machine_id, points=points)
        return json_response(out.model_dump(mode="json"))

    @bp.get(
        "/reports/breakdowns",
        responses={
            200: ReportOut,
            **STANDARD_RESPONSES,
        },
    )
    def breakdowns(query: ReportQuery) -> Response:
        """Breakdowns, downtime, MTBF, MTTR and availability per machine and for the fleet
        over [start, end); format=csv and format=pdf give the reports page's CSV and PDF."""
        require_api(Action.REPORT_VIEW)
        with db.session() as s:
            report = build_report(session=s, start=query.start, end=query.end)
        if query.format == "csv":
            return Response(report_csv(report), mimetype="text/csv")
        if query.format == "pdf":
            first = query.start.astimezone(UTC)
            name = f"breakdown-report-{first:%Y%m%dT%H%MZ}.pdf"
            disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
            return Response(report_pdf(report), mimetype="application/pdf", headers=disposition)
        return json_response(_report(report).model_dump(mode="json"))

    @bp.get("/models", responses={200: ModelList, **STANDARD_RESPONSES})
    def models() -> Response:
        """Every model version in the registry, newest first."""
        require_api(Action.FLEET_VIEW)
        with db.session() as s:
            rows = s.scalars(select(ModelVersion).order_by(ModelVersion.id.desc())).all()
            out = ModelList(items=[_model(m) for m in rows])
        return json_response(out.model_dump(mode="json"))

    @bp.get("/models/active", responses={200: ModelList, **STANDARD_RESPONSES})
    def active_models() -> Response:
        """The active version of each kind (none: the platform runs on threshold rules)."""
        require_api(Action.FLEET_VIEW)
        with db.session() as s:
            found = [m for kind in KINDS if (m := active(session=s, kind=kind)) is not None]
            out = ModelList(items=[_model(m) for m in found])
        return json_response(out.model_dump(mode="json"))

    return bp
