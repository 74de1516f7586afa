"""Tickets: opening, the status flow, assignment, escalation and the lists."""
