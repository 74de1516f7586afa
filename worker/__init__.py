"""The worker role, a composition root: MQTT ingest and the scheduled jobs (one module per
job or small group of jobs, scheduled by the table in ``worker.schedule``), its metrics
server, and ``python app.py backfill`` (``worker.backfill``)."""

from worker.lease_keeper import OneWorkerOnly
from worker.metrics_server import serve_worker_metrics
from worker.service import Worker

__all__ = ["OneWorkerOnly", "Worker", "serve_worker_metrics"]
