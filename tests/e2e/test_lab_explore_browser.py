"""In Chromium, an engineer explores a machine's recent history in the model lab: picks the
machine and sensors, sees every figure filled (series, a feature over time, healthy vs
pre-failure distributions, the PCA, the scores with the alarm and the breakdown), switches
the feature, and downloads the view as CSV."""

from __future__ import annotations

import io
import math
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest
from browser import browser_session, click, eventually, graph_data, shot, visit
from factories import WebApp, add_user
from selenium.webdriver.common.keys import Keys
from services import free_port
from sqlalchemy import delete, select

from data.fleet_queries import sensor_directory
from data.models import (
    Alarm,
    AlarmSource,
    Downtime,
    DowntimeKind,
    Machine,
    Prediction,
    Reading,
    Role,
    Severity,
    User,
)
from data.readings import insert_readings
from web.views.lab_explore import (
    EXPLORE_DIST_NOTE,
    EXPLORE_DISTRIBUTIONS,
    EXPLORE_FEATURE,
    EXPLORE_FEATURES,
    EXPLORE_MACHINES,
    EXPLORE_PCA,
    EXPLORE_RANGE,
    EXPLORE_RAW,
    EXPLORE_SENSORS,
    EXPLORE_TIMELINE_BOX,
    TIMELINE,
)

pytestmark = pytest.mark.e2e
MACHINE = "compressor-01"
ENGINEER, PASSWORD = "lab-engineer", "lab-engineer-pw-1"
HISTORY = timedelta(hours=3)
READING_EVERY = 5  # seconds


def _value(kind: str, t: datetime, failure: datetime) -> float:
    """Healthy, then 20 minutes of a developing fault, 20 minutes stopped, healthy again."""
    if failure <= t < failure + timedelta(minutes=20):
        return {"temperature": 40.0, "vibration": 0.05, "rpm": 0.0}[kind]
    wear = max(0.0, 1 - (failure - t) / timedelta(minutes=20)) if t < failure else 0.0
    wobble = math.sin(t.timestamp() / 40.0)
    return {
        "temperature": 62.0 + 12 * wear + 0.4 * wobble,
        "vibration": 2.0 + 4 * wear + 0.1 * wobble,
        "rpm": 1480.0 - 30 * wear + 4 * wobble,
    }[kind]


def _history(web: WebApp, now: datetime) -> dict:
    """Three hours of the machine: readings, a breakdown an hour ago, the scores that saw it
    coming and their (cleared) alarm. Returns what to remove afterwards."""
    failure = now - timedelta(hours=1)
    start = now - HISTORY
    with web.db.session() as s:
        ids = {k: sid for (m, k), sid in sensor_directory(session=s).items() if m == MACHINE}
        machine_id = s.scalar(select(Machine.id).where(Machine.name == MACHINE))
        ticks = [start + timedelta(seconds=i) for i in range(0, int(HISTORY.total_seconds()), 5)]
        rows = [(ids[k], t, round(_value(k, t, failure), 3)) for t in ticks for k in ids]
        insert_readings(session=s, rows=rows)
        down = Downtime(
            machine_id=machine_id,
            kind=DowntimeKind.BREAKDOWN,
            started_at=failure,
            ended_at=failure + timedelta(minutes=20),
            source="manual",
        )
        alarm = Alarm(
            machine_id=machine_id,
            code="PRED_FAILURE",
            severity=Severity.CRITICAL,
            source=AlarmSource.PREDICTION,
            message="predicted to fail",
            value=0.9,
            raised_at=failure - timedelta(minutes=8),
            last_seen_at=failure,
            cleared_at=failure + timedelta(minutes=25),
            acknowledged_at=failure,
        )
        scores = [
            Prediction(
                machine_id=machine_id,
                ts=t,
                anomaly_score=0.2 + 0.7 * _wear(t, failure),
                failure_probability=0.05 + 0.9 * _wear(t, failure),
            )
            for t in ticks[::6]
        ]
        s.add_all([down, alarm, *scores])
        s.flush()
        return {
            "sensors": list(ids.values()),
            "since": start,
            "downtime": down.id,
            "alarm": alarm.id,
            "machine": machine_id,
        }


def _wear(t: datetime, failure: datetime) -> float:
    return max(0.0, 1 - abs((failure - t) / timedelta(minutes=30)))


def _clean(web: WebApp, added: dict) -> None:
    """Leave the shared app as it was."""
    with web.db.session() as s:
        s.execute(
            delete(Reading).where(
                Reading.sensor_id.in_(added["sensors"]), Reading.ts >= added["since"]
            )
        )
        s.execute(delete(Downtime).where(Downtime.id == added["downtime"]))
        s.execute(delete(Alarm).where(Alarm.id == added["alarm"]))
        s.execute(
            delete(Prediction).where(
                Prediction.machine_id == added["machine"], Prediction.ts >= added["since"]
            )
        )
        s.execute(delete(User).where(User.username == ENGINEER))


def _login(dash_duo, user: str, password: str) -> None:
    dash_duo.driver.get(dash_duo.server.url.rstrip("/") + "/login")
    dash_duo.wait_for_element("#username").send_keys(user)
    dash_duo.find_element("#password").send_keys(password)
    dash_duo.find_element("#login-submit").click()
    dash_duo.wait_for_contains_text("#nav-user", f"{user} (", timeout=15)


def _toggle(dash_duo, dropdown: str, value: str) -> None:
    """Open a dropdown, click one option (multi: select or deselect it), close it."""
    click(dash_duo, f"#{dropdown}")
    option = f".dash-dropdown-option input[value='{value}']"
    dash_duo.wait_for_element(option, timeout=10)
    dash_duo.driver.execute_script(
        "document.querySelector(arguments[0]).closest('.dash-dropdown-option').click();", option
    )
    for search in dash_duo.find_elements(".dash-dropdown-search"):  # a multi stays open
        search.send_keys(Keys.ESCAPE)


def _visible(dash_duo, graph: str) -> list[dict]:
    """The traces a graph shows (hidden ones left out), with their feature (meta)."""
    return dash_duo.driver.execute_script(
        "const p = document.querySelector(arguments[0] + ' .js-plotly-plot');"
        "return p ? p.data.filter(t => t.visible !== false).map(t => ({name: t.name,"
        " meta: t.meta || null, yaxis: t.yaxis || 'y', n: (t.y || []).length})) : [];",
        graph,
    )


def _scroll(dash_duo, element: str, block: str) -> None:
    """Scroll at once (Bootstrap makes scrolling smooth: a screenshot would catch it moving)."""
    dash_duo.driver.execute_script(
        "document.getElementById(arguments[0])"
        ".scrollIntoView({block: arguments[1], behavior: 'instant'});",
        element,
        block,
    )


def _timeline(dash_duo) -> list[dict]:
    selector = f'[id*=\'"type":"{TIMELINE}"\']'
    return _visible(dash_duo, selector)


def test_engineer_explores_a_machine_and_downloads_the_view(dash_duo, web: WebApp):
    now = datetime.now(UTC)
    add_user(web.db, ENGINEER, Role.ENGINEER, PASSWORD)
    added = _history(web, now)
    try:
        dash_duo.start_server(web.app, navigate=False, port=free_port())
        _login(dash_duo, ENGINEER, PASSWORD)
        visit(dash_duo, "/lab")
        dash_duo.wait_for_contains_text("#lab-explore-empty", "Pick one or more machines", 15)
        shot(dash_duo, "lab-explore-empty")

        click(dash_duo, f"label[for='_dbcprivate_radioitems_{EXPLORE_RANGE}_input_6h']")
        _toggle(dash_duo, EXPLORE_MACHINES, MACHINE)
        eventually(lambda: len(_visible(dash_duo, f"#{EXPLORE_RAW}")) == 3)  # all sensors
        _toggle(dash_duo, EXPLORE_SENSORS, "rpm")  # temperature and vibration only
        eventually(
            lambda: {t["yaxis"] for t in _visible(dash_duo, f"#{EXPLORE_RAW}")} == {"y", "y2"}
        )
        raw = graph_data(dash_duo, EXPLORE_RAW)
        assert [t["name"] for t in raw] == [MACHINE, MACHINE]
        assert all(len(t["y"]) > 500 for t in raw)  # 3 h at the 15 s step of a 6 h range

        eventually(lambda: _visible(dash_duo, f"#{EXPLORE_FEATURES}"))
        shown = _visible(dash_duo, f"#{EXPLORE_FEATURES}")
        assert {t["meta"] for t in shown} == {"temperature_level"}
        assert shown[0]["n"] > 100 and shown[1]["name"] == "pre-failure windows" and shown[1]["n"]
        bars = _visible(dash_duo, f"#{EXPLORE_DISTRIBUTIONS}")
        assert [b["name"].split(" (")[0] for b in bars] == ["healthy", "pre-failure"]
        assert dash_duo.find_element(f"#{EXPLORE_DIST_NOTE}").text == ""  # both classes there
        pca = _visible(dash_duo, f"#{EXPLORE_PCA}")
        assert [p["name"].split(" (")[0] for p in pca] == ["healthy", "pre-failure"]
        assert all(p["n"] for p in pca)
        # the scores arrive after the rest, with the alarm and the breakdown marked
        eventually(lambda: any(t["n"] for t in _timeline(dash_duo) if t["name"] == MACHINE))
        names = [t["name"] for t in _timeline(dash_duo)]
        assert "alarms (1)" in names and "confirmed failures (1)" in names
        shot(dash_duo, "lab-explore")

        _toggle(dash_duo, EXPLORE_FEATURE, "vibration_level")
        eventually(
            lambda: (
                {t["meta"] for t in _visible(dash_duo, f"#{EXPLORE_FEATURES}")}
                == {"vibration_level"}
            )
        )
        _scroll(dash_duo, EXPLORE_FEATURE, "start")
        shot(dash_duo, "lab-explore-features")
        _scroll(dash_duo, EXPLORE_TIMELINE_BOX, "end")
        shot(dash_duo, "lab-explore-scores")
        size = dash_duo.driver.get_window_size()
        dash_duo.driver.set_window_size(1400, 2200)  # the whole section in one picture
        dash_duo.driver.execute_script("window.scrollTo({top: 0, behavior: 'instant'});")
        shot(dash_duo, "lab-explore-page")
        dash_duo.driver.set_window_size(size["width"], size["height"])

        href = dash_duo.find_element("#lab-explore-csv").get_attribute("href")
        answer = browser_session(dash_duo).get(href, timeout=30)
        assert answer.status_code == 200
        _same_as_the_database(web, pd.read_csv(io.BytesIO(answer.content)), href, added)
    finally:
        _clean(web, added)


def _same_as_the_database(web: WebApp, frame: pd.DataFrame, href: str, added: dict) -> None:
    """The download holds the view's buckets: the mean of the stored readings per step."""
    query = {k: v[0] for k, v in parse_qs(urlsplit(href).query).items()}
    assert query["machines"] == MACHINE and query["sensors"] == "temperature,vibration"
    step = int(query["step"])
    start, end = (pd.Timestamp(query[k]) for k in ("start", "end"))
    with web.db.session() as s:
        ids = {k: sid for (m, k), sid in sensor_directory(session=s).items() if m == MACHINE}
        rows = s.execute(
            select(Reading.sensor_id, Reading.ts, Reading.value).where(
                Reading.sensor_id.in_([ids["temperature"], ids["vibration"]]),
                Reading.ts >= start.to_pydatetime(),
                Reading.ts < end.to_pydatetime(),
            )
        ).all()
    stored = pd.DataFrame(rows, columns=["sensor_id", "time", "value"])
    stored["sensor"] = stored["sensor_id"].map({v: k for k, v in ids.items()})
    stored["time"] = pd.to_datetime(stored["time"], utc=True).dt.floor(f"{step}s")
    expected = stored.groupby(["sensor", "time"])["value"].mean().reset_index()
    frame["time"] = pd.to_datetime(frame["time"], utc=True)
    got = frame.sort_values(["sensor", "time"]).reset_index(drop=True)
    assert (got["machine"] == MACHINE).all()
    assert got["time"].tolist() == expected["time"].tolist()
    assert (got["value"] - expected["value"]).abs().max() < 1e-9
    assert len(got) >= 2 * HISTORY.total_seconds() / step - 4
