"""The keys of clients whose key source is a JWK Set, on the token path.

Two caches, as the keystore keeps certificates (``keystore.services``):

- **Parsed sets, per process**: a bounded LRU of ``KeySet`` by the SHA-256 of the set's
  text. A set is parsed and checked (``clientauth.jwk``) once per process; an inline
  set's digest is in the ``ClientMetadata`` row the token path reads anyway, so its
  text (``ClientJwks``) is read only when this process meets a new digest.
- **Fetched sets, shared**: per client and ``jwks_uri``, one Django cache entry (one
  for every process, with Redis) holding the last set fetched, when, until when it is
  fresh and usable, and the last fetch error. When the cache is down, the process
  keeps its own copy.

The fetch rules (``JWKS_URI_*`` settings, ``clientauth.conf``):

- Fresh for ``Cache-Control: max-age``, clamped to ``[JWKS_URI_MIN_CACHE_SECONDS,
  JWKS_URI_MAX_CACHE_SECONDS]`` (no max-age: the maximum). Once it is not, the next
  request fetches; while that fails (unreachable, refused by ``clientauth.jwks_fetch``,
  or a set ``clientauth.jwk`` refuses), the set last fetched stays in use up to
  ``JWKS_URI_MAX_STALE_SECONDS`` past its freshness, the error is kept with it, and
  the next attempt waits ``JWKS_URI_REFETCH_INTERVAL_SECONDS``.
- A ``kid`` the fresh set does not have fetches again (the rotation path, OIDC Core
  section 10.1.1), at most once per client per ``JWKS_URI_REFETCH_INTERVAL_SECONDS``:
  the cache's atomic ``add`` decides, so every process agrees.
- At most one fetch per client is in flight in a process (a lock per client); every
  wait is bounded by ``JWKS_URI_TIMEOUT_SECONDS``.
- Only a registered client whose assertion has passed parsing, the method and the
  algorithm checks gets here (``clientauth.assertion``): an unknown client or a
  malformed assertion never causes a fetch.
- ``fetch=False`` (the direct token path, which holds the connection it writes with):
  anything that would fetch raises ``JwksFetchDeferred`` instead, and the full path
  answers the request.

Called by ``clientauth.lookup`` (``uri_keys``, ``inline_keys``) and by
``clientauth.keysources`` (``state``, ``fetch_into``, ``forget``).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import threading
import time
from collections import OrderedDict
from typing import Any

from django.core.cache import cache

from clientauth import errors, jwk, jwks_fetch
from clientauth.conf import Policy
from clientauth.models import ClientJwks

log = logging.getLogger("clientauth")

PARSED_CAPACITY = 1000
_POLL_SECONDS = 0.05
# The values of a client's refresh gate: a fetch in flight, or failed within the interval.
_FETCHING, _FAILED = "fetching", "failed"

_parsed: OrderedDict[str, jwk.KeySet] = OrderedDict()
_local: OrderedDict[str, dict] = OrderedDict()  # states, for when the shared cache is down
_local_gates: dict[str, float] = {}
_lock = threading.Lock()
_client_locks: dict[str, threading.Lock] = {}


# --- parsed sets ----------------------------------------------------------------------


def remember(keyset: jwk.KeySet) -> jwk.KeySet:
    with _lock:
        _parsed[keyset.digest] = keyset
        _parsed.move_to_end(keyset.digest)
        while len(_parsed) > PARSED_CAPACITY:
            _parsed.popitem(last=False)
    return keyset


def parsed(digest: str, text: str) -> jwk.KeySet:
    """The parsed set of ``text``, whose SHA-256 is ``digest``; parsed once per process."""
    with _lock:
        keyset = _parsed.get(digest)
        if keyset is not None:
            _parsed.move_to_end(digest)
            return keyset
    return remember(jwk.parse_jwks(text))


def clear() -> None:
    """Forget every parsed set and local state (tests; a process's caches only)."""
    with _lock:
        _parsed.clear()
        _local.clear()
        _local_gates.clear()


def inline_keys(application_pk: Any, digest: str) -> tuple[jwk.JwkKey, ...]:
    """The keys of a client's inline JWK Set whose digest its metadata row names."""
    with _lock:
        keyset = _parsed.get(digest)
    if keyset is None:
        row = ClientJwks.objects.filter(application_id=application_pk).values_list("jwks").first()
        if row is None:
            return ()
        text = row[0]
        keyset = parsed(hashlib.sha256(text.encode()).hexdigest(), text)
    return keyset.keys


# --- the shared state of a jwks_uri ------------------------------------------------------


def state_key(client_id: str, uri: str) -> str:
    digest = hashlib.sha256(f"{client_id}\x00{uri}".encode("utf-8", "surrogatepass"))
    return f"pkjwt:jwks:{digest.hexdigest()[:40]}"


def state(key: str) -> dict | None:
    """The state of a client's ``jwks_uri`` (``None``: never fetched, or forgotten):
    ``text`` and ``digest`` of the last set fetched ("" for none), ``fetched_at``,
    ``fresh_until``, ``usable_until``, ``last_error`` and ``last_error_at``."""
    try:
        found = cache.get(key)
    except Exception:  # the cache is down: this process's own copy
        with _lock:
            return _local.get(key)
    if found is not None:
        with _lock:
            _local[key] = found
            _local.move_to_end(key)
            while len(_local) > PARSED_CAPACITY:
                _local.popitem(last=False)
    return found


def _write(key: str, value: dict, now: float, policy: Policy) -> None:
    with _lock:
        _local[key] = value
    keep = max(value["usable_until"] - now, policy.jwks_uri_refetch_interval_seconds) + 60
    try:
        cache.set(key, value, timeout=int(keep))
    except Exception:
        log.warning("jwks cache unavailable: keys kept in this process only")


def forget(key: str) -> None:
    """Drop the state of a client's ``jwks_uri`` (its key source changed)."""
    with _lock:
        _local.pop(key, None)
    try:
        cache.delete_many([key, f"{key}:refresh", f"{key}:refetch"])
    except Exception:
        log.warning("jwks cache unavailable: could not forget %s", key)


def _gate(name: str, seconds: int, now: float, value: str = "taken") -> bool:
    """Whether this caller may go through the gate ``name`` (once per ``seconds``)."""
    try:
        return bool(cache.add(name, value, timeout=seconds))
    except Exception:
        with _lock:
            if _local_gates.get(name, 0.0) > now:
                return False
            _local_gates[name] = now + seconds
            return True


def _gate_value(name: str) -> str | None:
    try:
        return cache.get(name)
    except Exception:
        return None


def _mark_failed(name: str, seconds: int) -> None:
    # Without the shared cache, the local gate (or none): the next request may try again.
    with contextlib.suppress(Exception):
        cache.set(name, _FAILED, timeout=seconds)


def _open(name: str) -> None:
    try:
        cache.delete(name)
    except Exception:
        with _lock:
            _local_gates.pop(name, None)


def _keyset(found: dict | None, now: float) -> jwk.KeySet | None:
    if not found or not found["text"] or now >= found["usable_until"]:
        return None
    try:
        return parsed(found["digest"], found["text"])
    except jwk.JwksError:  # stored under other rules (an older release): fetch again
        return None


def _fresh(found: dict | None, now: float) -> bool:
    return bool(found and found["text"] and now < found["fresh_until"])


def lifetime(max_age: int | None, policy: Policy) -> int:
    """How long a fetched set is fresh: its max-age within the configured bounds."""
    high = policy.jwks_uri_max_cache_seconds
    return high if max_age is None else min(max(max_age, policy.jwks_uri_min_cache_seconds), high)


def fetch_into(key: str, uri: str, found: dict | None, *, now: float, policy: Policy) -> dict:
    """Fetch ``uri`` and store the outcome as the client's state: the new set, or the
    previous set kept with the error. Returns the state; never raises a fetch error."""
    try:
        try:
            fetched = jwks_fetch.fetch(uri, policy)
            keyset = remember(jwk.parse_jwks(fetched.body))
        except (jwks_fetch.FetchError, jwk.JwksError):
            raise
        except Exception as exc:  # a fetch must never turn into a 500
            log.exception("jwks_uri fetch raised")
            raise jwks_fetch.FetchError(f"fetch failed: {exc.__class__.__name__}") from None
    except (jwks_fetch.FetchError, jwk.JwksError) as exc:
        previous = found or {"text": "", "digest": "", "fetched_at": None, "fresh_until": 0.0,
                             "usable_until": 0.0}  # fmt: skip
        new = {**previous, "last_error": str(exc)[:500], "last_error_at": now}
        _write(key, new, now, policy)
        log.warning("jwks_uri fetch failed uri=%r error=%s", uri[:200], new["last_error"])
        return new
    fresh = now + lifetime(fetched.max_age, policy)
    new = {
        "text": keyset.text,
        "digest": keyset.digest,
        "fetched_at": now,
        "fresh_until": fresh,
        "usable_until": fresh + policy.jwks_uri_max_stale_seconds,
        "last_error": "",
        "last_error_at": None,
    }
    _write(key, new, now, policy)
    log.info("jwks_uri fetched uri=%r keys=%d", uri[:200], len(keyset.keys))
    return new


def _client_lock(key: str) -> threading.Lock:
    with _lock:
        return _client_locks.setdefault(key, threading.Lock())


def _refresh(key: str, uri: str, found: dict | None, now: float, policy: Policy):
    """A scheduled fetch: the set is not fresh. Returns (state, whether this call fetched)."""
    lock = _client_lock(key)
    if not lock.acquire(timeout=policy.jwks_uri_timeout_seconds):
        return state(key) or found, False
    try:
        current = state(key)
        if _fresh(current, now):  # another thread or process fetched meanwhile
            return current, False
        gate, interval = f"{key}:refresh", policy.jwks_uri_refetch_interval_seconds
        # Held while the fetch is in flight (a process that dies mid-fetch holds it no
        # longer than that), for the interval after a failure, and opened on success.
        in_flight = math.ceil(policy.jwks_uri_timeout_seconds) + 5
        if not _gate(gate, in_flight, now, _FETCHING):
            # A fetch failed within the interval: the stale keys, if any, at once.
            # Another process is fetching: its outcome, not keys past their lifetime.
            if _gate_value(gate) == _FETCHING:
                current = _await_change(key, current, policy)
            return current, False
        new = fetch_into(key, uri, current, now=now, policy=policy)
        if new["last_error"]:
            _mark_failed(gate, interval)  # the retry waits for the interval
        else:
            _open(gate)
        return new, True
    finally:
        lock.release()


def _stamp(found: dict | None) -> tuple:
    return (found or {}).get("fetched_at"), (found or {}).get("last_error_at")


def _await_change(key: str, found: dict | None, policy: Policy) -> dict | None:
    """The state once another process's fetch has changed it, waiting at most one
    fetch timeout (then the state as it is)."""
    deadline = time.monotonic() + policy.jwks_uri_timeout_seconds
    while time.monotonic() < deadline:
        time.sleep(_POLL_SECONDS)
        current = state(key)
        if _stamp(current) != _stamp(found):
            return current
    return state(key) or found


def _refetch(key: str, uri: str, found: dict, now: float, policy: Policy) -> dict:
    """An unknown kid's fetch, once the interval's gate has let this caller through."""
    lock = _client_lock(key)
    if not lock.acquire(timeout=policy.jwks_uri_timeout_seconds):
        return state(key) or found
    try:
        return fetch_into(key, uri, state(key) or found, now=now, policy=policy)
    finally:
        lock.release()


def uri_keys(
    client_id: str, uri: str, kid: object, *, now: float, policy: Policy, fetch: bool = True
) -> tuple[jwk.JwkKey, ...]:
    """The usable keys of a client's ``jwks_uri`` for an assertion whose header has
    ``kid``, fetching as the rules above allow; ``JwksFetchFailed`` when there are none."""
    key = state_key(client_id, uri)
    found = state(key)
    fetched_here = False
    if not _fresh(found, now):
        if not fetch:
            raise errors.JwksFetchDeferred("keys must be fetched", client_id=client_id)
        found, fetched_here = _refresh(key, uri, found, now, policy)
    keyset = _keyset(found, now)
    if keyset is None:
        why = (found or {}).get("last_error") or "no keys fetched yet"
        raise errors.JwksFetchFailed(f"jwks_uri gave no usable keys: {why}", client_id=client_id)
    if isinstance(kid, str) and 0 < len(kid) <= jwk.MAX_KID_CHARS and keyset.by_kid(kid) is None:
        interval = policy.jwks_uri_refetch_interval_seconds
        if fetched_here:
            _gate(f"{key}:refetch", interval, now)  # this fetch counts as the refetch
        elif not fetch:
            raise errors.JwksFetchDeferred("an unknown kid may fetch", client_id=client_id)
        elif _gate(f"{key}:refetch", interval, now):
            keyset = _keyset(_refetch(key, uri, found, now, policy), now) or keyset
    return keyset.keys
