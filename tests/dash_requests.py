"""Requests shaped like the ones Dash's renderer sends to ``/_dash-update-component``: the
access and junk sweeps post them to every callback of the app."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from web.views.shell import REFUSAL

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


def filled_body(
    key: str,
    spec: dict,
    values: Values,
    keys: Keys,
    *,
    own_ids: bool = True,
    many: Callable[[], int] = lambda: 1,
) -> dict:
    """Every input and state given a value, ``many()`` components for each ALL pattern (each
    with its wildcards from ``keys``), every input named as changed: the callback runs past
    its guards. ``own_ids``: an ``id`` property holds the component's id, as in a browser."""

    def dep(raw_id: str, prop: str, with_value: bool) -> dict | list:
        if not raw_id.startswith("{"):
            value = raw_id if own_ids and prop == "id" else values(raw_id, prop)
            return {"id": raw_id, "property": prop} | ({"value": value} if with_value else {})
        pattern = json.loads(raw_id)
        multi = any(json.dumps(v) in _MULTI for v in pattern.values())
        found = [
            _component(pattern, prop, values, keys, own_ids) for _ in range(many() if multi else 1)
        ]
        found = found if with_value else [{"id": f["id"], "property": prop} for f in found]
        return found if multi else found[0]

    inputs = [dep(d["id"], d["property"], True) for d in spec["inputs"]]
    state = [dep(d["id"], d["property"], True) for d in spec["state"]]
    outputs = [dep(raw_id, prop, False) for raw_id, prop in _outputs_of(key, spec)]
    changed = [_prop_id(one) for d in inputs for one in (d if isinstance(d, list) else [d])]
    body = {
        "output": key,
        "outputs": outputs if key.startswith("..") or spec.get("no_output") else outputs[0],
        "inputs": inputs,
        "changedPropIds": changed,
    }
    return body | ({"state": state} if state else {})  # the renderer leaves out no state


def _outputs_of(key: str, spec: dict) -> list[tuple[str, str]]:
    """(id, property) of each output, read from the callback's key as the renderer reads it:
    a property keeps its ``@hash`` when the output allows duplicates. A callback without
    outputs (it sets what it changes with ``set_props``) is keyed by a hash: none."""
    if spec.get("no_output"):
        return []
    parts = key[2:-2].split("...") if key.startswith("..") else [key]
    return [(p[: p.rindex(".")], p[p.rindex(".") + 1 :]) for p in parts]


def prop_id(component: str | dict, prop: str) -> str:
    """How Dash names a changed property: the id (JSON, sorted, for a pattern) and the prop."""
    if isinstance(component, dict):
        return json.dumps(component, sort_keys=True, separators=(",", ":")) + "." + prop
    return f"{component}.{prop}"


def _prop_id(dep: dict) -> str:
    return prop_id(dep["id"], dep["property"])


def _declared_outputs(spec: dict) -> list:
    return spec["output"] if isinstance(spec["output"], list) else [spec["output"]]


def _component(pattern: dict, prop: str, values: Values, keys: Keys, own_ids: bool) -> dict:
    """One component a pattern matches: its wildcards filled in, and its value."""
    concrete = {
        k: keys(pattern["type"], k) if isinstance(v, list) else v for k, v in pattern.items()
    }
    value = concrete if own_ids and prop == "id" else values(pattern["type"], prop)
    return {"id": concrete, "property": prop, "value": value}


def shown_refusal(response: Any) -> str | None:
    """The message of a refused callback request answered for the page
    (web/server/refusals.py): 200, no output changed, only the shell's alert opened with the
    message. None for any other answer."""
    if response.status_code != 200 or not response.is_json:
        return None
    body = response.get_json()
    if not isinstance(body, dict) or body.get("response") != {}:
        return None
    side = body.get("sideUpdate") or {}
    alert = side.get(REFUSAL) if set(side) == {REFUSAL} else None
    return alert["children"] if alert and alert.get("is_open") is True else None
