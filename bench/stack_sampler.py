"""A sampling profile of the worker for the ingest bench, where py-spy is not installable:

    python -m bench.stack_sampler OUT.json app.py worker

runs ``app.py worker`` in this process with one daemon thread that reads every thread's
Python stack (``sys._current_frames()``) every ``INTERVAL_S`` and counts, per thread role,
the innermost frame of the product's or a library's code; at exit (SIGTERM stops the
worker gracefully) it writes the counts to OUT.json. It is a wall-clock profile: a thread
blocked in a C call (a socket, a lock) is counted at the Python line that made the call, so
"waiting for PostgreSQL" shows as the psycopg call that waits. Roles: ``drain`` (the
scheduler thread while it runs ``Drainer.run``), ``commit`` (the committer thread while it
commits), ``mqtt`` (paho's network thread), everything else ``other``.
"""

from __future__ import annotations

import atexit
import json
import runpy
import sys
import threading
from collections import Counter
from pathlib import Path

__all__ = ["main", "role_of", "summarize"]

INTERVAL_S = 0.005


def role_of(thread_name: str, functions: list[str]) -> str | None:
    """The role of a thread from its name and its stack's function names (outermost first);
    None when it is idle in that role (not worth counting)."""
    if thread_name.startswith("pdm-commit"):
        return "commit" if "_commit" in functions else None
    if "run_once" in functions:  # Drainer.run_once, in a scheduler thread
        return "drain"
    if thread_name.startswith("paho"):
        return "mqtt"
    return None


def _where(frame: object) -> str:
    code = frame.f_code  # type: ignore[attr-defined]
    path = Path(code.co_filename)
    short = "/".join(path.parts[-2:])
    return f"{code.co_name} ({short}:{frame.f_lineno})"  # type: ignore[attr-defined]


def _sample(counts: dict[str, Counter[str]], totals: Counter[str], stop: threading.Event) -> None:
    me = threading.get_ident()
    while not stop.wait(INTERVAL_S):
        names = {t.ident: t.name for t in threading.enumerate()}
        for ident, frame in sys._current_frames().items():  # noqa: SLF001 - a profiler
            if ident == me:
                continue
            stack = []
            f = frame
            while f is not None:
                stack.append(f)
                f = f.f_back
            functions = [s.f_code.co_name for s in reversed(stack)]
            role = role_of(names.get(ident, ""), functions)
            if role is None:
                continue
            totals[role] += 1
            counts.setdefault(role, Counter())[_where(frame)] += 1


def summarize(counts: dict[str, Counter[str]], totals: Counter[str], top: int = 8) -> dict:
    """Per role: samples, and the top innermost frames with their share of that role's."""
    return {
        role: {
            "samples": totals[role],
            "top": [(where, n / totals[role]) for where, n in counts[role].most_common(top)],
        }
        for role in sorted(counts)
    }


def main() -> None:
    out, script, *args = sys.argv[1:]
    counts: dict[str, Counter[str]] = {}
    totals: Counter[str] = Counter()
    stop = threading.Event()
    sampler = threading.Thread(
        target=_sample, args=(counts, totals, stop), name="sampler", daemon=True
    )

    def write() -> None:
        stop.set()
        sampler.join(1)
        Path(out).write_text(json.dumps(summarize(counts, totals), indent=1))

    atexit.register(write)
    sampler.start()
    sys.argv = [script, *args]
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
