"""keystore.parsing.parse_certificate: formats, facts, every refusal, and no library
exception for any input. Pure: no database."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keystore import errors
from keystore.parsing import MAX_FILE_BYTES, ParsedCertificate, parse_certificate
from tests import keys

NOW = dt.datetime.now(dt.UTC)
PASSWORD = "changeit"


def parse(data: bytes, **kwargs) -> ParsedCertificate:
    return parse_certificate(data, now=kwargs.pop("now", NOW), **kwargs)


def files(pair: keys.KeyPair) -> dict[str, tuple[bytes, str | None]]:
    """The same certificate in each accepted format, with the password that opens it."""
    return {
        "pem": (pair.cert_pem, None),
        "der": (pair.cert_der, None),
        "pem+key": (pair.private_pem + pair.cert_pem, None),
        "p12": (keys.pkcs12_bytes(pair, PASSWORD), PASSWORD),
        "p12-no-password": (keys.pkcs12_bytes(pair, None), None),
        "p12-certificate-only": (keys.pkcs12_bytes(pair, PASSWORD, with_key=False), PASSWORD),
        "jks": (keys.jks_bytes(PASSWORD, ("client", pair)), PASSWORD),
        "jks-trusted": (keys.jks_bytes(PASSWORD, trusted=(("ca", pair.certificate),)), PASSWORD),
    }


FORMATS = [
    "pem", "der", "pem+key", "p12", "p12-no-password", "p12-certificate-only", "jks",
    "jks-trusted",
]  # fmt: skip


def test_format_table_is_complete(rsa_key):
    assert sorted(files(rsa_key)) == sorted(FORMATS)


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_gives_the_same_certificate(rsa_key, fmt):
    data, password = files(rsa_key)[fmt]
    parsed = parse(data, password=password)
    assert parsed.thumbprint_sha256 == rsa_key.certificate.fingerprint(hashes.SHA256()).hex()
    assert parsed.pem == rsa_key.cert_pem.decode()


def test_facts(rsa_key):
    parsed = parse(rsa_key.cert_pem)
    cert = rsa_key.certificate
    assert parsed.subject == "CN=rsa-client"
    assert parsed.issuer == "CN=rsa-client"
    assert parsed.serial == format(cert.serial_number, "x")
    assert parsed.not_before == cert.not_valid_before_utc
    assert parsed.not_after == cert.not_valid_after_utc
    assert parsed.not_before.utcoffset() == dt.timedelta(0)
    assert (parsed.key_type, parsed.key_size) == ("RSA", 2048)
    with pytest.raises(AttributeError):
        parsed.subject = "CN=other"  # frozen


@pytest.mark.parametrize(
    ("fixture", "key_type", "key_size"),
    [
        ("rsa_key", "RSA", 2048),
        ("ec_key", "EC", 256),
        ("ec384_key", "EC", 384),
        ("p521_key", "EC", 521),
        ("ed_key", "Ed25519", 256),
        ("ed448_key", "Ed448", 456),
    ],
)
def test_accepted_key_types(request, fixture, key_type, key_size):
    pair = request.getfixturevalue(fixture)
    parsed = parse(pair.cert_der)
    assert (parsed.key_type, parsed.key_size) == (key_type, key_size)


def test_pem_with_a_private_key_keeps_only_the_certificate(rsa_key):
    parsed = parse(rsa_key.private_pem + rsa_key.cert_pem + rsa_key.private_pem)
    assert "PRIVATE KEY" not in parsed.pem
    assert x509.load_pem_x509_certificate(parsed.pem.encode()) == rsa_key.certificate


def test_pem_chain_takes_the_first_certificate(rsa_key, ec_key):
    assert parse(rsa_key.cert_pem + ec_key.cert_pem).key_type == "RSA"


def test_keystore_alias_picks_an_entry(rsa_key, ec_key):
    jks_file = keys.jks_bytes(PASSWORD, ("rsa", rsa_key), ("ec", ec_key))
    assert parse(jks_file, password=PASSWORD, keystore_alias="ec").key_type == "EC"
    assert parse(jks_file, password=PASSWORD, keystore_alias="RSA").key_type == "RSA"
    p12 = keys.pkcs12_bytes(rsa_key, PASSWORD, extra=(("ec", ec_key.certificate),))
    assert parse(p12, password=PASSWORD).key_type == "RSA"  # the key's own certificate
    assert parse(p12, password=PASSWORD, keystore_alias="ec").key_type == "EC"


def test_validity_boundaries(rsa_key):
    cert = rsa_key.certificate
    assert parse(rsa_key.cert_der, now=cert.not_valid_before_utc)
    assert parse(rsa_key.cert_der, now=cert.not_valid_after_utc - dt.timedelta(microseconds=1))
    with pytest.raises(errors.CertificateExpired):
        parse(rsa_key.cert_der, now=cert.not_valid_after_utc)
    with pytest.raises(errors.CertificateNotYetValid):
        parse(rsa_key.cert_der, now=cert.not_valid_before_utc - dt.timedelta(microseconds=1))


def _refusals(rsa_key, ec_key, rsa1024_key, dsa_key, k256_key, expired_key, future_key):
    p12 = keys.pkcs12_bytes(rsa_key, PASSWORD)
    jks_file = keys.jks_bytes(PASSWORD, ("client", rsa_key))
    two_jks = keys.jks_bytes(PASSWORD, ("one", rsa_key), ("two", ec_key))
    two_p12 = keys.pkcs12_bytes(
        rsa_key, PASSWORD, with_key=False, extra=(("two", ec_key.certificate),)
    )
    return {
        "empty": (b"", {}, errors.NotACertificate),
        "garbage": (b"\x00\x01 this is not a certificate", {}, errors.NotACertificate),
        "text": (b"hello\n", {}, errors.NotACertificate),
        "key only": (rsa_key.private_pem, {}, errors.NotACertificate),
        "broken pem": (
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            {},
            errors.NotACertificate,
        ),
        "truncated der": (rsa_key.cert_der[:-10], {}, errors.NotACertificate),
        "truncated pem": (rsa_key.cert_pem[:200], {}, errors.NotACertificate),
        "truncated p12": (p12[: len(p12) // 2], {"password": PASSWORD}, errors.NotACertificate),
        "truncated jks": (
            jks_file[: len(jks_file) // 2],
            {"password": PASSWORD},
            errors.NotACertificate,
        ),
        "p12 wrong password": (p12, {"password": "wrong"}, errors.WrongPassword),
        "p12 no password": (p12, {}, errors.WrongPassword),
        "jks wrong password": (jks_file, {"password": "wrong"}, errors.WrongPassword),
        "jks no password": (jks_file, {}, errors.WrongPassword),
        "jks several entries": (two_jks, {"password": PASSWORD}, errors.AmbiguousKeystore),
        "p12 several certificates": (two_p12, {"password": PASSWORD}, errors.AmbiguousKeystore),
        "jks unknown entry": (
            two_jks,
            {"password": PASSWORD, "keystore_alias": "three"},
            errors.UnknownKeystoreAlias,
        ),
        "p12 unknown entry": (
            p12,
            {"password": PASSWORD, "keystore_alias": "three"},
            errors.UnknownKeystoreAlias,
        ),
        "jks without certificates": (
            keys.jks_bytes(PASSWORD),
            {"password": PASSWORD},
            errors.NotACertificate,
        ),
        "rsa 1024": (rsa1024_key.cert_pem, {}, errors.KeyTooSmall),
        "dsa": (dsa_key.cert_pem, {}, errors.UnsupportedKeyType),
        "secp256k1": (k256_key.cert_der, {}, errors.UnsupportedKeyType),
        "expired": (expired_key.cert_pem, {}, errors.CertificateExpired),
        "not yet valid": (future_key.cert_pem, {}, errors.CertificateNotYetValid),
        "too large": (rsa_key.cert_pem + b"\n" * MAX_FILE_BYTES, {}, errors.FileTooLarge),
    }


REFUSALS = [
    "empty", "garbage", "text", "key only", "broken pem", "truncated der", "truncated pem",
    "truncated p12", "truncated jks", "p12 wrong password", "p12 no password",
    "jks wrong password", "jks no password", "jks several entries",
    "p12 several certificates", "jks unknown entry", "p12 unknown entry",
    "jks without certificates", "rsa 1024", "dsa", "secp256k1", "expired", "not yet valid",
    "too large",
]  # fmt: skip


@pytest.fixture(scope="module")
def refusals(rsa_key, ec_key, rsa1024_key, dsa_key, k256_key, expired_key, future_key):
    return _refusals(rsa_key, ec_key, rsa1024_key, dsa_key, k256_key, expired_key, future_key)


def test_refusal_table_is_complete(refusals):
    assert sorted(refusals) == sorted(REFUSALS)


@pytest.mark.parametrize("case", REFUSALS)
def test_refusals_are_typed_one_line_errors(refusals, case):
    data, kwargs, error = refusals[case]
    with pytest.raises(error) as caught:
        parse(data, **kwargs)
    message = str(caught.value)
    assert message and "\n" not in message
    assert caught.value.reason == error.reason


def test_ambiguous_keystore_names_its_entries(refusals):
    data, kwargs, _ = refusals["jks several entries"]
    with pytest.raises(errors.AmbiguousKeystore) as caught:
        parse(data, **kwargs)
    assert caught.value.aliases == ("one", "two")
    assert "one" in str(caught.value) and "two" in str(caught.value)


# --- no library exception escapes, whatever the bytes --------------------------------


def _check_any(data: bytes, **kwargs) -> None:
    try:
        result = parse(data, **kwargs)
    except errors.KeystoreError as exc:
        assert "\n" not in str(exc)
    else:
        assert isinstance(result, ParsedCertificate)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048))
def test_any_bytes_give_a_certificate_or_a_keystore_error(data):
    _check_any(data)
    _check_any(data, password="x", keystore_alias="y")


_SAMPLE = keys.rsa_pair(name="fuzz")
_SEEDS = {
    "pem": _SAMPLE.cert_pem,
    "der": _SAMPLE.cert_der,
    "p12": keys.pkcs12_bytes(_SAMPLE, PASSWORD),
    "jks": keys.jks_bytes(PASSWORD, ("client", _SAMPLE)),
}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(sorted(_SEEDS)),
    st.integers(min_value=0, max_value=4000),
    st.integers(min_value=0, max_value=255),
    st.booleans(),
)
def test_damaged_files_give_a_keystore_error(fmt, position, value, truncate):
    seed = _SEEDS[fmt]
    position %= len(seed)
    data = seed[:position] if truncate else seed[:position] + bytes([value]) + seed[position + 1 :]
    _check_any(data, password=PASSWORD)


def test_stored_pem_is_canonical(rsa_key):
    """The PEM is re-encoded from the DER, so nothing around the block is kept."""
    noisy = b"Bag Attributes\n    friendlyName: client\n" + rsa_key.cert_pem + b"trailer\n"
    parsed = parse(noisy)
    assert parsed.pem == rsa_key.certificate.public_bytes(serialization.Encoding.PEM).decode()
