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
stopped is neither lost nor double-counted. A full run measures every scenario in
three rounds, the scenarios taking turns, and pools the rounds (all CPU over all
tokens): a burst of background work (autovacuum, a checkpoint, another tenant of the
machine) then weighs on one round of one scenario instead of deciding a ratio, and the
report shows each round's figure beside the pooled one. Results go to
``bench/RESULTS.md`` (see ``bench.report``).
"""

from __future__ import annotations

import argparse
import base64
import http.server
import json
import multiprocessing
import secrets
import shlex
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
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
    jwks_uri: bool = (
        False  # keys from a jwks_uri (served by the benchmark) instead of a certificate
    )

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
    Scenario(
        "jwks",
        "private_key_jwt RS256, keys from a jwks_uri",
        "private_key_jwt",
        "RS256",
        jwks_uri=True,
    ),
    Scenario("hashed", "client_secret_basic, hashed (keyed HMAC-SHA-256)", "client_secret_basic"),
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
    p.add_argument("--rounds", type=int, help="measurements per scenario, in turns (3; quick 1)")
    p.add_argument("--duration", type=float, help="seconds per measurement (8; quick 3)")
    p.add_argument("--warmup", type=float, help="seconds of warm-up per measurement (2; quick 1)")
    p.add_argument("--max-rate", type=int, default=3500, help="tokens/s that bodies cover")
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
    args.rounds = 1 if args.leak else args.rounds or (1 if quick else 3)
    if args.rounds < 1:
        p.error("--rounds must be at least 1")
    args.duration = args.duration or (3.0 if quick else 8.0)
    args.warmup = args.warmup or (1.0 if quick else 2.0)
    return args


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


class _JwksHandler(http.server.BaseHTTPRequestHandler):
    body = b""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "max-age=3600")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args) -> None:
        pass


def _serve_jwks(jwks: str) -> str:
    """Serve ``jwks`` on loopback for the rest of the run (the server caches it for an
    hour, so it is fetched once per worker); return its URL."""
    handler = type("Handler", (_JwksHandler,), {"body": jwks.encode()})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/jwks.json"


def prepare_clients(tmp: Path, chosen: list[Scenario], args: argparse.Namespace) -> dict:
    """Keys, certificates, secrets and body files, shared by every stack."""
    audience = f"http://127.0.0.1:{args.port}/oauth2/token"
    spec, files = [], {}
    for sc in chosen:
        client = {"client_id": sc.client_id, "name": sc.label, "method": sc.method}
        if sc.single_use:
            key = assertions.generate_key(sc.alg)
            kid = ""
            if sc.jwks_uri:
                kid = f"{sc.key}-1"
                jwks_url = _serve_jwks(assertions.public_jwks(key, kid, sc.alg))
                client.update(alg=sc.alg, jwks_uri=jwks_url)
            else:
                cert = tmp / f"{sc.key}.pem"
                cert.write_bytes(assertions.self_signed_pem(key, sc.client_id))
                client.update(alg=sc.alg, cert=str(cert))
            measured = args.leak_tokens if args.leak else int(args.max_rate * args.duration)
            # wrk stops a little short of the last bodies (requests in flight when the
            # script runs out); the leak check's count must reach its full number.
            margin = 4 * args.connections + (measured // 50 if args.leak else 0)
            warm = int(args.max_rate * args.warmup) + margin
            each = f"{measured + margin} + {warm} warm-up"
            log(f"signing {args.rounds} x ({each}) {sc.alg} assertions")
            files[sc.key] = {"warm": [], "measure": [], "auth": ""}
            for n in range(args.rounds):  # every assertion used once, across all rounds
                files[sc.key]["warm"].append(
                    assertions.write_bodies(
                        tmp / f"{sc.key}.{n}.warm",
                        key,
                        sc.alg,
                        sc.client_id,
                        audience,
                        warm,
                        kid=kid,
                    )
                )
                files[sc.key]["measure"].append(
                    assertions.write_bodies(
                        tmp / f"{sc.key}.{n}.bodies", key, sc.alg, sc.client_id, audience,
                        measured + margin, kid=kid,
                    )
                )  # fmt: skip
        else:
            secret = secrets.token_urlsafe(32)
            client.update(secret=secret, hashed=sc.hashed)
            body = tmp / f"{sc.key}.bodies"
            body.write_text(assertions.secret_body() + "\n")
            basic = base64.b64encode(f"{sc.client_id}:{secret}".encode()).decode()
            files[sc.key] = {
                "warm": [body] * args.rounds,
                "measure": [body] * args.rounds,
                "auth": f"Basic {basic}",
            }
        spec.append(client)
    # The reference answers any body; it gets the plain-secret request's.
    floor_body = tmp / "floor.bodies"
    floor_body.write_text(assertions.secret_body() + "\n")
    files[FLOOR.key] = {
        "warm": [floor_body] * args.rounds,
        "measure": [floor_body] * args.rounds,
        "auth": "",
    }
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
    round_no: int = 0,
) -> dict:
    url = f"http://127.0.0.1:{args.port}/oauth2/token"
    duration = args.duration
    if args.leak:
        duration = 3600
    connections = args.connections
    common = dict(
        threads=min(args.threads, connections),
        connections=connections,
        reuse=not sc.single_use,
        authorization=files["auth"],
        server_pids=server.pids,
    )
    warm_for = min(args.warmup, duration)
    load.run_wrk(url, files["warm"][round_no], duration=warm_for, **common)
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
        spy_out = args.py_spy / f"{stack.name}-{sc.key}{f'-{round_no}' if round_no else ''}.txt"
        spying = spy.start(server.pid, spy_out)
    result = load.run_wrk(
        url, files["measure"][round_no], duration=duration, on_tick=on_tick, **common
    )
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
        **_sums_and_rates(
            tokens=tokens,
            ok=result["ok"],
            span_s=result["span_us"] / 1e6,
            cpu_s=cpu,
            server_cpu_s=server_cpu,
            server_sys_s=server_sys,
        ),
        "p50_ms": result["p50_us"] / 1000,
        "p99_ms": result["p99_us"] / 1000,
        "peak_rss_mib": max((procstat.status_kib(p, "VmHWM") for p in workers), default=0) / 1024,
        "non_200": non_200,
        "statuses": result["other"],
        "socket_errors": result["socket_errors"],
        "sample_error": result["sample_error"],
    }


_SUMS = ("tokens", "ok", "span_s", "cpu_s", "server_cpu_s", "server_sys_s")


def _sums_and_rates(**sums: float) -> dict:
    """The additive figures of a measurement (``_SUMS``) and the rates made from them:
    tokens/s, CPU per token, and the kernel's share of gunicorn's CPU."""
    nan = float("nan")
    tokens, span, server_cpu = sums["tokens"], sums["span_s"], sums["server_cpu_s"]
    return {
        **sums,
        "tokens_per_s": sums["ok"] / span if span else 0.0,
        "cpu_ms_per_token": 1000 * sums["cpu_s"] / tokens if tokens else nan,
        "server_cpu_ms_per_token": 1000 * server_cpu / tokens if tokens else nan,
        "server_sys_share": sums["server_sys_s"] / server_cpu if server_cpu else nan,
    }


def pool(rounds: list[dict]) -> dict:
    """One scenario's rounds as one measurement: counts, spans and CPU seconds added up,
    the median p50, the worst p99 and peak RSS; each round's CPU per token kept."""
    if len(rounds) == 1:
        return {**rounds[0], "round_cpu_ms_per_token": [rounds[0]["cpu_ms_per_token"]]}
    first = rounds[0]
    statuses: Counter = Counter()
    socket_errors: Counter = Counter()
    for r in rounds:
        statuses.update(r["statuses"])
        socket_errors.update(r["socket_errors"])
    return {
        **{k: first[k] for k in ("stack", "stack_label", "scenario", "label")},
        **_sums_and_rates(**{k: sum(r[k] for r in rounds) for k in _SUMS}),
        "p50_ms": statistics.median(r["p50_ms"] for r in rounds),
        "p99_ms": max(r["p99_ms"] for r in rounds),
        "peak_rss_mib": max(r["peak_rss_mib"] for r in rounds),
        "non_200": sum(r["non_200"] for r in rounds),
        "statuses": dict(statuses),
        "socket_errors": dict(socket_errors),
        "sample_error": "; ".join(r["sample_error"] for r in rounds if r["sample_error"]),
        "round_cpu_ms_per_token": [r["cpu_ms_per_token"] for r in rounds],
    }


def run_stack(stack: stacks.Stack, prepared: dict, chosen, args, tmp: Path) -> list[dict]:
    if stack.has_database:
        log(f"{stack.label}: migrating a fresh database")
        stacks.manage(stack, "migrate", "--noinput")
        stacks.manage_script(stack, "bench/setup_clients.py", str(prepared["spec"]))
    server = stacks.Server(stack, tmp / f"gunicorn-{stack.name}.log")
    server.start()
    rounds: dict[str, list[dict]] = {sc.key: [] for sc in chosen}
    try:
        for round_no in range(args.rounds):  # the scenarios take turns, round after round
            for sc in chosen:
                turn = f" (round {round_no + 1} of {args.rounds})" if args.rounds > 1 else ""
                log(f"{stack.label}: {sc.label}{turn}")
                leak = [] if args.leak else None
                files = prepared["files"][sc.key]
                row = measure(stack, server, sc, files, args, leak, round_no)
                if leak is not None:
                    row["leak_samples"] = leak
                log(
                    f"  {row['tokens_per_s']:.0f} tokens/s, {row['cpu_ms_per_token']:.2f} ms"
                    f" CPU/token, p99 {row['p99_ms']:.1f} ms, non-200 {row['non_200']}"
                    + (f" ({row['sample_error']})" if row["sample_error"] else "")
                )
                rounds[sc.key].append(row)
    finally:
        server.stop()
    return [pool(rounds[sc.key]) for sc in chosen]


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
