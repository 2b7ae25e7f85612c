"""Reads the server's configuration from the environment (see README, "Configuration").

Every value the contract names is parsed here, once, at start-up; a value that cannot
be parsed stops start-up with ImproperlyConfigured naming the variable. Called only by
``authserver.settings``.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def flag(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be 1/0 or true/false, not {raw!r}")


def issuer(default: str) -> str:
    """AUTHSERVER_ISSUER: an absolute http(s) URL without a trailing slash."""
    value = os.environ.get("AUTHSERVER_ISSUER", default).strip()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or value.endswith("/"):
        raise ImproperlyConfigured(
            f"AUTHSERVER_ISSUER must be an absolute http(s) URL with no trailing slash, "
            f"not {value!r}"
        )
    if parts.query or parts.fragment:
        raise ImproperlyConfigured("AUTHSERVER_ISSUER must not have a query or fragment")
    return value


def database(base_dir: Path) -> dict:
    """DATABASE_URL, or the embedded SQLite file under var/."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        url = f"sqlite:///{base_dir / 'var' / 'authserver.sqlite3'}"
    try:
        # Persistent connections, checked at the start of each request: a connection
        # that died between requests (a database restart, a terminated backend) is
        # replaced before it can fail a request. The check costs a SELECT 1 a request.
        config = dj_database_url.parse(url, conn_max_age=None, conn_health_checks=True)
    except Exception as exc:  # the parser raises several types for a malformed URL
        raise ImproperlyConfigured(f"DATABASE_URL cannot be parsed: {exc}") from None
    engine = config.get("ENGINE", "")
    if engine == "django.db.backends.sqlite3":
        Path(config["NAME"]).parent.mkdir(parents=True, exist_ok=True)
        config["CONN_MAX_AGE"] = None
        config["CONN_HEALTH_CHECKS"] = False
        config["OPTIONS"] = {
            # IMMEDIATE takes the write lock when a transaction starts, so two
            # processes never deadlock upgrading a read lock; WAL lets readers
            # run beside the writer, and NORMAL keeps WAL durable across crashes
            # of the process (not of the machine), the embedded default's trade.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    elif engine == "django.db.backends.postgresql":
        config.setdefault("OPTIONS", {})
        config["OPTIONS"].setdefault("connect_timeout", 5)
    else:
        raise ImproperlyConfigured(
            f"DATABASE_URL must be sqlite:///path or postgres://..., not engine {engine!r}"
        )
    return config


def cache(name: str = "REDIS_URL") -> dict:
    """REDIS_URL selects django-redis; otherwise the process's local memory."""
    url = os.environ.get(name, "").strip()
    if not url:
        return {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "authserver",
            "OPTIONS": {"MAX_ENTRIES": 20000},
        }
    if urlsplit(url).scheme not in ("redis", "rediss", "unix"):
        raise ImproperlyConfigured(f"{name} must be a redis:// URL")
    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": url,
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            # A cache that is down must cost milliseconds, not seconds: the
            # database stays the source of truth and answers instead.
            "SOCKET_CONNECT_TIMEOUT": 0.25,
            "SOCKET_TIMEOUT": 0.25,
        },
    }


def embedded_database() -> bool:
    """True on the embedded default: no DATABASE_URL, the SQLite file under var/."""
    return not os.environ.get("DATABASE_URL", "").strip()


def secret_key(base_dir: Path, *, debug: bool) -> str:
    """DJANGO_SECRET_KEY; unset, a development key where one is safe, else a refusal.

    On the embedded default the key is generated once into ``var/secret_key`` (mode
    0600, beside the SQLite file, git-ignored), so ``make run`` and every ``manage.py``
    in another shell sign sessions and hash client secrets with the same key. With
    DATABASE_URL set (a real deployment) only DJANGO_DEBUG allows a fixed development
    key; otherwise start-up stops.
    """
    value = os.environ.get("DJANGO_SECRET_KEY", "")
    if value:
        return value
    if embedded_database():
        return _development_key(base_dir / "var" / "secret_key")
    if debug:
        return "django-insecure-development-only-key-do-not-deploy"
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY must be set when DATABASE_URL is set and DJANGO_DEBUG is off"
    )


def _development_key(path: Path) -> str:
    """The key in ``path``, created on first use. Processes starting at once agree on
    one key: each writes a private temporary file and links it into place, and the
    link that loses the race is dropped for the winner's."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        with os.fdopen(descriptor, "w") as handle:  # mkstemp: mode 0600
            handle.write(secrets.token_urlsafe(50) + "\n")
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(temporary)
    if path.stat().st_mode & 0o077:
        raise ImproperlyConfigured(
            f"{path} holds the development secret key and must be private: chmod 600 it"
        )
    value = path.read_text().strip()
    if not value:
        raise ImproperlyConfigured(f"{path} is empty: delete it to have a new key made")
    return value


def hosts(default: list[str]) -> list[str]:
    raw = os.environ.get("DJANGO_ALLOWED_HOSTS")
    if raw is None:
        return default
    return [h.strip() for h in raw.split(",") if h.strip()]
