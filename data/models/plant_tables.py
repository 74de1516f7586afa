"""The plant and its data: machines, sensors, readings and their rollups, dead letters,
predictions, downtime and maintenance windows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from data.models.base import (
    Base,
    DowntimeKind,
    enum_column,
    utcnow,
)


class Machine(Base):
    __tablename__ = "machines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    type: Mapped[str] = mapped_column(String(32))
    location: Mapped[str] = mapped_column(String(64), default="")
    line: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(default=None)

    sensors: Mapped[list[Sensor]] = relationship(back_populates="machine", order_by="Sensor.id")


class Sensor(Base):
    __tablename__ = "sensors"
    __table_args__ = (UniqueConstraint("machine_id", "key", name="uq_sensors_machine_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    machine_id: Mapped[int] = mapped_column(ForeignKey("machines.id"))
    key: Mapped[str] = mapped_column(String(32))  # the name used in payloads, e.g. "temperature"
    kind: Mapped[str] = mapped_column(String(32))  # temperature | vibration | rpm | ...
    unit: Mapped[str] = mapped_column(String(16))
    warn_low: Mapped[float | None] = mapped_column(Float, default=None)
    warn_high: Mapped[float | None] = mapped_column(Float, default=None)
    crit_low: Mapped[float | None] = mapped_column(Float, default=None)
    crit_high: Mapped[float | None] = mapped_column(Float, default=None)

    machine: Mapped[Machine] = relationship(back_populates="sensors")


class Reading(Base):
    """One sensor value: narrow, keyed by (sensor_id, ts) so redeliveries never duplicate."""

    __tablename__ = "readings"
    __table_args__ = (Index("ix_readings_ts", "ts"),)

    sensor_id: Mapped[int] = mapped_column(ForeignKey("sensors.id"), primary_key=True)
    ts: Mapped[datetime] = mapped_column(primary_key=True)
    value: Mapped[float] = mapped_column(Float)


class DeadLetter(Base):
    __tablename__ = "dead_letters"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    topic: Mapped[str] = mapped_column(Text)
    payload: Mapped[bytes] = mapped_column(LargeBinary)  # truncated copy of what arrived
    reason: Mapped[str] = mapped_column(String(64), index=True)
    detail: Mapped[str] = mapped_column(Text, default="")


class Prediction(Base):
    """One scoring of one machine: anomaly, failure probability, remaining useful life."""

    __tablename__ = "predictions"
    __table_args__ = (Index("ix_predictions_machine_ts", "machine_id", "ts"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    machine_id: Mapped[int] = mapped_column(ForeignKey("machines.id"))
    ts: Mapped[datetime] = mapped_column(default=utcnow)
    anomaly_score: Mapped[float | None] = mapped_column(Float, default=None)
    is_anomaly: Mapped[bool] = mapped_column(Boolean, default=False)
    failure_probability: Mapped[float | None] = mapped_column(Float, default=None)
    # remaining useful life in wall-clock hours at the plant (the worker divides the models'
    # hours by the live time scale: 60 in the demo, whose simulator runs 60x the clock)
    rul_hours: Mapped[float | None] = mapped_column(Float, default=None)
    top_sensors: Mapped[list] = mapped_column(JSON, default=list)
    model_versions: Mapped[dict] = mapped_column(JSON, default=dict)


class Downtime(Base):
    """A period a machine did not run; breakdowns are what reports count."""

    __tablename__ = "downtime"
    __table_args__ = (Index("ix_downtime_machine_started", "machine_id", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    machine_id: Mapped[int] = mapped_column(ForeignKey("machines.id"))
    kind: Mapped[DowntimeKind] = mapped_column(enum_column(DowntimeKind, "downtime_kind"))
    started_at: Mapped[datetime] = mapped_column()
    ended_at: Mapped[datetime | None] = mapped_column(default=None)  # None: still down
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), default=None)
    source: Mapped[str] = mapped_column(String(16), default="ticket")  # ticket | backfill | manual
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AlarmSilence(Base):
    """A maintenance window: the machine's alarms are still recorded but alert nobody."""

    __tablename__ = "alarm_silences"
    __table_args__ = (Index("ix_alarm_silences_machine_ends", "machine_id", "ends_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    machine_id: Mapped[int] = mapped_column(ForeignKey("machines.id"))
    starts_at: Mapped[datetime] = mapped_column(default=utcnow)
    ends_at: Mapped[datetime] = mapped_column()
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(default=None)


class RollupDirty(Base):
    """A ten-minute bucket that got readings after it was rolled up (a gateway catching
    up): the rollup job recomputes it; until then long ranges read it raw."""

    __tablename__ = "rollup_dirty"

    bucket: Mapped[datetime] = mapped_column(primary_key=True)


class ReadingRollup(Base):
    """Ten-minute aggregate of one sensor (count, mean, min, max): long ranges are drawn
    from it, and retention keeps it once raw readings are removed."""

    __tablename__ = "readings_10m"

    sensor_id: Mapped[int] = mapped_column(ForeignKey("sensors.id"), primary_key=True)
    bucket: Mapped[datetime] = mapped_column(primary_key=True)  # start of the 10 minutes
    n: Mapped[int] = mapped_column(Integer)
    mean: Mapped[float] = mapped_column(Float)
    min: Mapped[float] = mapped_column(Float)
    max: Mapped[float] = mapped_column(Float)
