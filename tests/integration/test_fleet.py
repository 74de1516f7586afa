"""Three ``python app.py worker`` processes and one web process, started at the same instant
on an empty PostgreSQL with Mosquitto, as ``docker-compose up --scale worker=3`` runs them:
they all come up; each fleet-wide job runs on one worker (the holder of its lease); a fault
raises one alarm per machine and code; every notification reaches a slow webhook once;
the leader killed with kill -9, the others take its leases once they expire."""

from __future__ import annotations

import json
import os
import re
import signal
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from app_processes import Proc, http_get
from factories import TestPublisher, make_settings, wait_until
from http_receiver import Receiver
from services import free_port
from sqlalchemy import func, select

from data.db import Database
from data.leases import holders
from data.models import Alarm, JobRun, Lease, Machine, Notification, NotificationChannel, User
from worker.schedule import FLEET_JOBS

WORKERS = ("w1", "w2", "w3")
TTL_S = 6.0  # short leases (the takeover below waits for them), not so short a busy
# machine delays a renewal past one


@dataclass
class Fleet:
    db: Database
    mqtt_url: str
    workers: dict[str, Proc]
    metrics: dict[str, int]  # worker → its metrics port
    web: Proc
    web_url: str
    receiver: Receiver

    def scrape(self, worker: str) -> str:
        return http_get(f"http://127.0.0.1:{self.metrics[worker]}/metrics")[1].decode()

    def logs(self) -> str:
        procs = [*self.workers.values(), self.web]
        return "\n".join(f"--- {p.log.name}\n{p.log.read_text()[-1500:]}" for p in procs)


def _env(postgres, mosquitto, tmp_path: Path) -> dict[str, str]:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("PDM_")}
    return (
        inherited
        | {
            "PDM_DATABASE_URL": postgres.new_database(),  # empty: every process migrates it
            "PDM_MQTT_URL": mosquitto.url,
            "PDM_MQTT_PROTOCOL": "5",
            "PDM_MQTT_SHARED_GROUP": f"fleet{uuid.uuid4().hex[:6]}",
            "PDM_MQTT_SESSION_EXPIRY_S": "0",
            "PDM_DEMO_MACHINES": "3",
            "PDM_SECRET_KEY": "f" * 40,
            "PDM_ADMIN_PASSWORD": "admin-pw-9",
            "PDM_ML_AUTOTRAIN": "false",
            "PDM_DRAIN_INTERVAL_S": "0.2",
            "PDM_RULES_INTERVAL_S": "0.5",
            "PDM_RULES_WINDOW_S": "3",
            "PDM_ALARM_CLEAR_AFTER_S": "600",
            "PDM_LEASE_TTL_S": str(TTL_S),
            "PDM_VAR_DIR": str(tmp_path / "var"),
        }
    )


@pytest.fixture(scope="module")
def fleet(postgres, mosquitto, tmp_path_factory) -> Iterator[Fleet]:
    tmp = tmp_path_factory.mktemp("fleet")
    env = _env(postgres, mosquitto, tmp)
    receiver = Receiver(delay_s=0.2)  # a slow webhook: deliveries overlap between workers
    metrics = {name: free_port() for name in WORKERS}
    procs = {}
    for name in WORKERS:  # all four at once, on a database without a table yet
        worker_env = env | {
            "PDM_WORKER_NAME": name,
            "PDM_MQTT_CLIENT_ID": f"pdm-{name}-{uuid.uuid4().hex[:6]}",
            "PDM_WORKER_METRICS_PORT": str(metrics[name]),
        }
        procs[name] = Proc(["app.py", "worker"], worker_env, tmp / f"{name}.log")
    web_port = free_port()
    web = Proc(["app.py", "web", "--port", str(web_port)], env, tmp / "web.log")
    db = Database(env["PDM_DATABASE_URL"])
    state = Fleet(
        db, env["PDM_MQTT_URL"], procs, metrics, web, f"http://127.0.0.1:{web_port}", receiver
    )
    try:
        yield state
    finally:
        running = [p for p in [*procs.values(), web] if p.popen.poll() is None]
        for proc in running:  # all at once: each stops gracefully in a few seconds
            proc.popen.send_signal(signal.SIGTERM)
        for proc in running:
            assert proc.popen.wait(30) == 0, proc.log.read_text()[-2000:]
        receiver.stop()
        db.dispose()


def _ready(fleet: Fleet) -> bool:
    urls = [f"http://127.0.0.1:{port}/readyz" for port in fleet.metrics.values()]
    urls.append(f"{fleet.web_url}/readyz")
    return all(http_get(url)[0] == 200 for url in urls)


def test_three_workers_and_a_web_process_started_together_on_an_empty_database_come_up(fleet):
    assert wait_until(lambda: _ready(fleet), timeout=180), fleet.logs()
    with fleet.db.session() as s:
        machines = s.scalars(select(Machine.name).order_by(Machine.name)).all()
        users = s.scalars(select(User.username).order_by(User.username)).all()
    assert machines == ["compressor-01", "motor-01", "pump-01"]  # seeded once
    assert users == ["admin", "dana", "engineer", "manager", "noor", "technician", "viewer"]
    for proc in [*fleet.workers.values(), fleet.web]:
        assert proc.popen.poll() is None, fleet.logs()
        assert "Traceback" not in proc.log.read_text(), proc.log.read_text()[-3000:]


def _fleet_leases(db: Database) -> dict[str, str]:
    with db.session() as s:
        return {k: v for k, v in holders(session=s).items() if k in FLEET_JOBS}


def _held(lease: str, worker: str) -> str:
    return rf'^pdm_lease_held{{lease="{lease}",worker="{worker}"}} 1\.0$'


def _runs(text: str, job: str) -> int:
    found = re.search(rf'^pdm_job_duration_seconds_count{{job="{job}"}} (\S+)$', text, re.M)
    return int(float(found.group(1))) if found else 0


def test_each_fleet_job_runs_on_the_one_worker_holding_its_lease(fleet):
    assert wait_until(lambda: set(_fleet_leases(fleet.db)) == set(FLEET_JOBS), timeout=30)
    leases = _fleet_leases(fleet.db)
    assert wait_until(lambda: _runs(fleet.scrape(leases["rules"]), "rules") >= 10, timeout=60)
    scraped = {name: fleet.scrape(name) for name in WORKERS}
    for name, text in scraped.items():
        # fleet jobs, and the broker's log (one worker records its refusals)
        held = set(re.findall(_held(r"(\w+)", name), text, re.M))
        assert held & set(FLEET_JOBS) == {job for job, holder in leases.items() if holder == name}
        for job in ("rules", "score"):  # every half second / five seconds on the holder only
            assert (_runs(text, job) > 0) == (leases[job] == name), (name, job)
    assert all(_runs(scraped[name], "drain") > 0 for name in WORKERS)  # a per-worker job
    broker_log = [n for n, t in scraped.items() if re.search(_held("broker_log", n), t, re.M)]
    assert len(broker_log) == 1  # one worker records the broker's refusals, never two


def test_a_fault_raises_one_alarm_per_machine_and_code_recorded_by_the_rules_holder(fleet):
    settings = make_settings(Path("/nonexistent"), mqtt_url=fleet.mqtt_url, mqtt_protocol="5")
    publisher = TestPublisher(settings)
    try:
        for _ in range(4):  # vibration far over every type's critical limit, for a while
            now = time.time()
            for machine in ("motor-01", "pump-01", "compressor-01"):
                readings = [
                    {"sensor": "vibration", "ts": now - i * 0.1, "value": 30.0} for i in range(5)
                ]
                publisher.send({"readings": readings}, machine=machine)
            time.sleep(0.6)
    finally:
        publisher.close()

    def alarms() -> list[tuple[int, str]]:
        with fleet.db.session() as s:
            return [(m, c) for m, c in s.execute(select(Alarm.machine_id, Alarm.code))]

    assert wait_until(lambda: len(set(alarms())) == 3, timeout=30), fleet.logs()
    time.sleep(2)  # several more rule ticks on every worker: no second alarm may appear
    assert len(alarms()) == 3 and len(set(alarms())) == 3
    rules_holder = _fleet_leases(fleet.db)["rules"]
    with fleet.db.session() as s:
        recorded = set(s.scalars(select(JobRun.worker).where(JobRun.job == "rules")))
    assert recorded == {rules_holder}


def test_every_notification_reaches_the_slow_webhook_once(fleet):
    with fleet.db.session() as s:
        channel = NotificationChannel(
            name="fleet-hook", kind="webhook", target=fleet.receiver.url, events=["assigned"]
        )
        s.add(channel)
        s.flush()
        s.add_all(
            Notification(channel_id=channel.id, event="assigned", payload={"title": f"n{i}"})
            for i in range(30)
        )
        channel_id = channel.id

    def pending() -> int:
        with fleet.db.session() as s:
            stmt = select(func.count()).where(
                Notification.channel_id == channel_id, Notification.status != "sent"
            )
            return int(s.scalar(stmt) or 0)

    assert wait_until(lambda: pending() == 0, timeout=90), fleet.logs()
    deliveries = [json.loads(body)["delivery"] for _p, _h, body in fleet.receiver.requests]
    with fleet.db.session() as s:
        ids = set(s.scalars(select(Notification.id).where(Notification.channel_id == channel_id)))
        attempts = set(s.scalars(select(Notification.attempts).where(Notification.id.in_(ids))))
    assert sorted(d for d in deliveries if d in ids) == sorted(ids)  # each exactly once
    assert attempts == {1}


def test_the_leader_killed_the_others_take_its_leases_after_they_expire(fleet):
    leases = _fleet_leases(fleet.db)
    leader = max(set(leases.values()), key=list(leases.values()).count)
    taken = {job for job, holder in leases.items() if holder == leader}
    with fleet.db.session() as s:
        expiry = {
            lease.name: lease.expires_at
            for lease in s.scalars(select(Lease).where(Lease.name.in_(taken)))
        }
    fleet.workers[leader].kill()

    def passed_on() -> bool:
        now = _fleet_leases(fleet.db)
        return all(now.get(job) not in (None, leader) for job in taken)

    assert wait_until(passed_on, timeout=60), fleet.logs()
    with fleet.db.session() as s:
        after = {
            lease.name: lease for lease in s.scalars(select(Lease).where(Lease.name.in_(taken)))
        }
    for job in taken:
        assert after[job].holder in set(WORKERS) - {leader}
        # never held twice at once: taken only once the dead holder's lease had run out
        assert after[job].acquired_at >= expiry[job]
    survivor = after["rules"].holder
    before = _runs(fleet.scrape(survivor), "rules")
    assert wait_until(lambda: _runs(fleet.scrape(survivor), "rules") > before + 2, timeout=30)
