"""A certificate's validity as the console labels it, on both sides of each boundary."""

from __future__ import annotations

import datetime as dt

import pytest

from console import certstatus

NOW = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
START = NOW - dt.timedelta(days=100)


@pytest.mark.parametrize(
    ("not_before", "not_after", "expected"),
    [
        (START, NOW + dt.timedelta(days=30, seconds=1), certstatus.VALID),
        (START, NOW + dt.timedelta(days=30), certstatus.EXPIRING),
        (START, NOW, certstatus.EXPIRING),
        (START, NOW - dt.timedelta(seconds=1), certstatus.EXPIRED),
        (NOW + dt.timedelta(seconds=1), NOW + dt.timedelta(days=90), certstatus.NOT_YET_VALID),
        (NOW, NOW + dt.timedelta(days=90), certstatus.VALID),
    ],
)
def test_validity(not_before, not_after, expected):
    assert certstatus.validity(not_before, not_after, NOW) == expected


def test_alias_without_client_is_not_usable():
    status = certstatus.CertStatus(validity=certstatus.VALID, has_client=False)
    assert not status.usable
    assert certstatus.CertStatus(validity=certstatus.EXPIRING, has_client=True).usable
