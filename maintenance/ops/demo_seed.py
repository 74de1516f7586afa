"""The demo's starting point: its fleet, one account per role and the shipped SOPs."""

from __future__ import annotations

from config import Settings
from data.db import Database
from data.fleet_queries import MachineSpec, ensure_fleet
from data.leases import serialised
from data.models import Role
from maintenance.people.accounts import ensure_demo_accounts
from maintenance.procedures.sop_library import load_shipped_sops
from simulator.fleet_physics import demo_fleet

__all__ = ["seed_demo"]


def seed_demo(settings: Settings, db: Database) -> dict[str, str]:
    """Create the demo fleet (if any) and one account per role, and load the shipped SOPs
    that are missing; returns new {user: password}. Processes starting together seed one
    after the other (the later ones find everything there)."""
    specs = [MachineSpec.like(m) for m in demo_fleet(settings.demo_machines)]
    given = {
        Role.ADMIN: settings.admin_password,
        Role.MANAGER: settings.manager_password,
        Role.TECHNICIAN: settings.technician_password,
        Role.VIEWER: settings.viewer_password,
    }
    with db.session() as session:
        serialised(session=session, name="seed-demo")
        ensure_fleet(session=session, machines=specs)
        load_shipped_sops(session=session)
        return ensure_demo_accounts(session=session, given={r: p for r, p in given.items() if p})
