"""Component ids, defined once: pages build layouts with them, callbacks wire them."""

# app shell
URL = "app-url"
NAV_USER = "nav-user"
SIGN_OUT = "sign-out"  # the menu's sign-out button (a form POST to /logout)
RED_BANNER = "red-banner"
RED_TICK = "red-tick"
ALARM_ACK = "alarm-ack"
LOW_STOCK = "low-stock"  # under the menu, for managers: parts at or below their minimum

# fleet page
FLEET_GRID = "fleet-grid"
FLEET_KPIS = "fleet-kpis"
FLEET_TICK = "fleet-tick"
FLEET_CURSOR = "fleet-cursor"
FLEET_GRAPH = "fleet-graph"
FLEET_BADGE = "fleet-badge"
FLEET_ALARMS = "fleet-alarms"
FLEET_RISK = "fleet-risk"
FLEET_MODE = "fleet-mode"
FLEET_CLOCK = "fleet-clock"  # the demo's note that its machines live faster than the clock
FLEET_CARD = "fleet-card"
FLEET_TYPE = "fleet-type"
FLEET_LOCATION = "fleet-location"

# tickets page
TICKETS_FILTER = "tickets-filter"
TICKETS_TABLE = "tickets-table"
TICKETS_TICK = "tickets-tick"
TICKETS_FEEDBACK = "tickets-feedback"
TICKETS_REFRESH = "tickets-refresh"
TICKET_ACTION = "ticket-action"
RESOLVE_MODAL = "resolve-modal"
RESOLVE_TITLE = "resolve-title"
RESOLVE_TICKET = "resolve-ticket"
RESOLVE_OUTCOME = "resolve-outcome"
RESOLVE_OUTCOME_ERROR = "resolve-outcome-error"
RESOLVE_CAUSE = "resolve-cause"
RESOLVE_ACTION = "resolve-action"
RESOLVE_PARTS = "resolve-parts"
RESOLVE_PARTS_ADD = "resolve-parts-add"
RESOLVE_PARTS_ERROR = "resolve-parts-error"
RESOLVE_PART = "resolve-part"  # one parts row: resolve_part(RESOLVE_PART, row, field)
RESOLVE_ALERT = "resolve-alert"
RESOLVE_STILL = "resolve-still-alarming"
RESOLVE_SUBMIT = "resolve-submit"
RESOLVE_CANCEL = "resolve-cancel"
RESOLVE_DOWN_START = "resolve-down-start"
RESOLVE_DOWN_END = "resolve-down-end"


def resolve_part(kind: str, row: object, field: str) -> dict[str, object]:
    """A field (part, qty, remove) of one spare-parts row of a resolve dialog."""
    return {"type": kind, "row": row, "field": field}


def alarm_ack(alarm_id: int) -> dict[str, object]:
    return {"type": ALARM_ACK, "alarm": alarm_id}


def fleet_card(machine_id: int) -> dict[str, object]:
    return {"type": FLEET_CARD, "machine": machine_id}


def fleet_graph(machine_id: int) -> dict[str, object]:
    return {"type": FLEET_GRAPH, "machine": machine_id}


def fleet_badge(machine_id: int) -> dict[str, object]:
    return {"type": FLEET_BADGE, "machine": machine_id}


def fleet_alarms(machine_id: int) -> dict[str, object]:
    return {"type": FLEET_ALARMS, "machine": machine_id}


def fleet_risk(machine_id: int) -> dict[str, object]:
    return {"type": FLEET_RISK, "machine": machine_id}


def ticket_action(ticket_id: int, action: str) -> dict[str, object]:
    return {"type": TICKET_ACTION, "ticket": ticket_id, "action": action}


# machine detail page
MACHINE_NAME = "machine-name"
MACHINE_HEADER = "machine-header"
MACHINE_RANGE = "machine-range"
MACHINE_GRAPH = "machine-graph"
MACHINE_POINTS = "machine-points"
MACHINE_EVENTS = "machine-events"
MACHINE_TICK = "machine-tick"
MACHINE_CURSOR = "machine-cursor"
MACHINE_STATE = "machine-state"  # its state (stopped, healthy, …) and risk, every tick

# alarms page
ALARMS_RANGE = "alarms-range"
ALARMS_GRID = "alarms-grid"
ALARMS_ACK = "alarms-ack"
ALARMS_CLEAR = "alarms-clear"
ALARMS_FEEDBACK = "alarms-feedback"
ALARMS_TICK = "alarms-tick"
ALARMS_REFRESH = "alarms-refresh"
SILENCE_MACHINE = "silence-machine"
SILENCE_HOURS = "silence-hours"
SILENCE_REASON = "silence-reason"
SILENCE_SUBMIT = "silence-submit"
SILENCE_FEEDBACK = "silence-feedback"
SILENCE_LIST = "silence-list"
SILENCE_CANCEL = "silence-cancel"


def silence_error(field: str) -> str:
    return f"silence-{field}-error"


def silence_cancel(silence_id: int) -> dict[str, object]:
    return {"type": SILENCE_CANCEL, "silence": silence_id}


# reports page
REPORT_RANGE = "report-range"
REPORT_PRESET = "report-preset"
REPORT_HEADLINE = "report-headline"
REPORT_KPIS = "report-kpis"
REPORT_WEEKS = "report-weeks"
REPORT_TYPES = "report-types"
REPORT_MACHINES = "report-machines"
REPORT_ALARMS = "report-alarms"
REPORT_CSV = "report-csv"
REPORT_PDF = "report-pdf"
REPORT_ERROR = "report-error"
REPORT_STORED = "report-stored"


# ticket detail page (/ticket/<id>)
TICKET_ID = "ticket-id"
TICKET_REFRESH = "ticket-refresh"  # a status changed: redraw the page
TICKET_ACTIVITY = "ticket-activity"  # a step or comment saved: redraw comments and history
TICKET_HEADER = "ticket-header"
TICKET_ALARM = "ticket-alarm"
TICKET_GRAPH = "ticket-graph"
TICKET_SOP = "ticket-sop"
TICKET_SOP_AFTER = "ticket-sop-after"
TICKET_STEP = "ticket-step"  # one checklist per step: {type, version, step}
TICKET_STEPS = "ticket-steps"
TICKET_STEPS_NOTE = "ticket-steps-note"
TICKET_STEPS_FEEDBACK = "ticket-steps-feedback"
TICKET_ACTIONS = "ticket-actions"
TICKET_DETAIL_ACTION = "ticket-detail-action"
TICKET_FEEDBACK = "ticket-feedback"
TICKET_COMMENTS = "ticket-comments"
TICKET_COMMENT_FORM = "ticket-comment-form"
TICKET_COMMENT_TEXT = "ticket-comment-text"
TICKET_COMMENT_ERROR = "ticket-comment-error"
TICKET_COMMENT_SUBMIT = "ticket-comment-submit"
TICKET_HISTORY = "ticket-history"
TICKET_RESOLVE_MODAL = "ticket-resolve-modal"
TICKET_RESOLVE_TITLE = "ticket-resolve-title"
TICKET_RESOLVE_OUTCOME = "ticket-resolve-outcome"
TICKET_RESOLVE_OUTCOME_ERROR = "ticket-resolve-outcome-error"
TICKET_RESOLVE_CAUSE = "ticket-resolve-cause"
TICKET_RESOLVE_ACTION = "ticket-resolve-action"
TICKET_RESOLVE_PARTS = "ticket-resolve-parts"
TICKET_RESOLVE_PARTS_ADD = "ticket-resolve-parts-add"
TICKET_RESOLVE_PARTS_ERROR = "ticket-resolve-parts-error"
TICKET_RESOLVE_PART = "ticket-resolve-part"
TICKET_RESOLVE_ALERT = "ticket-resolve-alert"
TICKET_RESOLVE_STILL = "ticket-resolve-still-alarming"
TICKET_RESOLVE_DOWN_START = "ticket-resolve-down-start"
TICKET_RESOLVE_DOWN_END = "ticket-resolve-down-end"
TICKET_RESOLVE_SUBMIT = "ticket-resolve-submit"
TICKET_RESOLVE_CANCEL = "ticket-resolve-cancel"


def ticket_detail_action(action: str) -> dict[str, object]:
    return {"type": TICKET_DETAIL_ACTION, "action": action}


def ticket_step(sop_version_id: int, step: int) -> dict[str, object]:
    return {"type": TICKET_STEP, "version": sop_version_id, "step": step}


# SOP library (/sops)
SOPS_CODE = "sops-code"
SOPS_SEARCH = "sops-search"
SOPS_LIST = "sops-list"
SOPS_REFRESH = "sops-refresh"
SOPS_HEADER = "sops-header"
SOPS_VERSION = "sops-version"
SOPS_BODY = "sops-body"
SOPS_HISTORY = "sops-history"
SOPS_EDITOR = "sops-editor"
SOPS_BASE = "sops-base"  # store: the version the editor started from
SOPS_TEXT = "sops-text"
SOPS_TEXT_ERROR = "sops-text-error"
SOPS_PREVIEW = "sops-preview"
SOPS_SAVE = "sops-save"
SOPS_FEEDBACK = "sops-feedback"

# audit page
AUDIT_RANGE = "audit-range"
AUDIT_GRID = "audit-grid"
AUDIT_CSV = "audit-csv"
AUDIT_ERROR = "audit-error"

# settings and jobs pages (administration)
SETTINGS_TABLE = "settings-table"
SETTINGS_REFRESH = "settings-refresh"
SETTING_INPUT = "setting-input"
SETTING_SAVE = "setting-save"
SETTING_RESET = "setting-reset"
SETTING_ERROR = "setting-error"
SETTINGS_FEEDBACK = "settings-feedback"
JOBS_TABLE = "jobs-table"
JOBS_TICK = "jobs-tick"
JOBS_FEEDBACK = "jobs-feedback"
JOB_RUN = "job-run"


def setting_field(kind: str, key: str) -> dict[str, object]:
    """One of a setting's controls: SETTING_INPUT, SETTING_SAVE, SETTING_RESET, SETTING_ERROR."""
    return {"type": kind, "key": key}


def job_run(job: str) -> dict[str, object]:
    return {"type": JOB_RUN, "job": job}


# users admin page (/admin/users)
USERS_GRID = "users-grid"
USERS_REFRESH = "users-refresh"
USERS_FEEDBACK = "users-feedback"
USERS_NEW_NAME = "users-new-name"
USERS_NEW_EMAIL = "users-new-email"
USERS_NEW_ROLE = "users-new-role"
USERS_NEW_MODE = "users-new-mode"  # "password" | "link"
USERS_NEW_PASSWORD = "users-new-password"
USERS_CREATE = "users-create"
USERS_EDIT = "users-edit"  # the card for the selected user
USERS_EDIT_TITLE = "users-edit-title"
USERS_ROLE = "users-role"
USERS_EMAIL = "users-email"
USERS_SKILLS = "users-skills"
USERS_SHIFT = "users-shift"  # "", a name of maintenance.users.SHIFTS, or "custom"
USERS_SHIFT_START = "users-shift-start"
USERS_SHIFT_END = "users-shift-end"
USERS_SAVE = "users-save"
USERS_ACTIVE = "users-active"  # deactivate / reactivate
USERS_TEMP_PASSWORD = "users-temp-password"
USERS_SET_PASSWORD = "users-set-password"
USERS_SEND_LINK = "users-send-link"


def users_error(field: str) -> str:
    """The message element next to a users-page field (e.g. "new-name", "role")."""
    return f"users-{field}-error"


# machine and sensor administration (/admin/machines)
ADMIN_MACHINES_GRID = "admin-machines-grid"
ADMIN_MACHINES_REFRESH = "admin-machines-refresh"  # store: bump to reload the grid
ADMIN_MACHINES_NOTE = "admin-machines-note"  # read-only note for managers
ADMIN_MACHINE_NEW = "admin-machine-new"
ADMIN_MACHINE_SHOW = "admin-machine-show"  # store: {"id": machine id or None, "n": nonce}
ADMIN_MACHINE_ID = "admin-machine-id"  # store: the machine in the form (None: a new one)
ADMIN_MACHINE_TITLE = "admin-machine-title"
ADMIN_MACHINE_NAME = "admin-machine-name"
ADMIN_MACHINE_TYPE = "admin-machine-type"
ADMIN_MACHINE_LOCATION = "admin-machine-location"
ADMIN_MACHINE_LINE = "admin-machine-line"
ADMIN_MACHINE_SAVE = "admin-machine-save"
ADMIN_MACHINE_RETIRE = "admin-machine-retire"
ADMIN_MACHINE_REACTIVATE = "admin-machine-reactivate"
ADMIN_MACHINE_FEEDBACK = "admin-machine-feedback"
ADMIN_MACHINE_TOPIC = "admin-machine-topic"
ADMIN_MACHINE_PAYLOAD = "admin-machine-payload"
ADMIN_SENSOR_ROWS = "admin-sensor-rows"
ADMIN_SENSOR_ADD = "admin-sensor-add"
ADMIN_SENSORS_ERROR = "admin-sensors-error"
ADMIN_SENSOR_FIELD = "admin-sensor-field"
ADMIN_SENSOR_ERROR = "admin-sensor-error"
ADMIN_SENSOR_ID = "admin-sensor-id"
ADMIN_SENSOR_REMOVE = "admin-sensor-remove"
FLEET_CSV_UPLOAD = "fleet-csv-upload"
FLEET_CSV_PREVIEW = "fleet-csv-preview"
FLEET_CSV_IMPORT = "fleet-csv-import"
FLEET_CSV_FEEDBACK = "fleet-csv-feedback"
FLEET_CSV_EXAMPLE = "fleet-csv-example"
FLEET_CSV_DOWNLOAD = "fleet-csv-download"


def admin_machine_error(field: str) -> str:
    return f"admin-machine-{field}-error"


def admin_sensor_field(row: int, field: str) -> dict[str, object]:
    return {"type": ADMIN_SENSOR_FIELD, "row": row, "field": field}


def admin_sensor_error(row: int, field: str) -> dict[str, object]:
    return {"type": ADMIN_SENSOR_ERROR, "row": row, "field": field}


def admin_sensor_id(row: int) -> dict[str, object]:
    return {"type": ADMIN_SENSOR_ID, "row": row}


def admin_sensor_remove(row: int) -> dict[str, object]:
    return {"type": ADMIN_SENSOR_REMOVE, "row": row}


# ticket assignment and escalation (ticket page: reassign control; lists: escalated badge)
TICKET_ASSIGN_FORM = "ticket-assign-form"
TICKET_ASSIGN_SELECT = "ticket-assign-select"
TICKET_ASSIGN_SUBMIT = "ticket-assign-submit"
TICKET_ASSIGN_FEEDBACK = "ticket-assign-feedback"
TICKET_ESCALATED = "ticket-escalated"


def ticket_escalated(ticket_id: int) -> str:
    return f"ticket-escalated-{ticket_id}"


# ticket attachments and work record (ticket page: files card, "Work record (PDF)" link)
TICKET_FILES = "ticket-files"
TICKET_FILES_UPLOAD = "ticket-files-upload"
TICKET_FILES_FORM = "ticket-files-form"  # the upload box: shown to who may upload
TICKET_FILES_FEEDBACK = "ticket-files-feedback"
TICKET_FILES_REFRESH = "ticket-files-refresh"
TICKET_RECORD_LINK = "ticket-record-link"


# spare parts (parts page: inventory grid, editor, low-stock warning; ticket page: parts card)
PARTS_GRID = "parts-grid"
PARTS_LOW = "parts-low"
PARTS_FEEDBACK = "parts-feedback"
PARTS_REFRESH = "parts-refresh"
PARTS_EDITOR = "parts-editor"
PARTS_ID = "parts-id"
PARTS_NUMBER = "parts-number"
PARTS_NAME = "parts-name"
PARTS_UNIT = "parts-unit"
PARTS_STOCK = "parts-stock"
PARTS_MIN = "parts-min"
PARTS_TYPES = "parts-types"
PARTS_SAVE = "parts-save"
PARTS_NEW = "parts-new"
TICKET_PARTS_USED = "ticket-parts-used"
TICKET_PARTS_FORM = "ticket-parts-form"
TICKET_PARTS_SELECT = "ticket-parts-select"
TICKET_PARTS_QTY = "ticket-parts-qty"
TICKET_PARTS_SUBMIT = "ticket-parts-submit"
TICKET_PARTS_FEEDBACK = "ticket-parts-feedback"

# preventive maintenance plans (plans page)
PLANS_GRID = "plans-grid"
PLANS_FEEDBACK = "plans-feedback"
PLANS_REFRESH = "plans-refresh"
PLANS_FORM = "plans-form"
PLANS_NAME = "plans-name"
PLANS_CODE = "plans-code"
PLANS_MACHINE = "plans-machine"
PLANS_TYPE = "plans-type"
PLANS_EVERY_DAYS = "plans-every-days"
PLANS_EVERY_HOURS = "plans-every-hours"
PLANS_LEAD = "plans-lead"
PLANS_CREATE = "plans-create"
PLANS_DEACTIVATE = "plans-deactivate"

# notification channels and the delivery log (admin notifications page)
NOTIFY_CHANNELS_GRID = "notify-channels-grid"
NOTIFY_LOG_GRID = "notify-log-grid"
NOTIFY_NOTE = "notify-note"
NOTIFY_FEEDBACK = "notify-feedback"
NOTIFY_REFRESH = "notify-refresh"
NOTIFY_CHANNEL_ID = "notify-channel-id"
NOTIFY_FORM_TITLE = "notify-form-title"
NOTIFY_NAME = "notify-name"
NOTIFY_KIND = "notify-kind"
NOTIFY_TARGET = "notify-target"
NOTIFY_SECRET = "notify-secret"
NOTIFY_EVENTS = "notify-events"
NOTIFY_NEW = "notify-new"
NOTIFY_SAVE = "notify-save"
NOTIFY_ACTIVE = "notify-active"
NOTIFY_TEST = "notify-test"
NOTIFY_TICK = "notify-tick"


def notify_error(field: str) -> str:
    return f"notify-{field}-error"
