"""The authorization-code flow with PKCE and private_key_jwt, end to end, against a
running server (README, "The authorization-code flow").

    python docs/code_flow.py --client-id "$CLIENT_ID" --key client-key.pem

1. makes a PKCE verifier and its S256 challenge (RFC 7636 section 4.1-4.2), a state and
   a nonce, and prints the authorization URL;
2. you open it, log in and allow; the browser is sent to the redirect URI, where
   nothing listens: paste the address from its address bar (the code is in it). With
   ``--username`` the script logs in and consents itself instead (the password is read
   from stdin), as a test would;
3. checks ``state`` and ``iss`` (RFC 9207), and exchanges the code at the token endpoint
   with a fresh assertion from ``manage.py client_assertion``;
4. checks the ID token's signature against the server's ``jwks_uri``, its ``iss``,
   ``aud``, ``exp`` and ``nonce`` (OIDC Core section 3.1.3.7), and prints its claims.

Only the standard library and PyJWT (what ``make run`` installs); run it from the
repository root with the project's Python (``source .venv/bin/activate``). It does not
refresh, call userinfo or handle ``prompt``: a client library such as Authlib does.
"""

from __future__ import annotations

import argparse
import base64
import getpass
import hashlib
import http.cookiejar
import json
import secrets
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import jwt

ROOT = Path(__file__).resolve().parent.parent
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
DEFAULT_REDIRECT_URI = "http://localhost:8080/playground2/oauth2client"


class FlowError(Exception):
    """A step failed; ``str()`` is one line saying which and why."""


def _http(url: str) -> str:
    """``url``, if it is http(s): urllib would open ``file:`` URLs too."""
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise FlowError(f"not an http(s) URL: {url!r}")
    return url


def pkce_pair() -> tuple[str, str]:
    """A code verifier (43-128 unreserved characters) and its S256 challenge."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorize_url(endpoint: str, client_id: str, redirect_uri: str, challenge: str,
                  state: str, nonce: str) -> str:  # fmt: skip
    query = urllib.parse.urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": "openid",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "state": state,
            "nonce": nonce,
        }
    )
    return f"{endpoint}?{query}"


def code_from(address: str, redirect_uri: str, state: str, issuer: str) -> str:
    """The code from the address the browser was sent to, after checking it is an
    answer to this request (state) from this server (iss)."""
    parts = urllib.parse.urlsplit(address.strip())
    base = urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    if base != redirect_uri:
        raise FlowError(f"the address is not the redirect URI {redirect_uri}: {address!r}")
    query = urllib.parse.parse_qs(parts.query)
    if "error" in query:
        raise FlowError(
            f"the server refused: {query['error'][0]} {query.get('error_description', [''])[0]}"
        )  # noqa: E501
    if query.get("state") != [state]:
        raise FlowError("state does not match: not the answer to this request")
    if query.get("iss", [issuer]) != [issuer]:
        raise FlowError(f"iss {query['iss'][0]!r} is not the issuer {issuer!r} (RFC 9207)")
    if not query.get("code"):
        raise FlowError("the address carries no code")
    return query["code"][0]


class _Fields(HTMLParser):
    """The inputs of a page's form, name -> value (submit buttons left out)."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("name") and attrs.get("type") != "submit":
            self.fields.setdefault(attrs["name"], attrs.get("value") or "")


def _form(html: str) -> dict[str, str]:
    parser = _Fields()
    parser.feed(html)
    return parser.fields


class _StopAt(urllib.request.HTTPRedirectHandler):
    """Follows redirects, except to the redirect URI (nothing listens there)."""

    def __init__(self, redirect_uri: str) -> None:
        self.redirect_uri, self.stopped_at = redirect_uri, None

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if newurl.startswith(self.redirect_uri):
            self.stopped_at = newurl
            return None
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def log_in_and_consent(url: str, redirect_uri: str, username: str, password: str) -> str:
    """Play the browser: Django's login form, then the consent form's "Authorize";
    return the address the server sends the browser to."""
    stop = _StopAt(redirect_uri)
    browser = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), stop
    )

    def submit(page, extra: dict[str, str]):
        body = urllib.parse.urlencode({**_form(page.read().decode()), **extra}).encode()
        request = urllib.request.Request(_http(page.geturl()), data=body)  # noqa: S310
        return browser.open(request, timeout=30)

    try:
        login = browser.open(_http(url), timeout=30)
        consent = submit(login, {"username": username, "password": password})
        if urllib.parse.urlsplit(consent.geturl()).path.endswith("/login/"):
            raise FlowError(f"logging in as {username!r} failed")
        answer = submit(consent, {"allow": "Authorize"})
    except urllib.error.HTTPError as exc:
        if stop.stopped_at:
            return stop.stopped_at
        raise FlowError(f"{exc.url}: HTTP {exc.code}") from None
    if stop.stopped_at:
        return stop.stopped_at
    raise FlowError(f"the server did not send the browser to the redirect URI ({answer.geturl()})")


def client_assertion(client_id: str, key: str, audience: str) -> str:
    """A fresh assertion from ``manage.py client_assertion`` (the server's own helper)."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "client_assertion",
         "--client-id", client_id, "--key", key, "--aud", audience],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode:
        raise FlowError(f"client_assertion: {result.stderr.strip()}")
    return result.stdout.strip()


def post_form(url: str, form: dict[str, str]) -> tuple[int, dict]:
    body = urllib.parse.urlencode(form).encode()
    request = urllib.request.Request(_http(url), data=body)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def verify_id_token(id_token: str, jwks_uri: str, issuer: str, client_id: str, nonce: str) -> dict:
    """The ID token's claims, its signature checked with the key its ``kid`` names."""
    key = jwt.PyJWKClient(_http(jwks_uri), cache_keys=False).get_signing_key_from_jwt(id_token)
    claims = jwt.decode(
        id_token,
        key.key,
        algorithms=["RS256"],
        audience=client_id,
        issuer=issuer,
        options={"require": ["iss", "sub", "aud", "exp", "iat"]},
    )
    if claims.get("nonce") != nonce:
        raise FlowError("the ID token's nonce is not this request's")
    return claims


def run(args: argparse.Namespace) -> dict:
    discovery = _http(f"{args.server}/.well-known/openid-configuration")
    with urllib.request.urlopen(discovery, timeout=30) as answer:  # noqa: S310
        meta = json.load(answer)
    verifier, challenge = pkce_pair()
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    url = authorize_url(
        meta["authorization_endpoint"], args.client_id, args.redirect_uri, challenge, state, nonce
    )
    if args.username:
        password = (
            sys.stdin.readline().rstrip("\n") if not sys.stdin.isatty() else getpass.getpass()
        )
        address = log_in_and_consent(url, args.redirect_uri, args.username, password)
    else:
        print(f"Open this URL in a browser, log in and allow:\n\n  {url}\n")
        print("The browser then fails to reach the redirect URI (nothing listens there).")
        address = input("Paste the address from its address bar: ")
    code = code_from(address, args.redirect_uri, state, meta["issuer"])
    status, tokens = post_form(
        meta["token_endpoint"],
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": args.redirect_uri,
            "code_verifier": verifier,
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": client_assertion(args.client_id, args.key, meta["token_endpoint"]),
        },
    )
    if status != 200:
        raise FlowError(f"token endpoint: HTTP {status} {json.dumps(tokens)}")
    claims = verify_id_token(
        tokens["id_token"], meta["jwks_uri"], meta["issuer"], args.client_id, nonce
    )
    return {"token_response": tokens, "id_token_claims": claims}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--key", required=True, help="the client's PEM private key")
    parser.add_argument("--redirect-uri", default=DEFAULT_REDIRECT_URI, metavar="URL")
    parser.add_argument("--server", default="http://127.0.0.1:8000", metavar="URL")
    parser.add_argument(
        "--username", help="log in and consent as this user (password on stdin), no browser"
    )
    args = parser.parse_args(argv)
    args.server = args.server.rstrip("/")
    try:
        result = run(args)
    except (FlowError, jwt.PyJWTError, urllib.error.URLError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2))
    print("ID token verified against the server's jwks_uri.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
