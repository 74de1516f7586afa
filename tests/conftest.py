"""Shared fixtures: real PostgreSQL and Mosquitto, the embedded defaults, and stacks of both."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

sys.path.insert(0, str(Path(__file__).parent))

# Property tests check what the parser does, never how fast: no per-example deadline and no
# "input generation is slow" failure when a loaded CI machine draws examples slowly.
settings.register_profile("pdm", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("pdm")

from factories import Stack, make_settings  # noqa: E402
from services import (  # noqa: E402
    NO_TIMESCALEDB,
    MosquittoServer,
    PostgresServer,
    free_port,
    timescaledb_installed,
)

from data.db import Database, upgrade_schema  # noqa: E402
from ingest.broker import EmbeddedBroker  # noqa: E402


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def timescale_postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL cluster that preloads TimescaleDB; skips where it is not installed."""
    if not timescaledb_installed():
        pytest.skip(NO_TIMESCALEDB)
    server = PostgresServer(timescale=True).start()
    yield server
    server.stop()


@pytest.fixture
def own_postgres() -> Iterator[PostgresServer]:
    """A cluster of the test's own, for tests that restart it (with TimescaleDB preloaded)."""
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def mosquitto() -> Iterator[MosquittoServer]:
    server = MosquittoServer().start()
    yield server
    server.cleanup()


@pytest.fixture(scope="session")
def amqtt_broker() -> Iterator[EmbeddedBroker]:
    broker = EmbeddedBroker(free_port())
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture(scope="session")
def amqtt_port(amqtt_broker: EmbeddedBroker) -> int:
    return amqtt_broker.port


@pytest.fixture
def mailbox():  # noqa: ANN201 - a mail_server.Mailbox
    """A real SMTP server on a free port that keeps what it receives (tests/mail_server.py)."""
    from mail_server import Mailbox

    box = Mailbox().start()
    yield box
    box.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated, empty database on each backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'pdm.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres").new_database()
    database = Database(url)
    upgrade_schema(database.engine)
    yield database
    database.dispose()


@pytest.fixture(params=["embedded", "real"])
def stack(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Stack]:
    """embedded: SQLite + amqtt (the defaults); real: PostgreSQL + Mosquitto (MQTT 5).

    The embedded stack starts an amqtt of its own, as the product does in each process: the
    session's broker keeps every earlier test's persistent sessions, and their queues, and
    amqtt is not reliable when a client reconnects while it still holds the old connection."""
    broker = None
    if request.param == "embedded":
        broker = EmbeddedBroker(free_port())
        broker.start()
        settings = make_settings(tmp_path, embedded_mqtt_port=broker.port)
    else:
        pg = request.getfixturevalue("postgres")
        mq = request.getfixturevalue("mosquitto")
        settings = make_settings(tmp_path, database_url=pg.new_database(), mqtt_url=mq.url)
    database = Database(settings.effective_database_url)
    upgrade_schema(database.engine)
    yield Stack(request.param, settings, database, broker)
    database.dispose()
    if broker is not None:
        broker.stop()


def pytest_setup_options():  # noqa: ANN201 - dash testing hook: Chromium options
    from selenium.webdriver.chrome.options import Options

    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for arg in (
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1400,1000",
    ):
        options.add_argument(arg)
    return options


@pytest.fixture
def other_browser(request: pytest.FixtureRequest, tmp_path: Path):  # noqa: ANN201
    """A second Chromium with its own cookies: another person, or the same at another desk."""
    from dash.testing.browser import Browser

    with Browser(
        browser=request.config.getoption("webdriver"),
        headless=request.config.getoption("headless"),
        options=request.config.hook.pytest_setup_options(),
        download_path=str(tmp_path),
        percy_run=False,
    ) as browser:
        yield browser


@pytest.fixture(scope="session")
def web(tmp_path_factory: pytest.TempPathFactory, amqtt_port: int):
    """The web app, built once per test session on a seeded SQLite database."""
    from factories import WebApp

    from ingest.http_ingest import HttpIngest
    from maintenance.ops.demo_seed import seed_demo
    from web.server.factory import create_app
    from web.server.readiness import web_readiness

    tmp = tmp_path_factory.mktemp("web")
    settings = make_settings(
        tmp,
        embedded_mqtt_port=amqtt_port,
        metrics_token="scrape-token",
        admin_password="admin-pw-1",
        manager_password="manager-pw-1",
        engineer_password="engineer-pw-1",
        technician_password="tech-pw-1",
        viewer_password="viewer-pw-1",
    )
    database = Database(settings.effective_database_url)
    upgrade_schema(database.engine)
    seed_demo(settings, database)
    ingest = HttpIngest(settings, database)
    app = create_app(settings, database, web_readiness(settings, database), ingest)
    yield WebApp(app, database, settings)
    database.dispose()
