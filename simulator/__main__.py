"""``python -m simulator --mqtt-url mqtt://host:1883 --machines N --speed X``

History straight into the database is ``python app.py backfill`` (``worker/backfill.py``).
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
import time
from pathlib import Path

from simulator.fleet_physics import FleetSimulator, demo_fleet
from simulator.publisher import MqttPublisher, run


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["backfill"]:  # the simulator never writes to the database
        sys.exit("history into the database moved: python app.py backfill --help")
    p = argparse.ArgumentParser(
        prog="python -m simulator",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--mqtt-url", default="mqtt://127.0.0.1:1883")
    p.add_argument("--mqtt-v5", action="store_true", help="use MQTT 5 (Mosquitto)")
    p.add_argument("--machines", type=int, default=6)
    p.add_argument("--speed", type=float, default=60.0, help="physics seconds per wall second")
    p.add_argument("--interval", type=float, default=1.0, help="seconds between samples")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--prefix", default="pdm")
    p.add_argument(
        "--first-fault-after",
        type=float,
        default=30.0,
        help="wall seconds until the first machine starts failing",
    )
    p.add_argument("--truth", type=Path, help="write fault episodes (ground truth) here, JSON")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    sim = FleetSimulator(
        demo_fleet(args.machines),
        speed=args.speed,
        seed=args.seed,
        start=time.time(),
        first_fault_after_s=args.first_fault_after,
    )
    pub = MqttPublisher(args.mqtt_url, v5=args.mqtt_v5)
    pub.connect()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print(f"simulating {args.machines} machines at {args.speed}x to {pub.host}:{pub.port}")
    try:
        run(sim, pub, prefix=args.prefix, interval_s=args.interval, stop=stop)
    finally:
        pub.close()
        if args.truth:
            args.truth.write_text(
                json.dumps(
                    [
                        {
                            "machine": e.machine,
                            "mode": e.mode,
                            "onset": e.onset.isoformat(),
                            "failure": e.failure.isoformat(),
                            "repaired": e.repaired.isoformat(),
                        }
                        for e in sim.episodes
                    ],
                    indent=1,
                )
            )


if __name__ == "__main__":
    main()
