"""MQTT ingest: paho client, bounded inbox, payload validation, idempotent batch writer."""
