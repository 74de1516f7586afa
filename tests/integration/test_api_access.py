"""The API and the pages keep their own doors on the one server: a browser session does not
authorise /api/v1, a token does not open a page or a Dash callback, the rest of the app
keeps its sign-in and same-origin rules."""

from __future__ import annotations

import io

from factories import WebApp
from sqlalchemy import select

from data.models import User
from maintenance.people.api_tokens import create_token

PROBLEM = "application/problem+json"


def _token(web: WebApp, name: str, role: str = "admin") -> str:
    with web.db.session() as s:
        admin = s.scalar(select(User.id).where(User.username == "admin"))
        made = create_token(
            session=s, name=name, role=role, expires_at=None, created_by=int(admin or 0)
        )
    return made.secret


def test_a_signed_in_browser_session_does_not_open_the_api(web: WebApp):
    browser = web.client("admin")
    assert browser.get("/api/me").get_json()["username"] == "admin"  # the session works
    for path in ("/api/v1/machines", "/api/v1/alarms", "/api/v1/nothing-here"):
        answer = browser.get(path)
        assert answer.status_code == 401 and answer.mimetype == PROBLEM, path
    posted = browser.post("/api/v1/tickets", json={"machine_id": 1, "title": "x"})
    assert posted.status_code == 401


def test_a_token_opens_no_page_and_no_callback(web: WebApp):
    secret = _token(web, "access-check")
    client = web.app.server.test_client()
    bearer = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/machines", headers=bearer).status_code == 200
    page = client.get("/admin/tokens", headers=bearer)
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    callback = client.post("/_dash-update-component", json={}, headers=bearer)
    assert callback.status_code == 401
    assert client.get("/api/me", headers=bearer).status_code == 401
    assert client.get("/reports/export.csv", headers=bearer).status_code in (302, 401)


def test_the_spec_and_the_docs_are_open_and_the_docs_run_under_the_csp(web: WebApp):
    client = web.app.server.test_client()
    spec = client.get("/api/v1/openapi.json")
    assert spec.status_code == 200 and spec.get_json()["openapi"] == "3.1.0"
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200
    policy = docs.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "http" not in policy  # no CDN
    assert "https://" not in docs.get_data(as_text=True)


def test_the_rest_of_the_app_keeps_its_cross_site_refusal(web: WebApp):
    browser = web.client("admin")
    forged = browser.post("/logout", headers={"Origin": "https://evil.example"})
    assert forged.status_code == 403
    secret = _token(web, "cross-site")
    from_elsewhere = web.app.server.test_client().get(
        "/api/v1/models",
        headers={"Authorization": f"Bearer {secret}", "Origin": "https://evil.example"},
    )
    assert from_elsewhere.status_code == 200  # a token, not a cookie: nothing to forge


def test_a_photo_over_the_servers_request_limit_goes_through_only_where_it_may(web: WebApp):
    """The whole app keeps requests under 2 MiB; an API upload may be as big as the
    attachment limit, for a token whose role (and scopes) may attach, on that endpoint only."""
    client = web.app.server.test_client()
    admin = {"Authorization": f"Bearer {_token(web, 'erp-big')}"}
    viewer = {"Authorization": f"Bearer {_token(web, 'viewer-big', 'viewer')}"}
    machine = client.get("/api/v1/machines", headers=admin).get_json()["items"][0]["id"]
    made = client.post("/api/v1/tickets", json={"machine_id": machine, "title": "x"}, headers=admin)
    url = f"/api/v1/tickets/{made.get_json()['id']}/attachments"
    photo = b"\xff\xd8\xff" + bytes(3 * 1024 * 1024)  # a JPEG's start, 3 MiB
    sent = client.post(url, data={"file": (io.BytesIO(photo), "big.jpg")}, headers=admin)
    assert sent.status_code == 201 and sent.get_json()["size"] == len(photo)
    refused = client.post(url, data={"file": (io.BytesIO(photo), "big.jpg")}, headers=viewer)
    assert refused.status_code == 413 and refused.mimetype == PROBLEM
    elsewhere = client.post(
        f"/api/v1/tickets/{made.get_json()['id']}/comments",
        data=b'{"body": "' + bytes(3 * 1024 * 1024) + b'"}',
        headers={**admin, "Content-Type": "application/json"},
    )
    assert elsewhere.status_code == 413
