"""Samples the gunicorn workers with py-spy during a measurement, and summarises it.

``bench.run --py-spy DIR`` records each scenario into ``DIR/<stack>-<scenario>.txt``
(py-spy's collapsed-stack "raw" format, for flamegraph tools) and prints the functions
that appear in the largest share of samples. py-spy runs outside the server and does
not pause it (``--nonblocking``), so the figures of that run stay close to a plain
one. Idle samples (a worker waiting in ``accept``/``select``) are left out.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path


def start(master_pid: int, out: Path) -> subprocess.Popen:
    py_spy = Path(sys.executable).with_name("py-spy")
    return subprocess.Popen(
        [str(py_spy), "record", "--pid", str(master_pid), "--subprocesses", "--nonblocking",
         "--rate", "250", "--format", "raw", "--output", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


def summarise(raw: Path, top: int = 25) -> list[tuple[str, float]]:
    """(function, share of busy samples that include it), largest first."""
    inclusive: Counter[str] = Counter()
    busy = 0
    if not raw.exists():
        return []
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if any(f.startswith(("select ", "accept ", "wait ", "sleep ")) for f in frames[-2:]):
            continue
        n = int(count)
        busy += n
        for frame in set(frames):
            inclusive[frame] += n
    return [(f, n / busy) for f, n in inclusive.most_common(top)] if busy else []
