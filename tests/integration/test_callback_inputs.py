"""No request can crash a callback: every input of every callback has a declared kind, and
junk (wrong types, huge numbers, None, lists, ids that match nothing, inputs that are not
the callback's) posted to every callback as every role answers below 500, with no traceback
in the log and nothing changed.

A refused request answers one of two ways (web/server/callback_checks.py, refusals.py). A
value not of its input's kind, or a role refusal, is something a page can send (a number too
big for its field, a role lowered while the page was open): Dash's renderer shows nothing of
a 4xx answer, so these answer 200 with no output changed and the shell's alert opened with
the message (``shown_refusal``). A request of the wrong shape (no such callback, inputs that
are not the callback's, a pattern id of another shape) no page sends: 400 with what was
wrong."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from dash import ALL, ALLSMALLER, MATCH
from dash_requests import filled_body, prop_id, shown_refusal
from factories import WebApp, count
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from data.models import AuditLog
from web.server.input_schema import WILDCARDS, kind_of
from web.views.admin_machines import ADMIN_MACHINE_FEEDBACK, ADMIN_SENSOR_ROWS, ADMIN_SENSORS_ERROR
from web.views.admin_settings import SETTING_RESET, SETTING_SAVE, SETTINGS_FEEDBACK
from web.views.ticket import TICKET_GRAPH
from web.views.tickets import TICKET_ACTION, TICKETS_FEEDBACK

JUNK = ["abc", 10**30, None, [1, "x"], {"a": 1}, -5, 1.5, True, "", 0, "1", 2**31]


def _server_callbacks(web: WebApp) -> dict[str, dict]:
    web.client("viewer").get("/")  # the first page registers Dash's page router too
    return {k: s for k, s in web.app.callback_map.items() if "callback" in s}


def test_every_callback_input_and_wildcard_has_a_kind(web: WebApp):
    missing = set()
    for spec in _server_callbacks(web).values():
        for dep in spec["inputs"] + spec["state"]:
            pattern = json.loads(dep["id"]) if dep["id"].startswith("{") else None
            component = pattern["type"] if pattern else dep["id"]
            if dep["property"] != "id" and kind_of(component, dep["property"]) is None:
                missing.add(f"{component}.{dep['property']}")
            for key, value in (pattern or {}).items():
                if isinstance(value, list) and key not in WILDCARDS.get(component, {}):
                    missing.add(f"{component}[{key}]")
        outputs = spec["output"] if isinstance(spec["output"], list) else [spec["output"]]
        for out in outputs:
            if isinstance(out.component_id, dict):
                kind = out.component_id["type"]
                for key, value in out.component_id.items():
                    if value in (ALL, ALLSMALLER, MATCH) and key not in WILDCARDS.get(kind, {}):
                        missing.add(f"{kind}[{key}]")
    assert not missing, sorted(missing)


@pytest.mark.parametrize(
    ("user", "junks"),
    [
        ("viewer", JUNK),
        ("technician", JUNK),
        # no text that could be a valid name: the sweep must not create parts, machines,
        # SOPs or lab runs
        ("manager", [j for j in JUNK if not isinstance(j, str)]),
        ("engineer", [j for j in JUNK if not isinstance(j, str)]),
        ("admin", [j for j in JUNK if not isinstance(j, str)]),
    ],
)
def test_junk_in_every_input_of_every_callback_never_answers_500(
    web: WebApp, user: str, junks: list, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO)
    callbacks = _server_callbacks(web)
    client = web.client(user)
    statuses: dict[int, int] = {}
    changes = count(web.db, AuditLog)
    for key, spec in callbacks.items():
        for junk in junks:
            for wildcard in (junk, 1):  # junk ids, and junk values in plausible ids
                body = filled_body(key, spec, _always(junk), _always(wildcard), own_ids=False)
                response = client.post("/_dash-update-component", json=body)
                assert response.status_code not in (403, 500), (key, junk, wildcard)
                assert response.status_code < 500, (key, junk, wildcard, response.data[-300:])
                answer = "shown" if shown_refusal(response) else response.status_code
                statuses[answer] = statuses.get(answer, 0) + 1
    # the checks refused junk values on the page in every callback, junk ids with a 400
    assert statuses["shown"] > len(callbacks) and statuses[400] > len(callbacks), statuses
    assert count(web.db, AuditLog) == changes  # and junk changed nothing
    assert not [r for r in caplog.records if r.exc_info], "junk logged a traceback"


def _always(value: object):  # noqa: ANN202
    return lambda *_: value


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(["/", "1", "2026-01-01", "start", "prob", "1:1", "T", ":"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)


@pytest.fixture(scope="module")
def signed_in(web: WebApp) -> dict:
    """One signed-in client per role for the property test (signing in costs argon2)."""
    return {user: web.client(user) for user in ("viewer", "technician")}


class _Tracebacks(logging.Handler):
    """Every log record of the property test that carries a traceback."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.found: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            self.found.append(record.getMessage())


@pytest.fixture(scope="module")
def tracebacks() -> Iterator[_Tracebacks]:
    handler = _Tracebacks()
    logging.getLogger().addHandler(handler)
    yield handler
    logging.getLogger().removeHandler(handler)


@hypothesis_settings(max_examples=500)
@given(data=st.data())
def test_any_json_in_any_callback_never_answers_500(
    web: WebApp, signed_in: dict, tracebacks: _Tracebacks, data: st.DataObject
):
    """Viewer and technician: random text as a manager, engineer or admin could be a valid
    part, SOP, setting or lab run and change the app the other tests share (those roles are
    swept above with every junk value but text). Never a 500, never a 403 (a refusal is
    shown on the page instead), no traceback logged."""
    callbacks = {k: s for k, s in web.app.callback_map.items() if "callback" in s}
    key = data.draw(st.sampled_from(sorted(callbacks)))
    body = filled_body(
        key,
        callbacks[key],
        lambda *_: data.draw(_JSON),
        lambda *_: data.draw(_JSON),
        own_ids=data.draw(st.booleans()),
        many=lambda: data.draw(st.integers(0, 3)),
    )
    client = signed_in[data.draw(st.sampled_from(sorted(signed_in)))]
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code < 500, (key, body, response.data[-300:])
    assert response.status_code != 403, (key, body)
    assert tracebacks.found == [], (key, body, tracebacks.found)


def _ticket_start_request(web: WebApp, changed: list[str]) -> dict:
    key = next(k for k in web.app.callback_map if k.startswith(f"..{TICKETS_FEEDBACK}."))
    body = filled_body(
        key,
        web.app.callback_map[key],
        lambda *_: 1,
        lambda _t, k: {"action": "start", "ticket": 1}[k],
    )
    body["changedPropIds"] = changed
    return body


def test_a_trigger_that_is_not_an_input_is_refused(web: WebApp):
    stray = prop_id({"type": TICKET_ACTION, "ticket": "abc", "action": "start"}, "n_clicks")
    refused = web.client("technician").post(
        "/_dash-update-component", json=_ticket_start_request(web, [stray])
    )
    assert refused.status_code == 400
    assert "is not an input of the callback" in refused.get_json()["error"]


@pytest.mark.parametrize(
    ("value", "answer"),
    [(10**30, "ticket-id.data is not an id"), ("abc", "ticket-id.data is not an id")],
)
def test_a_junk_ticket_id_is_refused_before_it_reaches_the_database(
    web: WebApp, value: object, answer: str, caplog: pytest.LogCaptureFixture
):
    key = next(k for k in web.app.callback_map if k == f"{TICKET_GRAPH}.figure")
    body = filled_body(key, web.app.callback_map[key], lambda *_: value, lambda *_: 1)
    refused = web.client("viewer").post("/_dash-update-component", json=body)
    assert shown_refusal(refused) == f"Not accepted: {answer}."
    assert [r.getMessage() for r in caplog.records if "bad callback request" in r.getMessage()]


@pytest.mark.parametrize(
    "path",
    [
        "/_dash-component-suites/dash/..%2F..%2Fsetup.py",
        "/_dash-component-suites/dash/..%2Fdash.py",
        "/_dash-component-suites/os/path.js",
        "/_dash-component-suites/no_such_package/x.js",
    ],
)
def test_unknown_asset_paths_answer_404(web: WebApp, path: str):
    assert web.client("viewer").get(path).status_code == 404


def _key_of(web: WebApp, *parts: str) -> str:
    return next(k for k in web.app.callback_map if all(p in k for p in parts))


def test_a_remove_click_for_a_row_the_page_does_not_show_changes_nothing(web: WebApp):
    key = _key_of(web, f"{ADMIN_SENSOR_ROWS}.children@")
    rows = iter([5, 0])  # the remove button names row 5, the listed rows are row 0

    def row(_t: str, _k: str) -> int:
        return next(rows)

    body = filled_body(key, web.app.callback_map[key], lambda *_: 1, row)
    body["changedPropIds"] = body["changedPropIds"][1:]  # only the remove button
    answer = web.client("admin").post("/_dash-update-component", json=body)
    assert answer.status_code == 204


def test_a_setting_saved_that_the_page_does_not_show_is_refused(web: WebApp):
    key = _key_of(web, f"{SETTINGS_FEEDBACK}.children")
    clicked = (SETTING_SAVE, SETTING_RESET)

    def name(pattern: str, _key: str) -> str:  # the page shows another setting
        return "failure_threshold" if pattern in clicked else "anomaly_threshold"

    def value(_component: str, prop: str) -> object:
        return "0.9" if prop == "value" else 1

    body = filled_body(key, web.app.callback_map[key], value, name)
    answer = web.client("admin").post("/_dash-update-component", json=body)
    assert shown_refusal(answer) == "Not accepted: the setting is not on the page."


def test_sensor_fields_that_do_not_match_the_rows_are_refused(web: WebApp):
    key = _key_of(web, f"{ADMIN_MACHINE_FEEDBACK}.children@", ADMIN_SENSORS_ERROR)
    counts = iter([1, 2])  # one sensor id, then two rows of every field

    body = filled_body(
        key,
        web.app.callback_map[key],
        lambda _c, prop: 1 if prop == "n_clicks" else None,
        lambda *_: 0,
        many=lambda: next(counts, 2),
    )
    answer = web.client("admin").post("/_dash-update-component", json=body)
    assert shown_refusal(answer) == "Not accepted: the sensor rows do not match."
