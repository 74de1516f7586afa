"""Spare parts: the inventory, parts used on tickets, low stock."""
