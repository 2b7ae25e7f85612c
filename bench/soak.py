"""Soak run of POST /oauth2/token on PostgreSQL + Redis (``make soak``; not in ``make test``).

``python -m bench.soak [--target N] [--fraction 0.7] [--duration 300]`` starts gunicorn
(``tests.live``: a fresh PostgreSQL database, dropped afterwards, and a Redis database
of its own, flushed first) with the production ``gunicorn.conf.py``, registers one
private_key_jwt RS256 client through the commands, and sends valid client_credentials
requests at ``fraction`` of ``target`` requests per second for ``duration`` seconds.
``target`` defaults to the PostgreSQL + Redis private_key_jwt RS256 tokens/s of the
``bench:main`` block in ``bench/RESULTS.md`` (the benchmark's measured maximum), else 500.

The load is wrk (``bench.load.ensure_wrk``) with ``bench/soak.lua``: an open-loop
schedule where body ``i`` is due at ``start + i / rate``. Every body is signed before
the load starts (``bench.assertions.write_bodies``, two processes) and its assertion
carries ``iat = due - 30`` and ``exp = due + lifetime``, so the ``jti`` rows expire
along the run as they would in production, and a body sent up to ``lifetime +
LEEWAY_SECONDS`` after its slot is still valid. ``manage.py purge_jtis`` runs every
``--purge-every`` seconds, as an operator's timer would.

Every ``--sample-every`` seconds it records what wrk's threads report so far (bodies
sent, 200s, other answers, how late the schedule runs), the access tokens in the
database, the RSS of each worker (``/proc/PID/status`` VmRSS) and the ``IDN_OIDC_JTI``
row count. A row can be purged ``lifetime + leeway`` seconds after its slot, so the
table is bounded by about ``rate * (lifetime + leeway + purge interval)``. The figures
go to ``bench/SOAK.md``; the exit status is non-zero when any valid request got an
answer other than 200 or got no answer.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import math
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import jwt
import psycopg
import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import assertions, load, procstat  # noqa: E402
from tests.live import LiveServer, run_live_server  # noqa: E402

PG_ADMIN_URL = os.environ.get("POSTGRES_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
REDIS_BASE = os.environ.get("SOAK_REDIS_URL", "redis://127.0.0.1:6379/12")
REPORT = ROOT / "bench" / "SOAK.md"
RESULTS = ROOT / "bench" / "RESULTS.md"
LUA = Path(__file__).with_name("soak.lua")
LEEWAY = 60  # the server's PRIVATE_KEY_JWT LEEWAY_SECONDS
BACKDATE = 30  # iat lies this many seconds before a body's slot
DEFAULT_TARGET = 500.0


@dataclass
class Sample:
    at: float
    sent: int
    ok: int
    non_200: int
    tokens: int
    late_max_ms: float
    late_over_1s: int
    rss_kib: dict[int, int]
    jti_rows: int
    purged: int


@dataclass
class Purges:
    """``purge_jtis`` runs: (seconds into the run, rows deleted, seconds it took)."""

    runs: list[tuple[float, int, float]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def deleted(self) -> int:
        with self.lock:
            return sum(n for _, n, _ in self.runs)


def measured_maximum(results: Path = RESULTS) -> float | None:
    """PostgreSQL + Redis private_key_jwt RS256 tokens/s from the ``bench:main`` block."""
    try:
        text = results.read_text()
    except OSError:
        return None
    block = text.split("<!-- bench:main -->", 1)[-1].split("<!-- /bench:main -->", 1)[0]
    for line in block.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) > 3 and cells[0] == "PostgreSQL + Redis":
            if cells[1] == "private_key_jwt RS256":
                try:
                    return float(cells[3])
                except ValueError:
                    return None
    return None


def schedule(start: float, rate: float, count: int, lifetime: int) -> list[tuple[int, int]]:
    """``(iat, exp)`` of body ``i``, due at ``start + i / rate``."""
    return [
        (int(start + i / rate) - BACKDATE, int(start + i / rate) + lifetime) for i in range(count)
    ]


def seconds_per_signature(key, samples: int = 200) -> float:
    claims = {"iss": "x", "sub": "x", "aud": "x", "jti": "x", "iat": 0, "exp": 1}
    started = time.perf_counter()
    for _ in range(samples):
        jwt.encode(claims, key, algorithm="RS256")
    return (time.perf_counter() - started) / samples


def register(server: LiveServer, key) -> str:
    pem = assertions.self_signed_pem(key, "soak")
    return server.register_client("soak", pem, "--grant-types", "client_credentials")["client_id"]


def worker_pids(server: LiveServer) -> list[int]:
    return sorted(procstat.children(server.process.pid))


def split_bodies(bodies: Path, threads: int) -> Path:
    """Deal the lines of ``bodies`` to ``bodies.0`` ... ``bodies.<threads-1>``, in turn."""
    outs = [bodies.with_name(f"{bodies.name}.{k}").open("w") for k in range(threads)]
    try:
        with bodies.open() as lines:
            for n, line in enumerate(lines):
                outs[n % threads].write(line)
    finally:
        for out in outs:
            out.close()
    bodies.unlink()
    return bodies


@dataclass
class Progress:
    sent: int = 0
    ok: int = 0
    other: int = 0
    late_max_ms: float = 0.0
    late_over_1s: int = 0
    done: bool = False


def read_progress(prefix: Path, threads: int) -> Progress:
    """What wrk's threads last wrote, summed; ``done`` once each answered all its bodies."""
    total = Progress(done=True)
    for k in range(threads):
        try:
            fields = (prefix.parent / f"{prefix.name}.{k}").read_text().split()
            sent, ok, other = (int(x) for x in fields[:3])
            late, over, bodies = float(fields[3]), int(fields[4]), int(fields[5])
        except (OSError, ValueError, IndexError):
            total.done = False
            continue
        total.sent += sent
        total.ok += ok
        total.other += other
        total.late_max_ms = max(total.late_max_ms, late)
        total.late_over_1s += over
        total.done = total.done and sent == bodies and ok + other == sent
    return total


def purge_loop(server: LiveServer, purges: Purges, start: float, every: float, end: float) -> None:
    """Run ``purge_jtis`` at ``start + every``, ``start + 2 * every``, ... until ``end``."""
    due = start + every
    while due <= end:
        time.sleep(max(0.0, due - time.time()))
        began = time.time()
        out = server.manage("purge_jtis")
        match = re.search(r"Purged (\d+)", out)
        deleted = int(match.group(1)) if match else 0
        with purges.lock:
            purges.runs.append((began - start, deleted, time.time() - began))
        due += every


def machine_cpu() -> tuple[float, float]:
    """Busy and total jiffies of all cores (``/proc/stat``): the whole machine's load."""
    fields = [float(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--target",
        type=float,
        default=None,
        help="maximum throughput in req/s (default: the PostgreSQL + Redis RS256 "
        "tokens/s in bench/RESULTS.md, else 500)",
    )
    parser.add_argument("--fraction", type=float, default=0.7)
    parser.add_argument("--duration", type=float, default=300.0)
    parser.add_argument(
        "--workers", type=int, default=None, help="gunicorn workers (default: cores + 1)"
    )
    parser.add_argument("--threads", type=int, default=16, help="wrk threads, one connection each")
    parser.add_argument("--lifetime", type=int, default=60, help="assertion lifetime, s")
    parser.add_argument("--purge-every", type=float, default=30.0)
    parser.add_argument("--sample-every", type=float, default=10.0)
    parser.add_argument("--processes", type=int, default=2, help="signing processes")
    parser.add_argument("--note", default="", help="a line for the report (e.g. machine load)")
    parser.add_argument("--report", type=Path, default=REPORT)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    measured = measured_maximum()
    target = args.target or measured or DEFAULT_TARGET
    target_source = (
        "--target"
        if args.target
        else "bench/RESULTS.md, PostgreSQL + Redis, private_key_jwt RS256"
        if measured
        else "default"
    )
    rate = target * args.fraction
    count = math.ceil(rate * args.duration)
    wrk = load.ensure_wrk()
    loadavg = os.getloadavg()

    os.environ["DATABASE_URL"] = PG_ADMIN_URL  # tests.live makes a fresh database there
    redis.Redis.from_url(REDIS_BASE).flushdb()
    workers = args.workers or (os.cpu_count() or 1) + 1
    env = {"REDIS_URL": REDIS_BASE, "WEB_CONCURRENCY": str(workers)}
    with (
        tempfile.TemporaryDirectory(prefix="authserver-soak-") as name,
        run_live_server(workers, env=env) as server,
    ):
        tmp = Path(name)
        key = assertions.generate_key("RS256")
        client_id = register(server, key)
        url = server.url("/oauth2/token")

        # Sign everything first; the schedule's origin is where signing should be done.
        per_signature = seconds_per_signature(key)
        estimate = count * per_signature / args.processes * 1.15 + 3.0
        planned = time.time() + estimate + 4.0
        print(
            f"soak: signing {count} RS256 assertions in {args.processes} processes "
            f"(about {estimate:.0f} s)",
            flush=True,
        )
        signing_began = time.time()
        bodies = assertions.write_bodies(
            tmp / "soak.bodies",
            key,
            "RS256",
            client_id,
            url,
            count,
            processes=args.processes,
            times=schedule(planned, rate, count, args.lifetime),
        )
        split_bodies(bodies, args.threads)
        signing_seconds = time.time() - signing_began
        # wrk needs a moment to read the bodies; a late start eats into the validity margin.
        start = max(planned, time.time() + 4.0)
        start_offset = start - planned
        print(
            f"soak: signed in {signing_seconds:.1f} s; {rate:.0f} req/s for "
            f"{args.duration:.0f} s ({args.fraction:.0%} of {target:.0f}), {workers} workers, "
            f"start {start_offset:+.1f} s after the signed schedule",
            flush=True,
        )

        progress = tmp / "progress"
        end = start + args.duration
        cmd = load.wrk_command(
            wrk,
            LUA,
            url,
            threads=args.threads,
            connections=args.threads,
            seconds=math.ceil(end + 120.0 - time.time()),
            script_args=[
                str(bodies),
                str(args.threads),
                f"{start * 1000:.0f}",
                repr(rate),
                str(progress),
            ],
        )
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        purges = Purges()
        purger = threading.Thread(
            target=purge_loop, args=(server, purges, start, args.purge_every, end), daemon=True
        )
        purger.start()
        samples: list[Sample] = []
        cpu: dict[str, float] = {}
        with psycopg.connect(server.env["DATABASE_URL"], autocommit=True) as db:

            def sample(at: float) -> Sample:
                seen = read_progress(progress, args.threads)
                pids = worker_pids(server)
                tokens = db.execute("SELECT count(*) FROM oauth2_provider_accesstoken")
                tokens_n = tokens.fetchone()[0]
                rows = db.execute('SELECT count(*) FROM "IDN_OIDC_JTI"').fetchone()[0]
                cpu["wrk"] = procstat.cpu_seconds(proc.pid) or cpu.get("wrk", 0.0)
                server_pids = set(pids) | {server.process.pid}
                cpu["server"] = sum(procstat.total_cpu(server_pids).values())
                return Sample(
                    at=at,
                    sent=seen.sent,
                    ok=seen.ok,
                    non_200=seen.other,
                    tokens=tokens_n,
                    late_max_ms=seen.late_max_ms,
                    late_over_1s=seen.late_over_1s,
                    rss_kib={pid: procstat.status_kib(pid, "VmRSS") for pid in pids},
                    jti_rows=rows,
                    purged=purges.deleted,
                )

            time.sleep(max(0.0, start - time.time()))
            machine0 = machine_cpu()
            cpu0 = sum(procstat.total_cpu(set(worker_pids(server)) | {server.process.pid}).values())
            next_sample = start
            while proc.poll() is None:
                now = time.time()
                if now >= next_sample and now <= end + args.sample_every / 2:
                    samples.append(sample(now - start))
                    s = samples[-1]
                    print(
                        f"  t={s.at:5.0f}s sent={s.sent} 200={s.ok} other={s.non_200} "
                        f"tokens={s.tokens} late<={s.late_max_ms:.0f}ms jti={s.jti_rows} "
                        f"purged={s.purged} rss={sorted(s.rss_kib.values())}",
                        flush=True,
                    )
                    next_sample += args.sample_every
                if now > end + 60.0 or (now > end and read_progress(progress, args.threads).done):
                    # Every thread waits on this file once it is done; then wrk can end.
                    (progress.parent / f"{progress.name}.stop").touch()
                    time.sleep(0.2)
                    proc.send_signal(signal.SIGINT)
                    break
                time.sleep(0.1)
            machine1 = machine_cpu()
            out, _ = proc.communicate(timeout=60)
            purger.join(timeout=120)
            samples.append(sample(time.time() - start))
        result = next(
            (json.loads(line[10:]) for line in out.splitlines() if line.startswith("SOAK_JSON ")),
            None,
        )
        if result is None:
            raise RuntimeError(f"wrk printed no results:\n{out}")
        print(out, flush=True)
        log = server.log()
        server_errors = log.count("Traceback") + len(re.findall(r"\b5\d\d\b.*Server Error", log))
        figures = {
            "target": target,
            "target_source": target_source,
            "rate": rate,
            "count": count,
            "workers": workers,
            "signing_seconds": signing_seconds,
            "per_signature_ms": per_signature * 1000,
            "start_offset": start_offset,
            "loadavg": loadavg,
            "server_errors": server_errors,
            "wrk_cpu": cpu.get("wrk", 0.0),
            "server_cpu": cpu.get("server", 0.0) - cpu0,
            "machine_busy": (machine1[0] - machine0[0]) / max(1.0, machine1[1] - machine0[1]),
        }
        write_report(args, result, samples, purges, figures)
    failed = failures(result, count)
    print(
        f"soak: {result['sent']} of {count} bodies sent, {result['ok']} answered 200, "
        f"{failed} failed; report in {args.report}"
    )
    return 1 if failed else 0


def failures(result: dict, count: int) -> int:
    """Valid requests without a 200: other answers, socket errors, bodies never answered."""
    other = sum(result["other"].values())
    socket = sum(result["socket_errors"].values())
    unanswered = max(0, count - result["ok"] - other)
    return other + max(socket, unanswered)


def write_report(
    args: argparse.Namespace, result: dict, samples: list[Sample], purges: Purges, f: dict
) -> None:
    rate, count = f["rate"], f["count"]
    sent, ok = result["sent"], result["ok"]
    other = sum(result["other"].values())
    socket = result["socket_errors"]
    failed = failures(result, count)
    during = [s for s in samples if s.at <= args.duration + args.sample_every / 2]
    first = during[1] if len(during) > 1 else samples[0]
    last = samples[-1]
    pids = sorted(set(first.rss_kib) & set(last.rss_kib))
    rss_change = [(last.rss_kib[p] - first.rss_kib[p]) / 1024 for p in pids]
    rows = [s.jti_rows for s in samples]
    bound = rate * (args.lifetime + LEEWAY + args.purge_every)
    margin = args.lifetime + LEEWAY - f["start_offset"]
    steady = [s.jti_rows for s in samples if s.at >= args.lifetime + LEEWAY + args.purge_every]
    periodic = samples[:-1]  # the last one is taken after wrk has ended
    intervals = [
        (b.sent - a.sent) / (b.at - a.at)
        for a, b in itertools.pairwise(periodic)
        if b.at > a.at and a.at > 0
    ]
    elapsed = args.duration
    load1, load5, load15 = f["loadavg"]
    lines = [
        "# Soak: POST /oauth2/token on PostgreSQL + Redis",
        "",
        f"Generated {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC by `python -m bench.soak "
        f"{shlex.join(sys.argv[1:])}` (`make soak`).",
        "",
        "## Setup",
        "",
        f"- Machine: {os.cpu_count()} cores, load average {load1:.2f} {load5:.2f} "
        f"{load15:.2f} at the start. The load generator (wrk) and the signing run on the "
        "same cores as the server, PostgreSQL and Redis.",
        f"- Server: gunicorn with `gunicorn.conf.py`, {f['workers']} sync workers, "
        "DJANGO_DEBUG=0, a fresh PostgreSQL database, Redis as the cache (`tests.live`, "
        "settings `tests.settings`: the production settings with a fast password hasher, "
        "which private_key_jwt never uses).",
        f"- Target: {f['target']:.0f} req/s ({f['target_source']}); soak rate "
        f"{args.fraction:.0%} of it = **{rate:.1f} req/s** for {args.duration:.0f} s, "
        f"{count} requests.",
        f"- Load: wrk, {args.threads} threads of one connection each, `bench/soak.lua`: "
        "open loop, body i due at start + i / rate, the next connection opened only when "
        "its body is due (sync workers would otherwise wait on idle connections). Each "
        "body is a client_credentials request with its own private_key_jwt RS256 "
        "assertion, used once.",
        f"- Assertions: signed before the load in {f['signing_seconds']:.1f} s "
        f"({args.processes} processes; {f['per_signature_ms']:.2f} ms a signature in one "
        f"process); body i has iat = due - {BACKDATE} s and exp = due + {args.lifetime} s, so "
        "the `IDN_OIDC_JTI` rows expire along the run. The load started "
        f"{f['start_offset']:.1f} s after the schedule the assertions were signed for, "
        f"leaving {margin:.0f} s (lifetime + leeway - that offset) for a body sent late.",
        f"- `purge_jtis` every {args.purge_every:.0f} s; samples every {args.sample_every:.0f} s.",
    ]
    if args.note:
        lines.append(f"- Note: {args.note}")
    lines += [
        "",
        "## Result",
        "",
        f"- Requests: {sent} of {count} sent, {sent / elapsed:.1f} req/s achieved over "
        f"{elapsed:.0f} s against {rate:.1f} req/s scheduled"
        + (
            f" (per {args.sample_every:.0f} s interval: min {min(intervals):.1f}, "
            f"max {max(intervals):.1f})"
            if intervals
            else ""
        ),
        f"- Answers: {ok} x 200; other answers **{other}** {result['other'] or ''}; socket "
        f"errors {socket}; valid requests without a 200: **{failed}**",
        f"- Access tokens in the database at the end: {last.tokens} (wrk counted {ok} x 200); "
        f"server log tracebacks / 5xx: {f['server_errors']}",
        f"- Latency (wrk, send to answer): p50 {result['p50_us'] / 1000:.1f} ms, p90 "
        f"{result['p90_us'] / 1000:.1f} ms, p99 {result['p99_us'] / 1000:.1f} ms, max "
        f"{result['max_us'] / 1000:.1f} ms",
        f"- Token answers later than 1 s after their request: {result['answers_over_1s']}; "
        f"after the last body, the threads that were done sent {result['tail_gets']} "
        "discovery GETs while the others finished (in wrk's latency figures, not in the "
        "counts)",
        f"- Schedule drift (send time minus due time): mean {result['late_mean_ms']:.1f} ms, "
        f"max {result['late_max_ms']:.0f} ms, {result['late_over_1s']} bodies more than 1 s "
        f"late (validity margin {margin:.0f} s)",
        "- RSS per worker, first sample under load to last: "
        + ", ".join(
            f"{first.rss_kib[p] / 1024:.1f} -> {last.rss_kib[p] / 1024:.1f} MiB" for p in pids
        )
        + (f" (largest change {max(rss_change, key=abs):+.1f} MiB)" if rss_change else ""),
        f"- IDN_OIDC_JTI rows: max {max(rows)}, last {rows[-1]}"
        + (
            f", {min(steady)}..{max(steady)} once rows expire "
            f"(t >= {args.lifetime + LEEWAY + args.purge_every:.0f} s)"
            if steady
            else ""
        )
        + f"; expected bound rate x (lifetime + leeway + purge interval) = {bound:.0f}",
        f"- purge_jtis deleted {purges.deleted} rows in {len(purges.runs)} runs"
        + (
            f" ({max(d for _, _, d in purges.runs):.1f} s the longest, including "
            "`manage.py` start-up)"
            if purges.runs
            else ""
        ),
        f"- CPU over the run: server (gunicorn) {f['server_cpu']:.0f} s, wrk "
        f"{f['wrk_cpu']:.0f} s, of {elapsed * (os.cpu_count() or 1):.0f} core-seconds; the "
        f"whole machine (PostgreSQL, Redis, purge_jtis and sampling included) was "
        f"{f['machine_busy']:.0%} busy",
    ]
    if result.get("sample_error"):
        lines += ["", "First answer other than 200:", "", f"    {result['sample_error']}"]
    lines += [
        "",
        "## Over time",
        "",
        "Counts are cumulative. `sent`, `200`, `other` and `> 1 s late` are what wrk's "
        "threads last reported (each about once a second, so they trail `tokens`, the "
        "access-token table, by up to a second of requests); `max late` is the largest "
        "lateness so far. The last row is taken after wrk ended.",
        "",
        "| t (s) | sent | 200 | other | tokens | max late (ms) | > 1 s late | jti rows "
        "| purged so far | RSS per worker (MiB) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for s in samples:
        rss = " / ".join(f"{s.rss_kib[p] / 1024:.1f}" for p in sorted(s.rss_kib))
        lines.append(
            f"| {s.at:.0f} | {s.sent} | {s.ok} | {s.non_200} | {s.tokens} | "
            f"{s.late_max_ms:.0f} | {s.late_over_1s} | {s.jti_rows} | {s.purged} | {rss} |"
        )
    if purges.runs:
        lines += [
            "",
            "purge_jtis runs (t s: rows deleted): "
            + ", ".join(f"{t:.0f}: {n}" for t, n, _ in purges.runs)
            + ".",
        ]
    args.report.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    sys.exit(main())
