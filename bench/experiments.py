"""What each candidate change to the token path would save, measured in one process.

``python -m bench.experiments [--requests 1500] [--rounds 3]`` runs RS256 token
requests through Django's WSGI handler (as ``bench.profile_token`` does) under a
series of counterfactual patches applied in this process only, and prints the CPU per
request of each against the unpatched baseline, interleaving rounds so that a noisy
machine affects every variant alike. The patches are measuring devices, not fixes:
the process-local caches below ignore invalidation, which a real change must keep (a
deleted certificate is refused on the next request in every process). Called by hand;
the figures go to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from types import SimpleNamespace


@contextlib.contextmanager
def skip_signal_query() -> Iterator[None]:
    """DOT's TokenView reloads the token it just wrote to send ``app_authorized``."""
    from django.http import HttpResponse
    from oauth2_provider.signals import app_authorized
    from oauth2_provider.views import base

    original = base.TokenView.authorization_flow_token_response

    def lean(self, request, *args, **kwargs):
        url, headers, body, status = self.create_token_response(request)
        if status == 200 and app_authorized.has_listeners():
            return original(self, request, *args, **kwargs)  # pragma: no cover
        response = HttpResponse(content=body, status=status)
        for k, v in headers.items():
            response[k] = v
        return response

    base.TokenView.authorization_flow_token_response = lean
    try:
        yield
    finally:
        base.TokenView.authorization_flow_token_response = original


@contextlib.contextmanager
def cache_client() -> Iterator[None]:
    """The ServiceProvider SELECT through the ORM, on every request."""
    from clientauth import lookup

    original = lookup.find_client
    memo: dict = {}

    def cached(client_id: str):
        if client_id not in memo:
            memo[client_id] = original(client_id)
        return memo[client_id]

    lookup.find_client = cached
    try:
        yield
    finally:
        lookup.find_client = original


@contextlib.contextmanager
def cache_keys() -> Iterator[None]:
    """The keystore's certificate SELECT (ids and thumbprints) on every request."""
    from clientauth import lookup

    original = lookup.verification_keys
    memo: dict = {}

    def cached(alias, now):
        if alias not in memo:
            memo[alias] = original(alias, now)
        return memo[alias]

    lookup.verification_keys = cached
    try:
        yield
    finally:
        lookup.verification_keys = original


@contextlib.contextmanager
def no_savepoint() -> Iterator[None]:
    """DOT's save_bearer_token opens a nested atomic block: SAVEPOINT + RELEASE."""
    from django.db import transaction
    from oauth2_provider import oauth2_validators

    original = oauth2_validators.transaction
    oauth2_validators.transaction = SimpleNamespace(
        atomic=lambda using=None: transaction.atomic(using=using, savepoint=False)
    )
    try:
        yield
    finally:
        oauth2_validators.transaction = original


LEAN_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
]


@contextlib.contextmanager
def lean_middleware() -> Iterator[None]:
    """Sessions, CSRF, auth, messages, clickjacking, whitenoise and axes on an API call."""
    from django.test.utils import override_settings

    with override_settings(MIDDLEWARE=LEAN_MIDDLEWARE):
        yield


@contextlib.contextmanager
def no_jti_cache() -> Iterator[None]:
    """The jti cache's GET before the insert and SET after the commit (Redis: two trips)."""
    from django.test.utils import override_settings

    with override_settings(PRIVATE_KEY_JWT={"CACHE_ENABLED": False}):
        yield


@contextlib.contextmanager
def everything() -> Iterator[None]:
    with contextlib.ExitStack() as stack:
        for patch in (skip_signal_query, cache_client, cache_keys, no_savepoint, lean_middleware):
            stack.enter_context(patch())
        yield


VARIANTS: dict[str, Callable[[], contextlib.AbstractContextManager]] = {
    "baseline": contextlib.nullcontext,
    "skip DOT's post-200 AccessToken SELECT": skip_signal_query,
    "client row cached in process": cache_client,
    "certificate query cached in process": cache_keys,
    "no SAVEPOINT around DOT's token insert": no_savepoint,
    "token endpoint without session/auth/csrf/axes/... middleware": lean_middleware,
    "jti cache off (the database alone decides replays)": no_jti_cache,
    "all of the above but the jti cache": everything,
}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.experiments")
    p.add_argument("--requests", type=int, default=1500, help="per variant and round")
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args(argv)

    from django.core.handlers.wsgi import WSGIHandler

    from bench.profile_token import _call, prepare

    per = args.requests
    total = len(VARIANTS) * args.rounds * per + 100
    _, bodies, authorization = prepare("jwt", "RS256", total)
    it = iter(bodies)
    results: dict[str, list[float]] = {name: [] for name in VARIANTS}
    for _ in range(args.rounds):
        for name, variant in VARIANTS.items():
            with variant():
                app = WSGIHandler()  # picks up MIDDLEWARE as the variant sets it
                for _ in range(50):
                    assert _call(app, next(it), authorization).startswith("200"), name
                chunk = [next(it) for _ in range(per - 50)]
                cpu0 = time.process_time()
                bad = sum(not _call(app, b, authorization).startswith("200") for b in chunk)
                cpu = time.process_time() - cpu0
                if bad:
                    raise SystemExit(f"{name}: {bad} requests refused")
                results[name].append(1000 * cpu / len(chunk))
    base = statistics.median(results["baseline"])
    print(f"{'variant':64} {'ms CPU/req':>10} {'saves ms':>9} {'saves %':>8}")
    for name, values in results.items():
        m = statistics.median(values)
        print(f"{name:64} {m:10.3f} {base - m:9.3f} {100 * (base - m) / base:7.0f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
