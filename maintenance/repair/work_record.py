"""A ticket's printable work record for audits (ISO 9001): who did what, and when.

The facts come from the tables and the audit log (``work_record``); the PDF (fpdf2 with
DejaVu Sans embedded, so "≈" and every name print as written) lays them out, with the
ticket's photos at the end.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from sqlalchemy import select
from sqlalchemy.orm import Session

from data.models import (
    Alarm,
    AuditLog,
    Downtime,
    Part,
    SopVersion,
    Ticket,
    TicketComment,
    TicketPart,
    TicketStep,
    User,
)
from maintenance.people.accounts import UserInfo
from maintenance.people.permissions import Action, allowed
from maintenance.rendering.human_units import format_duration
from maintenance.rendering.pdf_fonts import FONT, unicode_pdf
from maintenance.repair.attachment_store import list_attachments, ticket_photos
from maintenance.ticketing.ticket_flow import may_change

__all__ = ["WorkRecord", "may_read_record", "work_record", "work_record_pdf"]


_WIDTH = 186.0
Line = tuple[datetime | None, str, str]  # when, who, what
_VERDICT: dict[object, str] = {True: ", real failure", False: ", false alarm"}


@dataclass(frozen=True, slots=True)
class WorkRecord:
    ticket_id: int
    header: list[tuple[str, str]]  # label, value
    status_changes: list[Line]
    sop: str
    steps: list[Line]
    parts: list[Line]
    comments: list[Line]
    attachments: list[Line]
    resolution: list[tuple[str, str]]


def may_read_record(*, ticket: Ticket, user: UserInfo) -> bool:
    """Whether ``user`` may download ``ticket``'s work record: an audit document, so every
    role of ``TICKET_RECORD_ANY`` reads any (viewers stand for auditors), technicians only
    the tickets they work."""
    return allowed(user.role, Action.TICKET_RECORD_ANY) or may_change(ticket=ticket, user=user)


def _names(session: Session) -> dict[int, str]:
    return {uid: name for uid, name in session.execute(select(User.id, User.username))}


def _when(ts: datetime | None) -> str:
    return f"{ts:%Y-%m-%d %H:%M:%S} UTC" if ts else "-"


def _header(session: Session, t: Ticket, names: dict[int, str]) -> list[tuple[str, str]]:
    alarm = session.get(Alarm, t.alarm_id) if t.alarm_id else None
    return [
        ("Ticket", f"#{t.id} {t.code}: {t.title}"),
        ("Machine", t.machine.name),
        ("Priority / status", f"{t.priority.value} / {t.status.value}"),
        ("Opened", _when(t.created_at)),
        ("Alarm", f"{alarm.message} (raised {_when(alarm.raised_at)})" if alarm else "-"),
        ("Assigned to", names.get(t.technician_id or -1, "unassigned")),
        ("Assignment", t.assignment_reason or "-"),
    ]


def _status_changes(session: Session, ticket_id: int, names: dict[int, str]) -> list[Line]:
    rows = session.scalars(
        select(AuditLog)
        .where(
            AuditLog.entity == "ticket",
            AuditLog.entity_id == str(ticket_id),
            AuditLog.action.in_(
                ("ticket.open", "ticket.status", "ticket.escalate", "ticket.alarm")
            ),
        )
        .order_by(AuditLog.ts, AuditLog.id)
    )
    lines: list[Line] = []
    for a in rows:
        before, after = a.before or {}, a.after or {}
        if a.action == "ticket.open":
            what = f"opened, priority {after.get('priority', '?')}"
        elif a.action == "ticket.alarm":
            what = f"joined by alarm {after.get('code', '?')}: {after.get('message', '')}"
        elif a.action == "ticket.escalate" and "priority" in after:
            what = f"priority {before.get('priority')} -> {after.get('priority')}"
        elif a.action == "ticket.escalate":  # not started in time
            what = str(after.get("text", "escalated to the managers"))
        else:
            old, new = (
                str(x.get("status", "?")).lower().replace("_", " ") for x in (before, after)
            )
            verdict = _VERDICT.get(after.get("failure_confirmed"), "")
            what = f"status {old} -> {new}{verdict}"
        lines.append((a.ts, names.get(a.user_id or -1, "system"), what))
    return lines


def _steps(session: Session, ticket_id: int, names: dict[int, str]) -> tuple[str, list[Line]]:
    rows = session.execute(
        select(TicketStep, SopVersion)
        .join(SopVersion, SopVersion.id == TicketStep.sop_version_id)
        .where(TicketStep.ticket_id == ticket_id)
        .order_by(TicketStep.sop_version_id, TicketStep.step)
    ).all()
    if not rows:
        return "no SOP steps ticked", []
    version = rows[-1][1]
    lines: list[Line] = []
    for step, v in rows:
        text = v.steps[step.step] if step.step < len(v.steps) else "?"
        mark = "[x]" if step.done else "[ ]"
        lines.append(
            (step.at, names.get(step.user_id or -1, "?"), f"{mark} {step.step + 1}. {text}")
        )
    return f"{version.title}, version {version.version}", lines


def _parts(session: Session, ticket_id: int, names: dict[int, str]) -> list[Line]:
    rows = session.execute(
        select(TicketPart, Part)
        .join(Part, Part.id == TicketPart.part_id)
        .where(TicketPart.ticket_id == ticket_id)
        .order_by(TicketPart.used_at, TicketPart.id)
    )
    return [
        (
            tp.used_at,
            names.get(tp.used_by or -1, "?"),
            f"{p.number} {p.name}: {tp.quantity} {p.unit}",
        )
        for tp, p in rows
    ]


def _comments(session: Session, ticket_id: int, names: dict[int, str]) -> list[Line]:
    rows = session.scalars(
        select(TicketComment)
        .where(TicketComment.ticket_id == ticket_id)
        .order_by(TicketComment.created_at, TicketComment.id)
    )
    return [(c.created_at, names.get(c.user_id or -1, "?"), c.body) for c in rows]


def _resolution(session: Session, t: Ticket) -> list[tuple[str, str]]:
    verdict = {True: "real failure confirmed", False: "false alarm", None: "-"}
    down = session.scalars(select(Downtime).where(Downtime.ticket_id == t.id)).all()
    stops = "; ".join(_stop(d) for d in down) or "none recorded"
    note = [("Note", t.resolution)] if t.resolution else []
    return [
        ("Resolved", _when(t.resolved_at)),
        ("Outcome", verdict[t.failure_confirmed]),
        ("Cause", t.cause or "-"),
        ("Action taken", t.action_taken or "-"),
        *note,
        ("Downtime", stops),
    ]


def _stop(d: Downtime) -> str:
    if d.ended_at is None:
        return f"{_when(d.started_at)} to -, still down"
    lasted = format_duration((d.ended_at - d.started_at).total_seconds())
    return f"{_when(d.started_at)} to {_when(d.ended_at)} ({lasted})"


def work_record(*, session: Session, ticket_id: int) -> WorkRecord | None:
    """Everything the work record shows, or None for an unknown ticket."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        return None
    names = _names(session)
    sop, steps = _steps(session, ticket_id, names)
    files: list[Line] = [
        (a.uploaded_at, a.uploaded_by, f"{a.filename} ({a.size} bytes) sha256 {a.sha256}")
        for a in list_attachments(session=session, ticket_id=ticket_id)
    ]
    return WorkRecord(
        ticket_id=ticket_id,
        header=_header(session, ticket, names),
        status_changes=_status_changes(session, ticket_id, names),
        sop=sop,
        steps=steps,
        parts=_parts(session, ticket_id, names),
        comments=_comments(session, ticket_id, names),
        attachments=files,
        resolution=_resolution(session, ticket),
    )


def _section(pdf: FPDF, title: str) -> None:
    pdf.ln(2)
    pdf.set_font(FONT, "B", 11)
    pdf.cell(_WIDTH, 7, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 9)


def _pairs(pdf: FPDF, pairs: list[tuple[str, str]]) -> None:
    for label, value in pairs:
        pdf.set_font(FONT, "B", 9)
        pdf.cell(38, 5, label)
        pdf.set_font(FONT, "", 9)
        pdf.multi_cell(_WIDTH - 38, 5, value, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _lines(pdf: FPDF, lines: list[Line], empty: str) -> None:
    if not lines:
        pdf.cell(_WIDTH, 5, empty, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    for ts, who, what in lines:
        pdf.cell(46, 5, _when(ts))  # DejaVu is wider than the core fonts were
        pdf.cell(28, 5, who[:20])
        pdf.multi_cell(_WIDTH - 74, 5, what, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def work_record_pdf(
    session: Session, ticket_id: int, photos: bool = False, legacy_dir: Path | None = None
) -> bytes | None:
    """The ticket's work record as an A4 PDF, or None for an unknown ticket; with
    ``photos``, its photos are printed at the end (from the database, or from
    ``legacy_dir`` for a file of an earlier release not copied in yet)."""
    record = work_record(session=session, ticket_id=ticket_id)
    if record is None:
        return None
    pdf = unicode_pdf(f"Work record, ticket #{ticket_id}")
    pdf.add_page()
    pdf.set_font(FONT, "B", 14)
    pdf.cell(_WIDTH, 9, f"Work record - ticket #{ticket_id}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    _pairs(pdf, record.header)
    _section(pdf, "Status changes")
    _lines(pdf, record.status_changes, "none")
    _section(pdf, f"SOP steps ({record.sop})")
    _lines(pdf, record.steps, "none")
    _section(pdf, "Parts used")
    _lines(pdf, record.parts, "none")
    _section(pdf, "Comments")
    _lines(pdf, record.comments, "none")
    _section(pdf, "Attachments")
    _lines(pdf, record.attachments, "none")
    _section(pdf, "Resolution")
    _pairs(pdf, record.resolution)
    if photos:
        _photos(pdf, ticket_photos(session=session, ticket_id=ticket_id, legacy=legacy_dir))
    return bytes(pdf.output())


def _photos(pdf: FPDF, photos: list[tuple[str, bytes]]) -> None:
    """Each photo fitted into a 120 x 90 mm box under its name (a new page when it would
    not fit); a file that is not a readable image is named, not drawn."""
    if not photos:
        return
    _section(pdf, "Photos")
    for name, data in photos:
        if pdf.get_y() + 96 > pdf.page_break_trigger:
            pdf.add_page()
        pdf.cell(_WIDTH, 5, name, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        try:
            pdf.image(io.BytesIO(data), w=120, h=90, keep_aspect_ratio=True)
        except Exception:  # noqa: BLE001 - one unreadable photo must not lose the record
            pdf.cell(_WIDTH, 5, "(not a readable image)", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(2)
