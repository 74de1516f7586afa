"""Alarms: raised and cleared by threshold rules and model predictions, and the red banner."""
