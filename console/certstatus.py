"""A certificate's status as the console shows it.

Validity is judged at ``now``: expired past ``not_after``, expiring when
``not_after`` falls within ``EXPIRING_WITHIN`` (30 days), valid otherwise. A
certificate whose alias is no service provider's client ID is flagged separately,
since the token endpoint will never use it whatever its dates say.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

EXPIRING_WITHIN = dt.timedelta(days=30)

VALID = "valid"
EXPIRING = "expiring"
EXPIRED = "expired"
NOT_YET_VALID = "not_yet_valid"

LABELS = {
    VALID: "Valid",
    EXPIRING: "Expiring within 30 days",
    EXPIRED: "Expired",
    NOT_YET_VALID: "Not yet valid",
}

# The lists' status filter: each validity, plus the two states beside it.
NO_CERTIFICATE = "none"
NO_CLIENT = "no_client"


def matches(status: CertStatus | None, wanted: str) -> bool:
    """Whether a row with ``status`` (None: no certificate) passes the filter ``wanted``."""
    if not wanted:
        return True
    if wanted == NO_CERTIFICATE:
        return status is None
    if wanted == NO_CLIENT:
        return status is not None and not status.has_client
    return status is not None and status.validity == wanted


@dataclass(frozen=True)
class CertStatus:
    validity: str
    has_client: bool

    @property
    def label(self) -> str:
        return LABELS[self.validity]

    @property
    def usable(self) -> bool:
        return self.has_client and self.validity in (VALID, EXPIRING)


def validity(not_before: dt.datetime, not_after: dt.datetime, now: dt.datetime) -> str:
    """Classify a validity period at ``now``."""
    if now > not_after:
        return EXPIRED
    if now < not_before:
        return NOT_YET_VALID
    if not_after - now <= EXPIRING_WITHIN:
        return EXPIRING
    return VALID


def status(certificate, *, client_ids: set[str], now: dt.datetime) -> CertStatus:
    """The status of a ``keystore.models.Certificate`` given the known client IDs."""
    return CertStatus(
        validity=validity(certificate.not_before, certificate.not_after, now),
        has_client=certificate.alias in client_ids,
    )
