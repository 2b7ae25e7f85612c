"""Who may do what in the console: staff to enter, Django's model permissions for the rest.

Every URL in ``console.urls`` is made by ``console_path``, which takes the rights the
page needs as a required argument, so no console URL can be added without stating
them (``tests/console/test_permissions.py`` walks the URLconf). A right is one of
Django's model permissions (``django.contrib.auth``, the ones the admin grants):
``view``, ``add``, ``change`` or ``delete`` on the application model (DOT's
``get_application_model()``, whichever it is), ``keystore.Certificate``,
``clientauth.AuthFailure`` or ``console.AuditEntry``; and ``view`` or ``change`` on
``oidc.SigningKey`` to see the server's signing keys or rotate them (a right of its
own: rotating affects every client, and no other console right grants it). As in
Django's admin, ``change`` implies ``view``; superusers hold every permission.

Anonymous visitors are sent to the login page; a logged-in user who is not active staff,
or lacks a right the URL needs, gets 403 for every method, before the view runs. The
guard leaves a ``ConsoleRights`` on the request (``request.console_rights``), which the
templates ask so as to hide what the user may not do. Rights a page needs only for one
of its options (replacing a certificate on import, deleting the certificate with its
service provider) are checked by that view against the same object.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django.apps import apps
from django.contrib.auth import get_permission_codename
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path
from oauth2_provider.models import get_application_model


@dataclass(frozen=True)
class Right:
    """Doing ``action`` (view, add, change, delete) on the model ``model()`` returns."""

    action: str
    model: Callable[[], type[Model]]

    def permissions(self) -> tuple[str, ...]:
        """The full permission names that each grant this right."""
        opts = self.model()._meta
        actions = [self.action]
        if self.action == "view":
            actions.append("change")  # Django's admin: who may change may view
        return tuple(f"{opts.app_label}.{get_permission_codename(a, opts)}" for a in actions)

    def allows(self, user) -> bool:
        return any(user.has_perm(name) for name in self.permissions())


def _model(label: str) -> Callable[[], type[Model]]:
    return lambda: apps.get_model(label)


RIGHTS: dict[str, Right] = {
    "view_provider": Right("view", get_application_model),
    "add_provider": Right("add", get_application_model),
    "change_provider": Right("change", get_application_model),
    "delete_provider": Right("delete", get_application_model),
    "view_certificate": Right("view", _model("keystore.Certificate")),
    "add_certificate": Right("add", _model("keystore.Certificate")),
    "change_certificate": Right("change", _model("keystore.Certificate")),
    "delete_certificate": Right("delete", _model("keystore.Certificate")),
    "view_failure": Right("view", _model("clientauth.AuthFailure")),
    "view_audit": Right("view", _model("console.AuditEntry")),
    "view_signing_key": Right("view", _model("oidc.SigningKey")),
    "rotate_signing_key": Right("change", _model("oidc.SigningKey")),
}

# What a URL that needs no model permission declares: entering the console (staff).
STAFF_ONLY: tuple[str, ...] = ()


class ConsoleRights:
    """The user's console rights by name (``RIGHTS``), for views and templates.

    ``rights["change_provider"]`` is a bool; in a template
    ``request.console_rights.change_provider``. An unknown name raises ``KeyError``,
    which a template shows as false: a misspelt right hides, it never grants.
    """

    def __init__(self, user) -> None:
        self._user = user
        self._known: dict[str, bool] = {}

    def __getitem__(self, name: str) -> bool:
        if name not in self._known:
            self._known[name] = RIGHTS[name].allows(self._user)
        return self._known[name]

    def all(self, names: tuple[str, ...]) -> bool:
        return all(self[name] for name in names)


def rights_of(request: HttpRequest) -> ConsoleRights:
    """The request's ``ConsoleRights``, made once per request."""
    rights = getattr(request, "console_rights", None)
    if rights is None:
        rights = request.console_rights = ConsoleRights(request.user)
    return rights


def require(request: HttpRequest, *names: str) -> None:
    """Raise ``PermissionDenied`` (403) unless the user holds every right named."""
    missing = [name for name in names if not rights_of(request)[name]]
    if missing:
        raise PermissionDenied(f"Missing console right: {', '.join(missing)}.")


def guard(view: Callable[..., HttpResponse], needs: tuple[str, ...]) -> Callable[..., HttpResponse]:
    """Let active staff holding every right in ``needs`` through; else login or 403."""
    unknown = [name for name in needs if name not in RIGHTS]
    if unknown:
        raise ValueError(f"unknown console right(s): {', '.join(unknown)}")

    @wraps(view)
    def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not (user.is_active and user.is_staff):
            raise PermissionDenied("The console is for staff only.")
        require(request, *needs)
        return view(request, *args, **kwargs)

    guarded.console_rights = tuple(needs)
    return guarded


def console_path(
    route: str, view: Callable[..., HttpResponse], name: str, *, needs: tuple[str, ...]
) -> URLPattern:
    """A console URL: ``needs`` names the rights its page needs (``STAFF_ONLY`` for none)."""
    return path(route, guard(view, tuple(needs)), name=name)
