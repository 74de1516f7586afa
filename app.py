"""Predictive-maintenance platform: the entry point and composition root.

Each role imports only what it runs, inside the function that starts it: a web process never
loads the worker, the broker or the models, a worker never loads Dash.

python app.py              # everything in one process on embedded defaults
python app.py web          # only the web app
python app.py worker       # only MQTT ingest and the scheduler (SIGUSR1: leave the group)
python app.py worker --leave  # end a stopped member's session after a scale-down
python app.py backfill     # months of demo history into the database (backfill --help)
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from collections.abc import Callable

from config import Settings, load_settings
from data.db import Database, upgrade_schema
from logs import setup_logging

log = logging.getLogger("pdm")
Stop = Callable[[], None]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python app.py",
        description="Predictive-maintenance platform. "
        "(python app.py backfill --help: demo history into the database)",
    )
    p.add_argument(
        "role",
        nargs="?",
        choices=("all", "web", "worker"),
        default="all",
        help="all (default): embedded broker when PDM_MQTT_URL is unset, worker, "
        "simulator and web in one process; web: the Dash app only; "
        "worker: MQTT ingest and the scheduler only",
    )
    p.add_argument("--host", help="address the web app listens on (default: PDM_HOST, 127.0.0.1)")
    p.add_argument("--port", type=int, help="web port (default: PDM_PORT, 8050)")
    p.add_argument("--no-simulator", action="store_true", help="do not run the demo simulator")
    p.add_argument(
        "--leave",
        action="store_true",
        help="worker only, one-shot, after a scale-down: take up the MQTT session of the member "
        "stopped under PDM_MQTT_CLIENT_ID, store what it holds, end the session and exit "
        "(a running worker leaves on SIGUSR1; docs/reliability.md)",
    )
    args = p.parse_args(argv)
    if args.leave and args.role != "worker":
        p.error("--leave goes with the worker role: python app.py worker --leave")
    return args


def prepare(settings: Settings) -> Database:
    """Open the database and bring its schema up to date; copy ticket attachments an earlier
    release kept on this machine's disk into the database (idempotent)."""
    from maintenance.repair.attachment_store import import_disk_attachments

    db = Database(settings.effective_database_url)
    upgrade_schema(db.engine)
    import_disk_attachments(settings, db)
    return db


def demo_accounts(settings: Settings, db: Database) -> dict[str, str]:
    """Seed the demo fleet and accounts; generated passwords are kept in var/ to show again."""
    from maintenance.ops.demo_seed import seed_demo

    created = seed_demo(settings, db)
    path = settings.var_dir / "demo-accounts.json"
    known = json.loads(path.read_text()) if path.exists() else {}
    if created:
        known.update(created)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(known, indent=1))
        path.chmod(0o600)
    return known


def start_backend(
    role: str, settings: Settings, db: Database, leaving: threading.Event | None = None
) -> tuple[list[Stop], Callable]:
    """Broker (embedded, role all), worker and simulator; returns stop functions, readiness.
    The worker stops for good (leaves the shared group) when ``leaving`` is set."""
    from ingest.broker import EmbeddedBroker
    from simulator.thread import SimulatorThread
    from worker import OneWorkerOnly, Worker, serve_worker_metrics

    stops: list[Stop] = []
    if settings.embedded_broker and role == "all":
        broker = EmbeddedBroker(settings.embedded_mqtt_port)
        broker.start()
        stops.append(broker.stop)
    worker = Worker(settings, db)
    try:
        worker.start()
    except OneWorkerOnly as exc:
        for stop in reversed(stops):
            stop()
        raise SystemExit(f"pdm: {exc}") from None
    stops.append(lambda: worker.leave() if leaving and leaving.is_set() else worker.stop())
    if role == "worker" and settings.worker_metrics_port:
        metrics = serve_worker_metrics(
            settings.worker_metrics_port,
            worker.readiness,
            host=settings.worker_metrics_host,
            token=settings.metrics_token,
            storage=db.storage,
        )
        stops.append(metrics.shutdown)
    if settings.ml_autotrain and settings.demo_machines:  # demo data only: never a real plant
        start_demo_training(settings, db)
    if role == "all" and settings.simulator and settings.demo_machines:
        sim = SimulatorThread(settings)
        sim.start()
        stops.append(sim.stop)
    return stops, worker.readiness


def leave_stopped(settings: Settings, db: Database) -> None:
    """``python app.py worker --leave``: end the session of a member stopped for good."""
    from worker import Worker

    stored = Worker(settings, db).leave_stopped()
    print(
        f"left the shared group as {settings.effective_mqtt_client_id}: "
        f"{stored} reading(s) of its share stored, its session ended",
        flush=True,
    )


def start_demo_training(settings: Settings, db: Database) -> threading.Thread | None:
    """First start of the demo: train small models in the background when none is active."""
    from cli.progress_bar import bar
    from data.leases import try_exclusive
    from maintenance.ops.model_lab import demo_training
    from ml.registry import active_versions

    with db.session() as session:
        if active_versions(session=session):
            return None

    def run() -> None:
        # workers starting together: one trains, the others score with what it promotes
        with try_exclusive(db, "demo-training") as mine:
            if not mine:
                return
            with db.session() as session:
                if active_versions(session=session):
                    return
            try:
                demo_training(settings, db, progress=bar())
            except Exception:  # noqa: BLE001 - the platform keeps running on threshold rules
                log.exception("training the demo models failed; threshold rules only")

    print(
        "  No model is active yet: training small demo models in the background "
        "(threshold rules work meanwhile).",
        flush=True,
    )
    thread = threading.Thread(target=run, name="autotrain", daemon=True)
    thread.start()
    return thread


def serve_web(
    settings: Settings,
    db: Database,
    readiness: Callable | None,
    accounts: dict[str, str],
    processes: int = 1,
) -> None:
    from waitress import serve

    from ingest.http_ingest import HttpIngest
    from web.server.factory import create_app
    from web.server.readiness import web_readiness

    ingest = HttpIngest(settings, db)  # POST /api/v1/telemetry: MQTT's parser and writer
    app = create_app(settings, db, readiness or web_readiness(settings, db), ingest)
    print(f"\n  Predictive maintenance is running: http://{settings.host}:{settings.port}/\n")
    if accounts:
        print("  Demo accounts (user / password):")
        for name, password in accounts.items():
            print(f"    {name:<11} {password}")
        print(
            f"  (kept in {settings.var_dir / 'demo-accounts.json'}; "
            "set PDM_<ROLE>_PASSWORD to choose them)\n",
            flush=True,
        )
    if processes > 1:  # gunicorn: a master and forked workers (web/server/web_processes.py)
        from web.server.web_processes import serve_processes

        serve_processes(
            app.server, host=settings.host, port=settings.port, processes=processes, db=db
        )
        return
    serve(app.server, host=settings.host, port=settings.port, threads=8, _quiet=True)


def web_processes(settings: Settings, role: str) -> int:
    """How many processes serve the web app: ``PDM_WEB_PROCESSES`` for the web role on
    PostgreSQL; one for the all-in-one role (its ingest and scheduler threads must not be
    forked) and on SQLite (one file, one writer), saying so when more were asked for."""
    asked = settings.web_processes
    if asked > 1 and role != "web":
        log.warning("PDM_WEB_PROCESSES=%d needs the web role (app.py web): one process", asked)
        return 1
    if asked > 1 and settings.effective_database_url.startswith("sqlite"):
        log.warning("PDM_WEB_PROCESSES=%d needs PostgreSQL (SQLite: one process)", asked)
        return 1
    return asked


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["backfill"]:  # a command of its own, with its own options
        from worker.backfill_cli import main as backfill

        backfill(argv[1:])
        return
    args = parse_args(argv)
    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v}
    if args.no_simulator:
        overrides["simulator"] = False
    settings = load_settings(**overrides)
    setup_logging(settings.log_format, settings.log_level)
    processes = web_processes(settings, args.role) if args.role != "worker" else 1
    if processes > 1:  # before any metric exists: /metrics adds up every web process
        from web.server.web_processes import share_metrics

        share_metrics()
    db = prepare(settings)
    if args.leave:
        leave_stopped(settings, db)
        db.dispose()
        return
    accounts = demo_accounts(settings, db)
    leaving = threading.Event()
    stops, readiness = ([], None)
    if args.role != "web":
        stops, readiness = start_backend(args.role, settings, db, leaving)
    signal.signal(signal.SIGTERM, _interrupt)  # SIGTERM stops as gracefully as Ctrl-C
    if args.role == "worker":  # a scale-down: stop for good (docs/reliability.md)
        signal.signal(signal.SIGUSR1, lambda *_: (leaving.set(), _interrupt()))
    try:
        if args.role == "worker":
            log.info("worker running; SIGTERM or Ctrl-C stops it, SIGUSR1 leaves the group")
            threading.Event().wait()
        else:
            serve_web(settings, db, readiness, accounts, processes)
    except KeyboardInterrupt:
        pass
    finally:
        for stop in reversed(stops):
            stop()
        db.dispose()


def _interrupt(*_args: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    main()
