"""Leases and claims on both backends: a lease is held by one worker until it expires or is
released; lab runs and notifications are claimed by one worker (FOR UPDATE SKIP LOCKED on
PostgreSQL) and a restart fails only the restarted worker's runs; SQLite takes one worker."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from factories import make_settings
from http_receiver import Receiver
from sqlalchemy import select

from data.db import Database, upgrade_schema
from data.leases import holders, presence, release, take
from data.models import LabRun, LabRunStatus, Lease, Notification, NotificationChannel
from maintenance.notify.delivery import deliver_due
from ml.lab.queue import claim_next, fail_interrupted
from worker.lease_keeper import LeaseKeeper, OneWorkerOnly


def _take(db: Database, holder: str, *names: str, ttl: float = 30.0) -> set[str]:
    with db.session() as s:
        return take(session=s, names=names, holder=holder, ttl_s=ttl)


def test_a_lease_is_held_by_one_worker_until_it_expires_or_is_released(db: Database):
    assert _take(db, "a", "rules", "score", ttl=1.0) == {"rules", "score"}
    assert _take(db, "b", "rules", "score", "retention") == {"retention"}
    assert _take(db, "a", "rules", ttl=1.0) == {"rules"}  # renewed by its holder
    with db.session() as s:
        acquired = s.get_one(Lease, "rules").acquired_at
    time.sleep(1.2)
    assert _take(db, "b", "rules", "score") == {"rules", "score"}  # expired: taken over
    with db.session() as s:
        assert holders(session=s) == {"rules": "b", "score": "b", "retention": "b"}
        assert s.get_one(Lease, "rules").acquired_at > acquired
        assert release(session=s, holder="b", names=["score"]) == 1
    assert _take(db, "a", "score") == {"score"}  # released: free at once


def test_a_keeper_on_postgresql_takes_what_a_stopped_keeper_released(postgres):
    db = Database(postgres.new_database())
    upgrade_schema(db.engine)
    first = LeaseKeeper(db, worker="w1", names=("rules", "score"), ttl_s=30)
    second = LeaseKeeper(db, worker="w2", names=("rules", "score"), ttl_s=30)
    first.start()
    second.start()
    try:
        assert first.held == {"rules", "score"} and second.held == frozenset()
        assert not second.holds("rules")
        first.stop()
        second.beat()
        assert second.held == {"rules", "score"}
    finally:
        second.stop()
        db.dispose()


def test_a_second_worker_on_sqlite_says_sqlite_runs_one_worker(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'one.sqlite3'}")
    upgrade_schema(db.engine)
    first = LeaseKeeper(db, worker="w1", names=("rules",), ttl_s=0.6)
    first.start()
    try:
        with pytest.raises(OneWorkerOnly, match="SQLite .* run one worker only"):
            LeaseKeeper(db, worker="w2", names=("rules",), ttl_s=0.6).start()
    finally:
        first.stop()
    second = LeaseKeeper(db, worker="w2", names=("rules",), ttl_s=0.6)
    second.start()  # the first stopped: the database is free for one worker again
    assert second.held == {"rules"}
    second.stop()
    db.dispose()


def _queue(db: Database, n: int) -> list[int]:
    with db.session() as s:
        runs = [LabRun(kind="train", params={}) for _ in range(n)]
        s.add_all(runs)
        s.flush()
        return [r.id for r in runs]


def test_workers_claim_different_lab_runs(db: Database):
    first, second = _queue(db, 2)
    if db.dialect == "postgresql":  # another worker is claiming the oldest right now
        with db.session() as s:
            s.scalar(select(LabRun).where(LabRun.id == first).with_for_update())
            assert claim_next(db, worker="w2") == second  # skipped, not waited for
    else:
        assert claim_next(db, worker="w1") == first
        assert claim_next(db, worker="w2") == second
    with db.session() as s:
        assert s.get_one(LabRun, second).claimed_by == "w2"
        assert s.get_one(LabRun, second).status == LabRunStatus.RUNNING


def test_a_restart_fails_only_its_own_runs_and_those_of_dead_workers(db: Database):
    mine, alive, dead = _queue(db, 3)
    for run_id, worker in ((mine, "me"), (alive, "other"), (dead, "gone")):
        assert claim_next(db, worker=worker) == run_id
    _take(db, "other", presence("other"))  # "other" is alive, "gone" never renewed
    assert fail_interrupted(db, worker="me") == 2
    with db.session() as s:
        status = dict(s.execute(select(LabRun.id, LabRun.status)).all())
        error = s.get_one(LabRun, mine).error
    assert status == {
        mine: LabRunStatus.FAILED,
        alive: LabRunStatus.RUNNING,
        dead: LabRunStatus.FAILED,
    }
    assert error.startswith("interrupted")


def test_a_notification_claimed_by_a_live_worker_is_left_to_it(db: Database, tmp_path):
    receiver = Receiver()
    now = datetime.now(UTC)
    with db.session() as s:
        channel = NotificationChannel(name="hook", kind="webhook", target=receiver.url, events=[])
        s.add(channel)
        s.flush()
        rows = [
            Notification(channel_id=channel.id, event="assigned", claimed_by=by)
            for by in ("other", "gone", None)
        ]
        s.add_all(rows)
        s.flush()
        ids = [r.id for r in rows]
    _take(db, "other", presence("other"))
    try:
        counts = deliver_due(db=db, settings=make_settings(tmp_path), now=now + timedelta(1))
    finally:
        receiver.stop()
    assert counts.sent == 2
    with db.session() as s:
        status = dict(s.execute(select(Notification.id, Notification.status)).all())
        claims = set(s.scalars(select(Notification.claimed_by).where(Notification.id != ids[0])))
    assert status == {ids[0]: "pending", ids[1]: "sent", ids[2]: "sent"}
    assert claims == {None}  # a delivered notification is no longer claimed
