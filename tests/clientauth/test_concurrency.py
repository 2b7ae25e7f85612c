"""One assertion sent by 20 threads at once is accepted exactly once, by real servers.

RFC 7523 section 3 item 7 (``jti`` replay) under contention: the database decides with
one atomic insert under the unique (client, ``JWT_ID``) constraint, so no number of
worker processes, nor of servers, can accept one assertion twice. Each scenario starts
real gunicorn servers (``tests.live``) and fires the same assertion from 20 threads
released together by a barrier:

- several workers on a SQLite file (the embedded default);
- several workers on PostgreSQL (started explicitly on the local PostgreSQL, so this
  runs in the SQLite pass of the suite too, not only in its PostgreSQL pass);
- two separate gunicorn servers sharing one PostgreSQL database and one Redis cache.

Each time exactly one response is 200, every other one is 401 ``invalid_client`` naming
the replayed ``jti``, and the database holds one ``IDN_OIDC_JTI`` row and one access
token for the client. The first two run with the local-memory cache, so the database
alone has to refuse the replays. Not here: the replay rule itself (unit and endpoint
tests) and a cache that is down (``test_cache_failure.py``).
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
import requests

from tests import keys
from tests.live import LiveServer, run_live_server

pytestmark = pytest.mark.live

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
THREADS = 20
REPLAY_DESCRIPTION = "jti has been used already"
# A Redis database of its own: the suite's PostgreSQL pass uses db 9.
REDIS_URL = "redis://127.0.0.1:6379/13"
# An empty REDIS_URL selects the local-memory cache even when the run sets one.
NO_REDIS = {"REDIS_URL": ""}

REGISTER = """
import json
from io import StringIO
from django.core.management import call_command
out = StringIO()
call_command("register_app", "--name", "concurrency", "--callback",
             "https://rp.example/callback", "--grant-types", "client_credentials",
             "--auth-method", "private_key_jwt", "--json", stdout=out)
client_id = json.loads(out.getvalue())["client_id"]
call_command("import_cert", "--alias", client_id, {cert!r}, stdout=StringIO())
print(json.dumps({{"client_id": client_id}}))
"""

COUNT_ROWS = """
import json
from oauth2_provider.models import get_access_token_model
from clientauth.models import JtiRecord
print(json.dumps({{
    "jti": list(JtiRecord.objects.filter(client_id={client_id!r}).values_list("jwt_id", flat=True)),
    "tokens": get_access_token_model().objects.filter(application__client_id={client_id!r}).count(),
}}))
"""


def last_json_line(output: str) -> dict:
    return json.loads(output.strip().splitlines()[-1])


def register(live: LiveServer, key: keys.KeyPair, tmp_path) -> str:
    """``register_app`` and ``import_cert`` in one manage.py process (one Django start-up)."""
    cert = tmp_path / "client.pem"
    cert.write_bytes(key.cert_pem)
    out = live.manage("shell", "-c", REGISTER.format(cert=str(cert)))
    return last_json_line(out)["client_id"]


def rows(live: LiveServer, client_id: str) -> dict:
    return last_json_line(live.manage("shell", "-c", COUNT_ROWS.format(client_id=client_id)))


def fire_at_once(urls: list[str], assertion: str) -> list[requests.Response]:
    """POST ``assertion`` to each URL, one thread per URL, all released by one barrier."""
    barrier = threading.Barrier(len(urls))
    data = {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion,
    }

    def send(url: str) -> requests.Response:
        with requests.Session() as session:
            # Open the connection first, so the barrier releases requests, not handshakes.
            session.get(
                url.replace("/oauth2/token", "/.well-known/openid-configuration"), timeout=30
            )
            barrier.wait(timeout=30)
            return session.post(url, data=data, timeout=60)

    with ThreadPoolExecutor(max_workers=len(urls)) as pool:
        return list(pool.map(send, urls))


def assert_exactly_one_accepted(responses: list[requests.Response], logs: str = "") -> None:
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {200: 1, 401: len(responses) - 1}, (statuses, logs[-3000:])
    for response in responses:
        if response.status_code == 200:
            assert response.json()["access_token"]
            continue
        assert response.headers["Content-Type"] == "application/json"
        assert response.json() == {
            "error": "invalid_client",
            "error_description": REPLAY_DESCRIPTION,
        }


def assert_one_row_and_one_token(live: LiveServer, client_id: str, jti: str) -> None:
    assert rows(live, client_id) == {"jti": [jti], "tokens": 1}


def one_assertion(key: keys.KeyPair, client_id: str, token_url: str) -> tuple[str, str]:
    claims = keys.claims_for(client_id, now=time.time(), aud=token_url)
    return key.sign(claims), claims["jti"]


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_twenty_threads_one_server_exactly_one_token(database, rsa_key, tmp_path):
    with run_live_server(workers=4, database=database, env=NO_REDIS) as live:
        client_id = register(live, rsa_key, tmp_path)
        token_url = live.url("/oauth2/token")
        assertion, jti = one_assertion(rsa_key, client_id, token_url)

        responses = fire_at_once([token_url] * THREADS, assertion)

        assert_exactly_one_accepted(responses, live.log())
        assert_one_row_and_one_token(live, client_id, jti)
        assert "Traceback" not in live.log()


@pytest.fixture
def shared_redis():
    """Redis db 13, empty before and after (only this db is flushed)."""
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


def test_two_servers_sharing_postgres_and_redis_exactly_one_token(shared_redis, ec_key, tmp_path):
    with run_live_server(workers=2, database="postgres", env={"REDIS_URL": REDIS_URL}) as first:
        database_url = first.env["DATABASE_URL"]
        assert database_url.startswith("postgres")
        # Two servers of one deployment: one issuer, one database, one cache.
        env = {"REDIS_URL": REDIS_URL, "AUTHSERVER_ISSUER": first.issuer}
        with run_live_server(workers=2, database=database_url, env=env) as second:
            assert second.base_url != first.base_url
            client_id = register(first, ec_key, tmp_path)
            token_url = first.url("/oauth2/token")
            assertion, jti = one_assertion(ec_key, client_id, token_url)
            urls = [first.url("/oauth2/token"), second.url("/oauth2/token")] * (THREADS // 2)

            responses = fire_at_once(urls, assertion)

            assert_exactly_one_accepted(responses, first.log() + second.log())
            assert_one_row_and_one_token(second, client_id, jti)
            # The winner's commit reached the shared cache, for both servers' next replays.
            assert shared_redis.keys("*pkjwt:jti:*")
