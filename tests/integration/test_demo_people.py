"""The demo's people on both backends (issue 14): an account per role, the engineer included;
demo technicians whose skills and shifts make each assignment reason say something true;
forms refused on every bad field at once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from factories import add_user
from sqlalchemy import select

from config import load_settings
from data.models import Machine, Role, User
from maintenance.ops.demo_seed import seed_demo
from maintenance.people.accounts import UserInfo, authenticate
from maintenance.people.user_admin import UserError, create_user
from maintenance.planning.preventive_plans import PlanError, create_plan
from maintenance.ticketing.assignment import assign_technician
from ml.lab.params import LabError, check_params


def _machine(db, name: str) -> int:  # noqa: ANN001
    with db.session() as s:
        return s.scalar(select(Machine.id).where(Machine.name == name))


def test_every_role_has_a_demo_account_and_technicians_have_skills_and_shifts(db, tmp_path):
    created = seed_demo(load_settings(var_dir=tmp_path, demo_machines=3), db)
    assert {"admin", "manager", "engineer", "technician", "viewer", "dana", "noor"} <= set(created)
    with db.session() as s:
        engineer = authenticate(session=s, username="engineer", password=created["engineer"])
        assert engineer is not None and engineer.role is Role.ENGINEER
        techs = {
            u.username: (sorted(u.skills), u.shift_start, u.shift_end)
            for u in s.scalars(select(User).where(User.role == Role.TECHNICIAN))
        }
    assert techs == {
        "technician": (["motor"], None, None),
        "dana": (["compressor", "pump"], 6, 18),
        "noor": (["compressor", "pump"], 18, 6),
    }
    assert seed_demo(load_settings(var_dir=tmp_path, demo_machines=3), db) == {}  # once


def test_assignment_reasons_name_skill_and_shift(db, tmp_path):
    seed_demo(load_settings(var_dir=tmp_path, demo_machines=3), db)
    names = {}
    with db.session() as s:
        names = {u.id: u.username for u in s.scalars(select(User))}
        day, night = datetime(2026, 12, 7, 10, tzinfo=UTC), datetime(2026, 12, 7, 22, tzinfo=UTC)
        motor = assign_technician(session=s, machine_id=_machine(db, "motor-01"), now=night)
        pump_day = assign_technician(session=s, machine_id=_machine(db, "pump-01"), now=day)
        pump_night = assign_technician(session=s, machine_id=_machine(db, "pump-01"), now=night)
    assert names[motor.technician_id] == "technician"
    assert motor.reason == "assigned: skill motor, on shift any time, 0 open tickets"
    assert names[pump_day.technician_id] == "dana"
    assert pump_day.reason == "assigned: skill pump, on shift 06-18, 0 open tickets"
    assert names[pump_night.technician_id] == "noor"
    assert "nobody on shift" not in pump_night.reason


def test_forms_are_refused_on_every_bad_field_at_once(db, tmp_path):
    seed_demo(load_settings(var_dir=tmp_path, demo_machines=3), db)
    admin = add_user(db, "forms-admin", Role.ADMIN)
    with db.session() as s, pytest.raises(UserError) as refused:
        create_user(
            session=s,
            actor_id=admin,
            username="ok-name",
            email="bad@",
            role="viewer",
            password="abc",
        )
    assert set(refused.value.messages) == {"email", "password"}
    assert "at least 10" in refused.value.messages["password"]

    manager = UserInfo(add_user(db, "forms-manager", Role.MANAGER), "forms-manager", Role.MANAGER)
    with db.session() as s:
        create_plan(session=s, user=manager, name="Grease", code="PM_LUBRICATION", every_days=9,
                    machine_type="motor")  # fmt: skip
    with db.session() as s, pytest.raises(PlanError) as plan:
        create_plan(session=s, user=manager, name="grease", code="NOPE", machine_type="boat")
    assert set(plan.value.messages) == {"name", "code", "target", "every"}
    assert "exists already" in plan.value.messages["name"]
    assert "no SOP NOPE" in plan.value.messages["code"]

    with pytest.raises(LabError) as lab:
        check_params("train", {"contamination": "abc", "epochs": 500, "features": []})
    assert set(lab.value.messages) == {"contamination", "epochs", "features"}
