"""Predictive-maintenance platform: the entry point.

python app.py              # everything in one process on embedded defaults
python app.py web          # only the web app (gunicorn: ``app:server`` needs PDM_ROLE=web)
python app.py worker       # only MQTT ingest and the scheduler
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import threading

from config import Settings, load_settings
from data.db import Database, upgrade_schema

log = logging.getLogger("pdm")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python app.py", description="Predictive-maintenance platform."
    )
    p.add_argument(
        "role",
        nargs="?",
        choices=("all", "web", "worker"),
        default="all",
        help="all (default): broker if embedded, worker, simulator and web in one "
        "process; web: the Dash app only; worker: MQTT ingest and scheduler only",
    )
    p.add_argument("--host", help="address the web app listens on (default PDM_HOST=127.0.0.1)")
    p.add_argument("--port", type=int, help="web port (default PDM_PORT=8050)")
    p.add_argument("--no-simulator", action="store_true", help="do not run the demo simulator")
    return p.parse_args(argv)


def setup_logging() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for noisy in ("apscheduler", "amqtt", "transitions", "waitress.queue"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def prepare(settings: Settings) -> Database:
    """Open the database and bring its schema up to date."""
    db = Database(settings.effective_database_url)
    upgrade_schema(db.engine)
    return db


def demo_accounts(settings: Settings, db: Database) -> dict[str, str]:
    """Seed the demo fleet and accounts; remember generated passwords in var/ to show again."""
    from worker import seed_demo

    created = seed_demo(settings, db)
    path = settings.var_dir / "demo-accounts.json"
    known = json.loads(path.read_text()) if path.exists() else {}
    if created:
        known.update(created)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(known, indent=1))
        path.chmod(0o600)
    return known


def print_banner(settings: Settings, url: str, accounts: dict[str, str]) -> None:
    print(f"\n  Predictive maintenance is running: {url}\n", flush=True)
    if accounts:
        print("  Demo accounts (user / password):")
        for name, password in accounts.items():
            print(f"    {name:<11} {password}")
        print(
            f"  (kept in {settings.var_dir / 'demo-accounts.json'}; set PDM_<ROLE>_PASSWORD "
            "to choose them)\n",
            flush=True,
        )


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    setup_logging()
    overrides: dict[str, object] = {}
    if args.host:
        overrides["host"] = args.host
    if args.port:
        overrides["port"] = args.port
    if args.no_simulator:
        overrides["simulator"] = False
    settings = load_settings(**overrides)
    db = prepare(settings)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stoppers = start_backend(args.role, settings, db) if args.role != "web" else []
    try:
        if args.role == "worker":
            stop.wait()
        else:
            serve_web(settings, db, stoppers)
    except KeyboardInterrupt:
        pass
    finally:
        for stopper in reversed(stoppers):
            stopper()


def start_backend(role: str, settings: Settings, db: Database) -> list:
    """Start broker (if embedded), worker and simulator; returns their stop functions."""
    from ingest.broker import EmbeddedBroker
    from worker import SimulatorThread, Worker

    stoppers = []
    if settings.embedded_broker and role == "all":
        broker = EmbeddedBroker(settings.embedded_mqtt_port)
        broker.start()
        stoppers.append(broker.stop)
    worker = Worker(settings, db)
    worker.start()
    stoppers.append(worker.stop)
    _readiness["check"] = worker.readiness
    if settings.simulator and role == "all" and settings.demo_machines:
        accounts = demo_accounts(settings, db)
        _accounts["shown"] = accounts
        sim = SimulatorThread(settings)
        sim.start()
        stoppers.insert(len(stoppers) - 1, sim.stop)
    elif settings.demo_machines:
        _accounts["shown"] = demo_accounts(settings, db)
    return stoppers


_readiness: dict[str, object] = {}
_accounts: dict[str, dict[str, str]] = {}


def serve_web(settings: Settings, db: Database, _stoppers: list) -> None:
    from waitress import serve

    app = build_web(settings, db)
    url = f"http://{settings.host}:{settings.port}/"
    print_banner(settings, url, _accounts.get("shown") or demo_accounts(settings, db))
    serve(app.server, host=settings.host, port=settings.port, threads=8, _quiet=True)


def build_web(settings: Settings, db: Database):  # noqa: ANN201 - dash.Dash, imported lazily
    from web.factory import create_app
    from web.readiness import web_readiness

    check = _readiness.get("check") or web_readiness(settings, db)
    return create_app(settings, db, check)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
