"""Prometheus metrics of the ingest path."""

from prometheus_client import Counter, Gauge, Histogram

READINGS_INGESTED = Counter("pdm_readings_ingested_total", "Readings committed to the database")
READINGS_DUPLICATE = Counter(
    "pdm_readings_duplicate_total", "Readings skipped because (sensor_id, ts) was already stored"
)
DEAD_LETTERS = Counter("pdm_dead_letters_total", "Refused messages or readings", ["reason"])
MESSAGES_RECEIVED = Counter("pdm_mqtt_messages_received_total", "MQTT messages received")
BROKER_REFUSALS = Counter(
    "pdm_mqtt_broker_refusals_total",
    "Packets the broker refused as over its max_packet_size (read from its log topic)",
)
QUEUE_DEPTH = Gauge("pdm_ingest_queue_depth", "Messages received but not yet committed and acked")
DRAIN_SECONDS = Histogram("pdm_ingest_drain_seconds", "Time to write and ack one drained batch")
DB_WRITE_FAILURES = Counter("pdm_ingest_db_failures_total", "Batches that failed to commit")
# the drain's pipeline (ingest/writer.py): where its time goes, for profiles and the bench
PARSE_SECONDS = Counter(
    "pdm_ingest_parse_seconds", "Seconds the drain spent parsing and mapping batches"
)
COMMIT_SECONDS = Counter(
    "pdm_ingest_commit_seconds", "Seconds the committer spent writing and committing batches"
)
COMMIT_WAIT_SECONDS = Counter(
    "pdm_ingest_commit_wait_seconds",
    "Seconds the drain waited for a commit with the next batch already parsed (or none)",
)
