"""System checks for the ``PRIVATE_KEY_JWT`` setting and the issuer (``manage.py check``).

Stable IDs: clientauth.E001 unknown key, E002 an algorithm that is HMAC, ``none`` or
unknown, E003 a value of the wrong type or range, E004 an issuer that is not an
absolute http(s) URL without a trailing slash, E005 a TOKEN_ENDPOINT_ALIAS that is not
an absolute URL.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured

from clientauth import conf
from clientauth.constants import ASYMMETRIC_ALGORITHMS


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
