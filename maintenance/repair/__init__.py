"""Working a ticket: its detail, SOP checklist and comments, files, resolution, record."""
