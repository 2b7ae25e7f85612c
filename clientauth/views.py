"""Token, introspection and revocation endpoints behind the client-authentication gate."""

from oauth2_provider.views import IntrospectTokenView, RevokeTokenView, TokenView

__all__ = ["TokenView", "IntrospectView", "RevokeView"]

IntrospectView = IntrospectTokenView
RevokeView = RevokeTokenView
