"""Where the token endpoint is, as the project's URLconf says: the one place that
defines it. The accepted audience ``issuer + token path`` and the paths the direct
token path serves both come from here, so a project that mounts DOT's views elsewhere
(``/o/token/``) needs no other setting for them.
"""

from __future__ import annotations

import functools

from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import NoReverseMatch, Resolver404, get_script_prefix, resolve, reverse
from oauth2_provider.views import TokenView

# This server names its token view "token"; DOT's own URLconf names it "token" in the
# "oauth2_provider" namespace.
TOKEN_URL_NAMES = ("token", "oauth2_provider:token")
_MAX_REMEMBERED_PATHS = 64
_token_view_paths: dict[str, bool] = {}


@functools.cache
def token_path() -> str:
    """The token endpoint's path in the URLconf, without any script prefix."""
    prefix = get_script_prefix()
    for name in TOKEN_URL_NAMES:
        try:
            path = reverse(name)
        except NoReverseMatch:
            continue
        return "/" + path[len(prefix) :] if path.startswith(prefix) else path
    raise ImproperlyConfigured(
        f"no URL named {' or '.join(map(repr, TOKEN_URL_NAMES))} for the token endpoint"
    )


def is_token_path(path: str) -> bool:
    """Whether the URLconf sends ``path`` to a DOT token view (this server's or DOT's
    own). Each answer is remembered, for at most a few dozen paths."""
    known = _token_view_paths.get(path)
    if known is None:
        try:
            view = resolve(path).func
        except Resolver404:
            known = False
        else:
            known = issubclass(getattr(view, "view_class", type(None)), TokenView)
        if len(_token_view_paths) < _MAX_REMEMBERED_PATHS:
            _token_view_paths[path] = known
    return known


@receiver(setting_changed)
def _reset(*, setting: str, **kwargs) -> None:
    if setting in ("ROOT_URLCONF", "FORCE_SCRIPT_NAME"):
        token_path.cache_clear()
        _token_view_paths.clear()
