"""In Chromium, an admin creates an API token (its secret shown once), the token reads the
API, the admin revokes it and the API refuses it at once; a token limited to a scope is
shown with it and held to it; the Swagger docs render from the server's own files with no
console error."""

from __future__ import annotations

import pytest
from browser import click, login, shot, sign_out, visit
from factories import WebApp, wait_until
from selenium.webdriver.support.select import Select
from services import free_port
from sqlalchemy import select

from data.models import ApiToken
from web.views.admin_tokens import (
    TOKENS_CREATE,
    TOKENS_FEEDBACK,
    TOKENS_GRID,
    TOKENS_NAME,
    TOKENS_REVOKE,
    TOKENS_ROLE,
    TOKENS_SCOPES,
    TOKENS_SECRET,
    TOKENS_SECRET_TEXT,
)

pytestmark = pytest.mark.e2e
NAME = "erp-e2e"


def _console_problems(dash_duo) -> list[str]:  # noqa: ANN001
    return [
        e["message"] for e in dash_duo.get_logs() or [] if e.get("level") in ("SEVERE", "WARNING")
    ]


def test_admin_creates_a_token_shown_once_and_revokes_it(dash_duo, web: WebApp):
    dash_duo.start_server(web.app, navigate=False, port=free_port())
    login(dash_duo, web, "admin")
    dash_duo.get_logs()  # drop what the login produced
    visit(dash_duo, "/admin/tokens")
    name = dash_duo.wait_for_element(f"#{TOKENS_NAME}", timeout=15)
    name.send_keys(NAME)
    click(dash_duo, f"#{TOKENS_CREATE}")
    dash_duo.wait_for_contains_text(f"#{TOKENS_SECRET}", "not shown again", timeout=10)
    secret = dash_duo.find_element(f"#{TOKENS_SECRET_TEXT}").text
    assert secret.startswith("pdm_")
    dash_duo.wait_for_contains_text(f"#{TOKENS_GRID}", NAME, timeout=10)
    assert secret not in dash_duo.find_element(f"#{TOKENS_GRID}").text  # only its start
    shot(dash_duo, "admin-tokens-created")
    with web.db.session() as s:
        stored = s.scalar(select(ApiToken).where(ApiToken.name == NAME))
        assert stored is not None and stored.secret_hash != secret

    api = web.app.server.test_client()
    bearer = {"Authorization": f"Bearer {secret}"}
    assert api.get("/api/v1/machines", headers=bearer).status_code == 200

    visit(dash_duo, "/admin/tokens")  # the secret is gone on the next visit
    dash_duo.wait_for_contains_text(f"#{TOKENS_GRID}", NAME, timeout=15)
    assert secret not in dash_duo.find_element("body").text
    click(dash_duo, f"#{TOKENS_GRID} .ag-row[row-id='{stored.id}'] .ag-cell")
    click(dash_duo, f"#{TOKENS_REVOKE}")
    dash_duo.wait_for_contains_text(f"#{TOKENS_FEEDBACK}", "revoked", timeout=10)
    assert wait_until(lambda: "revoked" in dash_duo.find_element(f"#{TOKENS_GRID}").text, 10)
    shot(dash_duo, "admin-tokens-revoked")
    assert api.get("/api/v1/machines", headers=bearer).status_code == 401
    assert _console_problems(dash_duo) == []

    visit(dash_duo, "/api/v1/docs")
    dash_duo.wait_for_contains_text("#swagger-ui", "Predictive maintenance API", timeout=20)
    dash_duo.wait_for_contains_text("#swagger-ui", "/api/v1/telemetry/{machine}", timeout=10)
    shot(dash_duo, "api-docs")
    assert _console_problems(dash_duo) == []
    visit(dash_duo, "/")
    sign_out(dash_duo)


def test_a_token_limited_to_a_scope_is_shown_with_it_and_held_to_it(dash_duo, web: WebApp):
    dash_duo.start_server(web.app, navigate=False, port=free_port())
    login(dash_duo, web, "admin")
    dash_duo.get_logs()
    visit(dash_duo, "/admin/tokens")
    dash_duo.wait_for_element(f"#{TOKENS_NAME}", timeout=15).send_keys("edge-e2e")
    Select(dash_duo.find_element(f"#{TOKENS_ROLE}")).select_by_value("engineer")
    click(dash_duo, f"#{TOKENS_SCOPES} input[value='readings:write']")
    click(dash_duo, f"#{TOKENS_CREATE}")
    dash_duo.wait_for_contains_text(f"#{TOKENS_SECRET}", "not shown again", timeout=10)
    secret = dash_duo.find_element(f"#{TOKENS_SECRET_TEXT}").text
    dash_duo.wait_for_contains_text(f"#{TOKENS_GRID}", "readings:write", timeout=10)
    shot(dash_duo, "admin-tokens-scoped")
    api = web.app.server.test_client()
    bearer = {"Authorization": f"Bearer {secret}"}
    reading = {"sensor": "temperature", "ts": "2026-01-01T00:00:00Z", "value": 20.5}
    assert api.post("/api/v1/telemetry/motor-01", json=reading, headers=bearer).status_code == 202
    refused = api.get("/api/v1/tickets", headers=bearer)
    assert refused.status_code == 403 and refused.mimetype == "application/problem+json"
    # a viewer cannot be given a write scope: the page says why
    visit(dash_duo, "/admin/tokens")
    dash_duo.wait_for_element(f"#{TOKENS_NAME}", timeout=15).send_keys("wrong-e2e")
    click(dash_duo, f"#{TOKENS_SCOPES} input[value='readings:write']")
    click(dash_duo, f"#{TOKENS_CREATE}")
    dash_duo.wait_for_contains_text(f"#{TOKENS_FEEDBACK}", "can do nothing with", timeout=10)
    shot(dash_duo, "admin-tokens-scope-refused")
    assert _console_problems(dash_duo) == []
