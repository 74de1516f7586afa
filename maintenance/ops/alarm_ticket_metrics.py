"""Prometheus metrics of alarms and tickets."""

from prometheus_client import Counter

ALARMS_OPENED = Counter("pdm_alarms_opened_total", "Alarms raised", ["source", "severity"])
ALARMS_CLEARED = Counter("pdm_alarms_cleared_total", "Alarms cleared")
TICKETS_OPENED = Counter("pdm_tickets_opened_total", "Tickets opened", ["priority"])
