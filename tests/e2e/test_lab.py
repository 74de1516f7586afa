"""In Chromium, the model lab the way a reliability engineer uses it: tune the threshold on
the labelled history, train a small candidate from the page, backtest it against the active
pair, promote it and see the fleet page score with it.

A thread runs the worker's lab job (``ml.lab.runs.run_next``) next to the shared web app,
as the worker process does in production."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator

import pytest
import requests
from browser import browser_session, click, eventually, login, shot, texts, visit
from factories import WebApp
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select
from services import free_port
from sqlalchemy import delete, select

from data.models import AuditLog, LabRun, ModelStatus, ModelVersion
from maintenance.ops.model_lab import lab_setup
from ml.lab.backtest import promote_pair
from ml.lab.queue import queue_run
from ml.lab.runs import run_next
from ml.lab.scored import threshold_metrics, tuning_set
from ml.trees import columns_text
from web.views import lab_tune as tune

pytestmark = pytest.mark.e2e

SMALL = {"machines": 4, "days": 2.0, "seed": 3, "window": 30, "epochs": 2}


@pytest.fixture
def lab(web: WebApp) -> Iterator[WebApp]:
    """An active pair with a backtest on record, the lab job running; all gone afterwards
    (the web app is shared: the fleet page goes back to threshold rules)."""
    with web.db.session() as s:
        train_id = queue_run(session=s, kind="train", params=SMALL, user_id=None).id
    run_next(web.db, lab_setup(web.settings, web.db))
    with web.db.session() as s:
        trained = s.get(LabRun, train_id)
        pair = {"anomaly": trained.anomaly_version, "failure": trained.failure_version}
        queue_run(
            session=s,
            kind="backtest",
            params={"machines": 3, "days": 2.0, "seed": 77},
            user_id=None,
            anomaly_version=pair["anomaly"],
            failure_version=pair["failure"],
        )
    run_next(web.db, lab_setup(web.settings, web.db))
    with web.db.session() as s:
        promote_pair(session=s, pair=pair, user_id=None)
    stop = threading.Event()

    def worker() -> None:
        while not stop.is_set():
            if not run_next(web.db, lab_setup(web.settings, web.db)):
                stop.wait(0.3)

    thread = threading.Thread(target=worker, daemon=True)
    thread.start()
    yield web
    stop.set()
    thread.join(timeout=120)
    with web.db.session() as s:
        s.execute(delete(LabRun))
        s.execute(delete(ModelVersion))
        s.execute(delete(AuditLog).where(AuditLog.entity.in_(("model", "lab_run"))))


def _active(web: WebApp) -> dict[str, int]:
    with web.db.session() as s:
        rows = s.execute(
            select(ModelVersion.kind, ModelVersion.version).where(
                ModelVersion.status == ModelStatus.ACTIVE
            )
        ).all()
    return dict(rows)


def test_train_backtest_promote_from_the_lab(dash_duo, lab: WebApp):
    web = lab
    assert _active(web) == {"anomaly": 1, "failure": 1}
    dash_duo.start_server(web.app, navigate=False, port=free_port())
    login(dash_duo, web, "admin")
    visit(dash_duo, "/lab")
    dash_duo.wait_for_contains_text("#lab-header", "Active: anomaly v1 + failure v1", timeout=20)
    tabs = dash_duo.find_element("#lab-tabs").find_elements("css selector", "a.nav-link")

    # tune: the active pair's backtest is the labelled history; moving the threshold from
    # 0.80 to 0.05 changes what the page says, to what the replay on those scores gives
    tabs[1].click()
    dash_duo.wait_for_contains_text(f"#{tune.SOURCE}", "Active failure model v1", timeout=20)
    with web.db.session() as s:
        scored, model, _run = tuning_set(s)
    part = scored.of(model)

    def expected(threshold: float) -> dict:
        return threshold_metrics(
            part,
            scored.failures,
            horizon_h=6.0,
            threshold=threshold,
            data_end=scored.meta["data_end"],
        )

    detail = f"#{tune.KPI_IDS['precision']}-detail"
    at_08, at_005 = expected(0.8), expected(0.05)
    assert at_005["raised"] != at_08["raised"]
    dash_duo.wait_for_contains_text(detail, f"of {at_08['raised']} alarms", timeout=20)
    dash_duo.find_element(f"#{tune.SLIDER} [role='slider']").send_keys(*[Keys.ARROW_LEFT] * 75)
    dash_duo.wait_for_contains_text(
        detail, f"{at_005['true_alarms']} of {at_005['raised']} alarms", timeout=15
    )
    recall = dash_duo.find_element(f"#{tune.KPI_IDS['recall']}-detail").text
    assert f"caught {at_005['caught']} of {at_005['failures']}" in recall
    shot(dash_duo, "lab-flow-tuned")
    tabs[2].click()

    # train a small candidate from the page: progress and the loss curve stream in
    for name, value in (("machines", 4), ("days", 2), ("window", 30), ("epochs", 2)):
        box = dash_duo.find_element(f"#lab-train-{name}")
        box.clear()
        box.send_keys(str(value))
    # the best of the forest, the LSTM and their blend on held-out machines is kept, and named
    Select(dash_duo.find_element("#lab-train-family")).select_by_value("auto")
    click(dash_duo, "#lab-train-start")
    dash_duo.wait_for_contains_text("#lab-models-feedback", "queued", timeout=10)
    dash_duo.wait_for_contains_text("#lab-run-stage", "train · done", timeout=180)
    shot(dash_duo, "lab-models-trained")
    eventually(lambda: "v2" in dash_duo.find_element("#lab-pair").text, timeout=15)
    assert "failure v2" in dash_duo.find_element("#lab-pair").text
    assert "candidate" in dash_duo.find_element("#lab-pair").text
    with web.db.session() as s:
        trained = s.scalar(select(LabRun).where(LabRun.kind == "train").order_by(LabRun.id.desc()))
        assert trained.params["family"] == "auto"
        metrics = s.scalar(
            select(ModelVersion).where(ModelVersion.kind == "failure", ModelVersion.version == 2)
        ).metrics
    chosen = metrics["family"]  # "chosen" may name a blend's variant: the family is what shows
    named = {"tree": "random forest", "lstm": "LSTM", "blend": "forest + LSTM"}[chosen]
    assert f"failure v2 ({named})" in dash_duo.find_element("#lab-pair").text
    # and why: each family's remaining-life error on the held-out machines, overall and in
    # the last 2 h before a failure when one of them failed
    runs = dash_duo.find_element("#lab-runs-table").text
    assert f"failure v2 ({named}); RUL error on held-out machines" in runs
    overall, near = r"\d+\.\d\d h", r"\d+\.\d\d / (\d+\.\d\d|—) h"
    assert re.search(
        f"\\(none of them failed\\): random forest {overall}, forest \\+ LSTM {overall}"
        f"|before a failure: random forest {near}, forest \\+ LSTM {near}",
        runs,
    ), runs
    # and what its forests see besides the window, as chosen on the training machines
    assert f"; its forests see the {columns_text(metrics['tree_columns'])}" in runs, runs

    # not promotable before a backtest
    click(dash_duo, "#lab-promote")
    dash_duo.wait_for_contains_text("#lab-backtest-pair-error", "No backtest", timeout=10)
    assert _active(web) == {"anomaly": 1, "failure": 1}

    # backtest it next to the active pair
    for name, value in (("machines", 3), ("days", 2)):
        box = dash_duo.find_element(f"#lab-backtest-{name}")
        box.clear()
        box.send_keys(str(value))
    click(dash_duo, "#lab-backtest-start")
    dash_duo.wait_for_contains_text("#lab-compare-table", "Failures caught", timeout=180)
    header = texts(dash_duo, "#lab-compare-table th")
    assert any(h.startswith("anomaly v2 + failure v2 (") for h in header)
    assert any("active: anomaly v1" in h for h in header)
    shot(dash_duo, "lab-models-backtest")
    report = browser_session(dash_duo).get(
        dash_duo.find_element("#lab-backtest-csv").get_attribute("href"), timeout=30
    )
    assert report.status_code == 200 and "false_alarms_per_machine_week" in report.text
    anonymous = requests.get(report.url, timeout=30, allow_redirects=False)
    assert anonymous.status_code in (302, 401, 403)

    # promote: the fleet page now scores with v2
    click(dash_duo, "#lab-promote")
    dash_duo.wait_for_contains_text("#lab-models-feedback", "Promoted", timeout=10)
    assert _active(web) == {"anomaly": 2, "failure": 2}
    visit(dash_duo, "/")
    dash_duo.wait_for_contains_text("#mode-text", "failure v2", timeout=20)
    with web.db.session() as s:
        actions = s.scalars(select(AuditLog.action).where(AuditLog.entity == "model")).all()
    assert actions.count("model.promote") >= 4  # two kinds, twice
