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
    )


@receiver(setting_changed)
def _reset(*, setting: str, **kwargs) -> None:
    if setting in ("PRIVATE_KEY_JWT", "AUTHSERVER_ISSUER"):
        policy.cache_clear()
