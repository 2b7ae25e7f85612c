"""Helpers the console's views share: the clock, pagination, no-store responses."""

from __future__ import annotations

import datetime as dt

from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

PAGE_SIZE = 50


def now() -> dt.datetime:
    return timezone.now()


def paginate(request: HttpRequest, queryset, per_page: int = PAGE_SIZE) -> Page:
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


def no_store(response: HttpResponse) -> HttpResponse:
    """Keep a page that shows a secret out of every cache, the browser's included."""
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response
