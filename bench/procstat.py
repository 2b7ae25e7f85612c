"""CPU time and memory of server processes, read from /proc (Linux only).

CPU is ``utime + stime`` (fields 14 and 15 of ``/proc/PID/stat``) in clock ticks,
summed over a set of processes; a process that exits between two readings drops out,
so the sets are re-read at both ends of a measurement. Peak RSS is ``VmHWM``, which
``clear_refs`` value 5 resets so each scenario reports its own peak. Called by
``bench.run``.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

TICK_SECONDS = 1.0 / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    # The command name may hold spaces; the fields after its closing paren are fixed.
    fields = raw[raw.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) * TICK_SECONDS


def system_seconds(pid: int) -> float:
    """Kernel-mode CPU alone (stime): sockets, file writes, scheduling."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return int(raw[raw.rindex(")") + 2 :].split()[12]) * TICK_SECONDS


def total_cpu(pids: set[int]) -> dict[int, float]:
    return {pid: cpu_seconds(pid) for pid in pids}


def cpu_delta(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU spent between two readings by processes present in the second one."""
    return sum(after[pid] - before.get(pid, 0.0) for pid in after)


def children(pid: int) -> set[int]:
    found = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        text = (task / "children").read_text() if (task / "children").exists() else ""
        found.update(int(c) for c in text.split())
    return found


def status_kib(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except FileNotFoundError:
        pass
    return 0


def reset_peak_rss(pid: int) -> None:
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        pass


def pids_named(name: str) -> set[int]:
    out = subprocess.run(["pgrep", "-x", name], capture_output=True, text=True).stdout
    return {int(p) for p in out.split()}


def postgres_aux_pids() -> set[int]:
    """The server-wide PostgreSQL processes that do work for every writer (WAL, checkpoints)."""
    out = subprocess.run(["pgrep", "-u", "postgres", "-a"], capture_output=True, text=True).stdout
    aux = ("walwriter", "checkpointer", "background writer", "/bin/postgres ")
    return {int(line.split()[0]) for line in out.splitlines() if any(a in line for a in aux)}
