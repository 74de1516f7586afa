"""Builders for the CSV import on the machines page: the card, reading the upload, the dry run."""

from __future__ import annotations

import base64
import binascii
from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from maintenance.fleet_admin.fleet_csv import COLUMNS, MAX_BYTES, ImportPlan

__all__ = ["UploadError", "csv_card", "csv_preview", "import_summary", "upload_bytes"]

# ids of this page's components
FLEET_CSV_UPLOAD = "fleet-csv-upload"
FLEET_CSV_PREVIEW = "fleet-csv-preview"
FLEET_CSV_IMPORT = "fleet-csv-import"
FLEET_CSV_FEEDBACK = "fleet-csv-feedback"
FLEET_CSV_EXAMPLE = "fleet-csv-example"
FLEET_CSV_DOWNLOAD = "fleet-csv-download"
CSV_SUMMARY = "csv-summary"

_SHOWN = 500  # preview rows drawn; the counts cover the whole file
# larger files never leave the browser (their request would pass Flask's 2 MB limit);
# between MAX_BYTES and this, the server answers with a message
_UPLOAD_MAX = 1_400_000


def csv_card() -> dbc.Card:
    """The import card: the columns, the example, the upload box, the preview, Import."""
    return dbc.Card(
        [
            dbc.CardHeader("Import a fleet from CSV"),
            dbc.CardBody(
                [
                    html.P(
                        [
                            "One row per sensor, with the columns ",
                            html.Code(",".join(COLUMNS)),
                            ". Existing machines are updated, new ones created; sensors a "
                            "file leaves out are kept. You see a dry run first; the import "
                            "stores the whole file or, if any row has an error, nothing. "
                            "Leave a limit empty where a sensor has none. ",
                            dbc.Button(
                                "Download an example CSV",
                                id=FLEET_CSV_EXAMPLE,
                                color="link",
                                size="sm",
                                className="p-0 align-baseline",
                            ),
                        ],
                        className="small",
                    ),
                    dcc.Upload(
                        html.Div(
                            [
                                f"Drop a CSV file (at most {MAX_BYTES // 1_000_000} MB) here or ",
                                html.A("choose one"),
                            ]
                        ),
                        id=FLEET_CSV_UPLOAD,
                        accept=".csv,text/csv",
                        max_size=_UPLOAD_MAX,
                        className="border border-2 rounded text-center p-3 mb-2 bg-light",
                    ),
                    html.Div(id=FLEET_CSV_PREVIEW),
                    dbc.Button(
                        "Import",
                        id=FLEET_CSV_IMPORT,
                        color="primary",
                        size="sm",
                        disabled=True,
                    ),
                    html.Div(id=FLEET_CSV_FEEDBACK, className="mt-2"),
                    dcc.Download(id=FLEET_CSV_DOWNLOAD),
                ]
            ),
        ],
        className="shadow-sm mb-4",
    )


class UploadError(ValueError):
    """The upload is not a file we can read."""


def upload_bytes(contents: str | None) -> bytes:
    """The file inside a dcc.Upload data URL; refuses anything over the size limit before
    decoding it."""
    if not contents:
        raise UploadError("Choose a CSV file first.")
    if len(contents) > MAX_BYTES * 4 // 3 + 200:
        raise UploadError(f"The file is larger than {MAX_BYTES // 1_000_000} MB.")
    head, _, body = contents.partition(",")
    if not head.endswith(";base64"):
        raise UploadError("The upload could not be read; choose the file again.")
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise UploadError("The upload could not be read; choose the file again.") from None


def csv_preview(plan: ImportPlan, filename: str) -> html.Div:
    """The dry run: row errors first (nothing can be imported while there are any), then
    what the import would create, update or leave as it is."""
    parts: list[Any] = [html.H3(f"Preview of {filename or 'the file'}", className="h6")]
    if plan.errors:
        parts.append(
            dbc.Alert(
                f"{len(plan.errors)} problem{'s' * (len(plan.errors) != 1)} in the file: "
                "fix the rows below and upload it again. Nothing has been imported.",
                color="danger",
                className="py-2",
            )
        )
        parts.append(_table(["Row", "Column", "Problem"], _error_cells(plan), "csv-errors"))
    counts = plan.counts()
    if counts:
        parts.append(html.P(import_summary(counts), className="mb-1", id=CSV_SUMMARY))
        cells = [[c.action, c.entity, c.machine, c.key, c.summary()] for c in plan.changes[:_SHOWN]]
        parts.append(_table(["Action", "What", "Machine", "Sensor", "Details"], cells, "csv-plan"))
    if len(plan.changes) > _SHOWN:
        parts.append(html.Small(f"First {_SHOWN} of {len(plan.changes)} shown.", className="muted"))
    return html.Div(parts)


def _error_cells(plan: ImportPlan) -> list[list[str]]:
    return [[str(e.row or "–"), e.column or "–", e.message] for e in plan.errors[:_SHOWN]]


def import_summary(counts: dict[str, int], *, done: bool = False) -> str:
    """``2 machines to create · 5 sensors to update`` (``done``: created, updated)."""
    parts = []
    for action in ("create", "update", "unchanged"):
        for entity in ("machine", "sensor"):
            n = counts.get(f"{entity}.{action}", 0)
            if not n:
                continue
            verb = (
                "unchanged" if action == "unchanged" else f"{action}d" if done else f"to {action}"
            )
            parts.append(f"{n} {entity}{'s' * (n != 1)} {verb}")
    return " · ".join(parts)


def _table(head: list[str], rows: list[list[str]], table_id: str) -> dbc.Table:
    return dbc.Table(
        [
            html.Thead(html.Tr([html.Th(h) for h in head])),
            html.Tbody([html.Tr([html.Td(c) for c in row]) for row in rows]),
        ],
        id=table_id,
        size="sm",
        striped=True,
        responsive=True,
        className="small",
    )
