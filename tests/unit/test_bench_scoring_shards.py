"""The pure helpers of bench/scoring_shards.py: the shares, the quantiles, a K's row."""

from __future__ import annotations

import pytest

from bench.scoring_shards import percentile, shard_members, summarize


def test_shards_split_the_fleet_by_machine_id_once_each():
    ids = list(range(1, 11))
    shares = shard_members(ids, 3)
    assert shares == [[3, 6, 9], [1, 4, 7, 10], [2, 5, 8]]
    assert sorted(m for share in shares for m in share) == ids
    assert shard_members(ids, 1) == [ids]
    with pytest.raises(ValueError):
        shard_members(ids, 0)


def test_percentile_interpolates_between_ranks():
    assert percentile([3.0, 1.0, 2.0], 0.5) == 2.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 0.95) == pytest.approx(4.8)
    assert percentile([7.0], 0.95) == 7.0
    with pytest.raises(ValueError):
        percentile([], 0.5)


def test_summary_row_against_the_leader():
    ticks = [
        {"wall": w, "cpu": 1.0, "db_cpu": 0.5, "rss": [300.0, 310.0], "scored": 100}
        for w in (1.0, 2.0, 3.0)
    ]
    row = summarize(ticks, leader_p50=1.0)
    assert row["p50"] == 2.0 and row["ratio"] == 2.0
    assert row["rss_max"] == 310.0 and row["rss_sum"] == 610.0
    assert row["scored"] == 100
    assert summarize(ticks, leader_p50=None)["ratio"] is None
