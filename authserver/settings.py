"""Django settings for the authorization server.

Everything deployment-specific comes from the environment through ``authserver.env``
(the README's configuration tables). ``PRIVATE_KEY_JWT`` holds the client-assertion
policy; its defaults live in ``clientauth.conf``, so this dict names only overrides.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from authserver import env

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env.flag("DJANGO_DEBUG", default=False)

# Unset: a key kept under var/ on the embedded default, refused with a real database.
SECRET_KEY = env.secret_key(BASE_DIR, debug=DEBUG)

AUTHSERVER_ISSUER = env.issuer("http://127.0.0.1:8000")

# A PEM RSA (2048+) private key that signs ID tokens; unset: keys live in the database.
AUTHSERVER_SIGNING_KEY_FILE = os.environ.get("AUTHSERVER_SIGNING_KEY_FILE", "").strip() or None

# The loopback names under DEBUG and on the embedded default (a development server,
# whether or not DEBUG is on); a deployment with DATABASE_URL names its own.
ALLOWED_HOSTS = env.hosts(
    ["127.0.0.1", "localhost", "[::1]"] if DEBUG or env.embedded_database() else []
)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "oauth2_provider",
    "clientauth",
    "keystore",
    "oidc",
    "console",
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Serves the console's CSS from the app folders under gunicorn too (no collectstatic).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Copies the edits made in /admin/ into the console's audit trail (console/adminaudit.py).
    "console.adminaudit.AdminAuditMiddleware",
    # Last, as django-axes requires: it turns a locked-out login into its 429 answer.
    "axes.middleware.AxesMiddleware",
]

# django-axes first: it refuses a locked-out username+address before any password check.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "authserver.urls"
WSGI_APPLICATION = "authserver.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.database(BASE_DIR)}
CACHES = {"default": env.cache()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Users' passwords keep Django's default hasher (the first); client secrets, random and
# long, use the keyed hash at the end (clientauth/hashers.py, CLIENT_SECRET_HASHER below).
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
    "clientauth.hashers.ClientSecretHasher",
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_USE_FINDERS = True

LOGIN_URL = "/accounts/login/"

# Console login brute-force protection (django-axes): five failures for one username
# from one address lock that pair out for 15 minutes; a success clears the count.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = dt.timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The address is the peer's; behind one trusted proxy (DJANGO_BEHIND_PROXY=1), the hop
# that proxy appended to X-Forwarded-For. A client must not pick its own address and so
# escape the lockout, whatever X-Forwarded-For entries it sends itself.
BEHIND_PROXY = env.flag("DJANGO_BEHIND_PROXY", default=False)


def _login_client_ip(request) -> str | None:
    if BEHIND_PROXY:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        if hops[-1]:
            return hops[-1]
    return request.META.get("REMOTE_ADDR")


AXES_CLIENT_IP_CALLABLE = _login_client_ip

# Browser-facing protections, always on.
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True

# Served over HTTPS (an https issuer, or DJANGO_SECURE=1): cookies only over TLS, HSTS,
# and plain-HTTP requests redirected. Behind a TLS-terminating proxy, DJANGO_BEHIND_PROXY=1
# trusts its X-Forwarded-Proto header (the proxy must overwrite any the client sent).
SECURE = env.flag("DJANGO_SECURE", default=AUTHSERVER_ISSUER.startswith("https://"))
if SECURE:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.flag("DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.flag("DJANGO_HSTS_PRELOAD", default=True)
    if BEHIND_PROXY:
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
LOGIN_REDIRECT_URL = "/console/"

# Service providers are this project's own model, swapped in before the first migration.
OAUTH2_PROVIDER_APPLICATION_MODEL = "clientauth.ServiceProvider"

OAUTH2_PROVIDER = {
    # Client authentication (private_key_jwt and secrets) lives in the validator;
    # the backend refuses what only the raw request shows (a parameter given twice).
    "OAUTH2_VALIDATOR_CLASS": "authserver.validator.Validator",
    "OAUTH2_BACKEND_CLASS": "clientauth.backends.ClientAuthOAuthLibCore",
    "OIDC_ENABLED": True,
    "OIDC_ISS_ENDPOINT": AUTHSERVER_ISSUER,
    "PKCE_REQUIRED": True,
    # Client secrets are stored with a fast keyed hash, not a password hash: a slow
    # check is an unauthenticated CPU-exhaustion lever (clientauth/hashers.py).
    "CLIENT_SECRET_HASHER": "clientauth_hmac_sha256",
    "ROTATE_REFRESH_TOKEN": True,
    "ACCESS_TOKEN_EXPIRE_SECONDS": 3600,
    "ID_TOKEN_EXPIRE_SECONDS": 3600,
    "REFRESH_TOKEN_EXPIRE_SECONDS": 30 * 24 * 3600,
    "SCOPES": {
        "openid": "OpenID Connect sign-in",
        "profile": "Your name and username",
        "email": "Your email address",
        "read": "Read access",
        "write": "Write access",
        "introspection": "Introspect tokens",
    },
    # Each client is granted only its registered scopes (ClientMetadata.scope); without
    # a list, every scope above but "introspection" (clientauth/validator.py).
    "DEFAULT_SCOPES": ["read"],
    # RFC 9700 (OAuth 2.0 Security BCP): enforce every recommendation DOT can enforce.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    # Plain-http callbacks only where the server itself is not on https (development).
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"] if SECURE else ["http", "https"],
}

# Private Key JWT client authentication (RFC 7523, OIDC Core 9). Keys and defaults:
# clientauth/conf.py and the README. Only overrides belong here.
PRIVATE_KEY_JWT: dict = {}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "one_line": {
            "()": "authserver.logs.OneLineFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        "console_one_line": {"class": "logging.StreamHandler", "formatter": "one_line"},
    },
    "loggers": {
        # A refused request (a Host not in ALLOWED_HOSTS, a body over its limit) in one
        # line naming it, whatever DEBUG says: the client only sees "Bad Request (400)".
        "django.security": {
            "handlers": ["console_one_line"],
            "level": "ERROR",
            "propagate": False,
        },
        # Every 500 leaves its traceback here, whatever DEBUG says (Django's default
        # sends django.request errors to the console only under DEBUG).
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        "clientauth": {"handlers": ["console"], "level": "INFO"},
        "keystore": {"handlers": ["console"], "level": "INFO"},
        "oidc": {"handlers": ["console"], "level": "INFO"},
    },
}
