"""The fleet tile's and the machine header's failure risk turn red at the failure alarm's
threshold in force (the plant's, or the one the active model's training chose), not at a
fixed 0.8."""

from maintenance.machine_status.machine_state import MachineCard
from web.views.fleet import machine_tile, risk_class, state_line


def _card(probability: float, status: str = "ok") -> MachineCard:
    return MachineCard(
        id=1,
        name="pump-01",
        type="pump",
        location="Hall A",
        status=status,
        active_alarms=0,
        alarm_text="",
        warn_high={},
        failure_probability=probability,
        rul_hours=10.0,
    )


def test_the_risk_is_red_from_the_threshold_in_force():
    assert "text-danger" in risk_class(_card(0.85), 0.8)
    assert "text-danger" not in risk_class(_card(0.85), 0.9)  # a model that chose 0.9
    assert "text-danger" in risk_class(_card(0.9), 0.9)
    assert "text-danger" not in risk_class(_card(0.95, status="stopped"), 0.9)


def test_tile_and_header_use_the_threshold_they_are_given():
    tile = str(machine_tile(_card(0.85), {}, 0.9).to_plotly_json())
    assert "text-danger" not in tile
    assert "text-danger" in str(machine_tile(_card(0.85), {}, 0.8).to_plotly_json())
    assert "text-danger" in str(state_line(_card(0.85), 0.8).to_plotly_json())
    assert "text-danger" not in str(state_line(_card(0.85), 0.9).to_plotly_json())
