"""Fleet simulator with labelled faults, publishing over MQTT; imports nothing of the app."""
