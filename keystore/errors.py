"""Why the keystore refused a file or an alias, as data.

Each class carries a stable machine-readable ``reason`` and a one-line message (its
``str``). ``keystore.parsing`` and ``keystore.services`` raise them; the management
commands turn them into ``CommandError`` and the console into a form error. Nothing
here knows about OAuth: an alias is just a name.
"""

from __future__ import annotations


class KeystoreError(Exception):
    """Base class: ``str(error)`` is one line meant for the person who sent the file."""

    reason = "keystore_error"

    def __init__(self, message: str = "") -> None:
        # One line, whatever a library or a file name put in the message.
        text = " ".join((message or self.reason.replace("_", " ")).split())
        super().__init__(text)
        self.message = text


# --- the file: refused by keystore.parsing ---------------------------------------------


class FileTooLarge(KeystoreError):
    reason = "file_too_large"


class NotACertificate(KeystoreError):
    """No X.509 certificate could be read: garbage, a bare private key, a damaged file."""

    reason = "not_a_certificate"


class WrongPassword(KeystoreError):
    """A PKCS#12 or JKS file that the given store password (or none) does not open."""

    reason = "wrong_password"


class AmbiguousKeystore(KeystoreError):
    """A keystore with several certificate entries and no keystore alias to pick one."""

    reason = "ambiguous_keystore"

    def __init__(self, message: str = "", *, aliases: list[str] | tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.aliases = tuple(aliases)


class UnknownKeystoreAlias(KeystoreError):
    """The keystore alias names no certificate entry of the keystore."""

    reason = "unknown_keystore_alias"


class UnsupportedKeyType(KeystoreError):
    """A public key other than RSA, EC P-256/P-384/P-521, Ed25519 or Ed448."""

    reason = "unsupported_key_type"


class KeyTooSmall(KeystoreError):
    """An RSA key under 2048 bits."""

    reason = "key_too_small"


class UnsupportedCertificate(KeystoreError):
    """A readable certificate whose facts do not fit the keystore (e.g. a 2 KiB subject)."""

    reason = "unsupported_certificate"


class CertificateExpired(KeystoreError):
    reason = "certificate_expired"


class CertificateNotYetValid(KeystoreError):
    """Refused because it would not be used until its notBefore: a replace would lock out
    the client until then, which is almost never what the person importing it meant."""

    reason = "certificate_not_yet_valid"


# --- the alias: refused by keystore.services -------------------------------------------


class InvalidAlias(KeystoreError):
    reason = "invalid_alias"


class UnknownOwner(KeystoreError):
    """The alias names no one the owning app knows (``keystore.owners``): a typo, or a
    client not registered yet."""

    reason = "unknown_owner"


class AliasExists(KeystoreError):
    reason = "alias_exists"


class UnknownAlias(KeystoreError):
    reason = "unknown_alias"
