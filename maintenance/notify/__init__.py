"""Notifications: the outbox, the channels admins configure, delivery by email and webhook."""
