"""Real PostgreSQL and Mosquitto servers for tests: started from the Debian binaries on
loopback ports in a temporary directory, stopped (and removed) afterwards."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

__all__ = [
    "free_port",
    "wait_port",
    "timescaledb_installed",
    "NO_TIMESCALEDB",
    "PostgresServer",
    "MosquittoServer",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on port {port} after {timeout}s")


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if found:
        return found[-1]
    path = shutil.which(name)
    if not path:
        raise RuntimeError(f"PostgreSQL's {name} not found: apt-get install postgresql")
    return path


NO_TIMESCALEDB = (
    "TimescaleDB is not installed in this PostgreSQL (no timescaledb*.so in pg_config "
    "--pkglibdir); scripts/test.sh builds it when ../shared/timescaledb is present"
)


def timescaledb_installed() -> bool:
    """True when this PostgreSQL has the TimescaleDB library (scripts/test.sh builds it)."""
    libdir = subprocess.run(
        [_pg_bin("pg_config"), "--pkglibdir"], capture_output=True, text=True, check=True
    ).stdout.strip()
    return bool(glob.glob(f"{libdir}/timescaledb*.so"))


class PostgresServer:
    """A throwaway PostgreSQL cluster (trust auth, loopback only). ``timescale``: started
    with TimescaleDB in ``shared_preload_libraries`` (it takes effect at the next restart
    when changed on a running server)."""

    def __init__(self, timescale: bool = False) -> None:
        self.timescale = timescale
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="pdm-pg-"))
        self.data = self.dir / "data"
        self._as_postgres = os.geteuid() == 0  # initdb refuses to run as root
        self._counter = 0

    def _run(self, *cmd: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        if self._as_postgres:
            cmd = ("runuser", "-u", "postgres", "--", *cmd)
        return subprocess.run(cmd, check=check, capture_output=True, text=True, timeout=120)

    def start(self) -> PostgresServer:
        if self._as_postgres:
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        self._run(
            _pg_bin("initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        )
        self.ctl("start")
        return self

    def ctl(self, action: str, *extra: str) -> None:
        """pg_ctl start/stop/restart (stop in 'immediate' mode simulates a crash)."""
        # fsync off only risks data on an OS crash, which no test simulates; synchronous_commit
        # stays on: an acknowledged commit must survive a PostgreSQL crash (the outage test)
        opts = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c full_page_writes=off"
        )
        if self.timescale:
            opts += " -c shared_preload_libraries=timescaledb -c timescaledb.telemetry_level=off"
            # TimescaleDB runs a job scheduler per database that has the extension, plus one
            # worker per running job: the session's cluster holds dozens of test databases,
            # each with its aggregates' refresh jobs (PostgreSQL's default of 8 workers left a
            # later test's jobs waiting for a slot for ever)
            opts += " -c max_worker_processes=64 -c timescaledb.max_background_workers=48"
        args = [_pg_bin("pg_ctl"), "-D", str(self.data), "-w", "-t", "60", action, *extra]
        if action in ("start", "restart"):
            args += ["-o", opts, "-l", str(self.dir / "log")]
        self._run(*args)

    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def new_database(self) -> str:
        """A fresh empty database; returns its SQLAlchemy URL."""
        self._counter += 1
        name = f"pdm_test_{os.getpid()}_{self._counter}"
        with psycopg.connect(self.admin_url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        self._run(
            _pg_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False
        )
        shutil.rmtree(self.dir, ignore_errors=True)


MOSQUITTO_CONF = """\
listener {port} 127.0.0.1
allow_anonymous true
# Defaults (20 in flight, 1000 queued) silently drop bursts; see docs/reliability.md.
max_inflight_messages 1000
max_queued_messages 1000000
max_queued_bytes 0
persistence {persistence}
persistence_location {dir}/
autosave_interval 1
log_dest file {dir}/mosquitto.log
user {user}
"""


class MosquittoServer:
    """A throwaway Mosquitto broker on a loopback port."""

    def __init__(self, persistence: bool = False, extra: str = "") -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="pdm-mqtt-"))
        self.persistence = persistence
        self.extra = extra  # more configuration lines (e.g. the shipped size limit)
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> MosquittoServer:
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not Path(binary).exists():
            raise RuntimeError("mosquitto not found: apt-get install mosquitto")
        conf = self.dir / "mosquitto.conf"
        conf.write_text(
            MOSQUITTO_CONF.format(
                port=self.port,
                dir=self.dir,
                persistence=str(self.persistence).lower(),
                user=pwd.getpwuid(os.geteuid()).pw_name,
            )
            + self.extra
        )
        self._proc = subprocess.Popen(
            [binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_port(self.port)
        return self

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
            self._proc = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
