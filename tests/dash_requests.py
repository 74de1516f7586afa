"""Requests shaped like the ones Dash's renderer sends to ``/_dash-update-component``: the
access and junk sweeps post them to every callback of the app."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from dash import ALL, ALLSMALLER, MATCH

# what one input or state holds: (component id or pattern type, property) -> value
Values = Callable[[str, str], Any]
# what a wildcard of a pattern id holds: (pattern type, key) -> value
Keys = Callable[[str, str], Any]

_MULTI = ('["ALL"]', '["ALLSMALLER"]')


def empty_body(key: str, spec: dict) -> dict:
    """Every input and state None, pattern-matched lists empty (no such components)."""

    def dep(d: dict) -> dict | list:
        if d["id"].startswith("{"):
            return []
        return {"id": d["id"], "property": d["property"], "value": None}

    declared = _declared_outputs(spec)
    outputs = [
        []
        if isinstance(o.component_id, dict)
        else {"id": o.component_id, "property": o.component_property}
        for o in declared
    ]
    return {
        "output": key,
        "outputs": outputs if isinstance(spec["output"], list) else outputs[0],
        "inputs": [dep(d) for d in spec["inputs"]],
        "state": [dep(d) for d in spec["state"]],
        "changedPropIds": [f"{d['id']}.{d['property']}" for d in spec["inputs"]],
    }


def filled_body(key: str, spec: dict, values: Values, keys: Keys, *, own_ids: bool = True) -> dict:
    """Every input and state given a value, one component for each pattern (its wildcards
    from ``keys``), every input named as changed: the callback runs past its guards.
    ``own_ids``: an ``id`` property holds the component's id, as in a browser."""
    inputs = [_dep(d["id"], d["property"], values, keys, own_ids) for d in spec["inputs"]]
    state = [_dep(d["id"], d["property"], values, keys, own_ids) for d in spec["state"]]
    declared = _declared_outputs(spec)
    outputs = [_out(o.component_id, o.component_property, keys) for o in declared]
    changed = [_prop_id(one) for dep in inputs for one in (dep if isinstance(dep, list) else [dep])]
    return {
        "output": key,
        "outputs": outputs if isinstance(spec["output"], list) else outputs[0],
        "inputs": inputs,
        "state": state,
        "changedPropIds": changed,
    }


def prop_id(component: str | dict, prop: str) -> str:
    """How Dash names a changed property: the id (JSON, sorted, for a pattern) and the prop."""
    if isinstance(component, dict):
        return json.dumps(component, sort_keys=True, separators=(",", ":")) + "." + prop
    return f"{component}.{prop}"


def _prop_id(dep: dict) -> str:
    return prop_id(dep["id"], dep["property"])


def _declared_outputs(spec: dict) -> list:
    return spec["output"] if isinstance(spec["output"], list) else [spec["output"]]


def _dep(raw_id: str, prop: str, values: Values, keys: Keys, own_ids: bool) -> dict | list:
    if not raw_id.startswith("{"):
        value = raw_id if own_ids and prop == "id" else values(raw_id, prop)
        return {"id": raw_id, "property": prop, "value": value}
    pattern = json.loads(raw_id)
    concrete = {
        k: keys(pattern["type"], k) if isinstance(v, list) else v for k, v in pattern.items()
    }
    value = concrete if own_ids and prop == "id" else values(pattern["type"], prop)
    one = {"id": concrete, "property": prop, "value": value}
    multi = any(json.dumps(v) in _MULTI for v in pattern.values())
    return [one] if multi else one


def _out(component: str | dict, prop: str, keys: Keys) -> dict | list:
    if not isinstance(component, dict):
        return {"id": component, "property": prop}
    concrete = {
        k: keys(component["type"], k) if v in (ALL, ALLSMALLER, MATCH) else v
        for k, v in component.items()
    }
    multi = any(v in (ALL, ALLSMALLER) for v in component.values())
    one = {"id": concrete, "property": prop}
    return [one] if multi else one
