"""/api/v1 on SQLite and PostgreSQL: tokens (shown once, hashed, revoked and expired refused
at once), role rules as problem+json, each resource through the UI's own domain functions,
HTTP ingest (idempotent, dead letters), cursor pages, If-Match, rate limits, request ids."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pandas as pd
import pyarrow.parquet as pq
import pytest
from factories import ApiApp, api_app, count, dead_reasons
from images import tiny_png
from pypdf import PdfReader
from sqlalchemy import select, update

from data.db import Database, upgrade_schema
from data.models import (
    AlarmSource,
    ApiToken,
    Attachment,
    AuditLog,
    Downtime,
    DowntimeKind,
    Machine,
    Prediction,
    Reading,
    Role,
    Severity,
    TicketStatus,
    User,
)
from data.readings import insert_readings
from maintenance.alarming.raise_clear import raise_alarm
from maintenance.people.api_tokens import (
    TokenError,
    authenticate_token,
    create_token,
    list_tokens,
    revoke_token,
)
from maintenance.people.permissions import Scope
from maintenance.people.user_admin import UserError, list_users, set_active

PROBLEM = "application/problem+json"


@pytest.fixture
def api(db: Database, tmp_path) -> ApiApp:
    return api_app(tmp_path, db)


def _machine_id(db: Database, name: str = "motor-01") -> int:
    with db.session() as s:
        return int(s.scalar(select(Machine.id).where(Machine.name == name)) or 0)


def _audit_by(db: Database, action: str) -> list[str]:
    with db.session() as s:
        rows = s.execute(
            select(User.username)
            .join(AuditLog, AuditLog.user_id == User.id)
            .where(AuditLog.action == action)
        )
        return [name for (name,) in rows]


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


# --- tokens -------------------------------------------------------------------------------


def test_a_token_is_shown_once_stored_hashed_and_refused_once_revoked(api: ApiApp):
    secret = api.token(Role.VIEWER, name="mes")
    with api.db.session() as s:
        stored = s.scalar(select(ApiToken).where(ApiToken.name == "mes"))
        assert stored is not None and secret not in (stored.secret_hash, stored.prefix)
        assert stored.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
        row = next(t for t in list_tokens(session=s) if t.name == "mes")
        assert secret not in repr(row)  # a list never carries the secret
        account = s.get(User, stored.user_id)
        assert account is not None and account.username == "api:mes" and not account.active
        # the users page neither lists nor changes it: no one reactivates it with a password
        assert "api:mes" not in [u.username for u in list_users(session=s)]
        with pytest.raises(UserError, match="API token"):
            set_active(session=s, actor_id=stored.created_by or 0, user_id=account.id, active=True)
    client = api.client(secret)
    assert client.get("/api/v1/machines").status_code == 200
    with api.db.session() as s:
        assert s.scalar(select(ApiToken.last_used_at).where(ApiToken.name == "mes")) is not None
        admin = s.scalar(select(User.id).where(User.username == "admin"))
        assert revoke_token(session=s, token_id=stored.id, actor_id=int(admin or 0))
    refused = client.get("/api/v1/machines")
    assert refused.status_code == 401 and refused.mimetype == PROBLEM
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert _audit_by(api.db, "api_token.revoke") == ["admin"]


def test_an_expired_a_wrong_or_a_missing_token_is_refused(api: ApiApp):
    secret = api.token(Role.ADMIN, name="erp", expires_at=_now() + timedelta(hours=1))
    assert api.client(secret).get("/api/v1/machines").status_code == 200
    with api.db.session() as s:
        s.execute(
            update(ApiToken)
            .where(ApiToken.name == "erp")
            .values(expires_at=_now() - timedelta(seconds=1))
        )
        assert authenticate_token(session=s, secret=secret) is None
    for client in (api.client(secret), api.client(secret[:-2] + "xx"), api.client()):
        answer = client.get("/api/v1/machines")
        assert answer.status_code == 401 and answer.get_json()["status"] == 401


def test_a_viewer_token_reads_but_may_not_write(api: ApiApp):
    viewer = api.client(api.token(Role.VIEWER))
    assert viewer.get("/api/v1/alarms").status_code == 200
    refused = viewer.post("/api/v1/machines", json=_new_machine("press-01"))
    assert refused.status_code == 403 and refused.mimetype == PROBLEM
    assert "viewer" in refused.get_json()["detail"]
    assert viewer.post("/api/v1/telemetry/motor-01", data=b"{}").status_code == 403
    assert count(api.db, Machine) == 3


def test_the_rate_limit_answers_429_with_retry_after(db: Database, tmp_path):
    api = api_app(tmp_path, db, api_rate_per_minute=3)
    client = api.client(api.token(Role.VIEWER))
    answers = [client.get("/api/v1/models") for _ in range(4)]
    assert [a.status_code for a in answers[:3]] == [200, 200, 200]
    assert answers[3].status_code == 429 and answers[3].mimetype == PROBLEM
    assert 1 <= int(answers[3].headers["Retry-After"]) <= 60


def test_scopes_narrow_a_token_below_its_role(api: ApiApp):
    gateway = api.client(api.token(Role.ENGINEER, name="edge-1", scopes=["readings:write"]))
    body = _batch(_now() - timedelta(minutes=5), 3)
    assert gateway.post("/api/v1/telemetry/motor-01", json=body).status_code == 202
    for url in ("/api/v1/tickets", "/api/v1/machines", "/api/v1/alarms"):
        refused = gateway.get(url)
        assert refused.status_code == 403 and refused.mimetype == PROBLEM
        assert "scopes (readings:write)" in refused.get_json()["detail"]
    historian = api.client(api.token(Role.ADMIN, name="historian", scopes=["read"]))
    assert historian.get("/api/v1/tickets").status_code == 200
    assert historian.get(f"/api/v1/machines/{_machine_id(api.db)}").status_code == 200
    assert historian.post("/api/v1/machines", json=_new_machine("press-9")).status_code == 403
    assert historian.post("/api/v1/telemetry/motor-01", json=body).status_code == 403
    alarm_id = _alarm(api.db)
    assert historian.post(f"/api/v1/alarms/{alarm_id}/acknowledge").status_code == 403
    both = api.client(api.token(Role.TECHNICIAN, scopes=["read", "alarms:write"]))
    assert both.post(f"/api/v1/alarms/{alarm_id}/acknowledge").status_code == 200
    assert both.post(f"/api/v1/alarms/{alarm_id}/clear").status_code == 403  # the role's rule
    with api.db.session() as s:
        rows = {t.name: t.scopes for t in list_tokens(session=s)}
        admin = int(s.scalar(select(User.id).where(User.username == "admin")) or 0)
        for scopes, message in ((["readings:write"], "nothing with"), (["all"], "Scopes are")):
            with pytest.raises(TokenError, match=message):  # a viewer cannot write readings
                create_token(
                    session=s,
                    name="x-1",
                    role=Role.VIEWER,
                    expires_at=None,
                    created_by=admin,
                    scopes=scopes,
                )
    assert rows["edge-1"] == {Scope.READINGS_WRITE} and rows["historian"] == {Scope.READ}
    assert count(api.db, Reading) == 3


def test_the_rate_limit_is_shared_by_two_app_instances_on_one_database(tmp_path, postgres):
    """Two instances, each with its own engine and pool on one PostgreSQL database (as two
    web processes), eight threads at once: exactly the limit gets through between them."""
    url = postgres.new_database()
    db, other_db = Database(url), Database(url)
    upgrade_schema(db.engine)
    first = api_app(tmp_path / "a", db, api_rate_per_minute=25)
    second = api_app(tmp_path / "b", other_db, api_rate_per_minute=25)  # the same rows
    try:
        for _attempt in range(2):  # a run that straddles a minute counts two windows: again
            secret = first.token(Role.VIEWER)
            minute = _now().timestamp() // 60

            def burst(app: ApiApp, secret: str = secret) -> list[int]:
                client = app.client(secret)
                return [client.get("/api/v1/models").status_code for _ in range(10)]

            with ThreadPoolExecutor(8) as pool:
                runs = list(pool.map(burst, [first, second] * 4))
            if _now().timestamp() // 60 == minute:
                break
        codes = [c for run in runs for c in run]
        assert codes.count(200) == 25 and codes.count(429) == 55
        assert all(200 in run for run in runs[:2])  # both instances served some
        refused = second.client(secret).get("/api/v1/models")
        assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 60
    finally:
        db.dispose()
        other_db.dispose()


def test_request_ids_come_back(api: ApiApp):
    client = api.client(api.token(Role.VIEWER))
    assert client.get("/api/v1/models", headers={"X-Request-ID": "erp-42"}).headers[
        "X-Request-ID"
    ] == ("erp-42")
    body = client.get("/api/v1/nope").get_json()
    assert body["status"] == 404 and len(body["request_id"]) == 32


# --- machines -----------------------------------------------------------------------------


def _new_machine(name: str) -> dict:
    return {
        "name": name,
        "type": "press",
        "location": "Hall 2",
        "line": "Line 3",
        "sensors": [
            {"key": "force", "kind": "force", "unit": "kN", "warn_high": 80, "crit_high": 95}
        ],
    }


def test_machines_are_created_updated_with_if_match_and_retired_audited_under_the_token(
    api: ApiApp,
):
    admin = api.client(api.token(Role.ADMIN, name="erp"))
    made = admin.post("/api/v1/machines", json=_new_machine("press-01"))
    assert made.status_code == 201, made.get_json()
    machine = made.get_json()
    assert machine["sensors"][0]["key"] == "force" and made.headers["ETag"]
    url = f"/api/v1/machines/{machine['id']}"
    etag = admin.get(url).headers["ETag"]
    assert etag == made.headers["ETag"]
    change = _new_machine("press-01") | {"location": "Hall 3"}
    missing = admin.put(url, json=change)
    assert missing.status_code == 428 and missing.mimetype == PROBLEM
    assert admin.put(url, json=change, headers={"If-Match": etag}).status_code == 200
    stale = admin.put(url, json=change | {"line": "Line 9"}, headers={"If-Match": etag})
    assert stale.status_code == 412 and stale.mimetype == PROBLEM
    assert admin.get(url).get_json()["line"] == "Line 3"  # the stale write changed nothing
    fresh = admin.get(url).headers["ETag"]
    retired = admin.post(f"{url}/retire", headers={"If-Match": fresh})
    assert retired.status_code == 200 and retired.get_json()["retired_at"]
    assert _audit_by(api.db, "machine.create") == ["api:erp"]
    assert _audit_by(api.db, "machine.update") == ["api:erp"]
    assert _audit_by(api.db, "machine.retire") == ["api:erp"]


def test_a_refused_machine_names_its_fields(api: ApiApp):
    admin = api.client(api.token(Role.ADMIN))
    bad = _new_machine("motor-01")  # taken
    bad["sensors"][0]["warn_high"] = 99  # above crit_high
    answer = admin.post("/api/v1/machines", json=bad)
    assert answer.status_code == 400 and answer.mimetype == PROBLEM
    fields = {e["field"] for e in answer.get_json()["errors"]}
    assert "name" in fields and any(f.startswith("sensors.0.") for f in fields)
    schema = admin.post("/api/v1/machines", json={"name": "x"})
    assert schema.status_code == 400
    assert {"type", "sensors"} <= {e["field"] for e in schema.get_json()["errors"]}


def test_machine_pages_are_stable_and_complete(api: ApiApp):
    admin = api.client(api.token(Role.ADMIN))
    for n in range(4):
        assert admin.post("/api/v1/machines", json=_new_machine(f"press-{n}")).status_code == 201
    seen, cursor, pages = [], None, 0
    while True:
        url = "/api/v1/machines?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = admin.get(url).get_json()
        seen += [m["id"] for m in page["items"]]
        pages += 1
        if pages == 2:  # a machine added meanwhile lands at the end, shifting nothing
            admin.post("/api/v1/machines", json=_new_machine("press-late"))
        cursor = page.get("next_cursor")
        if not cursor:
            break
    assert seen == sorted(seen) and len(seen) == len(set(seen)) == 8
    forged = admin.get("/api/v1/machines?cursor=bm9wZQ")
    assert forged.status_code == 400 and forged.get_json()["errors"][0]["field"] == "cursor"


# --- readings -----------------------------------------------------------------------------


def _batch(start: datetime, n: int, sensor: str = "temperature") -> dict:
    return {
        "readings": [
            {"sensor": sensor, "ts": (start + timedelta(seconds=i)).isoformat(), "value": 20.0 + i}
            for i in range(n)
        ]
    }


def test_http_ingest_stores_once_and_counts_duplicates(api: ApiApp):
    gateway = api.client(api.token(Role.ENGINEER, name="gateway"))
    body = json.dumps(_batch(_now() - timedelta(minutes=10), 100)).encode()
    first = gateway.post("/api/v1/telemetry/motor-01", data=body)
    assert first.status_code == 202 and first.get_json() == {
        "stored": 100,
        "duplicate": 0,
        "rejected": 0,
    }
    again = gateway.post("/api/v1/telemetry/motor-01", data=body)
    assert again.get_json() == {"stored": 0, "duplicate": 100, "rejected": 0}
    assert count(api.db, Reading) == 100


def test_malformed_http_readings_become_dead_letters_with_their_reason(api: ApiApp):
    gateway = api.client(api.token(Role.ENGINEER))
    broken = gateway.post("/api/v1/telemetry/motor-01", data=b'{"readings": [')
    assert broken.status_code == 202 and broken.get_json()["rejected"] == 1
    mixed = {
        "readings": [
            {"sensor": "temperature", "ts": _now().isoformat(), "value": 1.0},
            {"sensor": "temperature", "ts": "yesterday", "value": 1.0},
            {"sensor": "no_such", "ts": _now().isoformat(), "value": 1.0},
        ]
    }
    answer = gateway.post("/api/v1/telemetry/motor-01", json=mixed)
    assert answer.get_json() == {"stored": 1, "duplicate": 0, "rejected": 2}
    unknown = gateway.post("/api/v1/telemetry/nowhere-9", json=mixed["readings"][0])
    assert unknown.get_json()["rejected"] == 1
    reasons = dead_reasons(api.db)
    assert reasons[0] == "invalid_json" and "unknown_sensor" in reasons
    assert "unknown_machine" in reasons and len(reasons) == 4


def test_readings_come_bucketed_and_raw_as_csv(api: ApiApp):
    mid = _machine_id(api.db)
    start = _now() - timedelta(hours=2)
    with api.db.session() as s:
        sensors = s.get(Machine, mid).sensors  # type: ignore[union-attr]
        temp = next(x.id for x in sensors if x.key == "temperature")
        rows = [(temp, start + timedelta(seconds=10 * i), float(i)) for i in range(600)]
        insert_readings(session=s, rows=rows)
    client = api.client(api.token(Role.VIEWER))
    window = f"start={start.isoformat()}&end={(start + timedelta(hours=2)).isoformat()}"
    window = window.replace("+", "%2B")
    got = client.get(f"/api/v1/machines/{mid}/readings?{window}&sensors=temperature&max_points=60")
    assert got.status_code == 200, got.get_json()
    series = got.get_json()["series"]
    assert [x["sensor"] for x in series] == ["temperature"]
    points = series[0]["points"]
    # 100 minutes of readings in 2-minute buckets (the 2 h range cut into 60)
    assert 50 <= len(points) <= 51 and sum(p["n"] for p in points) == 600
    assert points[0]["min"] == 0.0 and points[-1]["max"] == 599.0
    raw = client.get(f"/api/v1/machines/{mid}/readings.csv?{window}&sensors=temperature")
    assert raw.status_code == 200 and raw.mimetype == "text/csv"
    lines = list(csv.reader(io.StringIO(raw.get_data(as_text=True))))
    assert lines[0] == ["ts", "sensor", "value"] and len(lines) == 601
    assert datetime.fromisoformat(lines[1][0]) == start and lines[-1][2] == "599.0"
    unknown = client.get(f"/api/v1/machines/{mid}/readings?{window}&sensors=nope")
    assert unknown.status_code == 400 and unknown.get_json()["errors"][0]["field"] == "sensors"


def test_raw_readings_come_as_parquet_equal_to_the_stored_rows(api: ApiApp):
    mid = _machine_id(api.db)
    start = _now() - timedelta(days=4)  # 60,001 readings 5 s apart: 3.5 days
    with api.db.session() as s:
        sensors = {x.key: x.id for x in s.get(Machine, mid).sensors}  # type: ignore[union-attr]
        rows = [
            (sensors[key], start + timedelta(seconds=5 * i), i * 0.25 - 1000.0)
            for i in range(60_001)  # more than one row group: the file is streamed in parts
            for key in ("temperature", "vibration")
        ]
        insert_readings(session=s, rows=rows)
        stored = s.execute(
            select(Reading.ts, Reading.sensor_id, Reading.value)
            .where(Reading.sensor_id.in_(sensors.values()))
            .order_by(Reading.ts, Reading.sensor_id)
        ).all()
    client = api.client(api.token(Role.VIEWER))
    window = f"start={start.isoformat()}&end={_now().isoformat()}".replace("+", "%2B")
    url = f"/api/v1/machines/{mid}/readings.parquet?{window}&sensors=temperature,vibration"
    answer = client.get(url)
    assert answer.status_code == 200 and answer.mimetype == "application/vnd.apache.parquet"
    assert answer.is_streamed and ".parquet" in answer.headers["Content-Disposition"]
    body = answer.get_data()
    meta = pq.ParquetFile(io.BytesIO(body)).metadata
    assert meta.num_row_groups == 3 and meta.num_rows == len(stored) == 120_002
    frame = pd.read_parquet(io.BytesIO(body))
    assert list(frame.columns) == ["ts", "sensor", "value"] and str(frame["ts"].dt.tz) == "UTC"
    names = {sid: key for key, sid in sensors.items()}
    expected = pd.DataFrame(
        {
            "ts": pd.to_datetime([r.ts for r in stored], utc=True).as_unit("us"),
            "sensor": [names[r.sensor_id] for r in stored],
            "value": [r.value for r in stored],
        }
    )
    pd.testing.assert_frame_equal(frame, expected, check_dtype=False)
    assert frame["ts"].iloc[0] == pd.Timestamp(start)
    empty = client.get(
        f"/api/v1/machines/{mid}/readings.parquet?start=2020-01-01T00:00Z&end=2020-01-02T00:00Z"
    )
    assert pq.read_table(io.BytesIO(empty.get_data())).num_rows == 0
    missing = client.get(f"/api/v1/machines/999999/readings.parquet?{window}")
    assert missing.status_code == 404 and missing.mimetype == PROBLEM


def test_a_time_without_its_zone_is_refused_with_the_field(api: ApiApp):
    client = api.client(api.token(Role.VIEWER))
    mid = _machine_id(api.db)
    answer = client.get(
        f"/api/v1/machines/{mid}/readings?start=2026-12-01T00:00:00&end=2026-12-02T00:00:00Z"
    )
    assert answer.status_code == 400 and answer.mimetype == PROBLEM
    assert [e["field"] for e in answer.get_json()["errors"]] == ["start"]
    backwards = client.get(
        "/api/v1/reports/breakdowns?start=2026-12-02T00:00Z&end=2026-12-01T00:00Z"
    )
    assert backwards.status_code == 400
    ages = client.get("/api/v1/reports/breakdowns?start=0184-01-01T00:00Z&end=5380-01-01T00:00Z")
    assert ages.status_code == 400 and "at most 400 days" in ages.get_data(as_text=True)


# --- alarms, tickets ----------------------------------------------------------------------


def _alarm(db: Database, code: str = "TEMP_HIGH") -> int:
    with db.session() as s:
        alarm, _ticket = raise_alarm(
            session=s,
            machine_id=_machine_id(db),
            code=code,
            severity=Severity.CRITICAL,
            source=AlarmSource.RULE,
            message="temperature 97 °C above 95 °C",
            value=97.0,
            now=datetime.now(UTC),
        )
        return alarm.id


def test_alarms_are_listed_acknowledged_and_cleared_with_the_ui_roles(api: ApiApp):
    alarm_id = _alarm(api.db)
    viewer = api.client(api.token(Role.VIEWER))
    listed = viewer.get("/api/v1/alarms?state=active").get_json()["items"]
    assert [a["id"] for a in listed] == [alarm_id] and listed[0]["value"] == 97.0
    assert viewer.post(f"/api/v1/alarms/{alarm_id}/acknowledge").status_code == 403
    tech = api.client(api.token(Role.TECHNICIAN, name="scada"))
    acked = tech.post(f"/api/v1/alarms/{alarm_id}/acknowledge")
    assert acked.status_code == 200 and acked.get_json()["acknowledged_by"] == "api:scada"
    assert tech.post(f"/api/v1/alarms/{alarm_id}/acknowledge").status_code == 409
    assert tech.post(f"/api/v1/alarms/{alarm_id}/clear").status_code == 403  # office roles
    manager = api.client(api.token(Role.MANAGER))
    assert manager.post(f"/api/v1/alarms/{alarm_id}/clear").get_json()["state"] == "cleared"
    assert viewer.get("/api/v1/alarms?state=active").get_json()["items"] == []
    assert viewer.get("/api/v1/alarms/999999").status_code == 404


def test_tickets_are_opened_worked_with_if_match_and_commented_under_the_token(api: ApiApp):
    erp = api.client(api.token(Role.MANAGER, name="erp"))
    mid = _machine_id(api.db)
    made = erp.post("/api/v1/tickets", json={"machine_id": mid, "title": "Replace belt"})
    assert made.status_code == 201, made.get_json()
    ticket = made.get_json()
    assert ticket["status"] == "OPEN" and ticket["code"] == "MANUAL"
    dup = erp.post("/api/v1/tickets", json={"machine_id": mid, "title": "Again"})
    assert dup.status_code == 409
    url = f"/api/v1/tickets/{ticket['id']}"
    etag = erp.get(url).headers["ETag"]
    start = {"to": "IN_PROGRESS"}
    assert erp.post(f"{url}/status", json=start).status_code == 428
    assert erp.post(f"{url}/status", json=start, headers={"If-Match": etag}).status_code == 200
    stale = erp.post(f"{url}/status", json={"to": "OPEN"}, headers={"If-Match": etag})
    assert stale.status_code == 412
    fresh = erp.get(url).headers["ETag"]
    unsaid = erp.post(f"{url}/status", json={"to": "RESOLVED"}, headers={"If-Match": fresh})
    assert unsaid.status_code == 409 and "false alarm" in unsaid.get_json()["detail"]
    done = {"to": "RESOLVED", "failure_confirmed": False, "cause": "loose", "action_taken": "tight"}
    resolved = erp.post(f"{url}/status", json=done, headers={"If-Match": fresh})
    assert resolved.status_code == 200 and resolved.get_json()["status"] == "RESOLVED"
    assert erp.post(f"{url}/comments", json={"body": "Parts ordered"}).status_code == 201
    got = erp.get(url).get_json()
    assert got["comments"][0] == got["comments"][0] | {"author": "api:erp", "body": "Parts ordered"}
    assert _audit_by(api.db, "ticket.open") == ["api:erp"]
    assert _audit_by(api.db, "ticket.status") == ["api:erp", "api:erp"]
    listed = erp.get(f"/api/v1/tickets?status=RESOLVED&machine_id={mid}").get_json()["items"]
    assert [t["id"] for t in listed] == [ticket["id"]]
    viewer = api.client(api.token(Role.VIEWER))
    assert viewer.post(f"{url}/comments", json={"body": "x"}).status_code == 403


def test_a_ticket_shows_its_sop_checklist_progress(api: ApiApp):
    _alarm(api.db, code="TEMP_HIGH")
    viewer = api.client(api.token(Role.VIEWER))
    tickets = viewer.get(f"/api/v1/tickets?status={TicketStatus.OPEN.value}").get_json()["items"]
    assert tickets, "the alarm opened a ticket"
    got = viewer.get(f"/api/v1/tickets/{tickets[0]['id']}").get_json()
    checklist = got["checklist"]
    assert checklist is not None and checklist["total"] == len(checklist["steps"]) > 0
    assert checklist["done"] == 0 and got["alarm_code"] == "TEMP_HIGH"


def test_photos_are_attached_listed_and_downloaded_with_the_ui_checks(db: Database, tmp_path):
    api = api_app(tmp_path, db, attachment_max_mb=0.01)  # 10 KiB
    erp = api.client(api.token(Role.MANAGER, name="erp"))
    made = erp.post("/api/v1/tickets", json={"machine_id": _machine_id(db), "title": "Belt"})
    url = f"/api/v1/tickets/{made.get_json()['id']}/attachments"
    photo = tiny_png()
    sent = erp.post(url, data={"file": (io.BytesIO(photo), "belt.bin")})  # content decides
    assert sent.status_code == 201, sent.get_json()
    stored = sent.get_json()
    assert stored["content_type"] == "image/png" and stored["uploaded_by"] == "api:erp"
    assert stored["sha256"] == hashlib.sha256(photo).hexdigest() and stored["size"] == len(photo)
    assert _audit_by(db, "ticket.attach") == ["api:erp"]
    listed = erp.get(url).get_json()
    assert [a["id"] for a in listed["items"]] == [stored["id"]] and listed["may_download"]
    got = erp.get(f"/api/v1/attachments/{stored['id']}")
    assert got.status_code == 200 and got.data == photo and got.mimetype == "image/png"
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    # the ticket page's checks: by content, not name; at most the settings' size
    as_text = erp.post(url, data={"file": "not a file part"})
    assert as_text.status_code == 400 and as_text.get_json()["errors"][0]["field"] == "file"
    text = erp.post(url, data={"file": (io.BytesIO(b"hello"), "photo.png")})
    assert text.status_code == 400 and text.mimetype == PROBLEM
    assert text.get_json()["errors"][0]["field"] == "file"
    big = erp.post(url, data={"file": (io.BytesIO(photo + bytes(12_000)), "big.png")})
    assert big.status_code == 400 and "the limit is" in big.get_json()["errors"][0]["message"]
    huge = erp.post(url, data={"file": (io.BytesIO(photo + bytes(200_000)), "huge.png")})
    assert huge.status_code == 413 and huge.mimetype == PROBLEM
    # a viewer sees the list but may neither download nor attach
    viewer = api.client(api.token(Role.VIEWER))
    assert viewer.get(url).get_json()["may_download"] is False
    assert viewer.get(f"/api/v1/attachments/{stored['id']}").status_code == 404
    assert viewer.post(url, data={"file": (io.BytesIO(photo), "x.png")}).status_code == 403
    assert erp.get("/api/v1/tickets/999999/attachments").status_code == 404
    assert count(db, Attachment) == 1


# --- predictions, reports, models ---------------------------------------------------------


def test_predictions_reports_and_models_read_like_the_pages(api: ApiApp):
    mid = _machine_id(api.db)
    now = _now()
    with api.db.session() as s:
        for i, p in enumerate((0.2, 0.9)):
            s.add(
                Prediction(
                    machine_id=mid,
                    ts=now - timedelta(minutes=10 - i),
                    failure_probability=p,
                    anomaly_score=0.1,
                    rul_hours=40.0,
                    top_sensors=["vibration"],
                    model_versions={"failure": 3},
                )
            )
    client = api.client(api.token(Role.VIEWER))
    latest = client.get("/api/v1/predictions/latest").get_json()["items"]
    assert [(p["machine"], p["failure_probability"]) for p in latest] == [("motor-01", 0.9)]
    # the window ends a minute ahead: the machines were added within this second, after ``now``
    # (which drops the microseconds), and a report counts only machines present in its range
    end = now + timedelta(minutes=1)
    window = f"start={(now - timedelta(hours=1)).isoformat()}&end={end.isoformat()}".replace(
        "+", "%2B"
    )
    history = client.get(f"/api/v1/machines/{mid}/predictions?{window}").get_json()["points"]
    assert max(p["failure_probability"] for p in history) == 0.9
    report = client.get(f"/api/v1/reports/breakdowns?{window}")
    assert report.status_code == 200, report.get_json()
    body = report.get_json()
    assert {m["machine"] for m in body["machines"]} == {"motor-01", "pump-01", "compressor-01"}
    assert body["total"]["breakdowns"] == 0 and body["total"]["availability"] == 1.0
    as_csv = client.get(f"/api/v1/reports/breakdowns?{window}&format=csv")
    assert as_csv.mimetype == "text/csv" and "motor-01" in as_csv.get_data(as_text=True)
    assert client.get("/api/v1/models").get_json() == {"items": []}
    assert client.get("/api/v1/models/active").get_json() == {"items": []}


def test_a_report_comes_as_a_pdf_with_the_json_numbers(api: ApiApp):
    mid = _machine_id(api.db)
    start = datetime(2026, 11, 2, tzinfo=UTC)  # two whole weeks, Monday to Sunday
    with api.db.session() as s:
        s.execute(update(Machine).values(created_at=start - timedelta(days=30)))
        s.add_all(
            Downtime(machine_id=mid, kind=DowntimeKind.BREAKDOWN, started_at=a, ended_at=b)
            for a, b in (
                (start + timedelta(days=2), start + timedelta(days=2, hours=3)),
                (start + timedelta(days=9), start + timedelta(days=9, hours=6)),
            )
        )
    window = "start=2026-11-02T00:00:00Z&end=2026-11-16T00:00:00Z"
    client = api.client(api.token(Role.VIEWER))
    numbers = client.get(f"/api/v1/reports/breakdowns?{window}").get_json()
    motor = next(m["stats"] for m in numbers["machines"] if m["machine"] == "motor-01")
    assert (motor["breakdowns"], motor["breakdown_h"], motor["mttr_h"]) == (2, 9.0, 4.5)
    answer = client.get(f"/api/v1/reports/breakdowns?{window}&format=pdf")
    assert answer.status_code == 200 and answer.mimetype == "application/pdf"
    assert answer.headers["Content-Disposition"].endswith('.pdf"')
    pdf = PdfReader(io.BytesIO(answer.data))
    text = "\n".join(page.extract_text() for page in pdf.pages)
    assert "Breakdown report" in text and "2026-11-02 to 2026-11-15" in text
    assert "motor-01" in text and "pump-01" in text
    fleet = numbers["total"]
    assert fleet["breakdowns"] == 2 and f"{fleet['availability']:.1%}".replace("%", " %") in text
    # the machine table's row: breakdowns, their hours, planned, availability, MTBF, MTTR
    row = next(line for line in text.splitlines() if line.startswith("motor-01 "))
    availability = f"{motor['availability']:.1%}".replace("%", " %")
    assert row == f"motor-01 motor 2 9 h 0 s {availability} 6 d 20 h 4 h 30 min"
    viewer_less = api.client(api.token(Role.TECHNICIAN))  # reports are for the office
    assert viewer_less.get(f"/api/v1/reports/breakdowns?{window}&format=pdf").status_code == 403


def test_the_spec_is_openapi_3_1_and_every_operation_needs_a_token(api: ApiApp):
    spec = api.client().get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.1")
    operations = [op for item in spec["paths"].values() for op in item.values()]
    assert len(operations) >= 19
    for op in operations:
        assert op["security"] == [{"bearer": []}]
        assert op["responses"]["401"]["content"] == {
            PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}
        }
    page = api.client().get("/api/v1/docs")
    assert page.status_code == 200 and "<script>" not in page.get_data(as_text=True)
    asset = api.client().get("/api/v1/docs/swagger/js/swagger-ui-bundle.js")
    assert asset.status_code == 200 and len(asset.data) > 100_000
