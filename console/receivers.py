"""What the audit trail records from outside the console's views: commands and sign-ins.

Connected by ``console.apps.ConsoleConfig.ready``.

- ``djangokit.audit.performed``: a management command changed something; the actor is
  the OS user, the channel ``command``, the source the host it ran on.
- ``user_logged_in`` / ``user_logged_out``: a staff account signed in or out through a
  page of this server (the console's sign-in page or the admin's). Sign-ins of end
  users on their way to the consent page are not administration and are left to the
  server log; a login made in code (a shell, a test's ``force_login``) has no page and
  is not recorded.
- ``user_login_failed``: a refused sign-in through a page, unless the username is an
  existing account that is not staff. Django hands receivers the credentials with the
  password already masked; only the username is kept, never the password, and the
  detail says whether django-axes refused it as locked out.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth import signals as auth_signals

from console import audit
from console.models import AuditEntry
from djangokit.audit import performed


def command_performed(sender, *, action, target, detail="", actor="", channel, source="", **kw):
    audit.record_event(
        action=action,
        target=target,
        detail=detail,
        actor_username=actor,
        channel=channel,
        source=source,
    )


def _through_a_page(request) -> bool:
    return request is not None and getattr(request, "resolver_match", None) is not None


def signed_in(sender, request, user, **kwargs) -> None:
    if _through_a_page(request) and user.is_staff:
        _record_sign_in(AuditEntry.LOGIN, request, user, user.get_username())


def signed_out(sender, request, user, **kwargs) -> None:
    if _through_a_page(request) and user is not None and user.is_staff:
        _record_sign_in(AuditEntry.LOGOUT, request, user, user.get_username())


def sign_in_failed(sender, credentials, request=None, **kwargs) -> None:
    if not _through_a_page(request):
        return
    User = get_user_model()
    username = str(credentials.get(User.USERNAME_FIELD) or "")[:150]
    account = User._default_manager.filter(**{User.USERNAME_FIELD: username}).first()
    if account is not None and not account.is_staff:
        return
    if getattr(request, "axes_locked_out", False):
        detail = "locked out by django-axes (too many failures)"
    elif account is None:
        detail = "no such account"
    else:
        detail = "wrong password or inactive account"
    _record_sign_in(AuditEntry.LOGIN_FAILED, request, None, username, detail)


def _record_sign_in(action, request, user, username: str, detail: str = "") -> None:
    audit.record_event(
        action=action,
        target=request.path,
        detail=detail,
        actor=user,
        actor_username=username,
        channel=AuditEntry.SIGN_IN,
        source=audit.client_address(request),
    )


def connect() -> None:
    performed.connect(command_performed, dispatch_uid="console.audit.command")
    auth_signals.user_logged_in.connect(signed_in, dispatch_uid="console.audit.login")
    auth_signals.user_logged_out.connect(signed_out, dispatch_uid="console.audit.logout")
    auth_signals.user_login_failed.connect(sign_in_failed, dispatch_uid="console.audit.failed")
