"""Benchmark of POST /oauth2/token: every client-authentication scenario in one run.

``python -m bench.run [--quick | --leak]`` (``make bench``, ``make bench-quick``,
``make bench-leak``). First it measures the run's reference: the same gunicorn serving
a fixed answer (``bench.floor``), what a request costs before any token work. Then for
each stack (SQLite + local memory, PostgreSQL + Redis) it creates a fresh database,
migrates it, registers the clients, starts gunicorn as production does
(``gunicorn.conf.py``) and, per scenario, warms up then measures with wrk: tokens/s,
p50/p99 latency, server CPU per token (gunicorn master and workers, plus the database
and Redis processes on PostgreSQL), peak RSS per worker and the answers other than 200.
Tokens are counted from the server's access-token table, so work finished after wrk
stopped is neither lost nor double-counted. Results go to
``bench/RESULTS.md`` (see ``bench.report``).
"""

from __future__ import annotations

import argparse
import base64
import json
import multiprocessing
import secrets
import shlex
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench import assertions, load, procstat, report, spy, stacks


@dataclass(frozen=True)
class Scenario:
    key: str
    label: str
    method: str
    alg: str = ""
    hashed: bool = True

    @property
    def client_id(self) -> str:
        return f"bench-{self.key}"

    @property
    def single_use(self) -> bool:
        return self.method == "private_key_jwt"


FLOOR = Scenario("floor", "fixed answer (reference: no Django, no database)", "none")

SCENARIOS = (
    Scenario("rs256", "private_key_jwt RS256", "private_key_jwt", "RS256"),
    Scenario("es256", "private_key_jwt ES256", "private_key_jwt", "ES256"),
    Scenario("eddsa", "private_key_jwt EdDSA", "private_key_jwt", "EdDSA"),
    Scenario("hashed", "client_secret_basic, hashed (PBKDF2)", "client_secret_basic"),
    Scenario("plain", "client_secret_basic, plain secret", "client_secret_basic", hashed=False),
)


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="short run, under two minutes")
    mode.add_argument("--leak", action="store_true", help="100,000 RS256 tokens on SQLite")
    p.add_argument("--workers", type=int, default=multiprocessing.cpu_count() + 1)
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--threads", type=int, default=2, help="wrk threads")
    p.add_argument("--duration", type=float, help="seconds per measurement (15; quick 4)")
    p.add_argument("--warmup", type=float, help="seconds of warm-up per scenario (3; quick 1)")
    p.add_argument("--hashed-duration", type=float, help="seconds for the PBKDF2 scenario")
    p.add_argument("--max-rate", type=int, default=2500, help="tokens/s that bodies cover")
    p.add_argument(
        "--stacks", default="floor,sqlite,postgres", help="floor is gunicorn with a fixed answer"
    )
    p.add_argument("--scenarios", default=",".join(s.key for s in SCENARIOS))
    p.add_argument("--leak-tokens", type=int, default=100_000)
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--redis-db", type=int, default=13)
    p.add_argument("--py-spy", type=Path, metavar="DIR", help="sample workers into DIR")
    p.add_argument("--output", type=Path, default=Path(__file__).with_name("RESULTS.md"))
    args = p.parse_args(argv)
    quick = args.quick
    args.duration = args.duration or (3.0 if quick else 15.0)
    args.warmup = args.warmup or (1.0 if quick else 3.0)
    args.hashed_duration = args.hashed_duration or (3.0 if quick else 10.0)
    return args


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def prepare_clients(tmp: Path, chosen: list[Scenario], args: argparse.Namespace) -> dict:
    """Keys, certificates, secrets and body files, shared by every stack."""
    audience = f"http://127.0.0.1:{args.port}/oauth2/token"
    spec, files = [], {}
    for sc in chosen:
        client = {"client_id": sc.client_id, "name": sc.label, "method": sc.method}
        if sc.single_use:
            key = assertions.generate_key(sc.alg)
            cert = tmp / f"{sc.key}.pem"
            cert.write_bytes(assertions.self_signed_pem(key, sc.client_id))
            client.update(alg=sc.alg, cert=str(cert))
            measured = args.leak_tokens if args.leak else int(args.max_rate * args.duration)
            # wrk stops a little short of the last bodies (requests in flight when the
            # script runs out); the leak check's count must reach its full number.
            margin = 4 * args.connections + (measured // 50 if args.leak else 0)
            log(f"signing {measured + margin} + warm-up {sc.alg} assertions")
            warm = int(args.max_rate * args.warmup) + margin
            files[sc.key] = {
                "warm": assertions.write_bodies(
                    tmp / f"{sc.key}.warm", key, sc.alg, sc.client_id, audience, warm
                ),
                "measure": assertions.write_bodies(
                    tmp / f"{sc.key}.bodies", key, sc.alg, sc.client_id, audience, measured + margin
                ),
                "auth": "",
            }
        else:
            secret = secrets.token_urlsafe(32)
            client.update(secret=secret, hashed=sc.hashed)
            body = tmp / f"{sc.key}.bodies"
            body.write_text(assertions.secret_body() + "\n")
            basic = base64.b64encode(f"{sc.client_id}:{secret}".encode()).decode()
            files[sc.key] = {"warm": body, "measure": body, "auth": f"Basic {basic}"}
        spec.append(client)
    # The reference answers any body; it gets the plain-secret request's.
    floor_body = tmp / "floor.bodies"
    floor_body.write_text(assertions.secret_body() + "\n")
    files[FLOOR.key] = {"warm": floor_body, "measure": floor_body, "auth": ""}
    spec_path = tmp / "clients.json"
    spec_path.write_text(json.dumps(spec))
    return {"spec": spec_path, "files": files}


def measure(
    stack: stacks.Stack,
    server: stacks.Server,
    sc: Scenario,
    files: dict,
    args: argparse.Namespace,
    leak_samples: list | None = None,
) -> dict:
    url = f"http://127.0.0.1:{args.port}/oauth2/token"
    duration = args.hashed_duration if sc.key == "hashed" else args.duration
    if args.leak:
        duration = 3600
    # PBKDF2 takes ~200 ms a token: at 32 connections the queue alone would hold the
    # run for seconds after wrk stops, so this one scenario runs one connection a worker.
    connections = min(args.connections, args.workers) if sc.key == "hashed" else args.connections
    common = dict(
        threads=min(args.threads, connections),
        connections=connections,
        reuse=not sc.single_use,
        authorization=files["auth"],
        server_pids=server.pids,
    )
    warm_for = min(args.warmup, duration)
    load.run_wrk(url, files["warm"], duration=warm_for, **common)
    load.wait_idle(server.pids)

    workers = server.workers()
    for pid in workers:
        procstat.reset_peak_rss(pid)
    everything = server.pids() | stack.backing_pids()
    tokens0 = stack.tokens_issued() if stack.has_database else 0
    cpu0 = procstat.total_cpu(everything)
    server_cpu0 = procstat.total_cpu(server.pids())
    server_sys0 = {pid: procstat.system_seconds(pid) for pid in server.pids()}

    on_tick = None
    if leak_samples is not None:
        last = [0.0]

        def on_tick() -> None:
            if time.monotonic() - last[0] >= 2.0:
                last[0] = time.monotonic()
                rss = [procstat.status_kib(p, "VmRSS") for p in sorted(server.workers())]
                leak_samples.append((stack.tokens_issued() - tokens0, rss))

    spying = None
    if args.py_spy:
        args.py_spy.mkdir(parents=True, exist_ok=True)
        spy_out = args.py_spy / f"{stack.name}-{sc.key}.txt"
        spying = spy.start(server.pid, spy_out)
    result = load.run_wrk(url, files["measure"], duration=duration, on_tick=on_tick, **common)
    if spying is not None:
        spy.stop(spying)
        for frame, share in spy.summarise(spy_out):
            print(f"    {100 * share:5.1f}%  {frame}")
    load.wait_idle(server.pids)
    everything |= server.pids() | stack.backing_pids()
    cpu = procstat.cpu_delta(cpu0, procstat.total_cpu(everything))
    server_cpu = procstat.cpu_delta(server_cpu0, procstat.total_cpu(server.pids()))
    server_sys = sum(procstat.system_seconds(p) - server_sys0.get(p, 0.0) for p in server.pids())
    # Without a database (the floor), the answers wrk received stand for tokens.
    tokens = stack.tokens_issued() - tokens0 if stack.has_database else result["ok"]
    if leak_samples is not None:
        rss = [procstat.status_kib(p, "VmRSS") for p in sorted(server.workers())]
        leak_samples.append((tokens, rss))
    non_200 = sum(result["other"].values()) + sum(result["socket_errors"].values())
    return {
        "stack": stack.name,
        "stack_label": stack.label,
        "scenario": sc.key,
        "label": sc.label,
        "tokens": tokens,
        "ok": result["ok"],
        "tokens_per_s": result["ok"] / (result["span_us"] / 1e6) if result["span_us"] else 0.0,
        "p50_ms": result["p50_us"] / 1000,
        "p99_ms": result["p99_us"] / 1000,
        "cpu_ms_per_token": 1000 * cpu / tokens if tokens else float("nan"),
        "server_cpu_ms_per_token": 1000 * server_cpu / tokens if tokens else float("nan"),
        "server_sys_share": server_sys / server_cpu if server_cpu else float("nan"),
        "peak_rss_mib": max((procstat.status_kib(p, "VmHWM") for p in workers), default=0) / 1024,
        "non_200": non_200,
        "statuses": result["other"],
        "socket_errors": result["socket_errors"],
        "sample_error": result["sample_error"],
    }


def run_stack(stack: stacks.Stack, prepared: dict, chosen, args, tmp: Path) -> list[dict]:
    if stack.has_database:
        log(f"{stack.label}: migrating a fresh database")
        stacks.manage(stack, "migrate", "--noinput")
        stacks.manage_script(stack, "bench/setup_clients.py", str(prepared["spec"]))
    server = stacks.Server(stack, tmp / f"gunicorn-{stack.name}.log")
    server.start()
    results = []
    try:
        for sc in chosen:
            log(f"{stack.label}: {sc.label}")
            leak = [] if args.leak else None
            row = measure(stack, server, sc, prepared["files"][sc.key], args, leak)
            if leak is not None:
                row["leak_samples"] = leak
            log(
                f"  {row['tokens_per_s']:.0f} tokens/s, {row['cpu_ms_per_token']:.2f} ms CPU/token,"
                f" p99 {row['p99_ms']:.1f} ms, non-200 {row['non_200']}"
                + (f" ({row['sample_error']})" if row["sample_error"] else "")
            )
            results.append(row)
    finally:
        server.stop()
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.leak:
        args.stacks, args.scenarios = "sqlite", "rs256"
    chosen = [s for s in SCENARIOS if s.key in args.scenarios.split(",")]
    load.ensure_wrk()
    results: list[dict] = []
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="authserver-bench-") as name:
        tmp = Path(name)
        prepared = prepare_clients(tmp, chosen, args)
        for which in args.stacks.split(","):
            scenarios = chosen
            if which == "floor":
                stack, scenarios = stacks.floor_stack(args.port, args.workers), [FLOOR]
            elif which == "sqlite":
                stack = stacks.sqlite_stack(tmp, args.port, args.workers)
            elif which == "postgres":
                stack = stacks.postgres_stack(args.port, args.workers, args.redis_db)
            else:
                raise SystemExit(f"unknown stack {which!r}")
            try:
                results.extend(run_stack(stack, prepared, scenarios, args, tmp))
            finally:
                stacks.drop(stack)
    command = "python -m bench.run " + shlex.join(sys.argv[1:] if argv is None else argv)
    report.write(args, results, command, time.time() - started)
    log(f"wrote {args.output} in {time.time() - started:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
