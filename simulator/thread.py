"""The demo's simulator inside the app's process: the fleet publishing over MQTT from a
background thread (``python app.py`` runs it next to the worker on embedded defaults)."""

from __future__ import annotations

import threading
import time

from config import Settings
from simulator.fleet_physics import FleetSimulator, demo_fleet
from simulator.publisher import MqttPublisher, run

__all__ = ["SimulatorThread"]


class SimulatorThread:
    """The demo fleet simulator, publishing over MQTT from a background thread."""

    def __init__(self, settings: Settings, *, first_fault_after_s: float | None = None) -> None:
        s = settings
        first = s.simulator_first_fault_s if first_fault_after_s is None else first_fault_after_s
        self.sim = FleetSimulator(
            demo_fleet(s.demo_machines),
            speed=s.simulator_speed,
            seed=s.simulator_seed,
            start=time.time(),
            first_fault_after_s=first,
        )
        target = s.mqtt
        url = s.mqtt_url or f"mqtt://{target.host}:{target.port}"
        self.publisher = MqttPublisher(url, v5=s.mqtt_v5, client_id="pdm-simulator")
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=run,
            name="simulator",
            daemon=True,
            kwargs={
                "sim": self.sim,
                "publisher": self.publisher,
                "prefix": s.mqtt_topic_prefix,
                "interval_s": s.simulator_interval_s,
                "stop": self._stop,
            },
        )

    def start(self) -> None:
        self.publisher.connect()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)
        self.publisher.close()
