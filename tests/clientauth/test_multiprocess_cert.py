"""Certificate changes made by another process take effect at once in every server worker.

CONTRACT.md: "A certificate imported, replaced or deleted takes effect at once in every
server process: an assertion signed with a deleted key is refused on the next
request." Each worker keeps parsed keys in a process-local cache; this proves the cache
never keeps a deleted or replaced certificate alive. A live gunicorn server with three
workers first serves tokens signed with a client's key from every worker (gunicorn's
access log names the worker pid of each request), then a separate ``manage.py``
process runs ``delete_cert`` or ``import_cert --replace``, and the very next
assertion, and then one at every worker, must meet the new state: the deleted key
refused, the replaced key refused, the new key accepted.

Not here: parsing and import rules (``tests/keystore``) and certificates that expire
while imported (endpoint tests).
"""

from __future__ import annotations

import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests import keys
from tests.live import LiveServer, run_live_server

pytestmark = pytest.mark.live

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
WORKERS = 3
MAX_ROUNDS = 15
GENERIC = {"error": "invalid_client", "error_description": "Client authentication failed."}
# gunicorn's access log: per request, the worker's pid and the test's phase header. It
# is written after the response is sent, so phases are told apart by header, not offset.
PHASE_HEADER = "X-Test-Phase"
ACCESS_LOG = (
    "--access-logfile - --access-logformat "
    "'access pid=%(p)s phase=%({x-test-phase}i)s %(m)s %(U)s %(s)s'"
)


@pytest.fixture(scope="module")
def live() -> LiveServer:
    with run_live_server(workers=WORKERS, env={"GUNICORN_CMD_ARGS": ACCESS_LOG}) as server:
        yield server


def worker_pids(live: LiveServer) -> set[str]:
    pids = set(re.findall(r"Booting worker with pid: (\d+)", live.log()))
    assert len(pids) == WORKERS, live.log()
    return pids


def register(live: LiveServer, key: keys.KeyPair, name: str) -> str:
    return live.register_client(
        name,
        key.cert_pem,
        "--grant-types",
        "client_credentials",
        callback="https://rp.example/callback",
    )["client_id"]


def import_cert(live: LiveServer, client_id: str, key: keys.KeyPair, tmp_path, *flags) -> None:
    cert = tmp_path / f"{client_id}-{key.certificate.serial_number}.pem"
    cert.write_bytes(key.cert_pem)
    live.manage("import_cert", "--alias", client_id, str(cert), *flags)


def token_request(
    live: LiveServer, key: keys.KeyPair, client_id: str, phase: str = "-"
) -> requests.Response:
    """A client_credentials request with a fresh assertion (a new jti) signed by ``key``."""
    token_url = live.url("/oauth2/token")
    claims = keys.claims_for(client_id, now=time.time(), aud=token_url)
    return requests.post(
        token_url,
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": key.sign(claims),
        },
        headers={PHASE_HEADER: phase},
        timeout=30,
    )


def at_every_worker(live: LiveServer, key: keys.KeyPair, client_id: str, status: int) -> None:
    """Send concurrent requests until every worker has answered one; all get ``status``."""
    pids = worker_pids(live)
    phase = uuid.uuid4().hex
    access_line = re.compile(rf"access pid=<(\d+)> phase={phase} POST /oauth2/token (\d{{3}})")
    answered: set[str] = set()
    for _ in range(MAX_ROUNDS):
        with ThreadPoolExecutor(max_workers=2 * WORKERS) as pool:
            responses = list(
                pool.map(lambda _: token_request(live, key, client_id, phase), range(2 * WORKERS))
            )
        for response in responses:
            assert response.status_code == status, response.text
            if status == 401:
                assert response.json() == GENERIC
        lines = access_line.findall(live.log())
        assert {s for _, s in lines} == {str(status)}, lines
        answered = {pid for pid, _ in lines}
        if answered >= pids:
            return
    pytest.fail(f"workers {sorted(pids - answered)} never took a request")


def assert_refused(response: requests.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.json() == GENERIC


def test_deleted_certificate_is_refused_at_once_by_every_worker(live, rsa_key, tmp_path):
    client_id = register(live, rsa_key, "deleted-cert")
    at_every_worker(live, rsa_key, client_id, 200)

    live.manage("delete_cert", "--alias", client_id)

    assert_refused(token_request(live, rsa_key, client_id))
    at_every_worker(live, rsa_key, client_id, 401)
    assert "reason=no_client_key" in live.log()


def test_replaced_certificate_takes_over_at_once_in_every_worker(live, rsa_key, tmp_path):
    # Same algorithm, new key: only the signature check can tell the two apart.
    new_key = keys.rsa_pair(name="replacement")
    client_id = register(live, rsa_key, "replaced-cert")
    at_every_worker(live, rsa_key, client_id, 200)

    import_cert(live, client_id, new_key, tmp_path, "--replace")

    first = token_request(live, new_key, client_id)
    assert first.status_code == 200, first.text
    assert_refused(token_request(live, rsa_key, client_id))
    at_every_worker(live, new_key, client_id, 200)
    at_every_worker(live, rsa_key, client_id, 401)
    assert "reason=bad_signature" in live.log()
