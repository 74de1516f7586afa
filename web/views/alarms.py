"""The alarms page's ids: the alarm grid and its actions, the maintenance windows."""

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
ALARMS_NOTE = "alarms-note"
SILENCE_NONE = "silence-none"


def silence_error(field: str) -> str:
    return f"silence-{field}-error"


def silence_cancel(silence_id: int) -> dict[str, object]:
    return {"type": SILENCE_CANCEL, "silence": silence_id}
