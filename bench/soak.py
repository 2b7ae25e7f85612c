"""Soak run of POST /oauth2/token on PostgreSQL + Redis (``make soak``; not in ``make test``).

``python -m bench.soak [--target N | --target auto] [--fraction 0.7] [--duration 300]``
starts gunicorn (``tests.live``: a fresh PostgreSQL database, dropped afterwards, and a
Redis database of its own, flushed first) with the production ``gunicorn.conf.py``,
registers one private_key_jwt client through the commands, then sends valid
client_credentials requests, each with a fresh assertion, at ``fraction`` of ``target``
requests per second from a paced pool of threads. ``--target auto`` first measures the
maximum for 15 s with closed-loop threads. ``manage.py purge_jtis`` runs every
``--purge-every`` seconds, as an operator's timer would.

Every ``--sample-every`` seconds it records the answers so far, the RSS of each worker
(``/proc/PID/status`` VmRSS) and the ``IDN_OIDC_JTI`` row count. Assertions live
``--lifetime`` seconds, so a row may be purged ``lifetime + leeway`` seconds after it was
written and the table is bounded by about ``rate * (lifetime + leeway + purge interval)``.
The figures go to ``bench/SOAK.md``; the exit status is non-zero when any valid request
got an answer other than 200.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import redis
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import procstat  # noqa: E402
from tests import keys  # noqa: E402
from tests.live import run_live_server  # noqa: E402

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
PG_ADMIN_URL = os.environ.get("POSTGRES_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
REDIS_BASE = os.environ.get("SOAK_REDIS_URL", "redis://127.0.0.1:6379/12")
REPORT = ROOT / "bench" / "SOAK.md"


@dataclass
class Sample:
    at: float
    sent: int
    non_200: int
    rss_kib: dict[int, int]
    jti_rows: int
    purged: int


@dataclass
class Run:
    server: object
    client_id: str
    pair: keys.KeyPair
    lifetime: int
    statuses: Counter = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def body(self) -> dict[str, str]:
        claims = keys.claims_for(
            self.client_id,
            now=time.time(),
            lifetime=self.lifetime,
            aud=self.server.url("/oauth2/token"),
            jti=uuid.uuid4().hex,
        )
        return {
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": self.pair.sign(claims),
        }

    def send(self, session: requests.Session) -> None:
        started = time.perf_counter()
        try:
            response = session.post(self.server.url("/oauth2/token"), data=self.body(), timeout=30)
            status, detail = response.status_code, response.text[:200]
        except requests.RequestException as exc:
            status, detail = 0, type(exc).__name__
        elapsed = time.perf_counter() - started
        with self.lock:
            self.statuses[status] += 1
            self.latencies.append(elapsed)
            if status != 200 and len(self.errors) < 20:
                self.errors.append(f"{status} {detail}")

    @property
    def sent(self) -> int:
        return sum(self.statuses.values())


def closed_loop(run: Run, seconds: float, threads: int) -> float:
    """Requests per second with every thread sending back to back: the maximum."""
    stop = time.monotonic() + seconds
    before = run.sent

    def worker() -> None:
        with requests.Session() as session:
            while time.monotonic() < stop:
                run.send(session)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    started = time.monotonic()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return (run.sent - before) / (time.monotonic() - started)


def paced(run: Run, rate: float, seconds: float, threads: int, stop: threading.Event) -> None:
    """Send at ``rate`` per second: request i is due at start + i / rate."""
    start = time.monotonic()
    counter = itertools.count()
    counter_lock = threading.Lock()

    def worker() -> None:
        with requests.Session() as session:
            while not stop.is_set():
                with counter_lock:
                    due = start + next(counter) / rate
                if due - start >= seconds:
                    return
                delay = due - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                run.send(session)

    pool = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()


def jti_rows(database_url: str) -> int:
    with psycopg.connect(database_url, autocommit=True) as conn:
        return conn.execute('SELECT count(*) FROM "IDN_OIDC_JTI"').fetchone()[0]


def worker_pids(server) -> list[int]:
    return sorted(procstat.children(server.process.pid))


def register(server, tmp: Path) -> tuple[str, keys.KeyPair]:
    pair = keys.rsa_pair(name="soak-client")
    out = server.manage(
        "register_app",
        "--name",
        "soak",
        "--callback",
        "https://rp.example/cb",
        "--grant-types",
        "client_credentials",
        "--json",
    )
    client_id = json.loads(out)["client_id"]
    (tmp / "soak.pem").write_bytes(pair.cert_pem)
    server.manage("import_cert", "--alias", client_id, str(tmp / "soak.pem"))
    return client_id, pair


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--target",
        default="700",
        help="maximum throughput in req/s, or 'auto' to measure it (15 s)",
    )
    parser.add_argument("--fraction", type=float, default=0.7)
    parser.add_argument("--duration", type=float, default=300.0)
    parser.add_argument(
        "--workers", type=int, default=None, help="gunicorn workers (default: gunicorn.conf.py's)"
    )
    parser.add_argument("--threads", type=int, default=16, help="load threads")
    parser.add_argument("--lifetime", type=int, default=60, help="assertion lifetime, s")
    parser.add_argument("--purge-every", type=float, default=30.0)
    parser.add_argument("--sample-every", type=float, default=10.0)
    parser.add_argument("--note", default="", help="a line for the report (e.g. machine load)")
    parser.add_argument("--report", type=Path, default=REPORT)
    args = parser.parse_args(argv)

    os.environ["DATABASE_URL"] = PG_ADMIN_URL  # tests.live makes a fresh database there
    redis.Redis.from_url(REDIS_BASE).flushdb()
    workers = args.workers or (os.cpu_count() or 1) + 1
    env = {"REDIS_URL": REDIS_BASE, "WEB_CONCURRENCY": str(workers)}
    with tempfile.TemporaryDirectory() as tmp, run_live_server(workers, env=env) as server:
        client_id, pair = register(server, Path(tmp))
        run = Run(server, client_id, pair, args.lifetime)
        measured = None
        if args.target == "auto":
            measured = closed_loop(run, 15.0, args.threads)
            target = measured
        else:
            target = float(args.target)
        rate = target * args.fraction
        warm = Counter(run.statuses)
        run.statuses.clear()
        run.latencies.clear()
        run.errors.clear()
        print(
            f"soak: {rate:.0f} req/s for {args.duration:.0f} s "
            f"({args.fraction:.0%} of {target:.0f}), {workers} workers",
            flush=True,
        )

        samples: list[Sample] = []
        purges: list[tuple[float, int]] = []
        stop = threading.Event()
        loader = threading.Thread(target=paced, args=(run, rate, args.duration, args.threads, stop))
        started = time.monotonic()
        loader.start()
        next_sample = started
        next_purge = started + args.purge_every
        while loader.is_alive():
            now = time.monotonic()
            if now >= next_purge:
                out = server.manage("purge_jtis")
                purged = int("".join(c for c in out.split("row")[0] if c.isdigit()) or 0)
                purges.append((now - started, purged))
                next_purge += args.purge_every
            if now >= next_sample:
                pids = worker_pids(server)
                samples.append(
                    Sample(
                        at=now - started,
                        sent=run.sent,
                        non_200=run.sent - run.statuses[200],
                        rss_kib={pid: procstat.status_kib(pid, "VmRSS") for pid in pids},
                        jti_rows=jti_rows(server.env["DATABASE_URL"]),
                        purged=sum(p for _, p in purges),
                    )
                )
                last = samples[-1]
                print(
                    f"  t={last.at:5.0f}s sent={last.sent} non200={last.non_200} "
                    f"jti={last.jti_rows} rss={sorted(last.rss_kib.values())}",
                    flush=True,
                )
                next_sample += args.sample_every
            time.sleep(0.2)
        elapsed = time.monotonic() - started
        pids = worker_pids(server)
        samples.append(
            Sample(
                elapsed,
                run.sent,
                run.sent - run.statuses[200],
                {pid: procstat.status_kib(pid, "VmRSS") for pid in pids},
                jti_rows(server.env["DATABASE_URL"]),
                sum(p for _, p in purges),
            )
        )
        write_report(args, run, samples, purges, rate, target, measured, warm, elapsed, workers)
    non_200 = run.sent - run.statuses[200]
    print(f"soak: {run.sent} requests, {non_200} non-200; report in {args.report}")
    return 1 if non_200 else 0


def write_report(
    args,
    run: Run,
    samples: list[Sample],
    purges,
    rate: float,
    target: float,
    measured: float | None,
    warm: Counter,
    elapsed: float,
    workers: int,
) -> None:
    lat = sorted(run.latencies)
    p50 = lat[len(lat) // 2] * 1000 if lat else 0.0
    p99 = lat[int(len(lat) * 0.99)] * 1000 if lat else 0.0
    achieved = run.sent / elapsed if elapsed else 0.0
    non_200 = run.sent - run.statuses[200]
    first, last = samples[1] if len(samples) > 1 else samples[0], samples[-1]
    pids = sorted(set(first.rss_kib) & set(last.rss_kib))
    drift = [(last.rss_kib[p] - first.rss_kib[p]) / 1024 for p in pids]
    rows = [s.jti_rows for s in samples]
    bound = rate * (args.lifetime + 60 + args.purge_every)
    lines = [
        "# Soak: POST /oauth2/token on PostgreSQL + Redis",
        "",
        f"Generated {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC by `python -m bench.soak "
        f"{' '.join(sys.argv[1:])}` (`make soak`).",
        "",
        f"- Machine: {os.cpu_count()} cores; load generator (Python threads) on the same machine",
        f"- Server: gunicorn with `gunicorn.conf.py`, {workers} sync workers, DJANGO_DEBUG=0, "
        "a fresh PostgreSQL database, Redis as the cache",
        f"- Load: private_key_jwt RS256 client_credentials, a fresh assertion per request "
        f"(lifetime {args.lifetime} s), {args.threads} paced threads",
        f"- Target: {target:.0f} req/s"
        + (f" (measured maximum, 15 s closed loop: {measured:.0f} req/s)" if measured else "")
        + f"; rate {args.fraction:.0%} of it = {rate:.0f} req/s for {args.duration:.0f} s",
        f"- `purge_jtis` every {args.purge_every:.0f} s",
    ]
    if args.note:
        lines.append(f"- Note: {args.note}")
    lines += [
        "",
        "## Result",
        "",
        f"- Requests: {run.sent} in {elapsed:.0f} s ({achieved:.1f} req/s achieved)",
        f"- Answers other than 200: **{non_200}** {dict(run.statuses)}",
        f"- Latency: p50 {p50:.1f} ms, p99 {p99:.1f} ms",
        "- RSS per worker, first sample to last: "
        + ", ".join(
            f"{first.rss_kib[p] / 1024:.1f} -> {last.rss_kib[p] / 1024:.1f} MiB" for p in pids
        )
        + (f" (largest change {max(drift, key=abs):+.1f} MiB)" if drift else ""),
        f"- IDN_OIDC_JTI rows: max {max(rows)}, last {rows[-1]}; expected bound about "
        f"rate x (lifetime + leeway + purge interval) = {bound:.0f}",
        f"- purge_jtis deleted {sum(p for _, p in purges)} rows in {len(purges)} runs",
    ]
    if warm:
        lines.append(f"- Measuring the maximum: answers {dict(warm)}")
    if run.errors:
        lines += ["", "First non-200 answers:", ""] + [f"    {e}" for e in run.errors]
    lines += [
        "",
        "## Over time",
        "",
        "| t (s) | requests | non-200 | jti rows | purged so far | RSS per worker (MiB) |",
        "| ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for s in samples:
        rss = " / ".join(f"{s.rss_kib[p] / 1024:.1f}" for p in sorted(s.rss_kib))
        lines.append(f"| {s.at:.0f} | {s.sent} | {s.non_200} | {s.jti_rows} | {s.purged} | {rss} |")
    if len(samples) > 2:
        per_sample = [b.sent - a.sent for a, b in itertools.pairwise(samples)]
        lines += [
            "",
            f"Requests per sample interval: mean {statistics.mean(per_sample):.0f}, "
            f"min {min(per_sample)}, max {max(per_sample)}.",
        ]
    args.report.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
