"""The OAuth2 validator DOT uses: client authentication plus OpenID Connect, wired here.

``clientauth`` authenticates clients; ``oidc`` signs ID tokens with the server's keys.
Neither imports the other; this module is where they meet.
"""

from clientauth.validator import ClientAuthValidator
from oidc.validator import OidcValidatorMixin


class Validator(OidcValidatorMixin, ClientAuthValidator):
    pass
