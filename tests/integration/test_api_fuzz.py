"""The API fuzzed from its own OpenAPI document (Schemathesis, in process, no network) as
an admin token, a read-only token, a gateway's token limited to posting readings and no
token: never a 5xx, every answer fits its schema and status codes, refusals are 401 (no
token) or 403 (the viewer's writes, the gateway's everything but readings)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from factories import ApiApp, api_app
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from data.db import Database, upgrade_schema
from data.models import Role


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiApp]:
    tmp: Path = tmp_path_factory.mktemp("fuzz")
    db = Database(f"sqlite:///{tmp / 'pdm.sqlite3'}")
    upgrade_schema(db.engine)
    yield api_app(tmp, db, api_rate_per_minute=1_000_000)
    db.dispose()


@pytest.fixture(scope="module")
def tokens(fuzzed: ApiApp) -> dict[str, str]:
    return {
        "admin": fuzzed.token(Role.ADMIN),
        "viewer": fuzzed.token(Role.VIEWER),
        "gateway": fuzzed.token(Role.ENGINEER, scopes=["readings:write"]),
    }


@pytest.fixture(scope="module")
def api_schema(fuzzed: ApiApp):  # noqa: ANN201 - a schemathesis schema
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", fuzzed.server)


def _operations(api_schema) -> list:  # noqa: ANN001
    return [result.ok() for result in api_schema.get_all_operations()]


def test_the_api_keeps_its_own_spec(api_schema, tokens: dict[str, str]):  # noqa: ANN001
    """Each generated request of each operation is sent without a token, as the viewer, then
    as the admin (Schemathesis' strategies driven by Hypothesis: its pytest plugin does not
    load on this pytest)."""
    operations = _operations(api_schema)
    paths = {op.path for op in operations}
    new = {
        "/api/v1/machines/{machine_id}/readings.parquet",
        "/api/v1/tickets/{ticket_id}/attachments",
        "/api/v1/attachments/{attachment_id}",
    }
    assert len(operations) >= 26 and new <= paths
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=15, suppress_health_check=list(HealthCheck), deadline=None)
        def check(case) -> None:  # noqa: ANN001
            for who in ("nobody", "viewer", "gateway", "admin"):
                headers = {"Authorization": f"Bearer {tokens[who]}"} if who in tokens else {}
                response = case.call(headers=headers)
                where = f"{who} {case.method} {case.formatted_path}"
                assert response.status_code < 500, f"{where}: {response.text[:300]}"
                if who == "nobody":
                    assert response.status_code == 401, where
                elif who == "viewer" and case.method != "GET":
                    assert response.status_code in (400, 403, 404), where
                elif who == "gateway" and not case.path.startswith("/api/v1/telemetry/"):
                    assert response.status_code in (400, 403), where  # invalid, or its scope
                # a schema-valid request may still be refused by the domain (a name taken,
                # a cursor this API never gave out): that check does not apply
                case.validate_response(
                    response, headers=headers, excluded_checks=[positive_data_acceptance]
                )

        check()
