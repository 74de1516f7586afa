"""``/api/v1/machines/{id}/readings``: a machine's history bucketed in the database as the
machine page reads it (``data.machine_series.sensor_history``), and every raw reading of a
range as CSV or Parquet, streamed."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator
from datetime import UTC, datetime

import numpy as np
import pandas as pd
from flask import Response
from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from data.db import Database
from data.machine_series import SensorInfo, machine_sensors, raw_readings, sensor_history
from data.models import Machine
from maintenance.people.permissions import Action
from web.server.api.api_common import STANDARD_RESPONSES, api_blueprint, json_response
from web.server.api.api_guard import require_api
from web.server.api.api_machines import MachinePath
from web.server.api.api_paging import RangeQuery
from web.server.api.api_parquet import parquet_stream
from web.server.api.api_problems import FieldProblem, ProblemError

__all__ = ["readings_api"]

PARQUET = "application/vnd.apache.parquet"


class ReadingsQuery(RangeQuery):
    sensors: str | None = Field(
        None, max_length=2000, description="comma-separated sensor keys (default: all)"
    )
    max_points: int = Field(1500, ge=2, le=20000, description="most buckets per sensor")


class RawQuery(RangeQuery):
    sensors: str | None = Field(None, max_length=2000, description="comma-separated keys")


class Bucket(BaseModel):
    ts: datetime = Field(description="the bucket's middle (UTC)")
    mean: float | None
    min: float | None
    max: float | None
    n: int


class SensorSeries(BaseModel):
    sensor: str
    kind: str
    unit: str
    points: list[Bucket]


class ReadingsOut(BaseModel):
    machine_id: int
    machine: str
    start: datetime
    end: datetime
    series: list[SensorSeries]


def _chosen(sensors: list[SensorInfo], keys: str | None) -> list[SensorInfo]:
    if not keys:
        return sensors
    wanted = [k.strip() for k in keys.split(",") if k.strip()]
    known = {s.key: s for s in sensors}
    unknown = [k for k in wanted if k not in known]
    if unknown:
        bad = FieldProblem(field="sensors", message=f"no such sensor: {', '.join(unknown)[:200]}")
        raise ProblemError(400, "Unknown sensor.", errors=[bad])
    return [known[k] for k in dict.fromkeys(wanted)]


def _numbers(column: pd.Series) -> list[float | None]:
    return [None if math.isnan(x) else x for x in column.astype(float).tolist()]


def _points(part: pd.DataFrame | None) -> list[dict[str, object]]:
    """A sensor's buckets as ``Bucket`` objects, column by column: thousands of buckets
    built one pandas row at a time cost more than the query."""
    if part is None:
        return []
    utc = part["ts"].dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[ms]")
    ts = [t + "Z" for t in np.datetime_as_string(utc, unit="ms").tolist()]
    columns = zip(
        ts,
        _numbers(part["mean"]),
        _numbers(part["lo"]),
        _numbers(part["hi"]),
        part["n"].astype(int).tolist(),
        strict=True,
    )
    return [{"ts": t, "mean": m, "min": lo, "max": hi, "n": n} for t, m, lo, hi, n in columns]


def readings_api(db: Database) -> APIBlueprint:
    bp = api_blueprint("api_readings", Tag(name="readings", description="sensor history"))

    def machine_and_sensors(
        s: Session, machine_id: int, keys: str | None
    ) -> tuple[str, list[SensorInfo]]:
        machine = s.get(Machine, machine_id)
        if machine is None:
            raise ProblemError(404, f"No machine {machine_id}.")
        return machine.name, _chosen(machine_sensors(session=s, machine_id=machine_id), keys)

    @bp.get(
        "/machines/<int:machine_id>/readings",
        responses={200: ReadingsOut, **STANDARD_RESPONSES},
    )
    def readings(path: MachinePath, query: ReadingsQuery) -> Response:
        """Per sensor, at most max_points buckets of [start, end) with min, mean, max and
        count, reduced in the database (ten-minute rollups for long ranges)."""
        require_api(Action.FLEET_VIEW)
        with db.session() as s:
            name, sensors = machine_and_sensors(s, path.machine_id, query.sensors)
            frame = sensor_history(
                session=s,
                sensor_ids=[x.id for x in sensors],
                start=query.start,
                end=query.end,
                max_points=query.max_points,
            )
        by_sensor = {sid: part for sid, part in frame.groupby("sensor_id")} if len(frame) else {}
        series = [
            {
                "sensor": x.key,
                "kind": x.kind,
                "unit": x.unit,
                "points": _points(by_sensor.get(x.id)),
            }
            for x in sensors
        ]
        out = {
            "machine_id": path.machine_id,
            "machine": name,
            "start": query.start.isoformat(),
            "end": query.end.isoformat(),
            "series": series,
        }
        return json_response(out)  # shaped as ReadingsOut, built by columns (fast)

    def raw_export(machine_id: int, query: RawQuery) -> tuple[str, dict[int, str]]:
        """The machine's name and chosen sensors' keys by id: the 404 and 400 answers come
        before the first byte of a streamed export."""
        with db.session() as s:
            name, sensors = machine_and_sensors(s, machine_id, query.sensors)
        return name, {x.id: x.key for x in sensors}

    def raw_rows(keys: dict[int, str], query: RawQuery) -> Iterator[tuple[int, datetime, float]]:
        with db.session() as s:
            yield from raw_readings(
                session=s, sensor_ids=list(keys), start=query.start, end=query.end
            )

    @bp.get(
        "/machines/<int:machine_id>/readings.csv",
        responses={
            200: {"description": "ts,sensor,value rows", "content": {"text/csv": {}}},
            **STANDARD_RESPONSES,
        },
    )
    def readings_csv(path: MachinePath, query: RawQuery) -> Response:
        """Every raw reading of [start, end) as CSV (ts, sensor, value), oldest first,
        streamed: a 30-day export never sits in memory whole."""
        require_api(Action.FLEET_VIEW)
        name, keys = raw_export(path.machine_id, query)

        def rows() -> Iterator[str]:
            out = io.StringIO()
            writer = csv.writer(out)
            writer.writerow(["ts", "sensor", "value"])
            for n, (sid, ts, value) in enumerate(raw_rows(keys, query)):
                writer.writerow([ts.isoformat(), keys[sid], repr(value)])
                if n % 2000 == 1999:
                    yield out.getvalue()
                    out.seek(0)
                    out.truncate()
            yield out.getvalue()

        # the generators need no request context: they close over what they read
        return _download(rows(), "text/csv", _filename(name, query, "csv"))

    @bp.get(
        "/machines/<int:machine_id>/readings.parquet",
        responses={
            200: {
                "description": "a Parquet file: ts (timestamp UTC), sensor (string), value",
                "content": {PARQUET: {"schema": {"type": "string", "format": "binary"}}},
            },
            **STANDARD_RESPONSES,
        },
    )
    def readings_parquet(path: MachinePath, query: RawQuery) -> Response:
        """Every raw reading of [start, end) as Parquet (ts, sensor, value), oldest first,
        streamed a row group at a time: for pandas, polars or DuckDB without parsing text."""
        require_api(Action.FLEET_VIEW)
        name, keys = raw_export(path.machine_id, query)
        stream = parquet_stream(raw_rows(keys, query), keys)
        return _download(stream, PARQUET, _filename(name, query, "parquet"))

    return bp


def _filename(machine: str, query: RawQuery, suffix: str) -> str:
    first, last = query.start.astimezone(UTC), query.end.astimezone(UTC)
    return f"{machine}-{first:%Y%m%dT%H%M%SZ}-{last:%Y%m%dT%H%M%SZ}.{suffix}"


def _download(body: Iterator[str] | Iterator[bytes], mimetype: str, filename: str) -> Response:
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
