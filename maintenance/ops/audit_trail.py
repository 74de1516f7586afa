"""The audit trail, read back: who changed what and when, with before and after."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.models import AuditLog, User

__all__ = ["AuditRow", "audit_csv", "audit_rows"]


@dataclass(frozen=True, slots=True)
class AuditRow:
    id: int
    ts: datetime
    user: str  # "system" for jobs
    action: str
    entity: str
    entity_id: str
    before: dict | None
    after: dict | None

    def change(self) -> str:
        """Before → after as compact JSON, for a table cell."""
        parts = []
        if self.before:
            parts.append(json.dumps(self.before, sort_keys=True, default=str))
        if self.after:
            parts.append(json.dumps(self.after, sort_keys=True, default=str))
        return " → ".join(parts)


def audit_rows(
    *, session: Session, start: datetime, end: datetime, limit: int = 20000
) -> list[AuditRow]:
    """Entries in [start, end), newest first."""
    stmt = (
        select(AuditLog, User.username)
        .outerjoin(User, User.id == AuditLog.user_id)
        .where(AuditLog.ts >= start, AuditLog.ts < end)
        .order_by(AuditLog.ts.desc(), AuditLog.id.desc())
        .limit(limit)
    )
    return [
        AuditRow(a.id, a.ts, who or "system", a.action, a.entity, a.entity_id, a.before, a.after)
        for a, who in session.execute(stmt)
    ]


def audit_csv(rows: list[AuditRow]) -> bytes:
    """UTF-8 CSV: id, ts (ISO 8601 UTC), user, action, entity, entity_id, before, after
    (JSON objects), oldest first so a spreadsheet reads like a story."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "ts", "user", "action", "entity", "entity_id", "before", "after"])
    for r in sorted(rows, key=lambda r: (r.ts, r.id)):
        writer.writerow(
            [
                r.id,
                r.ts.isoformat(),
                r.user,
                r.action,
                r.entity,
                r.entity_id,
                json.dumps(r.before, sort_keys=True, default=str) if r.before else "",
                json.dumps(r.after, sort_keys=True, default=str) if r.after else "",
            ]
        )
    return out.getvalue().encode("utf-8")
