"""In Chromium, an admin changes a setting (a bad value is explained next to the field)
and asks the worker to run a job now; a manager sees the settings read-only."""

from __future__ import annotations

import pytest
from browser import click, login, pattern, shot, visit
from factories import WebApp, active_model
from services import free_port
from sqlalchemy import delete, select

from data.models import AppSetting, JobRequest, JobRun, ModelVersion
from ml.registry import active, promote
from web.views.admin_jobs import job_run
from web.views.admin_settings import SETTING_ERROR, SETTING_INPUT, SETTING_SAVE, setting_field

pytestmark = pytest.mark.e2e


def test_admin_changes_a_setting_and_asks_for_a_job_run(dash_duo, web: WebApp):
    dash_duo.start_server(web.app, navigate=False, port=free_port())
    login(dash_duo, web, "admin")
    visit(dash_duo, "/admin/settings")
    field = pattern(setting_field(SETTING_INPUT, "failure_threshold"))
    save = pattern(setting_field(SETTING_SAVE, "failure_threshold"))
    dash_duo.wait_for_element(field, timeout=15).clear()
    dash_duo.find_element(field).send_keys("1.7")
    click(dash_duo, save)
    error = pattern(setting_field(SETTING_ERROR, "failure_threshold"))
    dash_duo.wait_for_contains_text(error, "Between 0.05 and 1", timeout=10)
    shot(dash_duo, "settings-error")
    dash_duo.find_element(field).clear()
    dash_duo.find_element(field).send_keys("0.85")
    click(dash_duo, save)
    dash_duo.wait_for_contains_text(
        "#admin-note", "Failure alarm threshold is now 0.85", timeout=10
    )
    shot(dash_duo, "settings")
    with web.db.session() as s:
        assert s.get(AppSetting, "failure_threshold").value == {"value": 0.85}
        s.execute(delete(AppSetting))  # leave the shared app as it was

    with web.db.session() as s:  # a run by one of several workers says which
        s.add(JobRun(job="escalation", items=3, worker="worker-2"))
    visit(dash_duo, "/admin/jobs")
    run = pattern(job_run("weekly_report"))
    dash_duo.wait_for_element(run, timeout=15)
    dash_duo.wait_for_contains_text("#job-row-escalation", "on worker-2", timeout=10)
    click(dash_duo, run)
    dash_duo.wait_for_contains_text("#admin-note", "weekly_report will run", timeout=10)
    shot(dash_duo, "jobs")
    with web.db.session() as s:
        waiting = s.scalar(select(JobRequest.job).where(JobRequest.started_at.is_(None)))
        assert waiting == "weekly_report"
        s.execute(delete(JobRequest))
        s.execute(delete(JobRun).where(JobRun.worker == "worker-2"))
    assert not [e for e in dash_duo.get_logs() or [] if e["level"] in ("SEVERE", "WARNING")]


def test_manager_sees_the_settings_read_only(dash_duo, web: WebApp, tmp_path):
    with web.db.session() as s:  # the active model's training chose its alarm threshold
        before = active(session=s, kind="failure")
        earlier = None if before is None else before.version
        version = active_model(s, "failure", tmp_path, {"family": "tree", "alarm_threshold": 0.9})
    try:
        dash_duo.start_server(web.app, navigate=False, port=free_port())
        login(dash_duo, web, "manager")
        visit(dash_duo, "/admin/settings")
        field = pattern(setting_field(SETTING_INPUT, "failure_threshold"))
        shown = dash_duo.wait_for_element(field, timeout=15)
        assert shown.get_attribute("disabled") is not None
        save = pattern(setting_field(SETTING_SAVE, "failure_threshold"))
        assert not dash_duo.find_elements(save)
        assert shown.get_attribute("value") == "0.9"
        dash_duo.wait_for_contains_text(
            "#settings-table", "default 0.9 · chosen in the active model's training", timeout=10
        )
        shot(dash_duo, "settings-model-threshold")
    finally:  # the web app is shared: back to the model active before, if any
        with web.db.session() as s:
            failure = ModelVersion.kind == "failure"
            s.execute(delete(ModelVersion).where(failure, ModelVersion.version == version))
            if earlier is not None:
                promote(session=s, kind="failure", version=earlier)
