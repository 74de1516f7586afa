"""Builders for the SOP library page. SOP text is Markdown rendered without HTML."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from maintenance.procedures.sop_library import SopSummary, SopView
from maintenance.procedures.sop_text import without_front_matter

__all__ = ["sop_list", "sop_header", "sop_body", "version_history", "missing_sop"]

# ids of this page's components
SOPS_CODE = "sops-code"
SOPS_SEARCH = "sops-search"
SOPS_LIST = "sops-list"
SOPS_REFRESH = "sops-refresh"
SOPS_HEADER = "sops-header"
SOPS_VERSION = "sops-version"
SOPS_BODY = "sops-body"
SOPS_HISTORY = "sops-history"
SOPS_EDITOR = "sops-editor"
SOPS_BASE = "sops-base"  # store: the version the editor started from
SOPS_TEXT = "sops-text"
SOPS_TEXT_ERROR = "sops-text-error"
SOPS_PREVIEW = "sops-preview"
SOPS_SAVE = "sops-save"
SOPS_FEEDBACK = "sops-feedback"
SOPS_EMPTY = "sops-empty"
SOPS_ERROR = "sops-error"
SOPS_OK = "sops-ok"
SOP_META = "sop-meta"
SOP_MISSING = "sop-missing"
SOP_NONE = "sop-none"
SOP_PREVIEW_RENDERED = "sop-preview-rendered"
SOP_RENDERED = "sop-rendered"
SOP_TITLE = "sop-title"
SOP_VERSIONS = "sop-versions"


def sop_list(rows: list[SopSummary], active: str) -> html.Div:
    if not rows:
        return html.Div(
            dbc.Alert("No SOP matches.", color="light", className="small"), id=SOPS_EMPTY
        )
    return dbc.ListGroup(
        [
            dbc.ListGroupItem(
                [
                    html.Code(r.code, className="d-block"),
                    html.Span(r.title, className="small"),
                    html.Span(f" · v{r.version}", className="small text-muted"),
                ],
                href=f"/sops?code={r.code}",
                active=r.code == active,
                id=f"sop-item-{r.code}",
                className="py-2",
            )
            for r in rows
        ],
        className="sop-list",
    )


def sop_header(view: SopView) -> html.Div:
    v = view.version
    current = "current" if v.version == view.current_version else "an older version"
    return html.Div(
        [
            html.H2(v.title, className="h4 mb-0", id=SOP_TITLE),
            html.Div(
                [
                    html.Code(view.code, className="me-2"),
                    f"version {v.version} ({current}), {len(view.steps)} steps, by {v.author}, "
                    f"{v.created_at:%Y-%m-%d %H:%M} UTC",
                ],
                className="text-muted small",
                id=SOP_META,
            ),
        ]
    )


def sop_body(view: SopView) -> dcc.Markdown:
    """The SOP as a reader sees it; the title is in the header already."""
    text = without_front_matter(view.body)
    text = text.removeprefix(f"# {view.version.title}").strip()
    return dcc.Markdown(text, id=SOP_RENDERED)


def version_history(view: SopView) -> html.Div:
    rows = [
        html.Tr(
            [
                html.Td(f"v{v.version}"),
                html.Td(v.title),
                html.Td(v.author),
                html.Td(f"{v.created_at:%Y-%m-%d %H:%M} UTC"),
            ],
            className="table-active" if v.version == view.version.version else "",
        )
        for v in view.versions
    ]
    head = html.Thead(html.Tr([html.Th(h) for h in ("Version", "Title", "By", "Saved")]))
    return html.Div(
        [
            html.H3("Version history", className="h6 mt-4"),
            dbc.Table([head, html.Tbody(rows)], size="sm", className="small", id=SOP_VERSIONS),
        ]
    )


def missing_sop(code: str, *, can_write: bool) -> html.Div:
    if not code:
        return html.Div(
            html.P("Choose a procedure on the left.", className="text-muted"), id=SOP_NONE
        )
    hint = " Write it below: it becomes version 1." if can_write else ""
    return html.Div(
        [
            html.H2(code, className="h4"),
            dbc.Alert(f"There is no SOP for {code} yet.{hint}", color="secondary"),
        ],
        id=SOP_MISSING,
    )
