"""Who may see the console: active staff users only.

Anonymous visitors are sent to the login page; a logged-in user who is not staff gets
403. ``console.urls`` wraps every view with ``staff_required``, so no console URL can
be added without it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse


def staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Let active staff through; redirect anonymous users to login; 403 everyone else."""

    @wraps(view)
    def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not (user.is_active and user.is_staff):
            raise PermissionDenied("The console is for staff only.")
        return view(request, *args, **kwargs)

    return guarded
