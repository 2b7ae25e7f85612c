"""What "the user has consented" means for ``prompt=none`` (OIDC Core 3.1.2.1), and
whether a sign-in is recent enough for ``max_age`` (OIDC Core 3.1.2.1, 3.1.2.3).

A silent request is answered with a code only for a signed-in user who has already
consented to this client for these scopes; otherwise with ``consent_required`` (OIDC
Core 3.1.2.6), never a consent page. Consent is the rule DOT applies for
``approval_prompt=auto``: the application is trusted by its operator
(``skip_authorization``), or the user holds an unexpired access token from this client
whose scopes include every requested scope. A revoked or expired token is no consent;
a refresh token alone is not either (DOT's rule looks at access tokens only).

A sign-in is recent enough when the user's ``last_login`` (the ID token's
``auth_time``) is at most ``max_age`` seconds before ``now``. Called by
``oidc.authorize`` and ``oidc.validator``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from oauth2_provider.models import get_access_token_model


def has_consented(user, application, scopes: Iterable[str], now: dt.datetime) -> bool:
    if application.skip_authorization:
        return True
    wanted = list(scopes)
    tokens = get_access_token_model().objects.filter(
        user=user, application=application, expires__gt=now
    )
    return any(token.allow_scopes(wanted) for token in tokens.only("scope"))


def signed_in_within(user, max_age: str | None, now: dt.datetime) -> bool:
    """Whether ``user`` signed in at most ``max_age`` seconds ago (True without one).
    ``max_age`` is the request's value, already held to digits by ``oidc.params``."""
    if max_age is None or max_age == "":
        return True
    if user.last_login is None:
        return False
    return (now - user.last_login).total_seconds() <= int(max_age)
