"""The demo's starting point: its fleet, one account per role, the demo technicians' skills
and shifts, and the shipped SOPs."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from config import Settings
from data.db import Database
from data.fleet_queries import MachineSpec, ensure_fleet
from data.leases import serialised
from data.models import Role, User
from maintenance.people.accounts import ensure_demo_accounts, hash_password
from maintenance.procedures.sop_library import load_shipped_sops
from simulator.fleet_physics import demo_fleet

__all__ = ["DEMO_TECHNICIANS", "DemoTechnician", "seed_demo"]


@dataclass(frozen=True, slots=True)
class DemoTechnician:
    username: str
    skills: tuple[str, ...]  # machine types
    shift: tuple[int, int] | None  # UTC hours [start, end); None: any time (on call)


# The signed-in demo technician ("technician") is the fleet's only motor specialist, on call
# at any time: motor-01's early fault always reaches them. Two colleagues cover pumps and
# compressors on a day and a night shift, so every assignment reason says something true.
DEMO_TECHNICIANS = (
    DemoTechnician("technician", ("motor",), None),
    DemoTechnician("dana", ("pump", "compressor"), (6, 18)),
    DemoTechnician("noor", ("pump", "compressor"), (18, 6)),
)


def seed_demo(settings: Settings, db: Database) -> dict[str, str]:
    """Create the demo fleet (if any), one account per role and the demo technicians, and
    load the shipped SOPs that are missing; returns new {user: password}. Processes starting
    together seed one after the other (the later ones find everything there)."""
    specs = [MachineSpec.like(m) for m in demo_fleet(settings.demo_machines)]
    given = {
        Role.ADMIN: settings.admin_password,
        Role.MANAGER: settings.manager_password,
        Role.ENGINEER: settings.engineer_password,
        Role.TECHNICIAN: settings.technician_password,
        Role.VIEWER: settings.viewer_password,
    }
    with db.session() as session:
        serialised(session=session, name="seed-demo")
        ensure_fleet(session=session, machines=specs)
        load_shipped_sops(session=session)
        created = ensure_demo_accounts(session=session, given={r: p for r, p in given.items() if p})
        created.update(_technicians(session, fresh=set(created)))
        return created


def _technicians(session: Session, fresh: set[str]) -> dict[str, str]:
    """The demo technicians with their skills and shifts: new ones created (their passwords
    returned), and the demo's own "technician" given its skills and shift when just created
    (an account someone has edited since keeps its edits)."""
    created: dict[str, str] = {}
    for tech in DEMO_TECHNICIANS:
        user = session.scalar(select(User).where(User.username == tech.username))
        if user is None:
            created[tech.username] = password = secrets.token_urlsafe(9)
            user = User(
                username=tech.username, password_hash=hash_password(password), role=Role.TECHNICIAN
            )
            session.add(user)
        elif tech.username not in fresh:
            continue
        user.skills = list(tech.skills)
        user.shift_start, user.shift_end = tech.shift or (None, None)
    session.flush()
    return created
