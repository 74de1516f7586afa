"""Fleet simulator with labelled faults, publishing over MQTT; imports nothing of the app,
except ``simulator.backfill``, the one command that writes history into the database."""
