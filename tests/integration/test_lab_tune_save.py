"""Tuning thresholds on both databases: the labelled history of the latest backtest swept
for the tune section, and a tuned threshold saved as an audited setting change (with the
failure alarm's clear level, or refused without it); through the web app, only by engineers
and admins."""

from __future__ import annotations

import pytest
from factories import add_user, make_settings
from scored_sets import record_scored_run, synthetic_scored
from sqlalchemy import delete, func, select

from data.models import AuditLog, Role
from maintenance.ops.app_settings import SettingError, reset_setting
from maintenance.ops.threshold_tuning import current_thresholds, save_threshold
from ml.lab.scored import threshold_metrics
from ml.lab.tune import tuning_view
from web.views import lab_tune as v


def test_tuning_view_sweeps_the_latest_backtest(db, tmp_path):
    with db.session() as s:
        assert tuning_view(session=s, column="prob") is None  # before any backtest
    scored = synthetic_scored(machines=3, days=4.0, seed=11)
    run_id = record_scored_run(db, scored, tmp_path / "run", failure_version=3)

    with db.session() as s:
        view = tuning_view(session=s, column="prob", extra_thresholds=[0.825])
    assert view is not None and view.run_id == run_id and view.version == 3
    assert (view.machines, view.windows, view.horizon_h) == (3, len(scored.scores), 6.0)
    assert view.source == "simulated: 3 machines × 4 days, seed 11"
    assert view.days == pytest.approx(4.0, abs=0.05)
    assert len(view.sweep) == 92 and 0.825 in view.sweep["threshold"].tolist()
    row = view.sweep.set_index("threshold").loc[0.8]
    direct = threshold_metrics(
        scored.scores,
        scored.failures,
        horizon_h=6.0,
        threshold=0.8,
        data_end=scored.meta["data_end"],
    )
    assert (row["caught"], row["raised"], row["tp"]) == (
        direct["caught"],
        direct["raised"],
        direct["confusion"]["tp"],
    )
    assert view.pr.positives > 0 and len(view.pr.recall) > 10
    with db.session() as s:
        anomaly = tuning_view(session=s, column="anomaly")
    assert anomaly is not None and anomaly.version == 2


def _audited(db) -> list[tuple[str, str, object, object]]:
    with db.session() as s:
        rows = s.scalars(select(AuditLog).where(AuditLog.entity == "setting").order_by(AuditLog.id))
        return [(a.action, a.entity_id, a.before["value"], a.after["value"]) for a in rows]


def test_saving_a_threshold_is_an_audited_setting_change(db, tmp_path):
    settings = make_settings(tmp_path)  # failure alarm 0.8, clears below 0.6
    engineer = add_user(db, "eng", Role.ENGINEER)
    save = {"settings": settings, "user_id": engineer}

    with db.session() as s, pytest.raises(SettingError, match="clear level must stay below"):
        save_threshold(session=s, column="prob", value=0.55, move_clear=False, **save)
    assert _audited(db) == []

    with db.session() as s:  # lower, moving the clear level first
        saved = save_threshold(session=s, column="prob", value=0.55, move_clear=True, **save)
    assert (saved.key, saved.value, saved.clear_below) == ("failure_threshold", 0.55, 0.4125)
    with db.session() as s:  # higher than the old threshold: the threshold moves first
        save_threshold(session=s, column="prob", value=0.9, move_clear=True, **save)
        save_threshold(session=s, column="anomaly", value=0.62, move_clear=True, **save)
    with db.session() as s:
        assert current_thresholds(session=s, settings=settings) == {
            "failure_threshold": 0.9,
            "failure_clear_below": 0.675,
            "anomaly_threshold": 0.62,
        }
    assert _audited(db) == [
        ("setting.change", "failure_clear_below", 0.6, 0.4125),
        ("setting.change", "failure_threshold", 0.8, 0.55),
        ("setting.change", "failure_threshold", 0.55, 0.9),
        ("setting.change", "failure_clear_below", 0.4125, 0.675),
        ("setting.change", "anomaly_threshold", 0.7, 0.62),
    ]


def _save_request(web, value: float) -> dict:  # noqa: ANN001
    """The request the browser sends when Save threshold is clicked."""
    key = next(
        k for k in web.app.callback_map if k.startswith(f"..{v.ERROR}.children...{v.FEEDBACK}.")
    )
    state = {v.SLIDER: value, v.SCORE: "prob", v.MOVE_CLEAR: True, v.REFRESH: 0}
    return {
        "output": key,
        "outputs": [
            {"id": v.ERROR, "property": "children"},
            {"id": v.FEEDBACK, "property": "children"},
            {"id": v.REFRESH, "property": "data"},
        ],
        "inputs": [{"id": v.SAVE, "property": "n_clicks", "value": 1}],
        "state": [
            {"id": i, "property": "data" if i == v.REFRESH else "value", "value": x}
            for i, x in state.items()
        ],
        "changedPropIds": [f"{v.SAVE}.n_clicks"],
    }


def test_only_engineers_and_admins_may_save_a_threshold(web):
    with web.db.session() as s:
        first_audit = s.scalar(select(func.max(AuditLog.id))) or 0
    try:
        for user in ("viewer", "technician", "manager"):
            response = web.client(user).post(
                "/_dash-update-component", json=_save_request(web, 0.9)
            )
            assert "Your role may not do this." in response.get_data(as_text=True), user
            with web.db.session() as s:
                assert (
                    current_thresholds(session=s, settings=web.settings)["failure_threshold"] == 0.8
                )
        response = web.client("admin").post("/_dash-update-component", json=_save_request(web, 0.9))
        assert "threshold is now 0.9" in response.get_data(as_text=True)
        with web.db.session() as s:
            assert current_thresholds(session=s, settings=web.settings)["failure_threshold"] == 0.9
    finally:  # the web app is shared: back to the defaults, and no trace of this test
        with web.db.session() as s:
            for key in ("failure_threshold", "failure_clear_below"):
                reset_setting(session=s, settings=web.settings, key=key, user_id=None)
        with web.db.session() as s:
            s.execute(delete(AuditLog).where(AuditLog.id > first_audit))
