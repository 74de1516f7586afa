"""In Chromium, the technician's day: from the ticket list to the ticket's page, the SOP for
its error code as a checklist, a comment, starting work, and the history that records it;
and the SOP library, where an admin writes a new procedure."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from browser import click, eventually, graph_data, login, pattern, readings, shot, texts, visit
from factories import WebApp, clear_tickets
from selenium.webdriver.common.keys import Keys
from services import free_port
from sqlalchemy import delete, select, update

from data.fleet_queries import sensor_directory
from data.models import (
    Alarm,
    AlarmSource,
    Downtime,
    Severity,
    Sop,
    SopVersion,
    TicketStep,
)
from maintenance.alarming.raise_clear import raise_alarm
from web.views.resolve_dialog import (
    TICKET_RESOLVE_ACTION,
    TICKET_RESOLVE_CAUSE,
    TICKET_RESOLVE_OUTCOME,
    TICKET_RESOLVE_OUTCOME_ERROR,
    TICKET_RESOLVE_STILL,
    TICKET_RESOLVE_SUBMIT,
)
from web.views.sops import SOPS_PREVIEW, SOPS_SAVE, SOPS_SEARCH, SOPS_TEXT, SOPS_TEXT_ERROR
from web.views.ticket import (
    TICKET_COMMENT_ERROR,
    TICKET_COMMENT_FORM,
    TICKET_COMMENT_SUBMIT,
    TICKET_COMMENT_TEXT,
    TICKET_COMMENTS,
    TICKET_GRAPH,
    TICKET_HISTORY,
    TICKET_SOP,
    TICKET_SOP_AFTER,
    TICKET_STEPS,
    TICKET_STEPS_NOTE,
    ticket_detail_action,
    ticket_step,
)

pytestmark = pytest.mark.e2e
HEALTHY = {"temperature": 55.0, "vibration": 1.8, "rpm": 1480.0}


def _vib_high_ticket(web: WebApp) -> tuple[int, int]:
    """A VIB_HIGH alarm on motor-01 with readings around it; its ticket and SOP version ids."""
    with web.db.session() as s:
        s.execute(update(Downtime).values(ticket_id=None))
        clear_tickets(s)
    now = time.time()
    readings(web, "motor-01", HEALTHY, seconds=1800, end=now - 120, step=10)
    readings(web, "motor-01", {"vibration": 4.1, "temperature": 58.0}, seconds=120, end=now)
    with web.db.session() as s:
        sensor = sensor_directory(session=s)[("motor-01", "vibration")]
        alarm, ticket_id = raise_alarm(
            session=s,
            machine_id=1,
            code="VIB_HIGH",
            severity=Severity.WARNING,
            source=AlarmSource.RULE,
            message="motor-01: vibration 4.1 mm/s above warning limit 3.6",
            value=4.1,
            now=datetime.now(UTC) - timedelta(seconds=60),
            sensor_id=sensor,
        )
        version_id = s.scalar(
            select(SopVersion.id)
            .join(Sop, Sop.id == SopVersion.sop_id)
            .where(Sop.code == "VIB_HIGH", SopVersion.version == Sop.current_version)
        )
    assert ticket_id is not None
    return ticket_id, version_id


def _step(version_id: int, step: int) -> str:
    return pattern(ticket_step(version_id, step)) + " input"


def test_technician_follows_the_sop_comments_and_starts_work(dash_duo, web: WebApp):
    ticket_id, version_id = _vib_high_ticket(web)
    with web.db.session() as s:  # the same fault heats the motor: it joins the open ticket
        _, opened = raise_alarm(
            session=s,
            machine_id=1,
            code="TEMP_HIGH",
            severity=Severity.WARNING,
            source=AlarmSource.RULE,
            message="motor-01: temperature 72.0 °C above warning limit 70",
            value=72.0,
            now=datetime.now(UTC) - timedelta(seconds=30),
        )
    assert opened is None
    dash_duo.start_server(web.app, navigate=False, port=free_port())
    login(dash_duo, web, "technician")

    dash_duo.find_element("a.nav-link[href='/tickets']").click()
    link = dash_duo.wait_for_element(f"#ticket-link-{ticket_id}", timeout=15)
    assert dash_duo.find_element(f"#ticket-joined-{ticket_id}").text == "+1"  # the heat alarm
    link.click()
    dash_duo.wait_for_text_to_equal("#ticket-sop-title", "Vibration above limit", timeout=15)
    dash_duo.wait_for_text_to_equal("#ticket-status", "OPEN")
    assert dash_duo.find_element("#ticket-code").text == "VIB_HIGH"
    assert (
        dash_duo.find_element("#ticket-machine").get_attribute("href").endswith("/machine/motor-01")
    )
    assert "above warning limit 3.6" in dash_duo.find_element("#ticket-alarm-message").text
    joined = dash_duo.find_element("#ticket-joined-alarms")
    assert "TEMP_HIGH" in joined.text and "above warning limit 70" in joined.text
    sop_link = joined.find_element("css selector", "a").get_attribute("href")
    assert sop_link.endswith("/sops?code=TEMP_HIGH")
    labels = texts(dash_duo, f"#{TICKET_STEPS} label")
    assert len(labels) == 10 and labels[0].startswith("1. Read the trend")
    assert "lockout-tagout" in dash_duo.find_element(f"#{TICKET_SOP}").text
    assert "Expected readings" in dash_duo.find_element(f"#{TICKET_SOP_AFTER}").text
    eventually(lambda: any(len(t["x"]) > 10 for t in graph_data(dash_duo, TICKET_GRAPH) or []))

    # two steps ticked are saved, and still ticked after a reload
    click(dash_duo, _step(version_id, 0))
    dash_duo.wait_for_contains_text(f"#{TICKET_HISTORY}", "Ticked step 1", timeout=10)
    click(dash_duo, _step(version_id, 1))
    dash_duo.wait_for_contains_text(f"#{TICKET_HISTORY}", "Ticked step 2", timeout=10)
    with web.db.session() as s:
        done = s.scalars(select(TicketStep.step).where(TicketStep.done.is_(True))).all()
    assert sorted(done) == [0, 1]
    dash_duo.driver.refresh()
    dash_duo.wait_for_text_to_equal("#ticket-sop-title", "Vibration above limit", timeout=15)
    eventually(lambda: dash_duo.find_element(_step(version_id, 1)).is_selected())
    assert dash_duo.find_element(_step(version_id, 0)).is_selected()
    assert not dash_duo.find_element(_step(version_id, 2)).is_selected()
    dash_duo.wait_for_contains_text(f"#{TICKET_STEPS_NOTE}", "2 of 10 steps done")

    # an empty comment is refused next to the field; HTML in a comment stays text
    click(dash_duo, f"#{TICKET_COMMENT_SUBMIT}")
    dash_duo.wait_for_text_to_equal(f"#{TICKET_COMMENT_ERROR}", "Write a comment first.")
    assert "is-invalid" in dash_duo.find_element(f"#{TICKET_COMMENT_TEXT}").get_attribute("class")
    dash_duo.find_element(f"#{TICKET_COMMENT_TEXT}").send_keys(
        "Outboard bearing is <b>bold</b>ly rough; new one from stores."
    )
    click(dash_duo, f"#{TICKET_COMMENT_SUBMIT}")
    dash_duo.wait_for_contains_text(".ticket-comment-body", "<b>bold</b>ly rough", timeout=10)
    assert dash_duo.find_elements(f"#{TICKET_COMMENTS} b") == []
    assert dash_duo.find_element(f"#{TICKET_COMMENT_TEXT}").get_attribute("value") == ""

    click(dash_duo, pattern(ticket_detail_action("start")))
    dash_duo.wait_for_text_to_equal("#ticket-status", "IN PROGRESS", timeout=10)
    dash_duo.wait_for_contains_text(f"#{TICKET_HISTORY}", "Status OPEN → IN PROGRESS")
    history = texts(dash_duo, f"#{TICKET_HISTORY} li")  # newest first, with who and when
    assert "Status OPEN → IN PROGRESS" in history[0] and "technician · " in history[0]
    assert "Commented: “Outboard bearing is <b>bold</b>ly" in history[1]
    assert "technician · " in history[1]
    assert ["Ticked step 2" in history[2], "Ticked step 1" in history[3]] == [True, True]
    assert "technician · " in history[2] and "technician · " in history[3]
    assert "Opened with priority HIGH" in history[-1] and "system · " in history[-1]
    assert "Joined by alarm TEMP_HIGH: motor-01: temperature 72.0" in history[-2]
    dash_duo.driver.execute_script("window.scrollTo(0, 0)")
    shot(dash_duo, "ticket-detail")
    click(dash_duo, f"#{TICKET_COMMENT_SUBMIT}")  # scrolls to comments and history
    shot(dash_duo, "ticket-detail-comments")

    # the same resolve dialog as on the list: refused until answered, then RESOLVED
    click(dash_duo, pattern(ticket_detail_action("resolve")))
    # both of the ticket's alarms are still active: the dialog says so before anything else
    dash_duo.wait_for_contains_text(f"#{TICKET_RESOLVE_STILL}", "Still alarming", timeout=10)
    still = dash_duo.find_element(f"#{TICKET_RESOLVE_STILL}").text
    assert "VIB_HIGH" in still and "TEMP_HIGH" in still and "no new ticket" in still
    shot(dash_duo, "resolve-still-alarming")
    dash_duo.wait_for_element(f"#{TICKET_RESOLVE_SUBMIT}", timeout=10).click()
    dash_duo.wait_for_text_to_equal(f"#{TICKET_RESOLVE_OUTCOME_ERROR}", "Choose an outcome.")
    dash_duo.find_element(
        f"label[for='_dbcprivate_radioitems_{TICKET_RESOLVE_OUTCOME}_input_false_alarm']"
    ).click()
    dash_duo.find_element(f"#{TICKET_RESOLVE_CAUSE}").send_keys("Loose guard rattling")
    dash_duo.find_element(f"#{TICKET_RESOLVE_ACTION}").send_keys("Tightened the guard")
    dash_duo.find_element(f"#{TICKET_RESOLVE_SUBMIT}").click()
    dash_duo.wait_for_text_to_equal("#ticket-status", "RESOLVED", timeout=10)
    dash_duo.wait_for_contains_text(f"#{TICKET_STEPS_NOTE}", "reopen it to change")
    assert not dash_duo.find_element(_step(version_id, 2)).is_enabled()
    dash_duo.wait_for_contains_text(f"#{TICKET_HISTORY}", "IN PROGRESS → RESOLVED, false alarm")

    with web.db.session() as s:  # leave the shared app without an active alarm
        s.execute(update(Alarm).values(cleared_at=datetime.now(UTC)))


def test_sop_library_search_versions_and_a_new_procedure(dash_duo, web: WebApp):
    dash_duo.start_server(web.app, navigate=False, port=free_port())
    login(dash_duo, web, "admin")
    dash_duo.find_element("a.nav-link[href='/sops']").click()
    dash_duo.wait_for_text_to_equal("#sop-none", "Choose a procedure on the left.", timeout=15)
    dash_duo.wait_for_element("#sop-item-VIB_HIGH", timeout=15).click()
    dash_duo.wait_for_text_to_equal("#sop-title", "Vibration above limit", timeout=15)
    assert "version 1 (current), 10 steps, by shipped" in dash_duo.find_element("#sop-meta").text
    assert "lockout-tagout" in dash_duo.find_element("#sop-rendered").text
    dash_duo.find_element(f"#{SOPS_SEARCH}").send_keys("overspeed")
    eventually(
        lambda: [t.split("\n")[0] for t in texts(dash_duo, ".sop-list code")] == ["RPM_HIGH"]
    )

    visit(dash_duo, "/sops?code=BELT_SLIP")
    dash_duo.wait_for_contains_text("#sop-missing", "There is no SOP for BELT_SLIP yet", timeout=15)
    editor = dash_duo.find_element(f"#{SOPS_TEXT}")
    assert "## Steps\n1. " in editor.get_attribute("value")  # a template to fill in
    click(dash_duo, f"#{SOPS_SAVE}")
    dash_duo.wait_for_contains_text(f"#{SOPS_TEXT_ERROR}", "at least one numbered step")
    assert "is-invalid" in editor.get_attribute("class")
    editor.send_keys(Keys.CONTROL, "a")  # select all and delete, as a user would
    editor.send_keys(Keys.DELETE)
    editor.send_keys(
        "---\ntitle: Belt slipping\n---\n\n## Safety\n- Lock out the drive.\n\n"
        "## Steps\n1. Check belt tension.\n2. Replace a glazed belt.\n"
    )
    dash_duo.wait_for_contains_text(f"#{SOPS_PREVIEW}", "Replace a glazed belt")
    shot(dash_duo, "sops-edit")
    click(dash_duo, f"#{SOPS_SAVE}")
    dash_duo.wait_for_text_to_equal("#sop-title", "Belt slipping", timeout=10)
    dash_duo.wait_for_contains_text("#sops-ok", "Saved BELT_SLIP as version 1")
    assert "2 steps, by admin" in dash_duo.find_element("#sop-meta").text
    dash_duo.driver.execute_script("window.scrollTo(0, 0)")
    shot(dash_duo, "sops")
    with web.db.session() as s:
        sop = s.scalar(select(Sop).where(Sop.code == "BELT_SLIP"))
        s.execute(delete(SopVersion).where(SopVersion.sop_id == sop.id))
        s.delete(sop)


def test_a_viewer_reads_a_ticket_but_cannot_work_it(dash_duo, web: WebApp):
    ticket_id, version_id = _vib_high_ticket(web)
    with web.db.session() as s:  # and a ticket whose code has no SOP yet
        other = raise_alarm(
            session=s,
            machine_id=2,
            code="BELT_SLIP",
            severity=Severity.WARNING,
            source=AlarmSource.RULE,
            message="pump-01: belt slipping",
            value=None,
            now=datetime.now(UTC),
        )[1]
    dash_duo.start_server(web.app, navigate=False, port=free_port())
    login(dash_duo, web, "viewer")
    visit(dash_duo, f"/ticket/{ticket_id}")
    dash_duo.wait_for_text_to_equal("#ticket-sop-title", "Vibration above limit", timeout=15)
    assert not dash_duo.find_element(_step(version_id, 0)).is_enabled()
    dash_duo.wait_for_contains_text(f"#{TICKET_STEPS_NOTE}", "Only technician or a manager")
    assert dash_duo.find_elements(pattern(ticket_detail_action("start"))) == []
    assert not dash_duo.find_element(f"#{TICKET_COMMENT_FORM}").is_displayed()
    dash_duo.wait_for_text_to_equal("#ticket-no-comments", "No comments yet.")
    shot(dash_duo, "ticket-detail-viewer")

    visit(dash_duo, f"/ticket/{other}")
    dash_duo.wait_for_text_to_equal("#ticket-no-sop", "There is no SOP for BELT_SLIP yet.")
    assert dash_duo.find_elements("#ticket-sop-create") == []  # only engineers and admins
    visit(dash_duo, "/ticket/999999")
    dash_duo.wait_for_contains_text("#ticket-missing", "No such ticket: #999999.", timeout=15)
    with web.db.session() as s:
        s.execute(update(Alarm).values(cleared_at=datetime.now(UTC)))
