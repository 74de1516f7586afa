"""Domain logic: accounts, threshold rules, alarms, tickets and their assignment. No web code."""
