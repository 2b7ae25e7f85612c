"""DOT's scopes backend with each client's allowed scopes (RFC 6749 section 3.3).

DOT asks its scopes backend which scopes an application may have and which it gets
when it asks for none, at the authorization endpoint and for the client_credentials
grant alike; oauthlib keeps a refreshed token within the scopes of the original one.
``ClientScopes`` answers with the client's registered scopes (``ClientMetadata.scope``,
``clientauth.clients.allowed_scopes_of``), and the default scopes narrowed to them. Set
it as ``OAUTH2_PROVIDER["SCOPES_BACKEND_CLASS"]``; ``clientauth.validator`` also keeps
a refresh within the scopes the client is allowed today.
"""

from __future__ import annotations

from oauth2_provider.scopes import SettingsScopes

from clientauth import clients


class ClientScopes(SettingsScopes):
    def get_available_scopes(self, application=None, request=None, *args, **kwargs):
        if application is None:
            return super().get_available_scopes(application, request, *args, **kwargs)
        return clients.allowed_scopes_of(application)

    def get_default_scopes(self, application=None, request=None, *args, **kwargs):
        defaults = super().get_default_scopes(application, request, *args, **kwargs)
        if application is None:
            return defaults
        allowed = clients.allowed_scopes_of(application)
        return [s for s in defaults if s in allowed]
