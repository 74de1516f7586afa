"""The generated readings that every phase shares, and their encodings.

A reading is one sensor value: one row of the ``readings`` table. Readings are dealt
round-robin over the machines and their sensors; each sensor's timestamps step by
``STEP_S`` from ``start``, so every (sensor, ts) pair is unique and all of them lie
in the past, well inside the accepted 30 days.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from simulator.fleet_physics import MACHINE_TYPES, MachineDef, demo_fleet

__all__ = [
    "Reading",
    "STEP_S",
    "fleet",
    "generate",
    "nominal_value",
    "single_line",
    "batched_line",
    "by_machine",
    "write_message_files",
    "copy_chunks",
]

STEP_S = 0.001  # spacing of one sensor's timestamps
MAX_LINES_PER_FILE = 60_000  # mosquitto_pub -l stops early once its message ids wrap (65,535)


@dataclass(frozen=True, slots=True)
class Reading:
    machine: str
    sensor: str
    ts: float  # epoch seconds
    value: float


def fleet(machines: int) -> list[MachineDef]:
    """The demo fleet's first ``machines`` machines (motor-01, pump-01, compressor-01, …)."""
    return demo_fleet(machines)


def nominal_value(machine: MachineDef, sensor: str, rng: random.Random) -> float:
    """A healthy value (within every limit, so the rules job raises no alarms)."""
    kind = MACHINE_TYPES[machine.type]
    base = {"temperature": kind.temp, "vibration": kind.vibration, "rpm": kind.rpm}[sensor]
    return round(base * rng.uniform(0.98, 1.02), 3)


def generate(
    count: int, machines: Sequence[MachineDef], start: float, seed: int = 7
) -> list[Reading]:
    """``count`` readings with unique (sensor, ts), dealt over machines, then sensors."""
    rng = random.Random(seed)
    out: list[Reading] = []
    n = len(machines)
    for i in range(count):
        machine = machines[i % n]
        rest = i // n
        sensors = machine.sensors
        sensor = sensors[rest % len(sensors)].key
        ts = round(start + (rest // len(sensors)) * STEP_S, 3)
        out.append(Reading(machine.name, sensor, ts, nominal_value(machine, sensor, rng)))
    return out


def single_line(r: Reading) -> str:
    """One reading as a single-reading payload (docs/payloads.md); ts in epoch seconds."""
    return f'{{"sensor":"{r.sensor}","ts":{r.ts!r},"value":{r.value!r}}}'


def batched_line(readings: Sequence[Reading]) -> str:
    """Readings of one machine as one batched payload."""
    return '{"readings":[' + ",".join(single_line(r) for r in readings) + "]}"


def by_machine(readings: Sequence[Reading]) -> dict[str, list[Reading]]:
    """Readings grouped per machine, each group in generation order."""
    groups: dict[str, list[Reading]] = {}
    for r in readings:
        groups.setdefault(r.machine, []).append(r)
    return groups


def write_message_files(
    readings: Sequence[Reading], folder: Path, *, per_message: int
) -> list[tuple[str, Path]]:
    """Write one payload per line, per machine, in files mosquitto_pub -l can send whole.

    Returns (machine, file) pairs; a machine's messages may span several files.
    """
    folder.mkdir(parents=True, exist_ok=True)
    files: list[tuple[str, Path]] = []
    for machine, group in by_machine(readings).items():
        lines = list(_payload_lines(group, per_message))
        for part, first in enumerate(range(0, len(lines), MAX_LINES_PER_FILE)):
            path = folder / f"{machine}.{per_message}.{part}.jsonl"
            path.write_text("\n".join(lines[first : first + MAX_LINES_PER_FILE]) + "\n")
            files.append((machine, path))
    return files


def _payload_lines(group: Sequence[Reading], per_message: int) -> Iterator[str]:
    if per_message == 1:
        yield from (single_line(r) for r in group)
        return
    for first in range(0, len(group), per_message):
        yield batched_line(group[first : first + per_message])


def copy_chunks(
    readings: Sequence[Reading], sensors: dict[tuple[str, str], int], rows_per_chunk: int
) -> list[bytes]:
    """The readings as COPY text (sensor_id, ts, value), ``rows_per_chunk`` rows a chunk."""
    chunks: list[bytes] = []
    for first in range(0, len(readings), rows_per_chunk):
        lines = [
            f"{sensors[(r.machine, r.sensor)]}\t"
            f"{datetime.fromtimestamp(r.ts, UTC).isoformat()}\t{r.value!r}\n"
            for r in readings[first : first + rows_per_chunk]
        ]
        chunks.append("".join(lines).encode())
    return chunks
