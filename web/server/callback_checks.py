"""Every request to a Dash callback is checked against the callback it names before Dash
runs it: the callback exists on the server, its inputs, state and outputs are the ones it
declared (pattern ids with wildcards of their kinds), every changed property is one of its
inputs, and every value is of the kind ``web/server/input_schema.py`` gives it. Anything else is
refused before the callback runs, logged as one line and counted: callbacks need not defend
against it. A value not of its kind is what a user can send (a number too big for its field,
a page left open across an upgrade): that refusal is shown on the page, so it answers 200
with no output changed and the shell's alert saying what was not accepted
(``refusals.shown_refusal``; Dash's renderer shows nothing of a 4xx). Any other problem (no
such callback, inputs or outputs not the ones declared, a pattern id of the wrong shape) no
page sends: it answers 400 with what was wrong."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

import dash
from dash._utils import stringify_id
from flask import Response, request

from web.server.input_kinds import MAX_ITEMS, ByKey, Kind
from web.server.input_schema import WILDCARDS, kind_of
from web.server.refusals import REFUSALS, shown_refusal

__all__ = ["ValueProblem", "install_callback_checks", "request_problem"]

log = logging.getLogger(__name__)
_WILD = ('["ALL"]', '["ALLSMALLER"]', '["MATCH"]')
_MULTI = ('["ALL"]', '["ALLSMALLER"]')


def install_callback_checks(app: dash.Dash) -> None:
    """Check every ``_dash-update-component`` request first (after the login guard)."""
    endpoint = app.config.requests_pathname_prefix + "_dash-update-component"

    @app.server.before_request
    def _check() -> Response | None:
        if request.path != endpoint or request.method != "POST":
            return None
        body = request.get_json(silent=True)
        problem = request_problem(app.callback_map, body)
        if problem is None:
            return None
        output = body.get("output") if isinstance(body, dict) else None
        log.warning("bad callback request [%s]: %s", str(output)[:120], problem)
        REFUSALS.labels("bad_input").inc()
        if isinstance(problem, ValueProblem):
            return shown_refusal(f"Not accepted: {problem}.")
        return Response(json.dumps({"error": problem}), 400, mimetype="application/json")


class ValueProblem(str):
    """A problem with a value a page sent (not with the request's shape): shown on the page."""

    __slots__ = ()


def request_problem(callbacks: Mapping[str, dict], body: Any) -> str | None:
    """What is wrong with a callback request, or None when it may run."""
    if not isinstance(body, dict):
        return "not a callback request"
    spec = callbacks.get(body.get("output")) if isinstance(body.get("output"), str) else None
    if spec is None or "callback" not in spec:
        return "no such callback"
    for part in ("inputs", "state"):
        values = body.get(part, [] if part == "state" else None)  # no state: not sent
        if not isinstance(values, list) or len(values) != len(spec[part]):
            return f"{part} do not match the callback"
        for dep, value in zip(spec[part], values, strict=True):
            if problem := _dep_problem(dep["id"], dep["property"], value, with_value=True):
                return problem
    if not spec.get("no_output") and (problem := _outputs_problem(spec["output"], body)):
        return problem
    return _changed_problem(body.get("inputs"), body.get("changedPropIds"))


def _outputs_problem(declared: Any, body: dict) -> str | None:
    many = isinstance(declared, list)
    outputs = declared if many else [declared]
    given = body.get("outputs")
    given = given if many else [given]
    if not isinstance(given, list) or len(given) != len(outputs):
        return "outputs do not match the callback"
    for out, item in zip(outputs, given, strict=True):
        raw = stringify_id(out.component_id)
        if problem := _dep_problem(raw, out.component_property, _unhashed(item), with_value=False):
            return problem
    return None


def _unhashed(item: Any) -> Any:
    """An output as the renderer names it, without the ``@hash`` of allow_duplicate."""
    if isinstance(item, list):
        return [_unhashed(one) for one in item]
    if isinstance(item, dict) and isinstance(item.get("property"), str):
        return {**item, "property": item["property"].split("@", 1)[0]}
    return item


def _dep_problem(raw_id: str, prop: str, given: Any, *, with_value: bool) -> str | None:
    """``raw_id``: the declared id as Dash writes it (a pattern as JSON with wildcards)."""
    if not raw_id.startswith("{"):
        if (
            not isinstance(given, dict)
            or given.get("id") != raw_id
            or given.get("property") != prop
        ):
            return f"{raw_id}.{prop} is not where it should be"
        return _value_problem(raw_id, prop, given, raw_id) if with_value else None
    pattern = json.loads(raw_id)
    multi = any(json.dumps(v) in _MULTI for v in pattern.values())
    items = given if multi else [given]
    if not isinstance(items, list) or len(items) > MAX_ITEMS:
        return f"{pattern['type']}.{prop} is not a list of components"
    for item in items:
        problem = _pattern_problem(pattern, prop, item) or (
            _value_problem(pattern["type"], prop, item, item["id"]) if with_value else None
        )
        if problem:
            return problem
    return None


def _pattern_problem(pattern: dict, prop: str, item: Any) -> str | None:
    """A component matched by ``pattern``: the same keys, its wildcards of their kinds."""
    kind = pattern["type"]
    if not isinstance(item, dict) or item.get("property") != prop:
        return f"{kind}.{prop} is not where it should be"
    component = item.get("id")
    if not isinstance(component, dict) or set(component) != set(pattern):
        return f"{kind}.{prop}: the id does not match its pattern"
    for key, wanted in pattern.items():
        if json.dumps(wanted) not in _WILD:
            if component[key] != wanted:
                return f"{kind}.{prop}: the id does not match its pattern"
        elif not _wildcard(kind, key).accepts(component[key]):
            return f"{kind}: {key} is not {_wildcard(kind, key).name}"
    return None


def _wildcard(pattern_type: str, key: str) -> Kind:
    kind = WILDCARDS.get(pattern_type, {}).get(key)
    return kind.required if kind else Kind("declared", lambda _v: False)


def _value_problem(component: str, prop: str, item: dict, own_id: object) -> str | None:
    value = item.get("value")
    if prop == "id":
        return None if value == own_id else f"{component}.id is not its id"
    kind = kind_of(component, prop)
    if isinstance(kind, ByKey):
        kind = kind.kind(own_id) if isinstance(own_id, dict) else None
    if kind is None:
        return f"{component}.{prop} is not a known input"
    return None if kind.accepts(value) else ValueProblem(f"{component}.{prop} is not {kind.name}")


def _changed_problem(inputs: list, changed: Any) -> str | None:
    """Changed properties name inputs of the request (Dash reads the trigger from them)."""
    if not isinstance(changed, list):
        return "changedPropIds is not a list"
    named = {
        f"{stringify_id(one['id'])}.{one['property']}"
        for dep in inputs
        for one in (dep if isinstance(dep, list) else [dep])
    }
    stray = next((c for c in changed if c not in named), None)
    return None if stray is None else f"{str(stray)[:80]} is not an input of the callback"
