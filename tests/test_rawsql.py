"""The token path's statement helpers (``djangokit.rawsql``) against the ORM's own."""

from __future__ import annotations

import datetime as dt
import time
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from djangokit import rawsql

MOMENTS = {
    "aware UTC": dt.datetime(2026, 11, 29, 15, 45, 10, 123456, tzinfo=dt.UTC),
    "aware, whole second": dt.datetime(2026, 11, 29, 15, 45, 10, tzinfo=dt.UTC),
    "aware, another zone": dt.datetime(2026, 3, 29, 2, 30, 1, 5, tzinfo=ZoneInfo("Asia/Kolkata")),
    "naive": dt.datetime(2026, 11, 29, 15, 45, 10, 999999),
}


@pytest.mark.parametrize("name", sorted(MOMENTS))
def test_datetime_param_is_what_the_backend_adapts(name):
    moment = MOMENTS[name]
    assert rawsql.datetime_param(moment) == connection.ops.adapt_datetimefield_value(moment)


@pytest.mark.parametrize("seconds", [0.0, 1764431110.0, 1764431110.5, time.time()])
def test_timestamp_is_the_adapted_utc_instant(seconds):
    moment = dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
    assert rawsql.timestamp(seconds) == connection.ops.adapt_datetimefield_value(moment)


def test_a_settings_change_is_followed(settings):
    """The style is cached per settings: after USE_TZ changes, the helper still gives
    what the backend does (SQLite's refuses aware values without USE_TZ)."""
    moment = MOMENTS["aware UTC"]
    assert rawsql.datetime_param(moment) == connection.ops.adapt_datetimefield_value(moment)
    settings.USE_TZ = False
    try:
        expected = connection.ops.adapt_datetimefield_value(moment)
    except ValueError:
        with pytest.raises(ValueError):
            rawsql.datetime_param(moment)
    else:
        assert rawsql.datetime_param(moment) == expected
