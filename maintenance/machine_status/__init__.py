"""What machines are doing: stops and downtime, running hours, maintenance windows, state."""
