"""The drift job's grid of its period: every machine's mean reading per sensor kind and step
bucket, the numbers ``data.readings.bucketed_readings`` gives, kept between checks in
``drift_grid_chunks`` so a check reads from ``readings`` only the buckets no chunk holds yet
(the few steps since the last check; the whole period on the first check, or after the live
step changed).

A chunk stores how many readings it averaged; every check recounts the readings of the
stretch its chunks cover (one ``COUNT`` over the ``ts`` index) and, when the count moved (a
gateway's late readings, readings removed), recounts chunk by chunk and reads again the chunks
whose count changed: the grid stays what the whole query would return. Machine types and
retirement are read at every check, as the whole query joins them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from data.models import DriftGridChunk, Machine, Reading, Sensor
from data.readings import bucket_start, time_bucket

__all__ = ["PeriodGrid", "period_grid"]

SLICE_S = 2 * 3600  # the first check reads the period in slices of two hours of buckets


@dataclass(frozen=True, slots=True)
class PeriodGrid:
    """The period's grid: ``values`` (machines, buckets, kinds) from ``first_bucket`` on,
    NaN where no reading arrived; the machines in service that sent any reading in it (ids
    ascending) with their types; how many readings this check read from the table."""

    values: np.ndarray
    machine_ids: np.ndarray
    types: np.ndarray
    kinds: tuple[str, ...]
    first_bucket: int
    read: int

    def of(self, sensors: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(values, machine ids, types) of the machines that sent any of ``sensors`` in the
        period, the values' columns in the order of ``sensors`` (NaN for a kind never sent)."""
        out = np.full((*self.values.shape[:2], len(sensors)), np.nan)
        for i, sensor in enumerate(sensors):
            if sensor in self.kinds:
                out[:, :, i] = self.values[:, :, self.kinds.index(sensor)]
        sent = ~np.isnan(out).all(axis=(1, 2))
        return out[sent], self.machine_ids[sent], self.types[sent]


def period_grid(
    *, session: Session, step_s: float, first_bucket: int, last_bucket: int
) -> PeriodGrid:
    """The grid of buckets [first_bucket, last_bucket]: kept chunks, checked against the
    readings' count, plus chunks read now for the buckets none holds (and stored)."""
    session.execute(
        delete(DriftGridChunk).where(
            or_(DriftGridChunk.step_s != step_s, DriftGridChunk.last_bucket < first_bucket)
        )
    )
    rows = session.execute(
        select(
            DriftGridChunk.id,
            DriftGridChunk.first_bucket,
            DriftGridChunk.last_bucket,
            DriftGridChunk.readings,
        )
        .where(DriftGridChunk.first_bucket <= last_bucket)
        .order_by(DriftGridChunk.first_bucket)
    ).all()
    kept = _still_true(session, step_s, [(int(a), int(b), int(c), int(d)) for a, b, c, d in rows])
    covered = np.zeros(last_bucket - first_bucket + 1, bool)
    for _, first, last, _ in kept:
        covered[max(first, first_bucket) - first_bucket : last - first_bucket + 1] = True
    read = 0
    width = max(1, int(SLICE_S // step_s))
    for start, stop in _gaps(covered):
        for a in range(start, stop + 1, width):
            read += _store(
                session, step_s, first_bucket + a, first_bucket + min(a + width, stop + 1) - 1
            )
    chunks = session.scalars(
        select(DriftGridChunk)
        .where(
            DriftGridChunk.step_s == step_s,
            DriftGridChunk.last_bucket >= first_bucket,
            DriftGridChunk.first_bucket <= last_bucket,
        )
        .order_by(DriftGridChunk.first_bucket)
    ).all()
    return _assemble(session, list(chunks), first_bucket, last_bucket, read)


def _count(session: Session, step_s: float, first: int, last: int) -> int:
    """Readings stamped in buckets [first, last]."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(Reading)
            .where(
                Reading.ts >= bucket_start(first, step_s),
                Reading.ts < bucket_start(last + 1, step_s),
            )
        )
        or 0
    )


def _still_true(
    session: Session, step_s: float, chunks: list[tuple[int, int, int, int]]
) -> list[tuple[int, int, int, int]]:
    """The chunks whose readings are still those they averaged; the others are deleted.
    One count per contiguous run of chunks; chunk by chunk only in a run whose count moved."""
    runs: list[list[tuple[int, int, int, int]]] = []
    for chunk in chunks:
        if runs and runs[-1][-1][2] + 1 == chunk[1]:
            runs[-1].append(chunk)
        else:
            runs.append([chunk])
    kept: list[tuple[int, int, int, int]] = []
    stale: list[tuple[int, int, int, int]] = []
    for run in runs:
        if _count(session, step_s, run[0][1], run[-1][2]) == sum(c[3] for c in run):
            kept += run
            continue
        for chunk in run:
            ok = _count(session, step_s, chunk[1], chunk[2]) == chunk[3]
            (kept if ok else stale).append(chunk)
    if stale:
        session.execute(delete(DriftGridChunk).where(DriftGridChunk.id.in_([c[0] for c in stale])))
    return kept


def _gaps(covered: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) index of every run of False."""
    edges = np.diff(np.concatenate([[1], covered.astype(np.int8), [1]]))
    return list(
        zip(
            np.flatnonzero(edges == -1).tolist(),
            (np.flatnonzero(edges == 1) - 1).tolist(),
            strict=True,
        )
    )


def _store(session: Session, step_s: float, first: int, last: int) -> int:
    """Read buckets [first, last] from the readings (means in SQL) and keep them as a
    chunk; returns the readings averaged."""
    bucket = time_bucket(session, Reading.ts, step_s)
    rows = session.execute(
        select(Sensor.machine_id, Sensor.kind, bucket, func.avg(Reading.value), func.count())
        .join(Sensor, Sensor.id == Reading.sensor_id)
        .where(
            Reading.ts >= bucket_start(first, step_s), Reading.ts < bucket_start(last + 1, step_s)
        )
        .group_by(Sensor.machine_id, Sensor.kind, bucket)
    ).all()
    machine = np.array([r[0] for r in rows], np.int64)
    names = [r[1] for r in rows]
    at = np.array([r[2] for r in rows], np.int64) - first
    value = np.array([r[3] for r in rows], float)
    kinds = sorted(set(names))
    kind = np.array([kinds.index(n) for n in names], np.int64) if rows else machine
    ids = np.unique(machine)
    values = np.full((len(ids), last - first + 1, len(kinds)), np.nan)
    inside = (at >= 0) & (at <= last - first)  # (SQLite's float bucket at an edge)
    values[np.searchsorted(ids, machine[inside]), at[inside], kind[inside]] = value[inside]
    readings = sum(int(r[4]) for r in rows)
    session.add(
        DriftGridChunk(
            step_s=step_s,
            first_bucket=first,
            last_bucket=last,
            readings=readings,
            kinds=kinds,
            machine_ids=ids.astype("<i8").tobytes(),
            values=values.astype("<f8").tobytes(),
        )
    )
    session.flush()
    return readings


def _assemble(
    session: Session, chunks: list[DriftGridChunk], first_bucket: int, last_bucket: int, read: int
) -> PeriodGrid:
    """The chunks' values put on one grid of the machines in service."""
    parts = [
        (
            np.frombuffer(c.machine_ids, "<i8"),
            list(c.kinds),
            np.frombuffer(c.values, "<f8").reshape(
                len(c.machine_ids) // 8, c.last_bucket - c.first_bucket + 1, len(c.kinds)
            ),
            c.first_bucket,
        )
        for c in chunks
    ]
    in_service = dict(
        session.execute(select(Machine.id, Machine.type).where(Machine.retired_at.is_(None))).all()
    )
    sent = np.unique(np.concatenate([p[0] for p in parts])) if parts else np.zeros(0, np.int64)
    ids = sent[np.isin(sent, list(in_service))]
    kinds = tuple(sorted({k for p in parts for k in p[1]}))
    grid = np.full((len(ids), last_bucket - first_bucket + 1, len(kinds)), np.nan)
    for machine, names, values, first in parts:
        if len(ids) == 0:
            break
        rows = np.searchsorted(ids, machine)
        known = (rows < len(ids)) & (ids[np.minimum(rows, len(ids) - 1)] == machine)
        lo, hi = max(first, first_bucket), min(first + values.shape[1] - 1, last_bucket)
        if hi < lo or not known.any():
            continue
        columns = np.array([kinds.index(n) for n in names], np.int64)
        block = values[known][:, lo - first : hi - first + 1]
        grid[np.ix_(rows[known], np.arange(lo, hi + 1) - first_bucket, columns)] = block
    seen = ~np.isnan(grid).all(axis=(1, 2))  # sent only before the period: not in it
    types = np.array([in_service[int(i)] for i in ids[seen]], str)
    return PeriodGrid(grid[seen], ids[seen], types, kinds, first_bucket, read)
