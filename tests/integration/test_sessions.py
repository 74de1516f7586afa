"""Sessions kept on the server, on both databases and over HTTP: signing out, a new
password, deactivation and "sign out everywhere" refuse a copied cookie at once; the idle
and absolute timeouts end sessions; and sign-in throttling slows an account guessed from
many addresses without locking its owner out (asserted on the wait the server reports)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from dash_requests import filled_body, shown_refusal
from factories import WebApp, add_user, sign_in
from sqlalchemy import select, update

from data.db import Database
from data.models import AuditLog, Role, SignInFailure, UserSession, utcnow
from maintenance.people.sign_in_limits import SignInLimits, check_try, record_failure, refusal
from maintenance.people.user_admin import set_active, set_password, sign_out_everywhere
from maintenance.people.user_sessions import (
    SessionLimits,
    end_own_session,
    end_session,
    end_user_sessions,
    open_sessions,
    session_user,
    start_session,
)
from web.views.account import ACCOUNT_END, ACCOUNT_END_OTHERS, ACCOUNT_FEEDBACK, ACCOUNT_SESSIONS
from web.views.admin_users import USERS_FEEDBACK, USERS_GRID, USERS_SIGN_OUT
from web.views.shell import (
    PAGE,
    RED_BANNER,
    RED_TICK,
    SESSION_ENDED,
    SESSION_SIGN_IN,
    SESSION_STATE_CALLBACK,
    SESSION_STATE_OUTPUTS,
    SESSION_TICK,
    SHELL_CALLBACK,
    SHELL_OUTPUTS,
    URL,
)

LIMITS = SessionLimits(idle=timedelta(hours=8), absolute=timedelta(days=7))
ORIGIN = {"Origin": "http://localhost"}


def _start(db: Database, user_id: int, address: str = "10.0.0.1", at=None) -> str:  # noqa: ANN001
    with db.session() as s:
        return start_session(
            session=s, user_id=user_id, address=address, user_agent="pytest", now=at or utcnow()
        )


def _user_of(db: Database, token: str, at=None):  # noqa: ANN001, ANN202
    with db.session() as s:
        found = session_user(session=s, token=token, limits=LIMITS, now=at or utcnow())
        return found[0].username if found else None


def _reasons(db: Database, user_id: int) -> list[str | None]:
    with db.session() as s:
        rows = s.scalars(
            select(UserSession).where(UserSession.user_id == user_id).order_by(UserSession.id)
        )
        return [r.end_reason for r in rows]


def test_a_session_ends_by_sign_out_or_by_its_owner_alone(db: Database):
    alice = add_user(db, "alice", Role.VIEWER)
    bob = add_user(db, "bob", Role.VIEWER)
    phone, desk = _start(db, alice), _start(db, alice, "10.0.0.2")
    assert _user_of(db, phone) == "alice" and _user_of(db, desk) == "alice"
    with db.session() as s:
        assert end_session(session=s, token=phone, now=utcnow())
        assert not end_session(session=s, token=phone, now=utcnow())  # ended already
    assert _user_of(db, phone) is None and _user_of(db, desk) == "alice"
    with db.session() as s:
        listed = open_sessions(session=s, user_id=alice, limits=LIMITS, now=utcnow())
        assert [r.address for r in listed] == ["10.0.0.2"]
        desk_id = listed[0].id
        assert not end_own_session(session=s, user_id=bob, session_id=desk_id, now=utcnow())
    assert _user_of(db, desk) == "alice"  # bob cannot end alice's session
    with db.session() as s:
        assert end_own_session(session=s, user_id=alice, session_id=desk_id, now=utcnow())
    assert _user_of(db, desk) is None
    assert _reasons(db, alice) == ["sign-out", "ended by the user"]
    assert _user_of(db, "not-a-token") is None
    # sessions unused for 30 days go at the next sign-in
    _start(db, alice, at=utcnow() + timedelta(days=30, minutes=1))
    assert _reasons(db, alice) == [None]


def test_idle_and_absolute_timeouts_end_sessions(db: Database):
    carol = add_user(db, "carol", Role.VIEWER)
    start = utcnow()
    idle = _start(db, carol, at=start)
    assert _user_of(db, idle, start + timedelta(hours=7, minutes=59)) == "carol"  # seen: moves on
    assert _user_of(db, idle, start + timedelta(hours=15, minutes=58)) == "carol"
    assert _user_of(db, idle, start + timedelta(hours=24)) is None  # 8 h 2 min without a request
    busy = _start(db, carol, at=start)
    for hour in range(0, 7 * 24, 4):  # a request every 4 hours: never idle...
        assert _user_of(db, busy, start + timedelta(hours=hour)) == "carol"
    assert _user_of(db, busy, start + timedelta(days=7)) is None  # ... but 7 days is the most
    assert _reasons(db, carol) == ["idle", "expired"]


def test_new_password_deactivation_and_sign_out_everywhere_end_every_session(db: Database):
    admin = add_user(db, "root", Role.ADMIN)
    dave = add_user(db, "dave", Role.TECHNICIAN)
    tokens = [_start(db, dave, f"10.0.1.{i}") for i in range(3)]
    with db.session() as s:
        set_password(session=s, actor_id=admin, user_id=dave, password="another-pw-22", via="admin")
    assert [_user_of(db, t) for t in tokens] == [None] * 3
    tokens = [_start(db, dave, f"10.0.2.{i}") for i in range(2)]
    with db.session() as s:
        assert sign_out_everywhere(session=s, actor_id=admin, user_id=dave) == 2
    assert [_user_of(db, t) for t in tokens] == [None] * 2
    token = _start(db, dave)
    with db.session() as s:
        set_active(session=s, actor_id=admin, user_id=dave, active=False)
    assert _user_of(db, token) is None
    assert _reasons(db, dave) == ["new password"] * 3 + ["signed out everywhere"] * 2 + [
        "deactivated"
    ]
    with db.session() as s:
        audit = s.scalars(
            select(AuditLog.after).where(AuditLog.action == "user.sign_out_everywhere")
        ).all()
        assert audit == [{"sessions": 2}]
        keep = _start(db, admin)
        _start(db, admin, "10.0.3.3")
    with db.session() as s:
        kept = s.scalar(
            select(UserSession.id).where(
                UserSession.address == "10.0.0.1", UserSession.user_id == admin
            )
        )
        assert end_user_sessions(session=s, user_id=admin, now=utcnow(), reason="x", keep=kept) == 1
    assert _user_of(db, keep) == "root"


# --- over HTTP ------------------------------------------------------------------------


def _from(address: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": address}}


def _signed_in(web: WebApp, name: str, password: str = "session-pw-1", address: str = "127.0.0.1"):  # noqa: ANN202
    client = web.app.server.test_client()
    client.environ_base["REMOTE_ADDR"] = address  # every request from there
    assert sign_in(client, name, password).status_code == 302
    return client


def _copy(web: WebApp, client):  # noqa: ANN001, ANN202 - a second client with the same cookie
    replay = web.app.server.test_client()
    replay.environ_base["REMOTE_ADDR"] = client.environ_base["REMOTE_ADDR"]
    replay.set_cookie("session", client.get_cookie("session").value)
    return replay


def test_signing_out_one_browser_leaves_the_others_and_refuses_its_copied_cookie(web: WebApp):
    add_user(web.db, "two-browsers", Role.VIEWER, password="session-pw-1")
    laptop, phone = _signed_in(web, "two-browsers"), _signed_in(web, "two-browsers")
    stolen = _copy(web, laptop)
    assert stolen.get("/api/me").status_code == 200
    assert laptop.post("/logout", headers=ORIGIN).status_code == 302
    assert stolen.get("/api/me").status_code == 401
    assert laptop.get("/api/me").status_code == 401
    assert phone.get("/api/me").get_json()["username"] == "two-browsers"


def test_a_copied_cookie_is_refused_after_a_new_password_or_sign_out_everywhere(web: WebApp):
    user = add_user(web.db, "copied", Role.TECHNICIAN, password="session-pw-1")
    admin = add_user(web.db, "copier-admin", Role.ADMIN)
    stolen = _copy(web, _signed_in(web, "copied"))
    with web.db.session() as s:
        set_password(session=s, actor_id=admin, user_id=user, password="session-pw-2", via="admin")
    assert stolen.get("/api/me").status_code == 401
    stolen = _copy(web, _signed_in(web, "copied", "session-pw-2"))
    assert stolen.get("/api/me").status_code == 200
    with web.db.session() as s:
        sign_out_everywhere(session=s, actor_id=admin, user_id=user)
    assert stolen.get("/api/me").status_code == 401
    stolen = _copy(web, _signed_in(web, "copied", "session-pw-2"))
    with web.db.session() as s:
        set_active(session=s, actor_id=admin, user_id=user, active=False)
    assert stolen.get("/api/me").status_code == 401


def test_an_idle_session_is_refused_over_http(web: WebApp):
    user = add_user(web.db, "idler", Role.VIEWER, password="session-pw-1")
    client = _signed_in(web, "idler")
    assert client.get("/api/me").status_code == 200
    idle = timedelta(minutes=web.settings.session_idle_minutes)
    with web.db.session() as s:
        s.execute(
            update(UserSession)
            .where(UserSession.user_id == user)
            .values(last_seen_at=utcnow() - idle)
        )
    assert client.get("/api/me").status_code == 401
    assert _reasons(web.db, user) == ["idle"]


def _wait_out(web: WebApp, account: str, seconds: int) -> None:
    """Let ``seconds`` pass for the throttle: its failures move that far into the past."""
    with web.db.session() as s:
        for row in s.scalars(select(SignInFailure).where(SignInFailure.account == account)):
            row.at -= timedelta(seconds=seconds)


def test_twenty_failures_from_ten_addresses_slow_the_account_but_never_stop_its_owner(
    web: WebApp,
):
    add_user(web.db, "popular", Role.VIEWER, password="right-password-2")
    free, most = web.settings.login_delay_after, web.settings.login_delay_max_seconds
    waits = []  # the waits the server asked for, in order
    failures = 0
    while failures < 20:
        client = web.app.server.test_client()
        guess = sign_in(client, "popular", "x", **_from(f"10.9.0.{failures % 10}"))
        if guess.status_code == 429:  # the attacker obeys the wait and tries again
            waits.append(int(guess.headers["Retry-After"]))
            assert f"Try again in {waits[-1]} seconds" in guess.get_data(as_text=True)
            _wait_out(web, "popular", waits[-1])
            continue
        assert guess.status_code == 401
        failures += 1
    # free tries, then 1 s, 2 s, 4 s … capped: 20 guesses took at least this long
    assert waits == [min(2**n, most) for n in range(20 - free)]
    assert sum(waits) >= 30 * (20 - free - 5)
    owner = web.app.server.test_client()  # an eleventh address, right after the last guess
    first = sign_in(owner, "popular", "right-password-2", **_from("10.9.1.1"))
    assert first.status_code == 429
    wait = int(first.headers["Retry-After"])
    assert 0 < wait <= most  # the owner's wait is bounded by the setting...
    _wait_out(web, "popular", wait)
    assert sign_in(owner, "popular", "right-password-2", **_from("10.9.1.1")).status_code == 302
    # ... and from an address the owner has signed in from, there is no wait at all
    assert (
        sign_in(web.app.server.test_client(), "popular", "y", **_from("10.9.0.3")).status_code
        == 401
    )
    home = web.app.server.test_client()
    assert sign_in(home, "popular", "right-password-2", **_from("10.9.1.1")).status_code == 302
    with web.db.session() as s:
        slowed = s.scalars(
            select(AuditLog.after).where(
                AuditLog.action == "auth.slowdown", AuditLog.entity_id == "popular"
            )
        ).all()
    assert slowed == [{"addresses": 10, "failures": free, "minutes": 15}]  # audited once


def test_the_slowdown_is_the_same_on_postgresql(db: Database):
    add_user(db, "target", Role.VIEWER)
    limits = SignInLimits(
        per_account_address=5,
        per_address=20,
        window=timedelta(minutes=15),
        delay_after=10,
        delay_max=timedelta(seconds=30),
    )
    now = utcnow()
    with db.session() as s:
        for i in range(10):
            assert (
                refusal(session=s, account="target", address=f"10.1.{i}.1", limits=limits, now=now)
                is None
            )
            record_failure(
                session=s, account="target", address=f"10.1.{i}.1", limits=limits, now=now
            )
        slowed = refusal(session=s, account="target", address="10.2.0.1", limits=limits, now=now)
        assert slowed is not None and (slowed.by, slowed.retry_after) == ("slowed", 1)
        later = now + timedelta(seconds=1)
        assert (
            refusal(session=s, account="target", address="10.2.0.1", limits=limits, now=later)
            is None
        )
        for i in range(6):
            record_failure(
                session=s, account="target", address=f"10.3.{i}.1", limits=limits, now=later
            )
        slowed = refusal(session=s, account="target", address="10.2.0.1", limits=limits, now=later)
        assert (slowed.by, slowed.retry_after) == ("slowed", 30)  # 2**6 s, capped at 30


def test_forgot_is_counted_in_the_database(web: WebApp):
    def ask(address: str, login: str) -> int:
        client = web.app.server.test_client()
        page = client.get("/forgot", **_from(address)).get_data(as_text=True)
        token = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        form = {"csrf": token, "login": login}
        return client.post("/forgot", data=form, **_from(address)).status_code

    # a name no other test asks for: the web app and its database are shared by the session
    name = "nobody-counted-here"
    per_name = web.settings.login_failures_per_account
    answers = [ask("10.44.0.1", name) for _ in range(per_name + 1)]
    assert answers == [200] * per_name + [429]
    assert ask("10.44.0.2", name) == 200  # another address is not refused
    with web.db.session() as s:
        kinds = s.scalars(select(SignInFailure.kind).where(SignInFailure.account == name)).all()
    assert kinds == ["forgot"] * (per_name + 1)


# --- the account page and the users page ------------------------------------------------


def _call(web: WebApp, client, output: str, values: dict, session_id: int = 0):  # noqa: ANN001, ANN202
    """Post the callback whose outputs include ``output`` as the renderer would."""
    key = next(
        k
        for k, spec in web.app.callback_map.items()
        if output in k and (not values or str(next(iter(values))[0]) in spec["inputs"][0]["id"])
    )
    spec = web.app.callback_map[key]
    body = filled_body(key, spec, lambda c, p: values.get((c, p)), lambda _t, _k: session_id)
    return client.post("/_dash-update-component", json=body)


def _session_ids(web: WebApp, user_id: int) -> dict[str, int]:
    with web.db.session() as s:
        rows = s.scalars(
            select(UserSession).where(
                UserSession.user_id == user_id, UserSession.ended_at.is_(None)
            )
        )
        return {r.address: r.id for r in rows}


def test_the_account_page_lists_and_ends_only_ones_own_sessions(web: WebApp):
    me = add_user(web.db, "owner-of-three", Role.TECHNICIAN, password="session-pw-1")
    other = add_user(web.db, "someone-else", Role.VIEWER, password="session-pw-1")
    laptop = _signed_in(web, "owner-of-three", address="10.5.0.1")
    phone = _signed_in(web, "owner-of-three", address="10.5.0.2")
    tablet = _signed_in(web, "owner-of-three", address="10.5.0.3")
    theirs = _signed_in(web, "someone-else", address="10.5.0.9")
    listed = _call(web, laptop, f"{ACCOUNT_SESSIONS}.children", {})
    assert listed.status_code == 200
    text = listed.get_data(as_text=True)
    assert all(f"10.5.0.{i}" in text for i in (1, 2, 3)) and "10.5.0.9" not in text
    assert text.count("this browser") == 1
    ids = _session_ids(web, me)
    end = (ACCOUNT_END, "n_clicks")
    ended = _call(web, laptop, ACCOUNT_FEEDBACK, {end: 1}, ids["10.5.0.2"])
    assert "That session is signed out." in ended.get_data(as_text=True)
    assert phone.get("/api/me").status_code == 401
    assert laptop.get("/api/me").status_code == 200
    # another user's session id ends nothing
    mine_only = _call(web, laptop, ACCOUNT_FEEDBACK, {end: 1}, _session_ids(web, other)["10.5.0.9"])
    assert "had ended already" in mine_only.get_data(as_text=True)
    assert theirs.get("/api/me").status_code == 200
    others = _call(
        web, laptop, f"{ACCOUNT_FEEDBACK}.children", {(ACCOUNT_END_OTHERS, "n_clicks"): 1}
    )
    assert "Signed out 1 other session." in others.get_data(as_text=True)
    assert tablet.get("/api/me").status_code == 401
    assert laptop.get("/api/me").status_code == 200
    assert list(_session_ids(web, me)) == ["10.5.0.1"]


def test_an_admin_signs_a_user_out_everywhere_from_the_users_page(web: WebApp):
    user = add_user(web.db, "lost-phone", Role.TECHNICIAN, password="session-pw-1")
    copies = [_copy(web, _signed_in(web, "lost-phone", address=f"10.6.0.{i}")) for i in (1, 2)]
    selected = {(USERS_GRID, "selectedRows"): [{"id": user}], (USERS_SIGN_OUT, "n_clicks"): 1}
    key = next(
        k
        for k in web.app.callback_map
        if USERS_FEEDBACK in k and web.app.callback_map[k]["inputs"][0]["id"] == USERS_SIGN_OUT
    )
    body = filled_body(
        key, web.app.callback_map[key], lambda c, p: selected.get((c, p)), lambda *_: 0
    )
    refused = web.client("manager").post("/_dash-update-component", json=body)
    assert refused.status_code == 200 and "may not" in refused.get_data(as_text=True)
    assert [c.get("/api/me").status_code for c in copies] == [200, 200]
    done = web.client("admin").post("/_dash-update-component", json=body)
    assert "lost-phone is signed out everywhere (2 sessions ended)." in done.get_data(as_text=True)
    assert [c.get("/api/me").status_code for c in copies] == [401, 401]
    with web.db.session() as s:
        audited = s.scalar(
            select(AuditLog.after).where(
                AuditLog.action == "user.sign_out_everywhere", AuditLog.entity_id == str(user)
            )
        )
    assert audited == {"sessions": 2}


def test_many_addresses_at_once_cannot_share_one_free_moment(db: Database):
    """Eight tries from eight addresses in the same instant, when the account may take one:
    they take turns, so one is checked and seven are told to wait."""
    add_user(db, "burst", Role.VIEWER)
    limits = SignInLimits(
        per_account_address=5, per_address=20, window=timedelta(minutes=15), delay_after=10
    )
    now = utcnow()
    with db.session() as s:
        for i in range(10):  # the 1 s wait after them is over by ``now``
            s.add(
                SignInFailure(account="burst", address=f"10.8.{i}.1", at=now - timedelta(seconds=2))
            )
    start = threading.Barrier(8)
    answers: list[str] = []

    def attacker(i: int) -> None:
        start.wait()
        with db.session() as s:
            why = check_try(
                session=s, account="burst", address=f"10.8.9.{i}", limits=limits, now=now
            )
            if why is None:
                time.sleep(0.1)  # the password check
                record_failure(
                    session=s, account="burst", address=f"10.8.9.{i}", limits=limits, now=now
                )
        answers.append("checked" if why is None else why.by)

    threads = [threading.Thread(target=attacker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers) == ["checked"] + ["slowed"] * 7


def test_behind_a_proxy_the_client_address_is_the_forwarded_one(tmp_path, web: WebApp):
    """PDM_PROXY_HOPS=1: failures and sessions carry the address the proxy forwarded; without
    it (the shared app) the header is ignored, so nobody picks their own address."""
    from factories import make_settings

    from data.db import upgrade_schema
    from web.server.factory import create_app
    from web.server.readiness import web_readiness

    settings = make_settings(tmp_path, proxy_hops=1, demo_machines=0)
    db = Database(settings.effective_database_url)
    upgrade_schema(db.engine)
    user = add_user(db, "behind-proxy", Role.VIEWER, password="session-pw-1")
    app = create_app(settings, db, web_readiness(settings, db))
    try:
        forwarded = {"headers": {"X-Forwarded-For": "203.0.113.7"}}
        client = app.server.test_client()
        assert sign_in(client, "behind-proxy", "wrong", **forwarded).status_code == 401
        with db.session() as s:
            assert s.scalars(select(SignInFailure.address)).all() == ["203.0.113.7"]
        assert sign_in(client, "behind-proxy", "session-pw-1", **forwarded).status_code == 302
        with db.session() as s:
            assert s.scalar(select(UserSession.address).where(UserSession.user_id == user)) == (
                "203.0.113.7"
            )
    finally:
        db.dispose()
    spoofer = web.app.server.test_client()
    sign_in(spoofer, "nobody-spoofs", "x", headers={"X-Forwarded-For": "198.51.100.1"})
    with web.db.session() as s:
        seen = s.scalar(
            select(SignInFailure.address).where(SignInFailure.account == "nobody-spoofs")
        )
    assert seen == "127.0.0.1"


# --- the shell's session state: the one callback open without a session ---------------


def _session_state(client, **extra):  # noqa: ANN001, ANN003, ANN202
    body = {
        "output": SESSION_STATE_CALLBACK,
        "outputs": [{"id": c, "property": p} for c, p in SESSION_STATE_OUTPUTS],
        "inputs": [{"id": SESSION_TICK, "property": "n_intervals", "value": 4}],
        "changedPropIds": [f"{SESSION_TICK}.n_intervals"],
    }
    return client.post("/_dash-update-component", json=body | extra, headers=ORIGIN)


ENDED = {
    SESSION_ENDED: {"is_open": True},
    RED_TICK: {"disabled": True},
    SESSION_TICK: {"disabled": True},
    PAGE: {"children": []},
}


def test_the_session_state_says_only_whether_the_session_is_valid(web: WebApp):
    add_user(web.db, "polling-page", Role.VIEWER, password="session-pw-1")
    page = _signed_in(web, "polling-page")
    stolen = _copy(web, page)
    signed_in = _session_state(page)
    assert signed_in.status_code == 204 and signed_in.get_data() == b""  # nothing changes
    link = {  # the alert's "Sign in" link, set while signed in: back to this page after
        "output": SHELL_CALLBACK,
        "outputs": [{"id": c, "property": p} for c, p in SHELL_OUTPUTS],
        "inputs": [
            {"id": RED_TICK, "property": "n_intervals", "value": None},
            {"id": URL, "property": "pathname", "value": "/ticket/7"},
        ],
        "changedPropIds": [f"{URL}.pathname"],
    }
    answer = page.post("/_dash-update-component", json=link, headers=ORIGIN).get_json()
    assert answer["response"][SESSION_SIGN_IN]["href"] == "/login?next=%2Fticket%2F7"
    assert stolen.post("/_dash-update-component", json=link, headers=ORIGIN).status_code == 200
    assert _session_state(web.app.server.test_client()).get_json()["response"] == ENDED
    assert page.post("/logout", headers=ORIGIN).status_code == 302
    assert stolen.post("/_dash-update-component", json=link, headers=ORIGIN).status_code == 401
    answer = _session_state(stolen)  # the page of the signed-out browser learns it
    assert answer.status_code == 200 and answer.get_json()["response"] == ENDED


def test_the_session_state_takes_only_its_tick(web: WebApp):
    anonymous = web.app.server.test_client()
    url = [{"id": URL, "property": "pathname", "value": "/"}]
    tick = [{"id": SESSION_TICK, "property": "n_intervals", "value": 4}]
    assert _session_state(anonymous, inputs=tick + url).status_code == 400
    assert _session_state(anonymous, state=url).status_code == 400
    for junk in ("x", 10**30, [], {}, -5, 1.5, True, "", "1"):  # None: a tick not yet counted
        answer = _session_state(anonymous, inputs=[{**tick[0], "value": junk}])
        # a value not of its kind: refused for the page to show, nothing else (refusals.py)
        assert shown_refusal(answer) == (
            f"Not accepted: {SESSION_TICK}.n_intervals is not a whole number from 0."
        ), junk
    for junk in ("x", None, {"id": SESSION_TICK}, [tick[0], tick[0]]):
        assert _session_state(anonymous, inputs=junk).status_code == 400, junk
    # another callback's outputs under the exempt name are still another request: refused
    other = {"outputs": {"id": RED_BANNER, "property": "children"}}
    assert _session_state(anonymous, **other).status_code == 400
