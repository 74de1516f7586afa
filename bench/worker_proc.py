"""The real worker (``python app.py worker``) in a subprocess, watched from outside.

Settings reach it the way they reach production: ``PDM_*`` environment variables
(only the benchmark's: any ``PDM_*`` of the calling shell is dropped).
Progress comes from its ``/metrics`` (``pdm_readings_ingested_total``); its peak
resident memory from ``VmHWM`` in ``/proc/<pid>/status``.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from .servers import REPO, free_port

__all__ = ["WorkerProcess"]

log = logging.getLogger(__name__)


class WorkerProcess:
    """Start, watch and stop one worker process."""

    def __init__(
        self,
        *,
        database_url: str,
        mqtt_port: int,
        var_dir: Path,
        tuning: dict[str, str],
        launcher: list[str] | None = None,
    ) -> None:
        """``launcher``: what runs ``app.py worker`` (default: this Python; e.g. the
        sampling profiler, ``[python, -m, bench.stack_sampler, OUT]``)."""
        self._launcher = launcher or [sys.executable]
        self.metrics_port = free_port()
        self.log_path = var_dir / "worker.log"
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("PDM_")}
        self.env = inherited | {
            "PDM_DATABASE_URL": database_url,
            "PDM_MQTT_URL": f"mqtt://127.0.0.1:{mqtt_port}",
            "PDM_MQTT_CLIENT_ID": f"pdm-bench-{uuid.uuid4().hex[:8]}",
            "PDM_MQTT_SESSION_EXPIRY_S": "0",  # nothing queued for it after the phase
            "PDM_DEMO_MACHINES": "0",  # the benchmark seeds its own fleet
            "PDM_ML_AUTOTRAIN": "false",  # no model training inside a measurement
            "PDM_SIMULATOR": "false",
            "PDM_VAR_DIR": str(var_dir),
            "PDM_WORKER_METRICS_PORT": str(self.metrics_port),
        }
        self.env |= tuning
        self._proc: subprocess.Popen[bytes] | None = None
        self._peak_kb = 0

    def start(self, timeout: float = 60.0) -> None:
        """Launch and wait until /readyz says database, broker and scheduler are ready."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as out:
            self._proc = subprocess.Popen(
                [*self._launcher, "app.py", "worker"],
                cwd=REPO,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"worker exited ({self._proc.returncode}):\n{self.log_tail()}")
            if self._get("/readyz") is not None:
                time.sleep(0.5)  # the subscription is sent on connect; let its SUBACK land
                log.info("worker ready (pid %d)", self._proc.pid)
                return
            time.sleep(0.2)
        raise TimeoutError(f"worker not ready after {timeout}s:\n{self.log_tail()}")

    def ingested(self) -> int:
        """pdm_readings_ingested_total, or -1 when /metrics does not answer."""
        body = self._get("/metrics")
        if body is None:
            return -1
        for line in body.splitlines():
            if line.startswith("pdm_readings_ingested_total "):
                return int(float(line.split()[1]))
        return 0

    def metric(self, name: str) -> float:
        """One unlabelled sample of its /metrics (0 when missing or unanswered)."""
        for line in (self._get("/metrics") or "").splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        return 0.0

    def peak_rss_mb(self) -> float:
        """Highest resident set size of the worker so far (VmHWM), in MiB."""
        self._sample_peak()
        return self._peak_kb / 1024

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM (graceful: drain, ack, disconnect); SIGKILL if it does not exit."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        self._sample_peak(proc.pid)
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("worker did not stop in %ss; killing it", timeout)
            proc.kill()
            proc.wait()

    @property
    def pid(self) -> int:
        assert self._proc is not None
        return self._proc.pid

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def _sample_peak(self, pid: int | None = None) -> None:
        pid = pid if pid is not None else (self._proc.pid if self._proc else None)
        if pid is None:
            return
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    self._peak_kb = max(self._peak_kb, int(line.split()[1]))
        except OSError:
            pass

    def _get(self, path: str) -> str | None:
        url = f"http://127.0.0.1:{self.metrics_port}{path}"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
                return response.read().decode()
        except (urllib.error.URLError, OSError):
            return None
