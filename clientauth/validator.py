"""OAuth2 validator glue for client authentication (filled in with the verifier)."""

from oauth2_provider.oauth2_validators import OAuth2Validator


class ClientAuthValidator(OAuth2Validator):
    pass
