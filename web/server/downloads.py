"""Downloads: reports (any range built on demand, or a stored weekly report, as CSV or
PDF) and the audit log as CSV. Behind login (the guard) and a role check here."""

from __future__ import annotations

from flask import Blueprint, Response, abort, request

from data.db import Database
from maintenance.ops.audit_trail import audit_csv, audit_rows
from maintenance.people.permissions import Action, allowed
from maintenance.reporting.breakdown_report import (
    build_report,
    load_report_file,
    report_csv,
    report_pdf,
)
from web.server.auth import identity
from web.views.reports import RangeError, parse_day_range

__all__ = ["attachment", "downloads_blueprint"]

_TYPES = {"csv": "text/csv; charset=utf-8", "pdf": "application/pdf"}


def downloads_blueprint(db: Database) -> Blueprint:
    bp = Blueprint("reports", __name__)

    @bp.route("/reports/export.<fmt>")
    def export(fmt: str) -> Response:
        _check(fmt)
        try:
            start, end = parse_day_range(request.args.get("start"), request.args.get("end"))
        except RangeError as err:
            return Response(str(err), 400, mimetype="text/plain")
        with db.session() as s:
            report = build_report(session=s, start=start, end=end)
        body = report_csv(report) if fmt == "csv" else report_pdf(report)
        name = f"breakdown-report-{start:%Y-%m-%d}-to-{request.args['end']}.{fmt}"
        return _file(name, body, fmt)

    @bp.route("/audit/export.csv")
    def audit_export() -> Response:
        _check("csv", Action.AUDIT_VIEW)
        try:
            start, end = parse_day_range(request.args.get("start"), request.args.get("end"))
        except RangeError as err:
            return Response(str(err), 400, mimetype="text/plain")
        with db.session() as s:
            body = audit_csv(audit_rows(session=s, start=start, end=end))
        return _file(f"audit-{start:%Y-%m-%d}-to-{request.args['end']}.csv", body, "csv")

    @bp.route("/reports/<int:report_id>.<fmt>")
    def stored(report_id: int, fmt: str) -> Response:
        _check(fmt)
        with db.session() as s:
            found = load_report_file(session=s, report_id=report_id, fmt=fmt)
        if found is None:
            abort(404)
        return _file(*found, fmt)

    return bp


def _check(fmt: str, action: Action = Action.REPORT_VIEW) -> None:
    user = identity()
    if user is None or not allowed(user.role, action):
        abort(403)
    if fmt not in _TYPES:
        abort(404)


def _file(name: str, body: bytes, fmt: str) -> Response:
    return attachment(name, body, _TYPES[fmt])


def attachment(name: str, body: bytes | str, mimetype: str) -> Response:
    """A download: saved under ``name``, never cached, never sniffed into something else.
    ``mimetype`` is the whole Content-Type (Werkzeug would add a second charset to text)."""
    text = mimetype.startswith("text/") and "charset" not in mimetype
    return Response(
        body,
        content_type=f"{mimetype}; charset=utf-8" if text else mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
