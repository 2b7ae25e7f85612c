"""OpenID Connect parts of the OAuth2 validator (ID token signing)."""


class OidcValidatorMixin:
    pass
