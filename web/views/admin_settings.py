"""The settings page's ids (administration)."""

SETTINGS_TABLE = "settings-table"
SETTINGS_REFRESH = "settings-refresh"
SETTING_INPUT = "setting-input"
SETTING_SAVE = "setting-save"
SETTING_RESET = "setting-reset"
SETTING_ERROR = "setting-error"
SETTINGS_FEEDBACK = "settings-feedback"
ADMIN_NOTE = "admin-note"


def setting_field(kind: str, key: str) -> dict[str, object]:
    """One of a setting's controls: SETTING_INPUT, SETTING_SAVE, SETTING_RESET, SETTING_ERROR."""
    return {"type": kind, "key": key}
