"""The score job's window of bucket means (``data.readings.bucketed_readings`` over the last
buckets), kept between ticks so a tick does not average again the hour of readings it averaged
five seconds before.

Each tick reads from ``readings`` the buckets from ``margin`` before the last tick's newest
on (the new readings and the current, partial bucket), and one slice of the older buckets in
turn, so every bucket of the window is read again at least every ``sweep`` ticks: a gateway's
late readings or replayed gap count within ``sweep`` ticks. Which machines are in service, and
their types, are read at every tick, as the whole query joins them. The first tick (a new
leader, a changed live step) reads the whole window."""

from __future__ import annotations

import math

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from data.models import Machine
from data.readings import bucket_start, bucketed_readings

__all__ = ["LiveWindow"]

COLUMNS = ["machine_id", "type", "kind", "bucket", "value"]


class LiveWindow:
    """Bucket means of every machine in service, kept per bucket between calls of ``frame``."""

    def __init__(
        self,
        *,
        step_s: float,
        shard: tuple[int, int] | None = None,
        sweep: int = 10,
        margin: int = 2,
    ) -> None:
        self.step_s = step_s
        self.shard = shard
        self.sweep = max(1, sweep)
        self.margin = max(0, margin)
        self._buckets: dict[int, pd.DataFrame] = {}
        self._newest: int | None = None  # the newest bucket the last call read
        self._next_swept: int | None = None  # where the sweep of older buckets goes on
        self.buckets_read = 0  # how many buckets the last call read from the table

    def frame(self, *, session: Session, first_bucket: int, last_bucket: int) -> pd.DataFrame:
        """What ``bucketed_readings`` returns for buckets [first_bucket, last_bucket]."""
        for bucket in [b for b in self._buckets if b < first_bucket]:
            del self._buckets[bucket]
        if self._newest is None or self._newest < first_bucket:
            fresh_from = first_bucket
        else:
            fresh_from = max(first_bucket, min(self._newest, last_bucket) - self.margin)
        self._read(session, fresh_from, last_bucket)
        self.buckets_read = last_bucket - fresh_from + 1
        older = fresh_from - first_bucket
        if older > 0:
            width = math.ceil((last_bucket - first_bucket + 1) / self.sweep)
            start = self._next_swept
            if start is None or not first_bucket <= start < fresh_from:
                start = first_bucket
            stop = min(start + width, fresh_from) - 1
            self._read(session, start, stop)
            self.buckets_read += stop - start + 1
            self._next_swept = stop + 1
        self._newest = last_bucket
        kept = [
            self._buckets[b] for b in range(first_bucket, last_bucket + 1) if b in self._buckets
        ]
        rows = pd.concat(kept, ignore_index=True) if kept else pd.DataFrame(columns=COLUMNS)
        return _in_service(session, rows[COLUMNS[:1] + COLUMNS[2:]])

    def _read(self, session: Session, first: int, last: int) -> None:
        """Read buckets [first, last] from the table, replacing what was kept of them."""
        frame = bucketed_readings(
            session=session,
            step_s=self.step_s,
            since=bucket_start(first, self.step_s),
            until=bucket_start(last + 1, self.step_s),
            shard=self.shard,
        )
        parts = dict(iter(frame.groupby("bucket", sort=False)))
        for bucket in range(first, last + 1):
            part = parts.get(bucket)
            if part is None:
                self._buckets.pop(bucket, None)
            else:
                self._buckets[bucket] = part.drop(columns="type")


def _in_service(session: Session, rows: pd.DataFrame) -> pd.DataFrame:
    """The rows of machines in service, with their types as they are now."""
    types = pd.DataFrame(
        session.execute(select(Machine.id, Machine.type).where(Machine.retired_at.is_(None))).all(),
        columns=["machine_id", "type"],
    )
    out = rows.merge(types, on="machine_id", how="inner")[COLUMNS]
    out["machine_id"] = out["machine_id"].astype("int64")
    out["bucket"] = out["bucket"].astype("int64")
    out["value"] = out["value"].astype(float)
    return out.reset_index(drop=True)
