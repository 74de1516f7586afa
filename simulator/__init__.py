"""Fleet simulator with labelled faults, publishing over MQTT; imports nothing of the app,
except ``config`` (``thread.py``, the demo's simulator inside the app's process)."""
