"""Django settings for the authorization server.

Everything deployment-specific comes from the environment through ``authserver.env``
(the README's configuration tables). ``PRIVATE_KEY_JWT`` holds the client-assertion
policy; its defaults live in ``clientauth.conf``, so this dict names only overrides.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from authserver import env

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env.flag("DJANGO_DEBUG", default=False)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off "
            "(use DJANGO_DEBUG=1 for development)"
        )
    SECRET_KEY = "django-insecure-development-only-key-do-not-deploy"  # noqa: S105

AUTHSERVER_ISSUER = env.issuer("http://127.0.0.1:8000")

# A PEM RSA (2048+) private key that signs ID tokens; unset: keys live in the database.
AUTHSERVER_SIGNING_KEY_FILE = os.environ.get("AUTHSERVER_SIGNING_KEY_FILE", "").strip() or None

ALLOWED_HOSTS = env.hosts(["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])

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
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/console/"

# Service providers are this project's own model, swapped in before the first migration.
OAUTH2_PROVIDER_APPLICATION_MODEL = "clientauth.ServiceProvider"

OAUTH2_PROVIDER = {
    "OAUTH2_VALIDATOR_CLASS": "authserver.validator.Validator",
    "OIDC_ENABLED": True,
    "OIDC_ISS_ENDPOINT": AUTHSERVER_ISSUER,
    "PKCE_REQUIRED": True,
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
    "DEFAULT_SCOPES": ["read"],
    "ALLOWED_REDIRECT_URI_SCHEMES": ["http", "https"],
}

# Private Key JWT client authentication (RFC 7523, OIDC Core 9). Keys and defaults:
# clientauth/conf.py and the README. Only overrides belong here.
PRIVATE_KEY_JWT: dict = {}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "clientauth": {"handlers": ["console"], "level": "INFO"},
        "keystore": {"handlers": ["console"], "level": "INFO"},
        "oidc": {"handlers": ["console"], "level": "INFO"},
    },
}
