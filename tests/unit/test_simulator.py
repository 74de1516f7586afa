"""The simulator: healthy machines stay inside their limits, faults cross them before the
failure, and every fault is recorded as ground truth."""

from __future__ import annotations

from simulator.fleet_physics import FleetSimulator, demo_fleet

HOUR = 3600.0


def _run(sim: FleetSimulator, hours: float, step_s: float = 60.0):
    """Sample every ``step_s`` physics seconds; yields (wall time, samples)."""
    t, end = sim.start, sim.start + hours * HOUR / sim.speed
    while t <= end:
        yield t, sim.sample(t)
        t += step_s / sim.speed


def test_demo_fleet_has_three_types_with_limits():
    fleet = demo_fleet(6)
    assert [m.name for m in fleet[:3]] == ["motor-01", "pump-01", "compressor-01"]
    assert {m.type for m in fleet} == {"motor", "pump", "compressor"}
    for m in fleet:
        kinds = {s.kind: s for s in m.sensors}
        assert set(kinds) == {"temperature", "vibration", "rpm"}
        assert kinds["vibration"].warn_high < kinds["vibration"].crit_high
        assert kinds["rpm"].crit_low < kinds["rpm"].warn_low


def test_healthy_fleet_stays_inside_warning_limits_for_a_day():
    fleet = demo_fleet(6)
    sim = FleetSimulator(
        fleet,
        speed=3600,
        seed=1,
        start=0.0,
        first_fault_after_s=None,
        mean_hours_between_faults=1e9,
    )
    limits = {m.name: {s.key: s for s in m.sensors} for m in fleet}
    for _, samples in _run(sim, 24):
        for machine, values in samples.items():
            for key, value in values.items():
                s = limits[machine][key]
                assert s.warn_high is None or value < s.warn_high, (machine, key, value)
                assert s.warn_low is None or value > s.warn_low, (machine, key, value)
    assert sim.episodes == []


def test_early_fault_degrades_vibration_past_limits_before_failure_and_is_recorded():
    fleet = demo_fleet(3)
    sim = FleetSimulator(
        fleet, speed=3600, seed=3, start=0.0, first_fault_after_s=1.0, mean_hours_between_faults=1e9
    )
    vib = {s.key: s for s in fleet[0].sensors}["vibration"]
    first_warning = None
    for wall, samples in _run(sim, 10):
        episode = sim.episodes[0] if sim.episodes else None
        if episode and first_warning is None and samples["motor-01"]["vibration"] > vib.warn_high:
            first_warning = wall
    [episode] = sim.episodes
    assert (episode.machine, episode.mode) == ("motor-01", "bearing_wear")
    assert episode.onset.timestamp() < first_warning < episode.failure.timestamp()
    assert episode.failure < episode.repaired
    # after the failure the machine is down: rpm reads zero until repaired
    down = sim.sample(episode.failure.timestamp() + 60 / sim.speed)["motor-01"]
    assert down["rpm"] == 0.0


def test_same_seed_same_data():
    a = FleetSimulator(demo_fleet(3), speed=60, seed=9, start=0.0)
    b = FleetSimulator(demo_fleet(3), speed=60, seed=9, start=0.0)
    assert [a.sample(t) for t in range(0, 50, 5)] == [b.sample(t) for t in range(0, 50, 5)]
