"""The model lab's address (what ``?type=&machine=&start=&end=`` pre-selects, and what it
ignores: dates that do not parse, a range that ends before it starts, unknown machines), and
the model-health page's notes that lead there."""

from __future__ import annotations

from datetime import date

from callbacks.lab_explore import asked_machines
from web.views.lab_explore import Asked, asked_period, lab_link, parse_search

FOUND = [
    ("compressor-01", "compressor", ["temperature"]),
    ("pump-01", "pump", ["temperature"]),
    ("pump-02", "pump", ["rpm"]),
]


def test_the_link_and_the_address_agree():
    link = lab_link(machine_type="pump", start=date(2026, 12, 5), end=date(2026, 12, 6))
    assert link == "/lab?type=pump&start=2026-12-05&end=2026-12-06"
    asked = asked_period(parse_search(link.split("?", 1)[1]))
    assert asked == Asked("pump", None, date(2026, 12, 5), date(2026, 12, 6))
    assert asked_machines(FOUND, asked) == ["pump-01", "pump-02"]


def test_a_named_machine_wins_over_its_type():
    asked = asked_period({"type": "pump", "machine": "pump-02"})
    assert asked_machines(FOUND, asked) == ["pump-02"]
    assert asked_machines(FOUND, asked_period({"machine": "nope"})) == []


def test_bad_dates_ask_for_no_dates():
    for start, end in (("2026-13-01", "2026-12-06"), ("2026-12-06", "2026-12-05"), ("x", "")):
        asked = asked_period({"type": "pump", "start": start, "end": end})
        assert (asked.start, asked.end) == (None, None)
        assert asked.machine_type == "pump"
    assert asked_period({"start": ["2026-12-05"]}) == Asked()  # only text is read


def test_the_health_page_names_a_type_without_reference_and_a_machine_that_moved():
    from callbacks.model_health import _moved, _note
    from data.models import DriftResult

    fan = [DriftResult(machine_type="fan", status="no reference")]
    assert _note(fan, {}, 2.0).startswith("No reference for type fan:")
    rows = [
        DriftResult(
            machine_type="pump", feature="temperature_level", kind="input", status="ok", psi=0.3
        ),
        DriftResult(
            machine_type="pump",
            feature="temperature_level",
            kind="machine",
            status="drift",
            psi=5.3,
            worst_machine_id=7,
        ),
        DriftResult(
            machine_type="pump",
            feature="rpm_level",
            kind="machine",
            status="ok",
            psi=0.4,
            worst_machine_id=8,
        ),
    ]
    names = {7: "pump-02", 8: "pump-03"}
    assert _note(rows, names, 2.0) == (
        "pump-02 moved on its own: its temperature_level PSI 5.30 against the type's "
        "reference (machine threshold 2)."
    )
    assert _moved(rows, names) == "pump-02"
    assert _moved(rows[:1], names) is None
