"""The factory manager's breakdown report: its numbers, CSV and PDF."""
