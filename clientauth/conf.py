"""The ``PRIVATE_KEY_JWT`` setting: documented defaults merged into a frozen policy.

Every key is optional; ``DEFAULTS`` is the one place defaults are defined. The merged
``Policy`` is rebuilt whenever Django reports a settings change (``override_settings``,
pytest-django's ``settings`` fixture), and otherwise reused, so the token path never
re-parses settings. Validation for ``manage.py check`` lives in ``clientauth.checks``;
``policy()`` itself raises ``ImproperlyConfigured`` on a value it cannot use.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

from clientauth.constants import ASYMMETRIC_ALGORITHMS

DEFAULTS: dict[str, object] = {
    # preventTokenReuse: a jti is accepted once while the JWT that first used it is unexpired.
    "PREVENT_TOKEN_REUSE": True,
    # RejectBeforeInMinutes: an assertion whose iat is older than this is refused.
    "REJECT_BEFORE_IN_MINUTES": 100,
    # TokenEndPointAlias: one more accepted aud value (a string or a list of strings).
    "TOKEN_ENDPOINT_ALIAS": None,
    # Cache "PrivateKeyJWT": used jtis in front of the database.
    "CACHE_ENABLED": True,
    # How long a cached entry lives at most, in seconds.
    "CACHE_TIMEOUT_SECONDS": 600,
    # How many parsed client keys one process keeps.
    "CACHE_CAPACITY": 5000,
    # Clock skew allowed on exp, nbf and iat, in seconds.
    "LEEWAY_SECONDS": 60,
    # Longest accepted exp - iat (or exp - now without iat), in seconds.
    "MAX_ASSERTION_LIFETIME_SECONDS": 3600,
    # Signature algorithms accepted (never none, never HMAC).
    "ALLOWED_ALGORITHMS": list(ASYMMETRIC_ALGORITHMS),
    # Accept only the issuer identifier, as a single string aud (draft-ietf-oauth-rfc7523bis).
    "STRICT_AUDIENCE": False,
    # Longer client_assertion values are refused before parsing, in bytes.
    "MAX_ASSERTION_BYTES": 8192,
    # Serve successful client_credentials requests by the direct path (an optimisation:
    # every answer is the same with it off).
    "FAST_PATH": True,
    # Plain http:// jwks_uri values allowed (development and tests only).
    "JWKS_URI_ALLOW_HTTP": False,
    # Host names a jwks_uri may use even where they resolve to non-public addresses.
    "JWKS_URI_ALLOWED_HOSTS": [],
    # One jwks_uri fetch (connect, TLS, headers, body) takes at most this long, in seconds.
    "JWKS_URI_TIMEOUT_SECONDS": 3,
    # A fetched JWK Set longer than this is refused, in bytes.
    "JWKS_URI_MAX_BYTES": 65536,
    # An unknown kid fetches a client's jwks_uri again at most once per this, in seconds.
    "JWKS_URI_REFETCH_INTERVAL_SECONDS": 60,
    # Fetched keys are used at least this long before the next fetch, whatever
    # Cache-Control says (an unknown kid may still fetch sooner), in seconds.
    "JWKS_URI_MIN_CACHE_SECONDS": 60,
    # Fetched keys are used at most this long before the next fetch, in seconds.
    "JWKS_URI_MAX_CACHE_SECONDS": 3600,
    # When fetches fail, the last keys fetched stay in use this long past their cache
    # lifetime, in seconds.
    "JWKS_URI_MAX_STALE_SECONDS": 86400,
}


@dataclass(frozen=True, slots=True)
class Policy:
    prevent_token_reuse: bool
    reject_before_seconds: int
    token_endpoint_aliases: tuple[str, ...]
    cache_enabled: bool
    cache_timeout_seconds: int
    cache_capacity: int
    leeway_seconds: int
    max_assertion_lifetime_seconds: int
    allowed_algorithms: frozenset[str]
    strict_audience: bool
    max_assertion_bytes: int
    fast_path: bool
    issuer: str
    jwks_uri_allow_http: bool = False
    jwks_uri_allowed_hosts: frozenset[str] = frozenset()
    jwks_uri_timeout_seconds: float = 3.0
    jwks_uri_max_bytes: int = 65536
    jwks_uri_refetch_interval_seconds: int = 60
    jwks_uri_min_cache_seconds: int = 60
    jwks_uri_max_cache_seconds: int = 3600
    jwks_uri_max_stale_seconds: int = 86400

    @property
    def token_endpoint(self) -> str:
        """The issuer and the token endpoint's path in the URLconf
        (``AUTHSERVER_ISSUER`` + ``/oauth2/token`` on this server)."""
        from clientauth.endpoints import token_path

        return f"{self.issuer}{token_path()}"

    @property
    def audiences(self) -> tuple[str, ...]:
        """Accepted aud values: the issuer first (CONTRACT.md, "Accepted audiences")."""
        if self.strict_audience:
            return (self.issuer,)
        return (self.issuer, self.token_endpoint, *self.token_endpoint_aliases)


def merged() -> dict[str, object]:
    """The user's PRIVATE_KEY_JWT over DEFAULTS (unknown keys kept, for the checks)."""
    return {**DEFAULTS, **(getattr(settings, "PRIVATE_KEY_JWT", None) or {})}


def _aliases(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ImproperlyConfigured("PRIVATE_KEY_JWT['TOKEN_ENDPOINT_ALIAS'] must be a string or list")


def _int(values: dict, key: str, minimum: int = 0) -> int:
    value = values[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ImproperlyConfigured(f"PRIVATE_KEY_JWT[{key!r}] must be an integer >= {minimum}")
    return value


def _seconds(values: dict, key: str) -> float:
    value = values[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 60:
        raise ImproperlyConfigured(
            f"PRIVATE_KEY_JWT[{key!r}] must be a number of seconds in (0, 60]"
        )
    return float(value)


def _hosts(value: object) -> frozenset[str]:
    if isinstance(value, str) or not isinstance(value, list | tuple | set | frozenset):
        raise ImproperlyConfigured("PRIVATE_KEY_JWT['JWKS_URI_ALLOWED_HOSTS'] must be a list")
    if not all(isinstance(h, str) and h.strip() for h in value):
        raise ImproperlyConfigured(
            "PRIVATE_KEY_JWT['JWKS_URI_ALLOWED_HOSTS'] must list host names (strings)"
        )
    return frozenset(h.strip().rstrip(".").lower().strip("[]") for h in value)


def _cache_bounds(values: dict) -> tuple[int, int]:
    low = _int(values, "JWKS_URI_MIN_CACHE_SECONDS", 1)
    high = _int(values, "JWKS_URI_MAX_CACHE_SECONDS", 1)
    if low > high:
        raise ImproperlyConfigured(
            "PRIVATE_KEY_JWT['JWKS_URI_MIN_CACHE_SECONDS'] must not exceed "
            "JWKS_URI_MAX_CACHE_SECONDS"
        )
    return low, high


@lru_cache(maxsize=1)
def policy() -> Policy:
    """The policy in force, from settings; rebuilt after a settings change."""
    return build_policy(merged(), settings.AUTHSERVER_ISSUER)


def build_policy(values: dict[str, object], issuer: str) -> Policy:
    """A Policy from a complete dict of PRIVATE_KEY_JWT values (DEFAULTS plus overrides)."""
    algorithms = values["ALLOWED_ALGORITHMS"]
    if isinstance(algorithms, str) or not all(a in ASYMMETRIC_ALGORITHMS for a in algorithms):
        raise ImproperlyConfigured(
            "PRIVATE_KEY_JWT['ALLOWED_ALGORITHMS'] must list asymmetric JWS algorithms "
            f"from {', '.join(ASYMMETRIC_ALGORITHMS)}"
        )
    cache_low, cache_high = _cache_bounds(values)
    return Policy(
        prevent_token_reuse=bool(values["PREVENT_TOKEN_REUSE"]),
        reject_before_seconds=_int(values, "REJECT_BEFORE_IN_MINUTES", 1) * 60,
        token_endpoint_aliases=_aliases(values["TOKEN_ENDPOINT_ALIAS"]),
        cache_enabled=bool(values["CACHE_ENABLED"]),
        cache_timeout_seconds=_int(values, "CACHE_TIMEOUT_SECONDS", 1),
        cache_capacity=_int(values, "CACHE_CAPACITY", 1),
        leeway_seconds=_int(values, "LEEWAY_SECONDS"),
        max_assertion_lifetime_seconds=_int(values, "MAX_ASSERTION_LIFETIME_SECONDS", 1),
        allowed_algorithms=frozenset(algorithms),
        strict_audience=bool(values["STRICT_AUDIENCE"]),
        max_assertion_bytes=_int(values, "MAX_ASSERTION_BYTES", 256),
        fast_path=bool(values["FAST_PATH"]),
        issuer=issuer,
        jwks_uri_allow_http=bool(values["JWKS_URI_ALLOW_HTTP"]),
        jwks_uri_allowed_hosts=_hosts(values["JWKS_URI_ALLOWED_HOSTS"]),
        jwks_uri_timeout_seconds=_seconds(values, "JWKS_URI_TIMEOUT_SECONDS"),
        jwks_uri_max_bytes=_int(values, "JWKS_URI_MAX_BYTES", 1024),
        jwks_uri_refetch_interval_seconds=_int(values, "JWKS_URI_REFETCH_INTERVAL_SECONDS", 1),
        jwks_uri_min_cache_seconds=cache_low,
        jwks_uri_max_cache_seconds=cache_high,
        jwks_uri_max_stale_seconds=_int(values, "JWKS_URI_MAX_STALE_SECONDS"),
    )


@receiver(setting_changed)
def _reset(*, setting: str, **kwargs) -> None:
    if setting in ("PRIVATE_KEY_JWT", "AUTHSERVER_ISSUER"):
        policy.cache_clear()
