"""The kinds callbacks' inputs are checked against, and the one id conversion."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from web.server.input_kinds import (
    DAY,
    ID,
    ID_CHOICE,
    NUMBER,
    PATH,
    SMALL,
    TEXTS,
    TIMESTAMP,
    BadInput,
    as_id,
    record,
    rows,
)


@pytest.mark.parametrize(("given_", "wanted"), [(1, 1), ("42", 42), (2**31 - 1, 2**31 - 1)])
def test_as_id_takes_an_int_or_its_digits(given_: object, wanted: int):
    assert as_id(given_) == wanted


@pytest.mark.parametrize(
    "junk", [None, 0, -1, 2**31, 10**30, "abc", "", " 1", "1.0", "²", True, 1.0, [1], {"a": 1}]
)
def test_as_id_refuses_anything_else(junk: object):
    with pytest.raises(BadInput):
        as_id(junk)


@given(st.none() | st.booleans() | st.integers() | st.floats() | st.text() | st.lists(st.none()))
def test_no_kind_raises_on_any_value(value: object):
    for kind in (ID, ID_CHOICE, NUMBER, SMALL, DAY, TIMESTAMP, PATH, TEXTS):
        assert kind.accepts(value) in (True, False)


def test_numbers_are_finite_and_never_booleans():
    assert NUMBER.accepts(1.5) and NUMBER.accepts(-3) and NUMBER.accepts(None)
    for junk in (float("nan"), float("inf"), True, "1", 1e16):
        assert not NUMBER.accepts(junk)


def test_small_numbers_fit_an_integer_column():
    assert SMALL.accepts("12") and SMALL.accepts(3) and SMALL.accepts("a few")  # checked later
    assert not SMALL.accepts("99999999999") and not SMALL.accepts(2**31) and not SMALL.accepts([])


def test_times_carry_their_zone_and_dates_parse():
    assert TIMESTAMP.accepts("2026-01-02T03:04:05+00:00")
    assert not TIMESTAMP.accepts("2026-01-02T03:04:05")  # naive: compared with aware ones
    assert DAY.accepts("2026-01-02") and DAY.accepts("2026-01-02T00:00:00")
    assert not DAY.accepts("2026-13-01") and not DAY.accepts(20260102)


def test_a_path_is_required_and_absolute():
    assert PATH.required.accepts("/tickets")
    assert not PATH.required.accepts(None) and not PATH.accepts("tickets")


def test_records_and_rows_check_their_fields():
    meta = record("meta", names=TEXTS.required)
    assert meta.accepts({"names": ["a"], "other": 1})
    assert not meta.accepts({"names": None}) and not meta.accepts({}) and not meta.accepts([])
    grid = rows(id=ID.required)
    assert grid.accepts([{"id": 3, "name": "x"}]) and grid.accepts([])
    assert not grid.accepts([{"id": "abc"}]) and not grid.accepts([{}]) and not grid.accepts([1])
