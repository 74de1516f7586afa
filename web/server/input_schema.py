"""The kind of every input and state of every callback, and of every wildcard of a pattern
id, in one table: ``web/server/callback_checks.py`` refuses a request whose values do not fit
before the callback runs, so callbacks receive the types their signatures say.

A property that means the same everywhere has its kind here once (``n_clicks`` is a
count); ``value``, ``data`` and ``selectedRows`` mean what their component holds and are
listed per component, by page group, in ``operations_input_kinds.py``,
``admin_input_kinds.py`` and ``lab_input_kinds.py``. ``test_callback_inputs.py`` fails for a
callback input that is in neither place."""

from __future__ import annotations

from web.server.admin_input_kinds import ADMIN_KINDS, ADMIN_WILDCARDS
from web.server.input_kinds import (
    CHILDREN,
    COUNT,
    DAY,
    FLAG,
    LIST,
    PATH,
    TEXT,
    UPLOAD,
    ByKey,
    Kind,
)
from web.server.lab_input_kinds import LAB_KINDS, LAB_WILDCARDS
from web.server.operations_input_kinds import OPERATIONS_KINDS, OPERATIONS_WILDCARDS

__all__ = ["PROPERTY_KINDS", "KINDS", "WILDCARDS", "kind_of"]

PROPERTY_KINDS: dict[str, Kind] = {
    "n_clicks": COUNT,
    "n_intervals": COUNT,
    "pathname": PATH.required,  # a browser always has one
    "search": TEXT,
    "hash": TEXT,
    "start_date": DAY,
    "end_date": DAY,
    "is_open": FLAG,
    "filename": TEXT,
    "contents": UPLOAD,
    "children": CHILDREN,
    "options": LIST,
    # "id" holds the component's own id: checked as such, not by kind
}

KINDS: dict[tuple[str, str], Kind | ByKey] = {**OPERATIONS_KINDS, **ADMIN_KINDS, **LAB_KINDS}

WILDCARDS: dict[str, dict[str, Kind]] = {
    **OPERATIONS_WILDCARDS,
    **ADMIN_WILDCARDS,
    **LAB_WILDCARDS,
}


def kind_of(component: str, prop: str) -> Kind | ByKey | None:
    """The kind of ``prop`` of a component (its id, or its pattern's type); None: unknown."""
    return KINDS.get((component, prop)) or PROPERTY_KINDS.get(prop)
