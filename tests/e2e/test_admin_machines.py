"""In Chromium, an admin adds a machine with two sensors, a gateway publishes for it over
MQTT to a running ingest worker (no restart), its readings show on its page, it is retired;
a CSV with a bad row is refused in the dry run and a clean one imported."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import click, graph_data, login, pattern, shot, texts, visit
from factories import TestPublisher, WebApp, wait_until
from services import free_port
from sqlalchemy import func, select

from data.db import Database
from data.models import Machine, Reading, Sensor
from maintenance.fleet_admin.fleet_csv import COLUMNS, EXAMPLE_CSV
from maintenance.fleet_admin.machine_admin import retire_machine
from maintenance.machine_status.machine_state import machine_cards
from web.views.admin_machines import (
    ADMIN_MACHINE_LINE,
    ADMIN_MACHINE_LOCATION,
    ADMIN_MACHINE_NAME,
    ADMIN_MACHINE_NEW,
    ADMIN_MACHINE_PAYLOAD,
    ADMIN_MACHINE_RETIRE,
    ADMIN_MACHINE_SAVE,
    ADMIN_MACHINE_TITLE,
    ADMIN_MACHINE_TOPIC,
    ADMIN_MACHINE_TYPE,
    ADMIN_MACHINES_GRID,
    ADMIN_SENSOR_ADD,
    admin_sensor_error,
    admin_sensor_field,
    admin_sensor_remove,
)
from web.views.admin_machines_csv import (
    FLEET_CSV_EXAMPLE,
    FLEET_CSV_IMPORT,
    FLEET_CSV_PREVIEW,
    FLEET_CSV_UPLOAD,
)
from web.views.machine import MACHINE_GRAPH, MACHINE_POINTS
from worker import Worker

pytestmark = pytest.mark.e2e
GRID = f"#{ADMIN_MACHINES_GRID}"


def _readings_of(db: Database, machine: str) -> list[float]:
    with db.session() as s:
        stmt = (
            select(Reading.value)
            .join(Sensor, Sensor.id == Reading.sensor_id)
            .join(Machine, Machine.id == Sensor.machine_id)
            .where(Machine.name == machine)
        )
        return list(s.scalars(stmt))


def _retire(db: Database, *names: str) -> None:
    """Leave the shared app's fleet as it was: other tests read every machine in service."""
    with db.session() as s:
        for machine in s.scalars(select(Machine).where(Machine.name.in_(names))):
            retire_machine(session=s, machine_id=machine.id, user_id=None)


@pytest.fixture
def ingest(web: WebApp) -> Iterator[TestPublisher]:
    """A real ingest worker on the web app's database and broker, and a gateway."""
    worker = Worker(web.settings, web.db)
    worker.start()
    assert worker.client.wait_connected(15), "ingest client never connected"
    publisher = TestPublisher(web.settings)
    yield publisher
    publisher.close()
    worker.stop()


def _type(dash_duo, selector: str, text: str) -> None:
    element = dash_duo.find_element(selector)
    dash_duo.clear_input(element)
    element.send_keys(text)


def _sensor(dash_duo, row: int, **values: object) -> None:
    for field, value in values.items():
        _type(dash_duo, pattern(admin_sensor_field(row, field)), str(value))


def test_admin_adds_a_machine_the_worker_accepts_at_once_then_retires_it(
    dash_duo, web: WebApp, ingest: TestPublisher
):
    try:
        _add_publish_and_retire(dash_duo, web, ingest)
    finally:
        _retire(web.db, "press-07")


def _add_publish_and_retire(dash_duo, web: WebApp, ingest: TestPublisher) -> None:
    # the running worker has loaded its sensor directory before the machine exists
    ingest.send({"sensor": "temperature", "ts": time.time(), "value": 55.25}, machine="motor-01")
    assert wait_until(lambda: 55.25 in _readings_of(web.db, "motor-01"), timeout=30)

    dash_duo.start_server(web.app, navigate=False, port=free_port())
    login(dash_duo, web, "admin")
    visit(dash_duo, "/admin/machines")
    dash_duo.wait_for_contains_text(GRID, "motor-01", timeout=15)
    dash_duo.wait_for_contains_text(f"#{ADMIN_MACHINE_TOPIC}", "pdm/<machine name>/telemetry")
    shot(dash_duo, "admin-machines")

    _type(dash_duo, f"#{ADMIN_MACHINE_NAME}", "press-07")
    _type(dash_duo, f"#{ADMIN_MACHINE_TYPE}", "press")
    _type(dash_duo, f"#{ADMIN_MACHINE_LOCATION}", "Hall 2")
    _type(dash_duo, f"#{ADMIN_MACHINE_LINE}", "Line 3")
    _sensor(dash_duo, 0, key="temp erature", kind="temperature", unit="°C", warn_high=70)
    _sensor(dash_duo, 0, crit_high=85)
    click(dash_duo, f"#{ADMIN_SENSOR_ADD}")
    dash_duo.wait_for_element(pattern(admin_sensor_field(1, "key")), timeout=10)
    _sensor(dash_duo, 1, key="vibration", kind="vibration", unit="mm/s", warn_high=7.1)
    _sensor(dash_duo, 1, crit_high=4.5)
    click(dash_duo, f"#{ADMIN_SENSOR_ADD}")  # one too many: an unsaved row may go again
    dash_duo.wait_for_element(pattern(admin_sensor_remove(2)), timeout=10)
    click(dash_duo, pattern(admin_sensor_remove(2)))
    assert wait_until(lambda: len(dash_duo.find_elements(".sensor-row")) == 2, timeout=10)

    # bad input: the message sits next to the field, nothing is stored
    click(dash_duo, f"#{ADMIN_MACHINE_SAVE}")
    key_error = pattern(admin_sensor_error(0, "key"))
    dash_duo.wait_for_contains_text(key_error, "Start with a letter", timeout=10)
    dash_duo.wait_for_contains_text(
        pattern(admin_sensor_error(1, "crit_high")), "≥ warning high (7.1)"
    )
    key_input = dash_duo.find_element(pattern(admin_sensor_field(0, "key")))
    assert "is-invalid" in key_input.get_attribute("class")
    shot(dash_duo, "admin-machines-errors")
    with web.db.session() as s:
        assert s.scalar(select(Machine).where(Machine.name == "press-07")) is None

    _sensor(dash_duo, 0, key="temperature")
    _sensor(dash_duo, 1, warn_high=4.5, crit_high=7.1)
    click(dash_duo, f"#{ADMIN_MACHINE_SAVE}")
    dash_duo.wait_for_contains_text("#machines-note", "Created press-07 with 2 sensors", timeout=10)
    dash_duo.wait_for_contains_text(GRID, "press-07", timeout=10)
    dash_duo.wait_for_text_to_equal(f"#{ADMIN_MACHINE_TITLE}", "Edit press-07", timeout=10)
    dash_duo.wait_for_text_to_equal(f"#{ADMIN_MACHINE_TOPIC}", "pdm/press-07/telemetry")
    assert '"sensor": "vibration"' in dash_duo.find_element(f"#{ADMIN_MACHINE_PAYLOAD}").text
    shot(dash_duo, "admin-machines-created")

    # a gateway publishes a minute for the new machine: the running worker stores it at once
    now = time.time()
    minute = [
        {"sensor": key, "ts": now - 60 + i, "value": value + (i % 10) / 10}
        for i in range(60)
        for key, value in (("temperature", 61.0), ("vibration", 2.0))
    ]
    ingest.send({"readings": minute}, machine="press-07")
    assert wait_until(lambda: len(_readings_of(web.db, "press-07")) == 120, timeout=30)
    visit(dash_duo, "/machine/press-07")
    dash_duo.wait_for_contains_text(f"#{MACHINE_POINTS}", "1 hour", timeout=15)
    assert wait_until(lambda: graph_data(dash_duo, MACHINE_GRAPH), timeout=15)  # drawn
    traces = {t["name"]: t["y"] for t in graph_data(dash_duo, MACHINE_GRAPH)}
    # the minute's readings, bucketed: their extremes survive as the buckets' min and max
    assert min(traces["temperature min"]) == pytest.approx(61.0)
    assert max(traces["temperature max"]) == pytest.approx(61.9)
    assert max(traces["vibration max"]) == pytest.approx(2.9)
    shot(dash_duo, "admin-machine-readings")

    # retire: the history stays, the machine leaves the fleet page
    visit(dash_duo, "/admin/machines")
    with web.db.session() as s:
        machine_id = s.scalar(select(Machine.id).where(Machine.name == "press-07"))
    dash_duo.wait_for_element(f"{GRID} div[row-id='{machine_id}'] [col-id='name']", timeout=15)
    click(dash_duo, f"{GRID} div[row-id='{machine_id}'] [col-id='name']")
    dash_duo.wait_for_text_to_equal(f"#{ADMIN_MACHINE_TITLE}", "Edit press-07", timeout=10)
    click(dash_duo, f"#{ADMIN_MACHINE_RETIRE}")
    dash_duo.wait_for_contains_text("#machines-note", "Retired", timeout=10)
    dash_duo.wait_for_contains_text(
        f"{GRID} div[row-id='{machine_id}'] [col-id='status']", "retired 20", timeout=10
    )
    shot(dash_duo, "admin-machines-retired")
    with web.db.session() as s:
        assert "press-07" not in {c.name for c in machine_cards(session=s)}
    assert len(_readings_of(web.db, "press-07")) == 120
    visit(dash_duo, "/")
    dash_duo.wait_for_element(".machine-card", timeout=15)
    assert "press-07" not in texts(dash_duo, ".machine-link")


def _machines(web: WebApp) -> int:
    with web.db.session() as s:
        return int(s.scalar(select(func.count(Machine.id))) or 0)


def test_csv_with_a_bad_row_is_refused_in_the_preview_and_a_clean_one_imports(
    dash_duo, web: WebApp, tmp_path: Path
):
    header = ",".join(COLUMNS)
    clean = (
        f"{header}\n"
        "saw-01,saw,Hall 5,Line 8,temperature,temperature,°C,,70,,85\n"
        "saw-01,saw,Hall 5,Line 8,vibration,vibration,mm/s,,4.5,,7.1\n"
        "saw-01,saw,Hall 5,Line 8,rpm,rpm,rpm,1350,1650,1200,1800\n"
    )
    bad = tmp_path / "fleet-bad.csv"
    bad.write_text(clean + "saw-01,saw,Hall 5,Line 8,spindle,rpm,rpm,100,50,,\n")
    good = tmp_path / "fleet.csv"
    good.write_text(clean)
    before = _machines(web)
    try:
        dash_duo.start_server(web.app, navigate=False, port=free_port())
        login(dash_duo, web, "admin")
        visit(dash_duo, "/admin/machines")
        dash_duo.wait_for_contains_text(GRID, "motor-01", timeout=15)
        click(dash_duo, f"#{FLEET_CSV_EXAMPLE}")  # the documented example, downloaded
        example = Path(dash_duo.download_path) / "fleet-example.csv"
        assert wait_until(example.exists, timeout=15)
        assert example.read_text(encoding="utf-8") == EXAMPLE_CSV
        upload = f"#{FLEET_CSV_UPLOAD} input[type=file]"
        dash_duo.find_element(upload).send_keys(str(bad))
        dash_duo.wait_for_contains_text("#csv-errors", "> warning low (100)", timeout=15)
        assert texts(dash_duo, "#csv-errors tbody td")[:2] == ["5", "warn_high"]
        assert not dash_duo.find_element(f"#{FLEET_CSV_IMPORT}").is_enabled()
        click(dash_duo, f"#{FLEET_CSV_PREVIEW} h3")
        shot(dash_duo, "admin-machines-csv-errors")
        assert _machines(web) == before

        dash_duo.find_element(upload).send_keys(str(good))
        dash_duo.wait_for_contains_text(
            "#csv-summary", "1 machine to create · 3 sensors to create", timeout=15
        )
        assert not dash_duo.find_elements("#csv-errors")
        shot(dash_duo, "admin-machines-csv-preview")
        click(dash_duo, f"#{FLEET_CSV_IMPORT}")
        dash_duo.wait_for_contains_text("#csv-note", "Imported fleet.csv", timeout=15)
        dash_duo.wait_for_contains_text(GRID, "saw-01", timeout=10)
        assert _machines(web) == before + 1
        shot(dash_duo, "admin-machines-csv-imported")
    finally:
        _retire(web.db, "saw-01")


def test_a_manager_sees_the_machines_read_only(dash_duo, web: WebApp):
    dash_duo.start_server(web.app, navigate=False, port=free_port())
    login(dash_duo, web, "manager")
    visit(dash_duo, "/admin/machines")
    dash_duo.wait_for_contains_text(
        "#machines-read-only", "only admins change machines", timeout=15
    )
    dash_duo.wait_for_contains_text(GRID, "pump-01")
    for button in (ADMIN_MACHINE_NEW, ADMIN_MACHINE_SAVE, ADMIN_SENSOR_ADD):
        assert not dash_duo.find_element(f"#{button}").is_enabled(), button
    click(dash_duo, f"{GRID} .ag-row [col-id='name']")
    dash_duo.wait_for_contains_text(f"#{ADMIN_MACHINE_TITLE}", "Edit ", timeout=10)
    assert dash_duo.find_element(pattern(admin_sensor_field(0, "key"))).get_attribute("value")
    shot(dash_duo, "admin-machines-manager")
