"""In Chromium, an engineer tunes the failure alarm on the labelled history of a backtest:
moves the threshold and sees precision and recall change (the same numbers
``threshold_metrics`` gives), saves it as an audited setting change with the clear level,
and is told why a threshold under the clear level cannot be saved alone."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from browser import click, eventually, shot, visit
from factories import WebApp, add_user
from scored_sets import record_scored_run, synthetic_scored
from selenium.webdriver.common.keys import Keys
from services import free_port
from sqlalchemy import delete, select

from data.models import AuditLog, LabRun, LabRunStatus, Role, User
from maintenance.ops.app_settings import reset_setting
from maintenance.ops.threshold_tuning import current_thresholds
from ml.lab.scored import ScoredSet, threshold_metrics
from ml.registry import active_versions
from web.views import lab_tune as v

pytestmark = pytest.mark.e2e
PASSWORD = "tune-eng-pw-1"
_KEYS = ("failure_threshold", "failure_clear_below")


@pytest.fixture
def engineer(web: WebApp) -> Iterator[tuple[str, int]]:
    """An engineer of their own; afterwards the thresholds are reset and the engineer, their
    audit rows and the backtest this test recorded are gone (the app is shared)."""
    name = f"tune-{uuid.uuid4().hex[:6]}"
    user_id = add_user(web.db, name, Role.ENGINEER, PASSWORD)
    with web.db.session() as s:
        before = set(s.scalars(select(LabRun.id)))
    yield name, user_id
    with web.db.session() as s:
        for key in _KEYS:
            reset_setting(session=s, settings=web.settings, key=key, user_id=user_id)
    with web.db.session() as s:
        s.execute(delete(LabRun).where(LabRun.id.not_in(before)))
        s.execute(delete(AuditLog).where(AuditLog.user_id == user_id))
        s.execute(delete(User).where(User.id == user_id))


def _sign_in(dash_duo, name: str) -> None:  # noqa: ANN001
    dash_duo.driver.get(dash_duo.server.url.rstrip("/") + "/login")
    dash_duo.wait_for_element("#username").send_keys(name)
    dash_duo.find_element("#password").send_keys(PASSWORD)
    dash_duo.find_element("#login-submit").click()
    dash_duo.wait_for_contains_text("#nav-user", f"{name} (", timeout=15)


def _open_tune(dash_duo) -> None:  # noqa: ANN001
    visit(dash_duo, "/lab")
    tabs = dash_duo.wait_for_element("#lab-tabs", timeout=15)
    next(a for a in tabs.find_elements("css selector", "a.nav-link") if "Tune" in a.text).click()


def _text(dash_duo, element_id: str) -> str:  # noqa: ANN001
    return dash_duo.find_element(f"#{element_id}").text


def _pct(x: float) -> str:
    return f"{100 * x:.0f} %"


def _expected(scored: ScoredSet, threshold: float) -> dict:
    return threshold_metrics(
        scored.scores,
        scored.failures,
        horizon_h=6.0,
        threshold=threshold,
        data_end=scored.meta["data_end"],
    )


def _expected_anomaly(scored: ScoredSet, threshold: float) -> dict:
    return threshold_metrics(
        scored.scores,
        scored.failures,
        horizon_h=6.0,
        threshold=threshold,
        column="anomaly",
        data_end=scored.meta["data_end"],
    )


def _nothing_on_record(web: WebApp) -> bool:
    with web.db.session() as s:
        return not s.scalars(select(LabRun.id).where(LabRun.status == LabRunStatus.DONE)).first()


def test_engineer_tunes_and_saves_the_failure_threshold(dash_duo, web: WebApp, engineer):
    name, user_id = engineer
    dash_duo.start_server(web.app, navigate=False, port=free_port())
    _sign_in(dash_duo, name)
    if _nothing_on_record(web):  # the empty state, when no other test left a backtest
        _open_tune(dash_duo)
        dash_duo.wait_for_contains_text("#lab-tune-none", "No backtest on record yet", 15)
        shot(dash_duo, "lab-tune-empty")

    with web.db.session() as s:
        active = active_versions(session=s).get("failure")
    version, model = (active, "active") if active else (3, "candidate")
    scored = synthetic_scored(machines=12, days=10.0, seed=5, failure_version=version, model=model)
    root = web.settings.var_dir / "lab" / f"tune-e2e-{uuid.uuid4().hex[:6]}"
    run_id = record_scored_run(web.db, scored, root, failure_version=version)
    with web.db.session() as s:
        assert current_thresholds(session=s, settings=web.settings)["failure_threshold"] == 0.8

    _open_tune(dash_duo)
    dash_duo.wait_for_contains_text(f"#{v.SOURCE}", f"backtest #{run_id}", timeout=20)
    assert f"{model.capitalize()} failure model v{version}" in _text(dash_duo, v.SOURCE)
    assert "on simulated: 12 machines × 10 days" in _text(dash_duo, v.SOURCE)
    at_08 = _expected(scored, 0.8)
    dash_duo.wait_for_text_to_equal(f"#{v.KPI_IDS['recall']}", _pct(at_08["recall"]), 15)
    assert _text(dash_duo, v.KPI_IDS["precision"]) == _pct(at_08["precision"])
    assert f"caught {at_08['caught']} of {at_08['failures']}" in _text(
        dash_duo, v.KPI_IDS["recall"] + "-detail"
    )
    shot(dash_duo, "lab-tune")

    # the slider's handle, moved with the keyboard like a user would: 0.80 → 0.55
    handle = dash_duo.find_element(f"#{v.SLIDER} [role='slider']")
    handle.send_keys(*[Keys.ARROW_LEFT] * 25)
    at_055 = _expected(scored, 0.55)
    assert at_055["recall"] != at_08["recall"]  # the data makes the move visible
    dash_duo.wait_for_text_to_equal(f"#{v.KPI_IDS['recall']}", _pct(at_055["recall"]), 15)
    assert _text(dash_duo, v.KPI_IDS["precision"]) == _pct(at_055["precision"])
    assert f"caught {at_055['caught']} of {at_055['failures']}" in _text(
        dash_duo, v.KPI_IDS["recall"] + "-detail"
    )
    dash_duo.wait_for_contains_text(f"#{v.SAVE}", "Save 0.55", timeout=10)
    assert "0.60 → 0.41" in _text(dash_duo, v.CLEAR_NOTE)
    shot(dash_duo, "lab-tune-moved")

    # save with the clear level: both settings change, audited under the engineer
    click(dash_duo, f"#{v.SAVE}")
    dash_duo.wait_for_contains_text(
        f"#{v.FEEDBACK}", "failure alarm threshold is now 0.55, its clear level 0.4125", 15
    )
    with web.db.session() as s:
        now = current_thresholds(session=s, settings=web.settings)
        audit = s.execute(
            select(AuditLog.entity_id, AuditLog.before, AuditLog.after).where(
                AuditLog.user_id == user_id, AuditLog.action == "setting.change"
            )
        ).all()
    assert (now["failure_threshold"], now["failure_clear_below"]) == (0.55, 0.4125)
    assert sorted((key, b["value"], a["value"]) for key, b, a in audit) == [
        ("failure_clear_below", 0.6, 0.4125),
        ("failure_threshold", 0.8, 0.55),
    ]
    dash_duo.wait_for_contains_text(f"#{v.SAVED}", "failure alarm at 0.55", timeout=10)
    shot(dash_duo, "lab-tune-saved")

    # alone, a threshold under the clear level is refused, and the page says why
    click(dash_duo, f"#{v.MOVE_CLEAR}")
    handle = dash_duo.find_element(f"#{v.SLIDER} [role='slider']")
    handle.send_keys(*[Keys.ARROW_LEFT] * 20)  # 0.35
    dash_duo.wait_for_contains_text(f"#{v.CLEAR_NOTE}", "saving would be refused", 10)
    click(dash_duo, f"#{v.SAVE}")
    dash_duo.wait_for_contains_text(f"#{v.ERROR}", "clear level must stay below", 10)
    eventually(lambda: "0.35" in _text(dash_duo, v.SAVE))
    with web.db.session() as s:
        assert current_thresholds(session=s, settings=web.settings)["failure_threshold"] == 0.55
    shot(dash_duo, "lab-tune-refused")

    # the anomaly score: its own model, setting and replay; no clear level to move
    click(dash_duo, f"#{v.SCORE} input[value='anomaly']")
    dash_duo.wait_for_contains_text(f"#{v.SOURCE}", "anomaly model v2", timeout=15)
    dash_duo.wait_for_contains_text(f"#{v.SAVED}", "anomaly warning at 0.70", timeout=10)
    at_07 = _expected_anomaly(scored, 0.7)
    dash_duo.wait_for_text_to_equal(f"#{v.KPI_IDS['recall']}", _pct(at_07["recall"]), 15)
    assert not dash_duo.find_element(f"#{v.CLEAR_BOX}").is_displayed()
    assert _text(dash_duo, v.ERROR) == ""  # the refusal was about the failure alarm
    shot(dash_duo, "lab-tune-anomaly")
