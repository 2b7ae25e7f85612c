"""Writes a run's figures into bench/RESULTS.md, keeping the hand-written analysis.

The file holds two generated blocks between HTML comment markers: the scenario table
(``make bench`` / ``make bench-quick``) and the leak check (``make bench-leak``). A run
replaces only its own block; everything outside the markers (the profile, "Where the
time goes") is left as written. Called by ``bench.run``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
from importlib.metadata import version
from pathlib import Path

HEADER = "# Token endpoint benchmark\n"


def machine() -> str:
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem_kib = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kib = int(line.split()[1])
    import os

    return f"{os.cpu_count()} cores, {model}, {mem_kib / 1024 / 1024:.1f} GiB memory"


def versions() -> str:
    names = ("django", "django-oauth-toolkit", "pyjwt", "cryptography", "gunicorn")
    parts = [f"Python {platform.python_version()}"]
    parts += [f"{n} {version(n)}" for n in names]
    return ", ".join(parts)


def _fmt(x: float, digits: int = 2) -> str:
    return "n/a" if x != x else f"{x:.{digits}f}"


def _row(r: dict) -> str:
    statuses = ", ".join(f"{k}: {v}" for k, v in sorted(r["statuses"].items()))
    socket = {k: v for k, v in r["socket_errors"].items() if v}
    detail = "; ".join(
        x for x in (statuses, ", ".join(f"{k}: {v}" for k, v in socket.items())) if x
    )
    return (
        f"| {r['stack_label']} | {r['label']} | {r['tokens']} | {r['tokens_per_s']:.0f} | "
        f"{r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {_fmt(r['cpu_ms_per_token'])} | "
        f"{_fmt(r['server_cpu_ms_per_token'])} | {_fmt(100 * r['server_sys_share'], 0)} | "
        f"{', '.join(_fmt(x) for x in r.get('round_cpu_ms_per_token', ()))} | "
        f"{r['peak_rss_mib']:.0f} | {r['non_200']}"
        f"{' (' + detail + ')' if detail else ''} |"
    )


def _round_ratios(numerator: dict, denominator: dict) -> str:
    """Round by round (the two measured minutes apart), when there are several."""
    top = numerator.get("round_cpu_ms_per_token", ())
    bottom = denominator.get("round_cpu_ms_per_token", ())
    if len(top) < 2 or len(top) != len(bottom):
        return ""
    each = [a / b for a, b in zip(top, bottom, strict=True)]
    return f" (round by round {min(each):.2f}x to {max(each):.2f}x)"


def ratios(results: list[dict]) -> list[str]:
    lines = []
    floor = next((r for r in results if r["scenario"] == "floor"), None)
    for stack in dict.fromkeys(r["stack_label"] for r in results if r["scenario"] != "floor"):
        by = {r["scenario"]: r for r in results if r["stack_label"] == stack}
        for key in ("rs256", "es256", "eddsa"):
            if key not in by:
                continue
            jwt_cpu = by[key]["cpu_ms_per_token"]
            parts = []
            if "hashed" in by:
                parts.append(
                    f"a hashed secret costs {by['hashed']['cpu_ms_per_token'] / jwt_cpu:.2f}x it"
                    + _round_ratios(by["hashed"], by[key])
                )
            if "plain" in by:
                parts.append(
                    f"it costs {jwt_cpu / by['plain']['cpu_ms_per_token']:.2f}x a plain secret"
                    + _round_ratios(by[key], by["plain"])
                )
            if floor is not None:
                reference = floor["cpu_ms_per_token"]
                parts.append(
                    f"{jwt_cpu - reference:.2f} ms above the reference ({jwt_cpu / reference:.1f}x)"
                )
            if parts:
                lines.append(f"- {stack}, {by[key]['label']}: " + "; ".join(parts))
        if "jwks" in by and "rs256" in by:
            jwks_cpu, cert_cpu = by["jwks"]["cpu_ms_per_token"], by["rs256"]["cpu_ms_per_token"]
            lines.append(
                f"- {stack}, {by['jwks']['label']}: {jwks_cpu / cert_cpu:.2f}x the certificate "
                "client's" + _round_ratios(by["jwks"], by["rs256"])
            )
    return lines


def main_block(args: argparse.Namespace, results: list[dict], command: str, secs: float) -> str:
    mode = "quick" if args.quick else "full"
    rounds = (
        f"{args.rounds} rounds, the scenarios taking turns; each round " if args.rounds > 1 else ""
    )
    out = [
        f"Generated {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC by `{command}` "
        f"({mode} mode, {secs:.0f} s).",
        "",
        f"- Versions: {versions()}",
        f"- Machine: {machine()}; load generator wrk on the same machine",
        f"- Server: `gunicorn -c gunicorn.conf.py authserver.wsgi`, {args.workers} "
        f"{os.environ.get('GUNICORN_WORKER_CLASS', 'gthread')} workers, DJANGO_DEBUG=0",
        f"- Load: {args.connections} connections, {args.threads} wrk threads; {rounds}"
        f"{args.warmup:g} s warm-up then {args.duration:g} s per scenario,"
        " each assertion used once",
        "",
        "| stack | scenario | tokens | tokens/s | p50 ms | p99 ms | CPU ms/token | "
        "of which gunicorn | gunicorn sys % | CPU ms/token by round | peak RSS/worker MiB "
        "| non-200 |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
        *[_row(r) for r in results],
        "",
        "CPU ms/token: gunicorn master and workers, plus (PostgreSQL + Redis) the backends of",
        "the benchmark's database, PostgreSQL's WAL writer/checkpointer/background writer and",
        "redis-server, divided by the access tokens the server wrote. The reference row",
        "(`bench/floor.py`) is the same gunicorn and load with a fixed answer and no Django:",
        "what a request costs this machine, in this run, before any token work; its tokens",
        "are the 200 answers wrk received. With several rounds, a row pools them: all CPU",
        "over all tokens, tokens/s over the time measured, the median of the rounds' p50s",
        "and the worst of their p99s and peak RSS.",
        "",
        "Ratios (CPU per token, same run):",
        "",
        *ratios(results),
    ]
    return "\n".join(out)


def leak_block(results: list[dict], command: str) -> str:
    r = results[0]
    samples = r.get("leak_samples", [])
    out = [
        f"Generated {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC by `{command}`: "
        f"{r['tokens']} RS256 tokens on {r['stack_label']}, {r['tokens_per_s']:.0f} tokens/s,"
        f" non-200 {r['non_200']}.",
        "",
        "| tokens issued | RSS per worker (MiB) |",
        "| ---: | --- |",
    ]
    if samples:
        # one row per tenth of the run, so a plateau (caches full) shows apart from a leak
        picks = [samples[min(len(samples) - 1, i * len(samples) // 10)] for i in range(10)]
        picks.append(samples[-1])
        for tokens, rss in picks:
            out.append(f"| {tokens} | {', '.join(f'{k / 1024:.1f}' for k in rss)} |")
        settled = samples[(6 * len(samples)) // 10]
        growth = (max(samples[-1][1]) - max(settled[1])) / 1024
        out += [
            "",
            f"Growth of the largest worker over the last 40% of the run ({settled[0]} to "
            f"{samples[-1][0]} tokens): {growth:+.1f} MiB. Earlier growth is the caches "
            "filling: the local-memory cache holds up to 20,000 used jtis per worker "
            "(then culls), the SQLite page cache grows to its limit; a leak keeps growing "
            "after both are full.",
        ]
    out.append("")
    out.append(f"Peak RSS (VmHWM) of the largest worker over the run: {r['peak_rss_mib']:.1f} MiB.")
    return "\n".join(out)


def _replace_block(text: str, name: str, body: str) -> str:
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{start}\n{body}\n{end}"
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    if pattern.search(text):
        return pattern.sub(lambda _: block, text)
    title = {"main": "## Figures", "leak": "## Leak check"}[name]
    return text.rstrip("\n") + f"\n\n{title}\n\n{block}\n"


def write(args: argparse.Namespace, results: list[dict], command: str, secs: float) -> None:
    path: Path = args.output
    text = path.read_text() if path.exists() else HEADER
    if args.leak:
        text = _replace_block(text, "leak", leak_block(results, command))
    else:
        text = _replace_block(text, "main", main_block(args, results, command, secs))
    path.write_text(text)
