"""Preventive maintenance plans by calendar or running hours, opening planned tickets."""
