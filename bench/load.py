"""Drives POST /oauth2/token with wrk and bench/token.lua, and waits for the server to settle.

wrk sleeps for its whole ``-d`` even when every thread has run out of single-use
bodies, so ``run_wrk`` watches the server's CPU and interrupts wrk (SIGINT, which
makes it print its results) once the server has gone idle. Called by ``bench.run``.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from bench import procstat

LUA = Path(__file__).with_name("token.lua")


def ensure_wrk() -> str:
    path = shutil.which("wrk")
    if path:
        return path
    install = ["apt-get", "install", "-y", "-q", "wrk"]
    if subprocess.run(install, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], check=True, capture_output=True)
        subprocess.run(install, check=True, capture_output=True)
    path = shutil.which("wrk")
    if not path:
        raise RuntimeError("wrk is not installed and apt-get could not install it")
    return path


def _cpu(pids: Callable[[], set[int]]) -> float:
    return sum(procstat.total_cpu(pids()).values())


def wait_idle(pids: Callable[[], set[int]], quiet: float = 0.5, limit: float = 60.0) -> None:
    """Return once ``pids`` used under 2% of a core for ``quiet`` seconds."""
    deadline = time.monotonic() + limit
    last = _cpu(pids)
    calm_since = time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.1)
        now = _cpu(pids)
        if now - last > 0.002 + 0.02 * 0.1:
            calm_since = time.monotonic()
        last = now
        if time.monotonic() - calm_since >= quiet:
            return


def wrk_command(
    wrk: str,
    script: Path,
    url: str,
    *,
    threads: int,
    connections: int,
    seconds: int,
    script_args: list[str],
) -> list[str]:
    """The wrk command line: ``script`` drives the load, ``script_args`` follow ``--``."""
    return [
        wrk,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "60s",
        "-s",
        str(script),
        url,
        "--",
        *script_args,
    ]


def run_wrk(
    url: str,
    bodies: Path,
    *,
    threads: int,
    connections: int,
    duration: float,
    reuse: bool,
    authorization: str = "",
    server_pids: Callable[[], set[int]],
    on_tick: Callable[[], None] | None = None,
) -> dict:
    cmd = wrk_command(
        ensure_wrk(),
        LUA,
        url,
        threads=threads,
        connections=connections,
        seconds=max(1, round(duration)),
        script_args=[str(bodies), str(threads), "1" if reuse else "0", authorization],
    )
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    started = time.monotonic()
    last_cpu = _cpu(server_pids)
    idle_for = 0.0
    while proc.poll() is None:
        time.sleep(0.25)
        if on_tick is not None:
            on_tick()
        cpu = _cpu(server_pids)
        busy = cpu - last_cpu > 0.01
        last_cpu = cpu
        idle_for = 0.0 if busy else idle_for + 0.25
        if not reuse and idle_for >= 1.0 and time.monotonic() - started > 2.0:
            proc.send_signal(signal.SIGINT)
            break
    out, _ = proc.communicate(timeout=120)
    for line in out.splitlines():
        if line.startswith("BENCH_JSON "):
            return json.loads(line[len("BENCH_JSON ") :])
    raise RuntimeError(f"wrk printed no results:\n{out}")
