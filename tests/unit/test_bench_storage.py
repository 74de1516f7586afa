"""bench/storage.py's sizing table: the measured bytes per reading multiplied out, the
newest day uncompressed on TimescaleDB, and no TimescaleDB columns when it was not
measured."""

from __future__ import annotations

from bench.storage import SCENARIOS, Measured, render_sizing, sizing_rows


def test_sizing_multiplies_the_measured_bytes_out():
    measured = Measured(
        readings=1,
        plain=100.0,
        plain_heap=50.0,
        rollup_row=130.0,
        hyper=100.0,
        compressed=10.0,
        compressed_binary=2.0,
    )
    rows = sizing_rows(measured)
    assert len(rows) == len(SCENARIOS)
    fifty = rows[0]  # 50 machines × 3 sensors × 1 Hz = 150 readings/s
    assert fifty[:4] == ["50", "3", "1", "150"]
    assert fifty[4] == "1.3"  # 150 × 86,400 × 100 B = 1.296 GB a day
    assert fifty[5] == "39"  # 30 days
    # one day at 100 B, 29 days at 10 B: 1.296 + 3.758 GB
    assert fifty[7] == "5.1"
    # 365 days: one at 100 B, 364 at 10 B (48.5 GB), or at 2 B at the sensors' resolution (10.7)
    assert fifty[8] == "48" and fifty[9] == "11"
    assert rows[-1][-1] == "9"  # 100,000 readings/s at 11,858 a worker


def test_without_timescaledb_its_columns_say_not_measured():
    rows = sizing_rows(Measured(readings=1, plain=96.0, plain_heap=52.0, rollup_row=133.0))
    assert all(row[7] == row[8] == row[9] == "—" for row in rows)
    assert render_sizing(Measured(1, 96.0, 52.0, 133.0)).count("\n") == len(SCENARIOS) + 1
