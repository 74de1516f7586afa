"""Model health: drift of the live data from what the active models learned (stored per
check), the drift alarm that points engineers to the lab, and the alarms' realised quality
from technicians' verdicts."""
