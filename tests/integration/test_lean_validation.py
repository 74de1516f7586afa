"""The validation layout in every page's HTML is the lean one (web/server/lean_validation.py)
and still lets the browser check every callback: each id a callback names is in it, with
a component type that has the callback's property."""

from __future__ import annotations

import inspect
import json
import re

import dash
from dash import html
from dash.development.base_component import Component
from factories import WebApp

from web.server.lean_validation import lean_validation_layout


def _served_validation_layout(web: WebApp) -> dict:
    page = web.client("manager").get("/").get_data(as_text=True)
    config = re.search(r'<script id="_dash-config" type="application/json">(.*?)</script>', page)
    assert config is not None
    return json.loads(config.group(1))["validation_layout"]


def _props_by_type() -> dict[tuple[str, str], tuple[set[str], list[str]]]:
    """Each component type's properties and wildcard attributes (``data-``, ``aria-``)."""
    found: dict[tuple[str, str], tuple[set[str], list[str]]] = {}
    todo = [Component]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if getattr(cls, "_type", None) and getattr(cls, "_namespace", None):
            names = set(inspect.signature(cls.__init__).parameters) - {"self", "kwargs"}
            wildcards = list(getattr(cls, "_valid_wildcard_attributes", []))
            found.setdefault((cls._namespace, cls._type), (names, wildcards))
    return found


def test_every_page_carries_the_lean_layout_and_it_checks_every_callback(web: WebApp):
    served = _served_validation_layout(web)
    components = served["props"]["children"]
    assert components and all(set(c["props"]) == {"id"} for c in components)
    assert len(json.dumps(served)) < 60_000  # the whole layouts were ~110 KB

    by_id = {json.dumps(c["props"]["id"], sort_keys=True): c for c in components}
    types = _props_by_type()
    checked = 0
    for name, callback in web.app.callback_map.items():
        deps = [*callback["inputs"], *callback["state"]]
        # "id.prop" or "..id.prop...id.prop.."; a callback without outputs is keyed by a hash
        outputs = [] if callback.get("no_output") else name.strip(".").split("...")
        for output in outputs:
            if not output.startswith("{"):  # a wildcard id is checked by pattern
                component_id, prop = output.rsplit(".", 1)
                deps.append({"id": component_id, "property": prop})
        for dep in deps:
            if isinstance(dep["id"], dict) or str(dep["id"]).startswith(("{", "_pages")):
                continue
            component = by_id.get(json.dumps(dep["id"]))
            assert component is not None, f"{dep['id']} is in no page's layout"
            names, wildcards = types[(component["namespace"], component["type"])]
            prop = dep["property"].split("@")[0]
            assert prop in names or any(prop.startswith(w) for w in wildcards), (
                f"{dep['id']}.{prop} is not a property of {component['type']}"
            )
            checked += 1
    assert checked > 200


def test_the_lean_layout_keeps_every_id_and_its_type_in_order():
    layout = html.Div(
        [
            html.Div(id="a", children=[html.Span("text", id="b"), html.P("no id")]),
            dash.dcc.Graph(id={"type": "g", "index": 1}, figure={"data": []}),
        ]
    )
    lean = lean_validation_layout(layout).to_plotly_json()["props"]["children"]
    assert lean == [
        {"type": "Div", "namespace": "dash_html_components", "props": {"id": "a"}},
        {"type": "Span", "namespace": "dash_html_components", "props": {"id": "b"}},
        {
            "type": "Graph",
            "namespace": "dash_core_components",
            "props": {"id": {"type": "g", "index": 1}},
        },
    ]
