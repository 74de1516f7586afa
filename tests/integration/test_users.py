"""Users admin on both databases: validation, roles, deactivation, the last-admin guard,
single-use reset links with expiry, sign-out everywhere, and an audit without secrets.
Then the web side: the forgot and reset pages against a real local SMTP server."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
from factories import WebApp, add_user
from mail_server import reset_link
from sqlalchemy import select, update

from data.db import Database
from data.models import AuditLog, Machine, PasswordResetToken, Role, User, utcnow
from maintenance.notify.smtp_mail import send_reset_link
from maintenance.people.accounts import authenticate, load_user
from maintenance.people.reset_tokens import (
    issue_reset_link,
    request_reset,
    reset_password,
    reset_username,
)
from maintenance.people.user_admin import (
    UserError,
    create_user,
    list_users,
    set_active,
    set_password,
    update_user,
)

PASSWORD = "first-password-1"


def _admin(db: Database, name: str = "root") -> int:
    return add_user(db, name, Role.ADMIN)


def _create(db: Database, actor: int, name: str, role: str = "technician", **kw) -> int:
    fields = {"email": f"{name}@plant.example", "password": PASSWORD} | kw
    with db.session() as s:
        return create_user(session=s, actor_id=actor, username=name, role=role, **fields).id


def _refused(db: Database, field: str, call, **kw) -> None:  # noqa: ANN001
    with pytest.raises(UserError) as err, db.session() as s:
        call(session=s, **kw)
    assert err.value.field == field, str(err.value)


def _update(db: Database, actor: int, user_id: int, **changes) -> list[str]:
    fields = {"role": "technician", "email": "", "skills": [], "shift_start": None}
    fields |= {"shift_end": None} | changes
    with db.session() as s:
        return update_user(session=s, actor_id=actor, user_id=user_id, **fields)


def _version(db: Database, user_id: int) -> int:
    with db.session() as s:
        return s.get(User, user_id).session_version


def test_create_validates_each_field(db: Database):
    root = _admin(db)
    base = {"actor_id": root, "username": "tina", "email": "", "role": "technician"}
    _refused(db, "username", create_user, **base | {"username": "T!", "password": PASSWORD})
    _refused(db, "username", create_user, **base | {"username": "root", "password": PASSWORD})
    _refused(db, "email", create_user, **base | {"email": "nope", "password": PASSWORD})
    _refused(db, "email", create_user, **base | {"password": None})  # a link needs an address
    _refused(db, "role", create_user, **base | {"role": "boss", "password": PASSWORD})
    _refused(db, "password", create_user, **base | {"password": "short"})
    _refused(
        db, "password", create_user, **base | {"username": "tina-tech-1", "password": "Tina-Tech-1"}
    )
    user_id = _create(db, root, "tina", email="Tina@Plant.Example")
    _refused(
        db,
        "email",
        create_user,
        **base | {"username": "tim", "email": "tina@plant.example", "password": PASSWORD},
    )
    with db.session() as s:
        rows = {u.username: u for u in list_users(session=s)}
        assert rows["tina"].email == "tina@plant.example" and rows["tina"].role is Role.TECHNICIAN
        assert authenticate(session=s, username="tina", password=PASSWORD).id == user_id
        assert rows["tina"].active and rows["root"].last_login_at is None


def test_role_change_counts_on_the_next_load(db: Database):
    root = _admin(db)
    lead = _create(db, root, "line-lead", role="manager")
    with db.session() as s:
        info = authenticate(session=s, username="line-lead", password=PASSWORD)
    assert info.role is Role.MANAGER
    assert _update(db, root, lead, role="viewer", email="line-lead@plant.example") == ["role"]
    with db.session() as s:  # what the web's user loader runs on every request
        again = load_user(session=s, user_id=lead, session_version=info.session_version)
    assert again is not None and again.role is Role.VIEWER  # same session, new rights


def test_deactivated_user_cannot_sign_in_and_loses_every_session(db: Database):
    root = _admin(db)
    tech = _create(db, root, "tom")
    with db.session() as s:
        info = authenticate(session=s, username="tom", password=PASSWORD)
        set_active(session=s, actor_id=root, user_id=tech, active=False)
    with db.session() as s:
        assert authenticate(session=s, username="tom", password=PASSWORD) is None
        assert load_user(session=s, user_id=tech, session_version=info.session_version) is None
        set_active(session=s, actor_id=root, user_id=tech, active=True)
    with db.session() as s:  # back, but the old session stays ended
        assert authenticate(session=s, username="tom", password=PASSWORD) is not None
        assert load_user(session=s, user_id=tech, session_version=info.session_version) is None


def test_the_last_active_admin_cannot_be_demoted_or_deactivated(db: Database):
    root = _admin(db)
    _refused(
        db,
        "role",
        update_user,
        actor_id=root,
        user_id=root,
        role="manager",
        email="",
        skills=[],
        shift_start=None,
        shift_end=None,
    )
    _refused(db, "active", set_active, actor_id=root, user_id=root, active=False)
    second = _create(db, root, "deputy", role="admin")
    assert _update(db, second, root, role="manager") == ["role"]  # two admins: allowed
    _refused(db, "active", set_active, actor_id=second, user_id=second, active=False)
    with db.session() as s:
        assert s.get(User, second).active and s.get(User, root).role is Role.MANAGER


def test_skills_and_shift_are_stored_cleanly(db: Database):
    root = _admin(db)
    tech = _create(db, root, "tess")
    with db.session() as s:
        for name, kind in (("m-1", "motor"), ("p-1", "pump"), ("c-1", "compressor")):
            s.add(Machine(name=name, type=kind))
    _refused(
        db,
        "skills",
        update_user,
        actor_id=root,
        user_id=tech,
        role="technician",
        email="",
        skills=["laser"],
        shift_start=None,
        shift_end=None,
    )
    _refused(
        db,
        "shift",
        update_user,
        actor_id=root,
        user_id=tech,
        role="technician",
        email="",
        skills=[],
        shift_start=6,
        shift_end=None,
    )
    _refused(
        db,
        "shift",
        update_user,
        actor_id=root,
        user_id=tech,
        role="technician",
        email="",
        skills=[],
        shift_start=24,
        shift_end=6,
    )
    changed = _update(
        db,
        root,
        tech,
        email="tess@plant.example",
        skills=["pump", "motor"],
        shift_start=22,
        shift_end=6,
    )
    assert changed == ["skills and shift"]
    with db.session() as s:
        user = s.get(User, tech)
        assert (user.skills, user.shift_start, user.shift_end) == (["motor", "pump"], 22, 6)
        row = next(u for u in list_users(session=s) if u.id == tech)
        assert row.shift == "night 22-06"


def test_reset_link_works_once(db: Database):
    root = _admin(db)
    user_id = _create(db, root, "rita", role="viewer")
    with db.session() as s:
        info = authenticate(session=s, username="rita", password=PASSWORD)
        assert request_reset(session=s, login="nobody", minutes=30) is None
        link = request_reset(session=s, login="RITA@plant.example", minutes=30)
    with db.session() as s:
        stored = s.scalars(select(PasswordResetToken.token_hash)).all()
        assert link.token not in stored and len(stored[0]) == 64  # only the SHA-256
        asked = s.scalar(select(AuditLog).where(AuditLog.action == "user.password_reset_request"))
        assert asked.user_id is None and asked.after["via"] == "forgot password form"
        assert reset_username(session=s, token=link.token) == "rita"
    _refused(
        db,
        "confirm",
        reset_password,
        token=link.token,
        password="second-pass-2",
        confirm="second-pass-3",
    )
    _refused(db, "password", reset_password, token=link.token, password="rita", confirm="rita")
    with db.session() as s:
        assert (
            reset_password(
                session=s, token=link.token, password="second-pass-2", confirm="second-pass-2"
            )
            == "rita"
        )
    _refused(
        db,
        "token",
        reset_password,
        token=link.token,
        password="third-pass-33",
        confirm="third-pass-33",
    )
    with db.session() as s:
        assert authenticate(session=s, username="rita", password="second-pass-2") is not None
        assert authenticate(session=s, username="rita", password=PASSWORD) is None
        assert load_user(session=s, user_id=user_id, session_version=info.session_version) is None


def test_reset_link_expires_and_a_newer_one_replaces_it(db: Database):
    root = _admin(db)
    user_id = _create(db, root, "rob", role="viewer")
    with db.session() as s:
        first = issue_reset_link(session=s, user_id=user_id, minutes=30, actor_id=root)
        second = issue_reset_link(session=s, user_id=user_id, minutes=30, actor_id=root)
    with db.session() as s:
        assert reset_username(session=s, token=first.token) is None  # replaced
        assert reset_username(session=s, token=second.token) == "rob"
        s.execute(update(PasswordResetToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    _refused(
        db,
        "token",
        reset_password,
        token=second.token,
        password="second-pass-2",
        confirm="second-pass-2",
    )
    with db.session() as s:  # a deactivated user's link does not work either
        third = issue_reset_link(session=s, user_id=user_id, minutes=30, actor_id=root)
        set_active(session=s, actor_id=root, user_id=user_id, active=False)
    with db.session() as s:
        assert reset_username(session=s, token=third.token) is None
        assert request_reset(session=s, login="rob", minutes=30) is None


def test_new_password_signs_out_everywhere(db: Database):
    root = _admin(db)
    user_id = _create(db, root, "sam", role="viewer")
    before = _version(db, user_id)
    with db.session() as s:
        set_password(
            session=s, actor_id=root, user_id=user_id, password="temporary-pw-9", via="admin"
        )
    assert _version(db, user_id) == before + 1
    with db.session() as s:
        assert load_user(session=s, user_id=user_id, session_version=before) is None
        assert load_user(session=s, user_id=user_id, session_version=before + 1) is not None


def test_every_change_is_audited_without_secrets(db: Database):
    root = _admin(db)
    user_id = _create(db, root, "alex", role="manager")
    _update(db, root, user_id, role="viewer", email="alex@plant.example")
    with db.session() as s:
        set_password(
            session=s, actor_id=root, user_id=user_id, password="temporary-pw-9", via="admin"
        )
        set_active(session=s, actor_id=root, user_id=user_id, active=False)
        set_active(session=s, actor_id=root, user_id=user_id, active=True)
        link = issue_reset_link(session=s, user_id=user_id, minutes=30, actor_id=root)
    with db.session() as s:
        reset_password(
            session=s, token=link.token, password="final-password-7", confirm="final-password-7"
        )
    with db.session() as s:
        entries = s.scalars(select(AuditLog).where(AuditLog.entity == "user")).all()
        secrets = [PASSWORD, "temporary-pw-9", "final-password-7", link.token]
        secrets += [s.get(User, user_id).password_hash, "$argon2"]
    actions = [e.action for e in entries if e.entity_id == str(user_id)]
    assert actions == [
        "user.create",
        "user.role",
        "user.password_reset",
        "user.deactivate",
        "user.reactivate",
        "user.password_reset_request",
        "user.password_reset",
    ]
    role = next(e for e in entries if e.action == "user.role")
    assert (role.before, role.after, role.user_id) == (
        {"role": "manager"},
        {"role": "viewer"},
        root,
    )
    text = json.dumps([[e.before, e.after] for e in entries])
    assert not [secret for secret in secrets if secret in text]


def test_reset_link_is_emailed_over_smtp(db: Database, mailbox, tmp_path):
    from factories import make_settings

    root = _admin(db)
    user_id = _create(db, root, "mia", role="viewer")
    settings = make_settings(tmp_path, smtp_from="pdm@plant.example", **mailbox.settings())
    with db.session() as s:
        link = issue_reset_link(session=s, user_id=user_id, minutes=30, actor_id=root)
    url = f"https://pdm.plant.example/reset/{link.token}"
    assert send_reset_link(settings=settings, link=link, url=url) is True
    message = mailbox.wait_for("mia@plant.example")
    assert message["From"] == "pdm@plant.example" and reset_link(message) == url


def test_without_smtp_the_link_goes_to_the_log(db: Database, tmp_path, caplog):
    from factories import make_settings

    root = _admin(db)
    user_id = _create(db, root, "max", role="viewer")
    with db.session() as s:
        link = issue_reset_link(session=s, user_id=user_id, minutes=30, actor_id=root)
    url = f"http://127.0.0.1:8050/reset/{link.token}"
    with caplog.at_level(logging.WARNING, logger="maintenance.notify.smtp_mail"):
        assert send_reset_link(settings=make_settings(tmp_path), link=link, url=url) is False
    assert any(r.levelno == logging.WARNING and url in r.getMessage() for r in caplog.records)


# the web side, on the shared app


def _csrf(client, path: str) -> str:  # noqa: ANN001
    page = client.get(path).get_data(as_text=True)
    return page.split('name="csrf" value="', 1)[1].split('"', 1)[0]


def _sign_in(web: WebApp, name: str, password: str):  # noqa: ANN202
    client = web.app.server.test_client()
    form = {"csrf": _csrf(client, "/login"), "username": name, "password": password}
    assert client.post("/login", data=form).status_code == 302
    return client


def test_forgot_answers_the_same_for_any_name_and_emails_only_real_accounts(
    web: WebApp, mailbox, monkeypatch
):
    for key, value in mailbox.settings().items():
        monkeypatch.setattr(web.settings, key, value)
    add_user(web.db, "forgetful", Role.VIEWER, password=PASSWORD)
    with web.db.session() as s:
        s.execute(update(User).where(User.username == "forgetful").values(email="f@plant.example"))
    client = web.app.server.test_client()
    assert client.post("/forgot", data={"login": "forgetful"}).status_code == 400  # no CSRF
    answers = []
    for login in ("forgetful", "nobody-at-all", "f@plant.example"):
        form = {"csrf": _csrf(client, "/forgot"), "login": login}
        answers.append(client.post("/forgot", data=form))
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert len({a.get_data(as_text=True) for a in answers}) == 1  # no hint who exists
    link = reset_link(mailbox.wait_for("f@plant.example"))
    assert link.startswith("http://localhost/reset/")
    with pytest.raises(AssertionError):
        mailbox.wait_for("nobody-at-all", timeout=1)


def test_reset_page_signs_out_every_session(web: WebApp, mailbox, monkeypatch):
    for key, value in mailbox.settings().items():
        monkeypatch.setattr(web.settings, key, value)
    add_user(web.db, "two-sessions", Role.VIEWER, password=PASSWORD)
    with web.db.session() as s:
        s.execute(
            update(User).where(User.username == "two-sessions").values(email="t@plant.example")
        )
    first, second = _sign_in(web, "two-sessions", PASSWORD), _sign_in(web, "two-sessions", PASSWORD)
    assert first.get("/api/me").status_code == second.get("/api/me").status_code == 200
    anonymous = web.app.server.test_client()
    form = {"csrf": _csrf(anonymous, "/forgot"), "login": "two-sessions"}
    anonymous.post("/forgot", data=form)
    path = "/reset/" + reset_link(mailbox.wait_for("t@plant.example")).rsplit("/", 1)[1]
    page = anonymous.get(path)
    assert page.status_code == 200 and "two-sessions" in page.get_data(as_text=True)
    mismatch = {"csrf": _csrf(anonymous, path), "password": "new-password-1", "confirm": "x"}
    wrong = anonymous.post(path, data=mismatch)
    assert wrong.status_code == 400 and "The two passwords differ." in wrong.get_data(as_text=True)
    good = {
        "csrf": _csrf(anonymous, path),
        "password": "new-password-1",
        "confirm": "new-password-1",
    }
    assert anonymous.post(path, data=good).status_code == 200
    assert first.get("/api/me").status_code == second.get("/api/me").status_code == 401
    assert anonymous.get(path).status_code == 404  # used up
    _sign_in(web, "two-sessions", "new-password-1")


def test_forgot_is_rate_limited_per_account(web: WebApp):
    client = web.app.server.test_client()
    limit = web.settings.login_failures_per_account

    def ask() -> int:
        form = {"csrf": _csrf(client, "/forgot"), "login": "rate-limited-name"}
        return client.post("/forgot", data=form).status_code

    assert [ask() for _ in range(limit)] == [200] * limit
    assert ask() == 429
    assert client.get("/forgot").status_code == 200


def test_users_callbacks_check_the_admin_role_on_the_server(web: WebApp):
    from web.views.admin_users import (
        USERS_CREATE,
        USERS_NEW_EMAIL,
        USERS_NEW_MODE,
        USERS_NEW_NAME,
        USERS_NEW_PASSWORD,
        USERS_NEW_ROLE,
        USERS_REFRESH,
    )

    key = next(k for k in web.app.callback_map if f"{USERS_NEW_PASSWORD}.value" in k)
    spec = web.app.callback_map[key]
    values = {
        USERS_NEW_NAME: "sneaky",
        USERS_NEW_EMAIL: "",
        USERS_NEW_ROLE: "admin",
        USERS_NEW_MODE: "password",
        USERS_NEW_PASSWORD: "sneaky-password-1",
        USERS_REFRESH: 0,
    }
    body = {
        "output": key,
        "outputs": [
            {"id": o.component_id, "property": o.component_property} for o in spec["output"]
        ],
        "inputs": [{"id": USERS_CREATE, "property": "n_clicks", "value": 1}],
        "state": [
            {"id": d["id"], "property": d["property"], "value": values[d["id"]]}
            for d in spec["state"]
        ],
        "changedPropIds": [f"{USERS_CREATE}.n_clicks"],
    }
    for user in ("manager", "viewer"):
        refused = web.client(user).post("/_dash-update-component", json=body)
        assert "Your role may not do this." in refused.get_data(as_text=True), user
    with web.db.session() as s:
        assert s.scalar(select(User.id).where(User.username == "sneaky")) is None
    allowed = web.client("admin").post("/_dash-update-component", json=body)
    assert "Created sneaky (admin)." in allowed.get_data(as_text=True)
    with web.db.session() as s:  # leave the shared app with one admin
        sneaky = s.scalar(select(User).where(User.username == "sneaky"))
        sneaky.active = False
