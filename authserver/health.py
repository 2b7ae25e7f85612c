"""Liveness and readiness for load balancers and orchestrators.

``/healthz``: the process answers (nothing else is touched). ``/readyz``: the database
answers a ``SELECT 1``; the cache is asked for one key too, and a cache that does not
answer makes the answer ``degraded`` but still 200, because the database is the truth
(used ``jti`` values are checked there when the cache is down). Both are plain GETs,
never cached, outside the failure log, and cost at most one query and one cache read.
The probe's ``Host`` must be one of ``DJANGO_ALLOWED_HOSTS``, as for every request.
"""

from __future__ import annotations

import logging

from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

log = logging.getLogger("authserver.health")

_PROBE_KEY = "authserver:readyz"


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _database_answers() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        log.warning("readiness: the database does not answer", exc_info=True)
        return False
    return True


def _cache_answers() -> bool:
    try:
        cache.get(_PROBE_KEY)
    except Exception:  # any backend's failure: the cache is optional here
        log.warning("readiness: the cache does not answer", exc_info=True)
        return False
    return True


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    if not _database_answers():
        return JsonResponse({"status": "unavailable", "database": "unavailable"}, status=503)
    if not _cache_answers():
        return JsonResponse({"status": "degraded", "database": "ok", "cache": "unavailable"})
    return JsonResponse({"status": "ok", "database": "ok", "cache": "ok"})
