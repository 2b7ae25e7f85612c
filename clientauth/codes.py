"""Authorization codes redeemed once, and what a second redemption does (RFC 6749
section 4.1.2: "If an authorization code is used more than once, the authorization
server MUST deny the request and SHOULD revoke (when possible) all tokens previously
issued based on that authorization code"; RFC 9700 section 4.5).

``remember`` records a code as it is redeemed, with the access token and refresh-token
family it gave; ``replayed`` finds that record when the same client presents the code
again, and revokes those tokens: the access token, and every refresh token of the
family with its access token (DOT's ``RefreshToken.revoke_family``), so tokens that
refreshing has issued since go too. Records are kept until the tokens they name have
expired, and the expired ones are deleted as new ones are written. Called by
``clientauth.validator``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging

from django.db import IntegrityError, router, transaction
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_refresh_token_model
from oauth2_provider.settings import oauth2_settings

from clientauth.models import RedeemedCode

log = logging.getLogger("clientauth")


def _checksum(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8", "surrogatepass")).hexdigest()


def _kept_for() -> dt.timedelta:
    """As long as a token issued for a code can live: the longer of the two lifetimes."""
    seconds = max(
        oauth2_settings.ACCESS_TOKEN_EXPIRE_SECONDS or 0,
        oauth2_settings.REFRESH_TOKEN_EXPIRE_SECONDS or 0,
    )
    return dt.timedelta(seconds=seconds)


def remember(application, code: str, access_token, refresh_token) -> None:
    """Record ``code`` as redeemed by ``application`` for these tokens (either may be
    None). A record already there means a concurrent redemption won: both sets of
    tokens are revoked."""
    now = timezone.now()
    record = RedeemedCode(
        code_checksum=_checksum(code),
        application=application,
        access_token_id=getattr(access_token, "pk", None),
        token_family=getattr(refresh_token, "token_family", None),
        expires=now + _kept_for(),
    )
    db = router.db_for_write(RedeemedCode)
    RedeemedCode.objects.using(db).filter(expires__lt=now).delete()
    try:
        with transaction.atomic(using=db):
            record.save(using=db)
        return
    except IntegrityError:
        pass
    log.warning("authorization code redeemed twice at once client_id=%r", application.client_id)
    _revoke(record)
    existing = RedeemedCode.objects.using(db).filter(
        application=application, code_checksum=record.code_checksum
    )
    for other in existing:
        _revoke(other)


def replayed(application, code: str) -> bool:
    """Whether ``application`` has redeemed ``code`` before; if so, revoke what it gave."""
    record = RedeemedCode.objects.filter(
        application=application, code_checksum=_checksum(code)
    ).first()
    if record is None:
        return False
    log.warning(
        "authorization code presented again; revoking its tokens client_id=%r",
        application.client_id,
    )
    _revoke(record)
    return True


def _revoke(record: RedeemedCode) -> None:
    if record.token_family is not None:
        get_refresh_token_model().revoke_family(record.token_family)
    if record.access_token_id is not None:
        get_access_token_model().objects.filter(pk=record.access_token_id).delete()
