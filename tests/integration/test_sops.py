"""The SOP library and working a ticket against it, on SQLite and PostgreSQL: shipped SOPs
for every code rules and models emit, versions, step ticks and comments with who and when."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from factories import add_user, clear_tickets
from sqlalchemy import func, select, update

from data.db import Database
from data.fleet_queries import MachineSpec, SensorSpec, ensure_fleet
from data.models import (
    Alarm,
    AuditLog,
    Priority,
    Role,
    SopVersion,
    Ticket,
    TicketComment,
    TicketStatus,
    TicketStep,
)
from maintenance.alarming.prediction_alarms import (
    ANOMALY_CODE,
    FAILURE_CODE,
    MachineScore,
    apply_predictions,
    store_predictions,
)
from maintenance.alarming.threshold_rules import error_code
from maintenance.people.accounts import UserInfo
from maintenance.procedures.sop_library import (
    get_sop,
    list_sops,
    load_shipped_sops,
    save_sop,
    shipped_sops,
)
from maintenance.procedures.sop_text import SopError, check_sop, parse_sop
from maintenance.repair.ticket_detail import ticket_activity, ticket_detail
from maintenance.repair.ticket_work import MAX_COMMENT, WorkError, add_comment, set_step
from maintenance.ticketing.ticket_flow import change_status, open_ticket
from ml.alarm_policy import PredictionPolicy
from simulator.fleet_physics import MACHINE_TYPES


def _emitted_codes() -> set[str]:
    """Every code the threshold rules can raise for the demo sensors, and the models' codes."""
    kinds = {s.kind for t in MACHINE_TYPES.values() for s in t.sensors()}
    return {error_code(kind, side) for kind in kinds for side in ("HIGH", "LOW")} | {
        FAILURE_CODE,
        ANOMALY_CODE,
    }


def _user(db: Database, name: str, role: Role) -> UserInfo:
    return UserInfo(add_user(db, name, role), name, role)


def _ticket(db: Database, code: str = "VIB_HIGH") -> int:
    with db.session() as s:
        spec = MachineSpec(
            "motor-01",
            "motor",
            "Hall A",
            "Line 1",
            (SensorSpec("vibration", "vibration", "mm/s", warn_high=3.6, crit_high=5.4),),
        )
        ensure_fleet(session=s, machines=[spec])
        return open_ticket(
            session=s, machine_id=1, code=code, title="motor-01: vibration", priority=Priority.HIGH
        ).id


def test_shipped_sops_cover_every_emitted_code_and_parse(db: Database):
    assert len(_emitted_codes()) == 8
    with db.session() as s:
        added = load_shipped_sops(session=s)
    assert set(added) >= _emitted_codes()
    for code in _emitted_codes():
        text = shipped_sops()[code]
        parsed = check_sop(text)
        assert len(parsed.steps) >= 5, code
        assert "Safety" in parsed.before and "Tools" in parsed.before, code
        assert "Expected readings" in parsed.after, code
        assert "lockout-tagout" in text.lower(), code
    with db.session() as s:
        view = get_sop(session=s, code="VIB_HIGH")
    assert view.current_version == 1 and view.version.author == "shipped"
    assert view.steps[0].startswith("Read the trend") and len(view.steps) == 10


def test_loading_twice_changes_nothing_and_an_edit_survives_a_reload(db: Database):
    engineer = _user(db, "eng", Role.ENGINEER)
    with db.session() as s:
        load_shipped_sops(session=s)
    with db.session() as s:
        assert load_shipped_sops(session=s) == []
        versions = s.scalar(select(func.count(SopVersion.id)))
    assert versions == len(shipped_sops())

    edited = shipped_sops()["VIB_HIGH"].replace("10. Remove the lockout", "10. Remove LOTO")
    with db.session() as s:
        number = save_sop(session=s, code="VIB_HIGH", text=edited, user=engineer, base_version=1)
    assert number == 2
    with db.session() as s:
        assert load_shipped_sops(session=s) == []
        view = get_sop(session=s, code="VIB_HIGH")
        old = get_sop(session=s, code="VIB_HIGH", version=1)
        audit = s.scalars(select(AuditLog).where(AuditLog.action == "sop.edit")).all()
    assert view.current_version == 2 and view.version.author == "eng"
    assert view.steps[-1].startswith("Remove LOTO")
    assert old.steps[-1].startswith("Remove the lockout")
    assert [v.version for v in view.versions] == [2, 1]
    assert len(audit) == 1 and audit[0].user_id == engineer.id
    assert audit[0].before["version"] == 1 and audit[0].after["version"] == 2


def test_sop_validation_roles_and_concurrent_edits(db: Database):
    engineer = _user(db, "eng", Role.ENGINEER)
    technician = _user(db, "tech", Role.TECHNICIAN)
    with db.session() as s:
        load_shipped_sops(session=s)
    cases = {
        "": "Write the procedure",
        "---\ntitle: No steps\n---\n## Safety\n- careful\n": "at least one numbered step",
        "## Steps\n1. Do it\n": "Give it a title",
        "---\ntitle: x\n": "no closing",
    }
    for text, message in cases.items():
        with db.session() as s, pytest.raises(SopError, match=message):
            save_sop(session=s, code="NEW_CODE", text=text, user=engineer, base_version=None)
    good = "# Belt slipping\n\n## Steps\n1. Lock out.\n2. Tension the belt.\n"
    with db.session() as s, pytest.raises(SopError, match="engineers and admins"):
        save_sop(session=s, code="BELT_SLIP", text=good, user=technician, base_version=None)
    with db.session() as s, pytest.raises(SopError, match="capital letters"):
        save_sop(session=s, code="belt slip", text=good, user=engineer, base_version=None)
    with db.session() as s:
        assert save_sop(session=s, code="BELT_SLIP", text=good, user=engineer, base_version=None)
    with db.session() as s, pytest.raises(SopError, match="meanwhile"):  # someone saved v1
        save_sop(
            session=s, code="BELT_SLIP", text=good + "3. x\n", user=engineer, base_version=None
        )
    with db.session() as s, pytest.raises(SopError, match="Nothing changed"):
        save_sop(session=s, code="BELT_SLIP", text=good, user=engineer, base_version=1)
    with db.session() as s:
        assert [r.code for r in list_sops(session=s, search="belt")] == ["BELT_SLIP"]
        assert [r.code for r in list_sops(session=s, search="tension")] == ["BELT_SLIP"]
        assert [r.code for r in list_sops(session=s, search="overspeed")] == ["RPM_HIGH"]
        # the text is searched too: other procedures send the reader to RPM_LOW
        assert {"RPM_LOW", "VIB_LOW", "TEMP_LOW"} <= {
            r.code for r in list_sops(session=s, search="rpm_low")
        }
        assert list_sops(session=s, search="100%") == []


def test_numbered_steps_are_parsed_with_continuation_lines():
    parsed = parse_sop(
        "# T\n\nIntro\n\n## Procedure\n1. First\n   continued here\n2) Second\n\n## After\nok\n"
    )
    assert parsed.title == "T"
    assert parsed.steps == ["First continued here", "Second"]
    assert parsed.before == "Intro" and parsed.after == "## After\nok"


def test_step_ticks_and_comments_are_stored_with_user_and_time(db: Database):
    technician = _user(db, "tech", Role.TECHNICIAN)  # the only technician: gets the ticket
    other = _user(db, "tech2", Role.TECHNICIAN)
    viewer = _user(db, "look", Role.VIEWER)
    with db.session() as s:
        load_shipped_sops(session=s)
    ticket_id = _ticket(db)
    with db.session() as s:
        detail = ticket_detail(session=s, ticket_id=ticket_id, user=technician)
    checklist = detail.checklist
    assert detail.may_work and checklist.title == "Vibration above limit"
    assert len(checklist.steps) == 10 and checklist.done == []
    before = datetime.now(UTC) - timedelta(seconds=1)

    def tick(user: UserInfo, step: int, done: bool = True) -> bool:
        with db.session() as s:
            return set_step(
                session=s,
                ticket_id=ticket_id,
                sop_version_id=checklist.version_id,
                step=step,
                done=done,
                user=user,
            )

    assert tick(technician, 0) and tick(technician, 3)
    assert not tick(technician, 3)  # already done: nothing stored twice
    assert tick(technician, 3, done=False)
    for user, message in ((viewer, "role may not"), (other, "assigned to you")):
        with pytest.raises(WorkError, match=message):
            tick(user, 1)
    with pytest.raises(WorkError, match="no such step"):
        tick(technician, 10)

    with db.session() as s:
        add_comment(
            session=s, ticket_id=ticket_id, body="  Bearing <b>rough</b>  ", user=technician
        )
    for body, message in (("   ", "Write a comment"), ("x" * (MAX_COMMENT + 1), "at most 2,000")):
        with db.session() as s, pytest.raises(WorkError, match=message):
            add_comment(session=s, ticket_id=ticket_id, body=body, user=technician)
    with db.session() as s, pytest.raises(WorkError, match="may not comment"):
        add_comment(session=s, ticket_id=ticket_id, body="hello", user=viewer)

    with db.session() as s:
        steps = s.scalars(select(TicketStep).order_by(TicketStep.step)).all()
        comments = s.scalars(select(TicketComment)).all()
        detail = ticket_detail(session=s, ticket_id=ticket_id, user=viewer)
        _, history = ticket_activity(session=s, ticket_id=ticket_id)
    assert [(r.step, r.done, r.user_id) for r in steps] == [
        (0, True, technician.id),
        (3, False, technician.id),
    ]
    assert all(r.at >= before for r in steps)
    assert [(c.body, c.user_id) for c in comments] == [("Bearing <b>rough</b>", technician.id)]
    assert comments[0].created_at >= before
    assert detail.checklist.done == [0] and not detail.may_work and not detail.may_comment
    assert [(h.kind, h.who) for h in history] == [
        ("comment", "tech"),
        ("step", "tech"),
        ("step", "tech"),
        ("step", "tech"),
        ("open", "system"),
    ]
    assert history[1].text == "Unticked step 4: Stop the machine and apply lockout-tagout."


def test_a_ticket_keeps_the_sop_version_it_was_ticked_on(db: Database):
    technician = _user(db, "tech", Role.TECHNICIAN)
    admin = _user(db, "boss", Role.ADMIN)
    with db.session() as s:
        load_shipped_sops(session=s)
    ticket_id = _ticket(db)
    with db.session() as s:
        version_id = ticket_detail(
            session=s, ticket_id=ticket_id, user=technician
        ).checklist.version_id
        set_step(
            session=s,
            ticket_id=ticket_id,
            sop_version_id=version_id,
            step=0,
            done=True,
            user=technician,
        )
    text = "# Vibration v2\n\n## Steps\n1. One new step only\n"
    with db.session() as s:
        save_sop(session=s, code="VIB_HIGH", text=text, user=admin, base_version=1)
    with db.session() as s:
        checklist = ticket_detail(session=s, ticket_id=ticket_id, user=technician).checklist
    assert (checklist.version, checklist.current_version) == (1, 2)
    assert len(checklist.steps) == 10 and checklist.done == [0]
    fresh = _ticket(db, code="VIB_HIGH_NEW")  # no SOP for this code
    with db.session() as s:
        assert ticket_detail(session=s, ticket_id=fresh, user=technician).checklist is None
        change_status(session=s, ticket_id=ticket_id, to=TicketStatus.IN_PROGRESS, user=technician)
        change_status(
            session=s,
            ticket_id=ticket_id,
            to=TicketStatus.RESOLVED,
            user=technician,
            failure_confirmed=False,
        )
    with db.session() as s, pytest.raises(WorkError, match="reopen it"):
        set_step(
            session=s,
            ticket_id=ticket_id,
            sop_version_id=version_id,
            step=1,
            done=True,
            user=technician,
        )


def test_a_predicted_failure_shows_its_probability_and_contributing_sensors(db: Database):
    technician = _user(db, "tech", Role.TECHNICIAN)
    vibration = _ticket(db)  # the machine, with its vibration ticket open
    now = datetime.now(UTC)
    score = MachineScore(1, 0.4, False, 0.93, 3.0, ["vibration", "temperature"])
    with db.session() as s:
        load_shipped_sops(session=s)
        store_predictions(session=s, scores=[score], now=now, versions={"failure": 1})
        apply_predictions(session=s, scores=[score], now=now, policy=PredictionPolicy())
        assert s.scalar(select(func.count(Ticket.id))) == 1  # joined, not a second visit
    with db.session() as s:
        detail = ticket_detail(session=s, ticket_id=vibration, user=technician)
        _, history = ticket_activity(session=s, ticket_id=vibration)
    [joined] = detail.joined
    assert joined.source == "prediction" and "failure predicted" in joined.message
    assert "93" not in joined.message  # the numbers of the moment go stale: screens read them
    assert [h.text for h in history[:2]] == [
        "Priority raised from HIGH to CRITICAL",
        f"Joined by alarm {FAILURE_CODE}: {joined.message}",
    ]
    assert detail.prediction.top_sensors == ["vibration", "temperature"]
    assert detail.checklist.title == "Vibration above limit"  # the ticket's own SOP
    # with no ticket open, the prediction opens its own, worked by the model's SOP
    later = now + timedelta(minutes=5)
    with db.session() as s:
        clear_tickets(s)
        s.execute(update(Alarm).values(cleared_at=now))
        store_predictions(session=s, scores=[score], now=later, versions={"failure": 1})
        apply_predictions(session=s, scores=[score], now=later, policy=PredictionPolicy())
        ticket_id = s.scalar(select(Ticket.id).where(Ticket.code == FAILURE_CODE))
    with db.session() as s:
        detail = ticket_detail(session=s, ticket_id=ticket_id, user=technician)
    assert detail.alarm.source == "prediction" and "failure predicted" in detail.alarm.message
    assert detail.joined == []
    assert detail.prediction.failure_probability == pytest.approx(0.93)
    assert detail.prediction.top_sensors == ["vibration", "temperature"]
    assert detail.checklist.title == "Failure predicted by the model"
