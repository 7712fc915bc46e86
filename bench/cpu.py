"""CPU time by process group during a measured window: where a request's CPU goes across processes.

Linux only (``/proc``). The bench's servers run in sessions of their own, so a process group is
"the gunicorn server" or "the Celery worker"; PostgreSQL's and Redis's processes are found by name.
A process that exits inside the window takes its time with it (the bench's servers do not).
"""

from __future__ import annotations

import os
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def _processes():
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        yield name, int(fields[2]), (int(fields[11]) + int(fields[12])) / TICK  # comm, pgrp, utime+stime


def cpu_seconds(groups: dict[str, int]) -> dict[str, float]:
    """CPU seconds used so far by each named process group (by its id), by PostgreSQL and by Redis."""
    totals = dict.fromkeys([*groups, "postgresql", "redis"], 0.0)
    by_pgid = {pgid: label for label, pgid in groups.items()}
    for name, pgrp, seconds in _processes():
        if pgrp in by_pgid:
            totals[by_pgid[pgrp]] += seconds
        elif name.startswith("postgres"):
            totals["postgresql"] += seconds
        elif name.startswith("redis-server"):
            totals["redis"] += seconds
    return totals


def cpu_ms_per(before: dict[str, float], after: dict[str, float], count: int) -> dict[str, float]:
    """Milliseconds of CPU per unit of work (``count``) for each group, between two readings."""
    return {k: round((after[k] - before[k]) * 1000 / max(count, 1), 2) for k in after}
