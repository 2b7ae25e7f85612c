"""System checks for the ``PRIVATE_KEY_JWT`` setting and the issuer (``manage.py check``).

Stable IDs: clientauth.E001 unknown key, E002 an algorithm that is HMAC, ``none`` or
unknown, E003 a value of the wrong type or range, E004 an issuer that is not an
absolute http(s) URL without a trailing slash, E005 a TOKEN_ENDPOINT_ALIAS that is not
an absolute URL, E006 DOT's ``CLIENT_SECRET_HASHER`` naming the keyed client-secret
hasher while ``PASSWORD_HASHERS`` does not list it (no secret could be stored); W001
client secrets stored with a slow password hasher (every check of a wrong secret is
then a CPU cost any caller can impose); W002 ``JWKS_URI_ALLOW_HTTP`` on outside DEBUG
(a client's keys fetched over plain HTTP can be replaced on the way). The
``JWKS_URI_*`` values themselves are E003 (``clientauth.conf`` says what each takes).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.hashers import get_hashers_by_algorithm
from django.core.checks import Error, Warning, register
from django.core.exceptions import ImproperlyConfigured
from oauth2_provider.settings import oauth2_settings

from clientauth import conf
from clientauth.constants import ASYMMETRIC_ALGORITHMS
from clientauth.hashers import ALGORITHM as SECRET_HASH_ALGORITHM


def _absolute(url: object) -> bool:
    if not isinstance(url, str):
        return False
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


@register()
def check_private_key_jwt(app_configs=None, **kwargs) -> list[Error]:
    found: list[Error] = []
    user = getattr(settings, "PRIVATE_KEY_JWT", None) or {}
    for key in sorted(set(user) - set(conf.DEFAULTS)):
        found.append(
            Error(
                f"PRIVATE_KEY_JWT has an unknown key {key!r}.",
                hint=f"Known keys: {', '.join(conf.DEFAULTS)}.",
                id="clientauth.E001",
            )
        )
    algorithms = conf.merged()["ALLOWED_ALGORITHMS"]
    if isinstance(algorithms, str) or not isinstance(algorithms, list | tuple):
        algorithms = [algorithms]
    for alg in algorithms:
        if alg not in ASYMMETRIC_ALGORITHMS:
            found.append(
                Error(
                    f"PRIVATE_KEY_JWT['ALLOWED_ALGORITHMS'] contains {alg!r}.",
                    hint="Only asymmetric algorithms: " + ", ".join(ASYMMETRIC_ALGORITHMS) + ".",
                    id="clientauth.E002",
                )
            )
    if not algorithms:
        found.append(Error("PRIVATE_KEY_JWT['ALLOWED_ALGORITHMS'] is empty.", id="clientauth.E002"))
    issuer = getattr(settings, "AUTHSERVER_ISSUER", "")
    if not _absolute(issuer) or issuer.endswith("/"):
        found.append(
            Error(
                f"AUTHSERVER_ISSUER {issuer!r} is not an absolute URL without a trailing slash.",
                id="clientauth.E004",
            )
        )
    alias = conf.merged()["TOKEN_ENDPOINT_ALIAS"]
    for value in [alias] if isinstance(alias, str) else (alias or []):
        if not _absolute(value):
            found.append(
                Error(
                    f"PRIVATE_KEY_JWT['TOKEN_ENDPOINT_ALIAS'] {value!r} is not an absolute URL.",
                    id="clientauth.E005",
                )
            )
    if not found:
        try:
            conf.policy.cache_clear()
            conf.policy()
        except ImproperlyConfigured as exc:
            found.append(Error(str(exc), id="clientauth.E003"))
    return found


@register()
def check_jwks_uri_http(app_configs=None, **kwargs) -> list[Warning]:
    if conf.merged().get("JWKS_URI_ALLOW_HTTP") and not settings.DEBUG:
        return [
            Warning(
                "PRIVATE_KEY_JWT['JWKS_URI_ALLOW_HTTP'] is on: clients' keys may be fetched "
                "over plain HTTP, where anyone on the path can replace them.",
                hint="Turn it off outside development and tests.",
                id="clientauth.W002",
            )
        ]
    return []


@register()
def check_client_secret_hasher(app_configs=None, **kwargs) -> list[Error | Warning]:
    hasher = oauth2_settings.CLIENT_SECRET_HASHER
    listed = SECRET_HASH_ALGORITHM in get_hashers_by_algorithm()
    if hasher == SECRET_HASH_ALGORITHM and not listed:
        return [
            Error(
                f"OAUTH2_PROVIDER['CLIENT_SECRET_HASHER'] is {hasher!r}, which PASSWORD_HASHERS "
                "does not list.",
                hint="Add 'clientauth.hashers.ClientSecretHasher' at the end of PASSWORD_HASHERS.",
                id="clientauth.E006",
            )
        ]
    if hasher != SECRET_HASH_ALGORITHM:
        return [
            Warning(
                "Client secrets are stored with a password hasher: checking a wrong secret "
                "costs the server what a password check costs, for any caller.",
                hint=(
                    "Add 'clientauth.hashers.ClientSecretHasher' at the end of PASSWORD_HASHERS "
                    f"and set OAUTH2_PROVIDER['CLIENT_SECRET_HASHER'] = {SECRET_HASH_ALGORITHM!r}."
                ),
                id="clientauth.W001",
            )
        ]
    return []
