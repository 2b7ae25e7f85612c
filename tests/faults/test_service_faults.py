"""Faults with real services (issue 7, item 3): Redis killed in the middle of a load run,
and the server's PostgreSQL connections terminated mid-run.

Redis: no answer is a 5xx, every replay of an accepted assertion is still refused (the
database decides; the cache only short-cuts known replays), and after Redis returns on
the same port the cache is written again. PostgreSQL: requests during the fault answer
200 or a JSON 503, never HTML or a 500, and the server recovers by itself. After each,
the ledger check proves that no token exists without its ``jti`` row and no refused
assertion left one.
"""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from tests.faults.conftest import ledger_check

pytestmark = pytest.mark.live

REPLAYED = "jti has been used already"


def assert_replays_refused(answers) -> None:
    assert answers, "nothing to replay"
    for answer in answers:
        assert (answer.status, answer.error, answer.description) == (
            401,
            "invalid_client",
            REPLAYED,
        ), answer


def test_redis_killed_mid_load(live, driver, redis_server):
    driver.phase = "before"
    driver.run(requests_per_thread=15)
    assert driver.statuses("before") == {200: 45}
    assert redis_server.keys() > 0, "the jti cache was not in use before the fault"
    assert_replays_refused(driver.replay(5))

    driver.phase = "during"
    killer = threading.Timer(0.3, redis_server.kill)
    killer.start()
    driver.run(requests_per_thread=25)
    killer.join()
    assert redis_server.process.poll() is not None, "redis was not killed"
    driver.run(requests_per_thread=5)  # entirely without Redis
    during = driver.statuses("during")
    assert set(during) <= {200, 401}, during
    assert during[200] == 90, during
    assert_replays_refused(driver.replay(20))

    driver.phase = "after"
    redis_server.start()
    assert redis_server.keys() == 0
    driver.run(requests_per_thread=10)
    assert driver.statuses("after") == {200: 30}
    assert redis_server.keys() > 0, "the cache was not used again after Redis returned"
    assert_replays_refused(driver.replay(len(driver.accepted)))

    assert all(a.json for a in driver.answers)
    assert not [a for a in driver.answers if a.status >= 500]
    ledger_check(live, driver)


def terminate_backends(database: str) -> int:
    from tests.faults.conftest import ADMIN_URL

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        return conn.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        ).fetchone()[0]


def test_postgres_connections_terminated_mid_run(live, driver):
    database = live.env["DATABASE_URL"].rsplit("/", 1)[1]
    driver.phase = "before"
    driver.run(requests_per_thread=10)
    assert driver.statuses("before") == {200: 30}

    driver.phase = "during"
    terminated = []
    stop = threading.Event()

    def chaos() -> None:
        while not stop.is_set():
            terminated.append(terminate_backends(database))
            time.sleep(0.15)

    thread = threading.Thread(target=chaos)
    thread.start()
    try:
        driver.run(requests_per_thread=30)
    finally:
        stop.set()
        thread.join(10)
    assert sum(terminated) > 0, "no server connection was terminated"
    during = [a for a in driver.answers if a.phase == "during"]
    for answer in during:
        assert answer.status in (200, 503), answer
        assert answer.json, answer
        if answer.status == 503:
            assert answer.error == "temporarily_unavailable", answer
    assert any(a.status == 200 for a in during)

    driver.phase = "after"
    driver.run(requests_per_thread=10)
    assert driver.statuses("after") == {200: 30}, "the server did not recover by itself"
    assert_replays_refused(driver.replay(10))
    ledger_check(live, driver)
