"""Who may do what: one table from each action to the roles that may do it.

Pages (the menu and page access), callbacks (``web.server.auth.require``), Flask routes, the
domain's own checks and the UI's hiding of controls all ask this table. Some actions are narrowed
per ticket by the domain: a technician works only on the tickets assigned to them
(``maintenance.ticketing.ticket_flow.may_change``), the roles of ``TICKET_WORK_ANY`` on any.

An API token may be narrowed further to *scopes* (an edge gateway that only posts readings, a
historian that only reads): ``SCOPE_OF`` names the scope each action needs, and a scoped
token may do an action only if its role may and one of its scopes is that one.
"""

from __future__ import annotations

import enum
from types import MappingProxyType

from data.models import Role

__all__ = ["Action", "PERMISSIONS", "SCOPE_OF", "Scope", "allowed", "roles_for"]


class Action(enum.StrEnum):
    APP_USE = "app.use"  # the frame around every page: the user's name, the red warning
    SESSION_OWN = "session.own"  # the account page: see and end one's own sessions
    FLEET_VIEW = "fleet.view"  # the fleet and machine pages
    ALARM_VIEW = "alarm.view"
    ALARM_ACKNOWLEDGE = "alarm.acknowledge"  # on the alarms page and the red warning
    ALARM_CLEAR = "alarm.clear"
    ALARM_SILENCE = "alarm.silence"  # maintenance windows: add and cancel
    TICKET_VIEW = "ticket.view"  # the tickets and ticket pages, a ticket's files and parts
    TICKET_WORK = "ticket.work"  # start, put back, reopen, resolve; tick checklist steps
    TICKET_WORK_ANY = "ticket.work_any"  # ... any ticket, not only one's own
    TICKET_COMMENT = "ticket.comment"
    TICKET_REASSIGN = "ticket.reassign"
    TICKET_OPEN = "ticket.open"  # open a ticket by hand (an ERP's work order, over the API)
    TICKET_ATTACH = "ticket.attach"  # upload files to a ticket (and the bigger request size)
    TICKET_FILES_ANY = "ticket.files_any"  # attach to and download from any ticket
    TICKET_RECORD_ANY = "ticket.record_any"  # download any ticket's work record
    TICKET_USE_PARTS = "ticket.use_parts"  # take spare parts from stock for a ticket
    SOP_VIEW = "sop.view"
    SOP_EDIT = "sop.edit"
    PLAN_VIEW = "plan.view"
    PLAN_EDIT = "plan.edit"
    PART_VIEW = "part.view"
    PART_EDIT = "part.edit"  # and the low-stock warning: it is for the people who reorder
    REPORT_VIEW = "report.view"  # the page and its CSV/PDF downloads
    AUDIT_VIEW = "audit.view"  # the page and its CSV download
    LAB_USE = "lab.use"  # the model lab: its page, runs, exports and backtest reports
    MODEL_HEALTH_VIEW = "model_health.view"  # drift and realised alarm quality per type
    SETTINGS_VIEW = "settings.view"
    SETTINGS_EDIT = "settings.edit"
    JOB_VIEW = "job.view"
    JOB_RUN = "job.run"
    FLEET_ADMIN_VIEW = "fleet_admin.view"  # the machines and machine types admin page
    FLEET_ADMIN_EDIT = "fleet_admin.edit"
    NOTIFICATION_VIEW = "notification.view"  # the notification channels admin page
    NOTIFICATION_EDIT = "notification.edit"
    USER_MANAGE = "user.manage"  # the users page: every read and write on it
    METRICS_READ = "metrics.read"  # /metrics without the scrape token
    API_TOKEN_MANAGE = "api_token.manage"  # the API tokens page: create, list, revoke
    READINGS_INGEST = "readings.ingest"  # POST readings to /api/v1 (a gateway's token)


_ALL = frozenset(Role)
_STAFF = frozenset({Role.ADMIN, Role.MANAGER})
_ADMIN = frozenset({Role.ADMIN})
_HANDS_ON = frozenset({Role.ADMIN, Role.MANAGER, Role.ENGINEER, Role.TECHNICIAN})
_WORKERS = frozenset({Role.ADMIN, Role.MANAGER, Role.TECHNICIAN})
_OFFICE = frozenset({Role.ADMIN, Role.MANAGER, Role.ENGINEER})
_READERS = frozenset({Role.ADMIN, Role.MANAGER, Role.ENGINEER, Role.VIEWER})
_ENGINEERING = frozenset({Role.ADMIN, Role.ENGINEER})

PERMISSIONS: MappingProxyType[Action, frozenset[Role]] = MappingProxyType(
    {
        Action.APP_USE: _ALL,
        Action.SESSION_OWN: _ALL,
        Action.FLEET_VIEW: _ALL,
        Action.ALARM_VIEW: _ALL,
        Action.ALARM_ACKNOWLEDGE: _HANDS_ON,
        Action.ALARM_CLEAR: _OFFICE,
        Action.ALARM_SILENCE: _OFFICE,
        Action.TICKET_VIEW: _ALL,
        Action.TICKET_WORK: _WORKERS,
        Action.TICKET_WORK_ANY: _STAFF,
        Action.TICKET_COMMENT: _HANDS_ON,
        Action.TICKET_REASSIGN: _STAFF,
        Action.TICKET_OPEN: _STAFF,
        Action.TICKET_ATTACH: _HANDS_ON,
        Action.TICKET_FILES_ANY: _OFFICE,
        # an audit document: read-only roles (viewers stand for auditors) read every one
        Action.TICKET_RECORD_ANY: _READERS,
        Action.TICKET_USE_PARTS: _WORKERS,
        Action.SOP_VIEW: _ALL,
        Action.SOP_EDIT: _ENGINEERING,
        Action.PLAN_VIEW: _ALL,
        Action.PLAN_EDIT: _OFFICE,
        Action.PART_VIEW: _HANDS_ON,
        Action.PART_EDIT: _STAFF,
        Action.REPORT_VIEW: _READERS,
        Action.AUDIT_VIEW: _STAFF,
        Action.LAB_USE: _ENGINEERING,
        Action.MODEL_HEALTH_VIEW: _OFFICE,
        Action.SETTINGS_VIEW: _STAFF,
        Action.SETTINGS_EDIT: _ADMIN,
        Action.JOB_VIEW: _STAFF,
        Action.JOB_RUN: _ADMIN,
        Action.FLEET_ADMIN_VIEW: _STAFF,
        Action.FLEET_ADMIN_EDIT: _ADMIN,
        Action.NOTIFICATION_VIEW: _STAFF,
        Action.NOTIFICATION_EDIT: _ADMIN,
        Action.USER_MANAGE: _ADMIN,
        Action.METRICS_READ: _STAFF,
        Action.API_TOKEN_MANAGE: _ADMIN,
        Action.READINGS_INGEST: _ENGINEERING,
    }
)


class Scope(enum.StrEnum):
    """What an API token may be limited to, on top of its role."""

    READ = "read"  # every read its role may do
    READINGS_WRITE = "readings:write"  # post readings
    ALARMS_WRITE = "alarms:write"  # acknowledge, clear
    TICKETS_WRITE = "tickets:write"  # open, work, comment, attach
    MACHINES_WRITE = "machines:write"  # create, change, retire machines and sensors


# the scope each action needs from a scoped token; an action missing here (the pages' own)
# is refused to every scoped token
SCOPE_OF: MappingProxyType[Action, Scope] = MappingProxyType(
    {
        Action.FLEET_VIEW: Scope.READ,
        Action.ALARM_VIEW: Scope.READ,
        Action.TICKET_VIEW: Scope.READ,
        Action.REPORT_VIEW: Scope.READ,
        Action.READINGS_INGEST: Scope.READINGS_WRITE,
        Action.ALARM_ACKNOWLEDGE: Scope.ALARMS_WRITE,
        Action.ALARM_CLEAR: Scope.ALARMS_WRITE,
        Action.TICKET_OPEN: Scope.TICKETS_WRITE,
        Action.TICKET_WORK: Scope.TICKETS_WRITE,
        Action.TICKET_COMMENT: Scope.TICKETS_WRITE,
        Action.TICKET_ATTACH: Scope.TICKETS_WRITE,
        Action.FLEET_ADMIN_EDIT: Scope.MACHINES_WRITE,
    }
)


def roles_for(action: Action) -> frozenset[Role]:
    """The roles that may do ``action``."""
    return PERMISSIONS[action]


def allowed(role: Role | None, action: Action, scopes: frozenset[Scope] | None = None) -> bool:
    """Whether ``role`` may do ``action``; nobody signed in (None) may do nothing. ``scopes``:
    an API token's, narrowing its role (None: not narrowed)."""
    if role is None or role not in PERMISSIONS[action]:
        return False
    return scopes is None or SCOPE_OF.get(action) in scopes
