"""Dash's validation layout, reduced to what the browser checks.

With pages, Dash builds a validation layout at its first request (every page's layout plus
the frame) and puts it in every page's HTML (``_dash-config``), so that the renderer can
check each callback's ids and properties against every page, not only the one shown: about
110 KB of JSON parsed and walked on every full page load. The renderer reads only two
things of it: which ids exist (their place in the tree of ``children`` and the other
component-valued properties), and for each id the component's type, to check that the
callback's property is one the type has. A flat list of the same components, each carrying
only its ``id``, gives the same answers for every callback, so the same errors and the same
silence, at a fraction of the size.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import html
from dash._layout_utils import traverse  # walks children and every _children_props path
from dash.development.base_component import Component
from flask import Flask

__all__ = ["install_lean_validation", "lean_validation_layout"]


def lean_validation_layout(layout: Component) -> html.Div:
    """Every component of ``layout`` that has an id, in tree order, with only its id."""
    found: list[dict[str, Any]] = [
        {"type": c._type, "namespace": c._namespace, "props": {"id": c.id}}
        for c, _ancestors in traverse(layout)
        if getattr(c, "id", None) is not None
    ]
    return html.Div(children=found)


def install_lean_validation(server: Flask, app: dash.Dash) -> None:
    """Replace the validation layout by its lean form once Dash has built it (call after
    the Dash app exists: this hook runs after Dash's own first-request hook)."""

    lean: list[html.Div] = []  # the one built, once Dash has built its own

    @server.before_request
    def _lean() -> None:
        layout = app.validation_layout
        if layout is not None and (not lean or layout is not lean[0]):
            lean[:] = [lean_validation_layout(layout)]
            app.validation_layout = lean[0]
