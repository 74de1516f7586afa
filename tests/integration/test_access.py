"""Deny by default: every route and every Dash callback refuses anonymous users, and write
callbacks refuse roles that may not write."""

from __future__ import annotations

import csv
import io
import json
import logging
from datetime import UTC, datetime

import pytest
from dash_requests import empty_body, filled_body, shown_refusal
from factories import WebApp, add_user, clear_tickets, count, sign_in
from prometheus_client import REGISTRY
from sqlalchemy import select

from data.models import Alarm, AuditLog, Priority, Role, Ticket, TicketStatus, User
from maintenance.ticketing.ticket_flow import open_ticket
from web.server.auth import PUBLIC_CALLBACKS, PUBLIC_ENDPOINTS
from web.server.input_kinds import Kind
from web.server.input_schema import kind_of
from web.views.admin_machines import (
    ADMIN_MACHINE_FEEDBACK,
    ADMIN_MACHINE_LINE,
    ADMIN_MACHINE_LOCATION,
    ADMIN_MACHINE_NAME,
    ADMIN_MACHINE_SAVE,
    ADMIN_MACHINE_TYPE,
    ADMIN_MACHINES_REFRESH,
    ADMIN_SENSOR_FIELD,
    ADMIN_SENSORS_ERROR,
)
from web.views.admin_settings import SETTINGS_TABLE
from web.views.resolve_dialog import (
    RESOLVE_ACTION,
    RESOLVE_CAUSE,
    RESOLVE_DOWN_END,
    RESOLVE_DOWN_START,
    RESOLVE_OUTCOME,
    RESOLVE_SUBMIT,
    RESOLVE_TICKET,
)
from web.views.shell import RED_BANNER, RED_TICK, SHELL_CALLBACK, SIGN_OUT, URL, alarm_ack
from web.views.tickets import TICKETS_FEEDBACK, TICKETS_REFRESH, ticket_action

PUBLIC_PATHS = {"/login", "/healthz", "/readyz", "/vendor/bootstrap5/css/bootstrap.min.css"}


def _concrete(rule: str) -> str:
    path = rule.replace("<path:filename>", "x.js").replace("<path:path>", "tickets")
    path = path.replace("<string:package_name>", "dash").replace(
        "<path:fingerprinted_path>", "dash.v1.js"
    )
    return path


def test_every_flask_route_refuses_anonymous(web: WebApp):
    web.client("viewer").get("/")  # first request registers Dash's page router too
    client = web.client()
    checked = 0
    for rule in web.app.server.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        path = _concrete(rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(path, method=method)
            assert response.status_code in (302, 401, 403), (method, path)
            if response.status_code == 302:
                assert response.headers["Location"].startswith("/login?next="), path
            checked += 1
    assert checked >= 12


def test_every_dash_callback_refuses_anonymous(web: WebApp):
    web.client("viewer").get("/")
    client = web.client()
    assert len(web.app.callback_map) >= 7
    # the one exemption, the shell's session state (test_sessions.py), is a real callback
    assert len(PUBLIC_CALLBACKS) == 1 and web.app.callback_map.keys() >= PUBLIC_CALLBACKS
    for key, spec in web.app.callback_map.items():
        if key in PUBLIC_CALLBACKS:
            continue
        response = client.post("/_dash-update-component", json=empty_body(key, spec))
        assert response.status_code == 401, key
        assert response.get_json() == {"error": "login required"}
    for internal in ("/_dash-layout", "/_dash-dependencies"):
        assert client.get(internal).status_code == 401


def _plausible(component: str, prop: str) -> object:
    """What a page holds before anyone types: buttons clicked once, the app at its root,
    fields empty (a list where a field is always one)."""
    given = {"n_clicks": 1, "n_intervals": 1, "pathname": "/", "search": ""}.get(prop)
    kind = kind_of(component, prop)
    return [] if given is None and isinstance(kind, Kind) and not kind.accepts(None) else given


def _no_such(_pattern: str, key: str) -> object:
    """Wildcards naming nothing that exists: the sweep changes nothing in the shared app."""
    return {"action": "start", "job": "ab", "key": "nothing", "row": 0, "step": 0}.get(key, 999_999)


@pytest.mark.parametrize("user", ["viewer", "technician", "manager"])
def test_every_callback_shows_a_role_refusal_on_the_page_never_500(
    web: WebApp, user: str, caplog: pytest.LogCaptureFixture
):
    """A role refusal raised in a callback used to answer 403, which Dash's renderer drops
    without showing anything (it renders only 2xx answers). It now answers 200 with no
    output changed and the shell's alert saying "Your role may not do this." (Dash's side
    update, web/server/refusals.py): what the page can show. So a refusal is this answer,
    never a 403 and never a 500; it is still one log line and counted in /metrics, and
    changes nothing (the audit log is the same length)."""
    caplog.set_level(logging.INFO)
    web.client(user).get("/")  # the first page registers Dash's page router too
    client = web.client(user)
    refused = []
    changes = count(web.db, AuditLog)
    counted = _refusals_counted("forbidden")
    for key, spec in web.app.callback_map.items():
        if "callback" not in spec:
            continue  # runs in the browser
        body = filled_body(key, spec, _plausible, _no_such)
        response = client.post("/_dash-update-component", json=body)
        assert response.status_code < 500, (user, key, response.get_data(as_text=True)[-400:])
        assert response.status_code != 403, key  # a 403 would show nothing on the page
        if shown_refusal(response) is not None:
            assert shown_refusal(response) == "Your role may not do this.", key
            refused.append(key)
    if user == "viewer":  # e.g. the settings table, the users grid, the model lab
        assert f"{SETTINGS_TABLE}.children" in refused
        assert len(refused) >= 20, refused
    assert not [r for r in caplog.records if r.exc_info], "a refusal logged a traceback"
    lines = [r for r in caplog.records if r.getMessage().startswith("refused POST")]
    assert len(lines) == len(refused)  # one line each
    assert _refusals_counted("forbidden") == counted + len(refused)
    assert count(web.db, AuditLog) == changes


def _refusals_counted(kind: str) -> float:
    return REGISTRY.get_sample_value("pdm_web_refusals_total", {"kind": kind}) or 0.0


def test_public_paths_answer_without_login(web: WebApp):
    client = web.client()
    for path in PUBLIC_PATHS:
        assert client.get(path).status_code in (200, 503), path
    assert client.get("/healthz").get_json() == {"status": "ok"}


def _ticket(web: WebApp) -> int:
    with web.db.session() as s:
        clear_tickets(s)
        return open_ticket(
            session=s, machine_id=1, code="TEMP_HIGH", title="hot", priority=Priority.HIGH
        ).id


def _status(web: WebApp, ticket_id: int) -> TicketStatus:
    with web.db.session() as s:
        return s.scalar(select(Ticket.status).where(Ticket.id == ticket_id))


def _start_request(web: WebApp, ticket_id: int) -> dict:
    head = f"..{TICKETS_FEEDBACK}.children...{TICKETS_REFRESH}"
    key = next(k for k in web.app.callback_map if k.startswith(head))
    button = ticket_action(ticket_id, "start")
    prop_id = json.dumps(button, sort_keys=True, separators=(",", ":")) + ".n_clicks"
    body = empty_body(key, web.app.callback_map[key])
    body["inputs"] = [[{"id": button, "property": "n_clicks", "value": 1}]]
    body["state"] = [{"id": TICKETS_REFRESH, "property": "data", "value": 0}]
    body["changedPropIds"] = [prop_id]
    return body


@pytest.mark.parametrize(("user", "allowed"), [("viewer", False), ("technician", True)])
def test_write_callback_checks_the_role_on_the_server(web: WebApp, user: str, allowed: bool):
    ticket_id = _ticket(web)
    response = web.client(user).post("/_dash-update-component", json=_start_request(web, ticket_id))
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    if allowed:
        assert "is now IN PROGRESS" in text
        assert _status(web, ticket_id) is TicketStatus.IN_PROGRESS
    else:
        assert "Your role may not do this." in text
        assert _status(web, ticket_id) is TicketStatus.OPEN


def test_viewer_cannot_resolve_through_the_dialog_callback(web: WebApp):
    ticket_id = _ticket(web)
    key = next(
        k for k, spec in web.app.callback_map.items() if spec["inputs"][0]["id"] == RESOLVE_SUBMIT
    )
    body = empty_body(key, web.app.callback_map[key])
    body["inputs"] = [{"id": RESOLVE_SUBMIT, "property": "n_clicks", "value": 1}]
    answers = {
        RESOLVE_TICKET: ticket_id,
        RESOLVE_OUTCOME: "failure",
        RESOLVE_CAUSE: "worn bearing",
        RESOLVE_ACTION: "fixed it",
        RESOLVE_DOWN_START: "2026-01-01T10:00",
        RESOLVE_DOWN_END: "2026-01-01T11:00",
        TICKETS_REFRESH: 0,
    }
    for dep in body["state"]:  # the parts rows are pattern-matched: none here
        if isinstance(dep, dict):
            dep["value"] = answers[dep["id"]]
    response = web.client("viewer").post("/_dash-update-component", json=body)
    assert "Your role may not do this." in response.get_data(as_text=True)
    assert _status(web, ticket_id) is TicketStatus.OPEN


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "javascript:1"])
def test_login_never_redirects_off_site(web: WebApp, target: str):
    client = web.client()
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    response = client.post(
        f"/login?next={target}",
        data={"csrf": token, "username": "viewer", "password": web.password("viewer")},
    )
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_login_refuses_wrong_password_and_missing_csrf(web: WebApp):
    client = web.client()
    assert client.post("/login", data={"username": "admin", "password": "x"}).status_code == 400
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    wrong = client.post("/login", data={"csrf": token, "username": "admin", "password": "nope"})
    assert wrong.status_code == 401 and "wrong password" in wrong.get_data(as_text=True)


def test_metrics_need_a_token_or_a_manager(web: WebApp):
    assert web.client().get("/healthz").status_code == 200  # measured below
    assert web.client().get("/metrics").status_code == 403
    assert web.client("viewer").get("/metrics").status_code == 403

    def scrape() -> str:
        scraped = web.client().get("/metrics", headers={"Authorization": "Bearer scrape-token"})
        assert scraped.status_code == 200
        return scraped.get_data(as_text=True)

    text = scrape()  # a web process: its requests and the domain's counters
    for name in ("pdm_alarms_opened_total", "pdm_tickets_opened_total"):
        assert name in text, name
    assert 'pdm_http_request_seconds_count{method="GET",route="/healthz",status="2xx"}' in text
    import worker  # noqa: F401 - the default "all" role runs the worker in the same process

    text = scrape()  # ... whose ingest and job metrics are then scraped from the same port
    for name in (
        "pdm_readings_ingested_total",
        "pdm_readings_duplicate_total",
        "pdm_dead_letters_total",
        "pdm_ingest_queue_depth",
        "pdm_job_duration_seconds",
    ):
        assert name in text, name
    assert web.client("manager").get("/metrics").status_code == 200


def test_red_banner_names_a_predicted_failure_until_acknowledged(web: WebApp):

    from data.models import AlarmSource, Severity
    from maintenance.alarming.raise_clear import AlarmNumbers, raise_alarm

    with web.db.session() as s:
        alarm, _ = raise_alarm(
            session=s,
            machine_id=2,
            code="PRED_FAILURE",
            severity=Severity.CRITICAL,
            source=AlarmSource.PREDICTION,
            message="pump-01: failure predicted",
            value=0.93,
            now=datetime.now(UTC),
            numbers=AlarmNumbers(0.93, 0.8, None, 0.93, 0.07),
        )
    body = empty_body(SHELL_CALLBACK, web.app.callback_map[SHELL_CALLBACK])
    body["inputs"] = [
        {"id": RED_TICK, "property": "n_intervals", "value": 1},
        {"id": URL, "property": "pathname", "value": "/"},
    ]
    viewer = web.client("viewer")
    text = viewer.post("/_dash-update-component", json=body).get_data(as_text=True)
    assert "pump-01 is predicted to fail" in text and "Failure probability 93%" in text
    assert "remaining life \\u2248 4 min" in text  # JSON escapes the ≈
    assert "Acknowledge" not in text  # a viewer may look, not acknowledge

    ack_key = next(k for k in web.app.callback_map if k.startswith(f"{RED_BANNER}.children@"))
    ack = empty_body(ack_key, web.app.callback_map[ack_key])
    button = alarm_ack(alarm.id)
    ack["inputs"] = [[{"id": button, "property": "n_clicks", "value": 1}]]
    ack["state"] = [{"id": RED_BANNER, "property": "children", "value": []}]
    ack["changedPropIds"] = [
        json.dumps(button, sort_keys=True, separators=(",", ":")) + ".n_clicks"
    ]
    refused = viewer.post("/_dash-update-component", json=ack).get_data(as_text=True)
    assert "Your role may not do this." in refused
    manager = web.client("manager")
    assert "Acknowledge" in manager.post("/_dash-update-component", json=body).get_data(
        as_text=True
    )
    manager.post("/_dash-update-component", json=ack)
    after = manager.post("/_dash-update-component", json=body).get_json()
    assert after["response"][RED_BANNER]["children"] == []
    with web.db.session() as s:  # leave the shared app's fleet healthy for later tests
        s.get(Alarm, alarm.id).cleared_at = datetime.now(UTC)


def _from(address: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": address}}


def test_guessing_from_one_address_never_locks_the_owner_out(web: WebApp):
    add_user(web.db, "guessed", Role.VIEWER, password="right-password-1")
    attacker = web.app.server.test_client()
    limit = web.settings.login_failures_per_account
    tries = [sign_in(attacker, "guessed", f"wrong-{i}", **_from("10.6.6.6")) for i in range(limit)]
    assert [t.status_code for t in tries] == [401] * limit
    refused = sign_in(attacker, "guessed", "right-password-1", **_from("10.6.6.6"))
    assert refused.status_code == 429  # the attacker's address waits, even with the password
    assert refused.headers["Retry-After"] == str(web.settings.login_window_minutes * 60)
    assert "Too many failed sign-ins" in refused.get_data(as_text=True)
    owner = web.app.server.test_client()  # the owner, elsewhere, signs in at once
    assert sign_in(owner, "guessed", "right-password-1", **_from("10.1.1.7")).status_code == 302
    assert owner.get("/api/me", **_from("10.1.1.7")).get_json()["username"] == "guessed"
    # the attacker's address may still sign in to another account it knows
    assert sign_in(attacker, "viewer", "viewer-pw-1", **_from("10.6.6.6")).status_code == 302
    with web.db.session() as s:
        lockouts = s.scalars(select(AuditLog).where(AuditLog.action == "auth.lockout")).all()
        mine = [a.after for a in lockouts if a.entity_id == "guessed"]
    assert mine == [{"address": "10.6.6.6", "by": "account", "minutes": 15}]  # audited once


def test_an_address_guessing_many_accounts_is_stopped(web: WebApp):
    client = web.app.server.test_client()
    per_address = web.settings.login_failures_per_address
    answers = [
        sign_in(client, f"nobody-{i}", "x", **_from("10.7.7.7")).status_code
        for i in range(per_address + 1)
    ]
    assert answers == [401] * per_address + [429]
    elsewhere = web.app.server.test_client()
    assert sign_in(elsewhere, "viewer", "viewer-pw-1", **_from("10.7.7.8")).status_code == 302


def _leaver(web: WebApp, name: str):  # noqa: ANN202 - a signed-in Flask test client
    """A user of their own, so signing out touches nobody else's sessions."""
    add_user(web.db, name, Role.VIEWER, password="leaver-pw-1")
    client = web.app.server.test_client()
    assert sign_in(client, name, "leaver-pw-1").status_code == 302
    return client


def test_sign_out_ends_the_session_on_the_server(web: WebApp):
    client = _leaver(web, "leaver")
    replay = web.app.server.test_client()  # a copy of the cookie, taken before signing out
    replay.set_cookie("session", client.get_cookie("session").value)
    assert replay.get("/api/me").get_json()["username"] == "leaver"
    out = client.post("/logout", headers={"Origin": "http://localhost"})
    assert out.status_code == 302 and out.headers["Location"] == "/login"
    assert replay.get("/api/me").status_code == 401
    assert client.get("/api/me").status_code == 401
    assert sign_in(client, "leaver", "leaver-pw-1").status_code == 302  # signs in again
    assert client.get("/api/me").status_code == 200


def test_sign_out_is_a_post_from_this_site(web: WebApp):
    client = _leaver(web, "stayer")
    assert client.get("/logout").status_code == 405  # a link or an image cannot sign out
    refused = client.post("/logout", headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403
    assert client.get("/api/me").get_json()["username"] == "stayer"


def test_the_menu_signs_out_with_a_form_post(web: WebApp):
    layout = json.dumps(web.client("viewer").get("/_dash-layout").get_json())
    form = layout.split('"type": "Form"', 1)[0].rsplit('{"props": ', 1)[1]
    assert '"method": "POST"' in form and '"action": "/logout"' in form
    assert f'"id": "{SIGN_OUT}"' in form and '"type": "submit"' in form


def test_audit_csv_lists_changes_for_managers_only(web: WebApp):

    from maintenance.machine_status.maintenance_windows import silence_machine

    with web.db.session() as s:
        manager = s.scalar(select(User.id).where(User.username == "manager"))
        window = silence_machine(
            session=s, machine_id=1, hours=1, reason="audit trail test", user_id=manager
        )
        s.delete(window)  # the window goes, its audit entry stays
    today = datetime.now(UTC).date().isoformat()
    url = f"/audit/export.csv?start={today}&end={today}"
    got = web.client("manager").get(url)
    assert got.status_code == 200 and got.mimetype == "text/csv"
    assert got.headers["Content-Type"] == "text/csv; charset=utf-8"  # one charset, not two
    rows = list(csv.DictReader(io.StringIO(got.get_data(as_text=True))))
    mine = [r for r in rows if r["action"] == "alarm.silence" and "audit trail test" in r["after"]]
    assert mine and mine[-1]["user"] == "manager"
    assert web.client("viewer").get(url).status_code == 403
    assert web.client("manager").get("/audit/export.csv?start=x&end=y").status_code == 400


def test_every_response_names_its_request(web: WebApp):
    client = web.client()
    given = client.get("/healthz", headers={"X-Request-ID": "probe-7"})
    assert given.headers["X-Request-ID"] == "probe-7"
    made = client.get("/healthz", headers={"X-Request-ID": "<script>"})  # not echoed
    assert made.headers["X-Request-ID"] != "<script>" and len(made.headers["X-Request-ID"]) == 32


def test_state_changing_requests_from_another_site_are_refused(web: WebApp):
    client = web.client("manager")
    body = empty_body(SHELL_CALLBACK, web.app.callback_map[SHELL_CALLBACK])
    body["inputs"] = [
        {"id": RED_TICK, "property": "n_intervals", "value": 1},
        {"id": URL, "property": "pathname", "value": "/"},
    ]
    evil = client.post(
        "/_dash-update-component", json=body, headers={"Origin": "https://evil.example"}
    )
    assert evil.status_code == 403
    own = client.post("/_dash-update-component", json=body, headers={"Origin": "http://localhost"})
    assert own.status_code == 200
    page = client.get("/login").get_data(as_text=True)  # the sign-in form is protected too
    token = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    form = {"csrf": token, "username": "viewer", "password": "viewer-pw-1"}
    assert (
        client.post("/login", data=form, headers={"Referer": "http://evil.example/x"}).status_code
        == 403
    )


# machine administration: the save callback refuses a manager on the server
_NEW_SENSORS = [
    {"key": "temperature", "kind": "temperature", "unit": "°C", "warn_high": 70},
    {"key": "vibration", "kind": "vibration", "unit": "mm/s", "warn_high": 4.5},
]


def _create_machine_request(web: WebApp, name: str) -> dict:
    key = next(
        k for k in web.app.callback_map if ADMIN_MACHINE_FEEDBACK in k and ADMIN_SENSORS_ERROR in k
    )
    spec = web.app.callback_map[key]
    body = empty_body(key, spec)
    rows = range(len(_NEW_SENSORS))
    body["outputs"] = [
        [{"id": {**o.component_id, "row": r}, "property": o.component_property} for r in rows]
        if isinstance(o.component_id, dict)
        else {"id": o.component_id, "property": o.component_property}
        for o in spec["output"]
    ]
    fields = {
        ADMIN_MACHINE_NAME: name,
        ADMIN_MACHINE_TYPE: "press",
        ADMIN_MACHINE_LOCATION: "Hall 2",
        ADMIN_MACHINE_LINE: "Line 3",
        ADMIN_MACHINES_REFRESH: 0,
    }
    state = []
    for dep in spec["state"]:
        if not dep["id"].startswith("{"):
            state.append(
                {"id": dep["id"], "property": dep["property"], "value": fields.get(dep["id"])}
            )
            continue
        pattern = json.loads(dep["id"])
        state.append(
            [
                {
                    "id": {**pattern, "row": r},
                    "property": dep["property"],
                    "value": _NEW_SENSORS[r].get(pattern.get("field", ""))
                    if pattern["type"] == ADMIN_SENSOR_FIELD
                    else None,
                }
                for r in rows
            ]
        )
    body["inputs"] = [{"id": ADMIN_MACHINE_SAVE, "property": "n_clicks", "value": 1}]
    body["state"] = state
    body["changedPropIds"] = [f"{ADMIN_MACHINE_SAVE}.n_clicks"]
    return body


@pytest.mark.parametrize(("user", "allowed"), [("manager", False), ("admin", True)])
def test_only_an_admin_creates_a_machine_through_the_callback(
    web: WebApp, user: str, allowed: bool
):
    from data.models import Machine
    from maintenance.fleet_admin.machine_admin import retire_machine

    name = f"access-{user}"
    response = web.client(user).post(
        "/_dash-update-component", json=_create_machine_request(web, name)
    )
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    with web.db.session() as s:
        machine = s.scalar(select(Machine).where(Machine.name == name))
        sensors = len(machine.sensors) if machine is not None else 0
        if machine is not None:  # leave the shared fleet as it was
            retire_machine(session=s, machine_id=machine.id, user_id=None)
    if allowed:
        assert f"Created {name} with 2 sensors" in text
        assert sensors == 2
    else:
        assert "Your role may not do this." in text
        assert machine is None
