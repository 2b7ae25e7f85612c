"""Fetching a client's ``jwks_uri`` (RFC 7591 section 2) without becoming a proxy into the
operator's network.

The URL comes from a client; the server runs inside the operator's network. So:

- ``https`` only (``http`` only under ``JWKS_URI_ALLOW_HTTP``, for development and
  tests); no user information in the URL; any port.
- The host name is resolved here, every address it resolves to is checked, and the
  connection goes to a checked address (the TLS handshake still verifies the
  certificate for the host name): a second resolution that answers differently (DNS
  rebinding) is never made. Refused unless the host is in ``JWKS_URI_ALLOWED_HOSTS``:
  any address that is not globally routable (loopback, private, shared, link-local
  including the cloud metadata address 169.254.169.254, unique-local, reserved,
  multicast, unspecified), looking through IPv4-mapped, NAT64, 6to4 and Teredo IPv6
  addresses to the IPv4 address inside.
- No redirects at all: any 3xx is a failed fetch (a redirect to the same host would
  be harmless, but a client can publish the final URL instead).
- ``JWKS_URI_TIMEOUT_SECONDS`` bounds the whole fetch (connect, TLS, headers and body
  together), and ``JWKS_URI_MAX_BYTES`` the body, whatever ``Content-Length`` says;
  only an identity (not compressed) body is accepted.
- The response's ``Cache-Control: max-age`` is reported as is; clamping it is the
  cache's business (``clientauth.keysources``).

Deliberately not here: parsing the keys (``clientauth.jwk``), caching, proxies (the
environment's proxy variables are not read). Called by ``clientauth.keysources``.
"""

from __future__ import annotations

import http.client
import ipaddress
import re
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from clientauth.conf import Policy

MAX_URL_CHARS = 2000
_USER_AGENT = "authserver-jwks-fetch/1"
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d{1,10})\"?\s*(?:,|$)", re.IGNORECASE)
_NO_STORE = re.compile(r"(?:^|,)\s*(?:no-store|no-cache)\s*(?:,|$)", re.IGNORECASE)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class FetchError(Exception):
    """A fetch refused or failed; ``str()`` is one line saying why (no response body)."""


@dataclass(frozen=True, slots=True)
class Fetched:
    body: bytes
    max_age: int | None  # Cache-Control max-age; 0 for no-store / no-cache; None unsaid


def check_url(url: str, policy: Policy) -> tuple[str, str, int, str]:
    """The scheme, host, port and request target of an acceptable ``jwks_uri``, or
    ``FetchError`` naming what is wrong with it. Resolves nothing."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL_CHARS:
        raise FetchError(f"jwks_uri must be a URL of at most {MAX_URL_CHARS} characters")
    if not url.isascii() or not url.isprintable() or any(ch.isspace() for ch in url):
        raise FetchError("jwks_uri must be printable ASCII without spaces")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise FetchError("jwks_uri is not a valid URL") from None
    allowed = ("https", "http") if policy.jwks_uri_allow_http else ("https",)
    if parts.scheme not in allowed:
        raise FetchError(
            "jwks_uri must be an https URL"
            + ("" if policy.jwks_uri_allow_http else " (JWKS_URI_ALLOW_HTTP is off)")
        )
    if not parts.hostname or parts.username is not None or parts.password is not None:
        raise FetchError("jwks_uri must name a host, without user information")
    if parts.fragment:
        raise FetchError("jwks_uri must not have a fragment")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    default = 443 if parts.scheme == "https" else 80
    return parts.scheme, parts.hostname.rstrip(".").lower(), port or default, target


def _inner_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    return None


def address_refused(address: str) -> str | None:
    """Why a connection to ``address`` is refused, or None when it is globally routable."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and (inner := _inner_ipv4(ip)) is not None:
        refused = address_refused(str(inner))
        return f"{refused} (inside {ip})" if refused else None
    if ip.is_multicast or ip.is_unspecified or not ip.is_global:
        return f"{ip} is not a public address"
    return None


def host_allowed(host: str, policy: Policy) -> bool:
    """Whether ``host`` is named in ``JWKS_URI_ALLOWED_HOSTS`` (no address check)."""
    return host in policy.jwks_uri_allowed_hosts


def literal_refused(url: str, policy: Policy) -> str | None:
    """For registration: why the URL's host, when it is an IP address literal, would be
    refused. Names are checked only when fetched (they may not resolve yet)."""
    _, host, _, _ = check_url(url, policy)
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return None if host != "localhost" or host_allowed(host, policy) else "localhost"
    return None if host_allowed(host, policy) else address_refused(host)


def _addresses(host: str, port: int, policy: Policy) -> list[tuple]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise FetchError(f"cannot resolve {host}: {exc.__class__.__name__}") from None
    if not infos:
        raise FetchError(f"cannot resolve {host}")
    if not host_allowed(host, policy):
        for *_, sockaddr in infos:
            refused = address_refused(sockaddr[0])
            if refused:
                raise FetchError(
                    f"{host} resolves to {refused}; name it in JWKS_URI_ALLOWED_HOSTS to allow it"
                )
    return infos


class _Connection(http.client.HTTPConnection):
    """An HTTP connection to a fixed, already checked address, named ``host``."""

    def __init__(self, host: str, port: int, address: tuple, timeout: float, tls: bool) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address
        self._tls = tls

    def connect(self) -> None:
        family, sockaddr = self._address
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.settimeout(self.timeout)
            sock.connect(sockaddr)
            if self._tls:
                context = ssl.create_default_context()
                sock = context.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise
        self.sock = sock


def max_age(cache_control: str | None) -> int | None:
    if not cache_control:
        return None
    if _NO_STORE.search(cache_control):
        return 0
    found = _MAX_AGE.search(cache_control)
    return int(found.group(1)) if found else None


def fetch(url: str, policy: Policy) -> Fetched:
    """GET ``url`` under every rule of this module; the body and its max-age, or
    ``FetchError``. Never takes longer than ``JWKS_URI_TIMEOUT_SECONDS`` (plus name
    resolution, which the system resolver bounds)."""
    scheme, host, port, target = check_url(url, policy)
    infos = _addresses(host, port, policy)
    deadline = time.monotonic() + policy.jwks_uri_timeout_seconds
    family, _, _, _, sockaddr = infos[0]
    connection = _Connection(
        host, port, (family, sockaddr), policy.jwks_uri_timeout_seconds, scheme == "https"
    )
    try:
        return _get(connection, target, deadline, policy.jwks_uri_max_bytes)
    except FetchError:
        raise
    except ssl.SSLError as exc:
        raise FetchError(f"TLS failed: {exc.reason or exc.__class__.__name__}") from None
    except TimeoutError:
        raise FetchError(
            f"no answer within {policy.jwks_uri_timeout_seconds:g} s (JWKS_URI_TIMEOUT_SECONDS)"
        ) from None
    except (OSError, http.client.HTTPException) as exc:
        raise FetchError(f"fetch failed: {exc.__class__.__name__}") from None
    finally:
        connection.close()


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError
    return left


def _get(connection: _Connection, target: str, deadline: float, limit: int) -> Fetched:
    connection.request(
        "GET",
        target,
        headers={
            "Accept": "application/jwk-set+json, application/json",
            "Accept-Encoding": "identity",
            "User-Agent": _USER_AGENT,
        },
    )
    # getresponse hands the socket to the response (the connection forgets it).
    sock = connection.sock
    sock.settimeout(_remaining(deadline))
    response = connection.getresponse()
    if 300 <= response.status < 400:
        raise FetchError(f"HTTP {response.status}: redirects are not followed")
    if response.status != 200:
        raise FetchError(f"HTTP {response.status}")
    encoding = (response.getheader("Content-Encoding") or "identity").strip().lower()
    if encoding != "identity":
        raise FetchError(f"Content-Encoding {encoding[:32]!r} is not accepted")
    length = response.getheader("Content-Length")
    if length is not None and length.strip().isdigit() and int(length) > limit:
        raise FetchError(f"the JWK Set is larger than {limit} bytes (JWKS_URI_MAX_BYTES)")
    chunks: list[bytes] = []
    size = 0
    while True:
        sock.settimeout(_remaining(deadline))
        chunk = response.read1(min(65536, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise FetchError(f"the JWK Set is larger than {limit} bytes (JWKS_URI_MAX_BYTES)")
    return Fetched(b"".join(chunks), max_age(response.getheader("Cache-Control")))
