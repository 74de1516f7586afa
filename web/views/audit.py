"""The audit page's ids."""

AUDIT_RANGE = "audit-range"
AUDIT_GRID = "audit-grid"
AUDIT_CSV = "audit-csv"
AUDIT_ERROR = "audit-error"
