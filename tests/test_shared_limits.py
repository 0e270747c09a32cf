"""Rate limits that hold across gunicorn workers and across machines: two servers of two
workers each share one Debian redis-server, and the sign-in limit counts every try once.
With memory:// and several workers, gunicorn refuses to start."""

import pytest

from tests.support.live_server import LiveServer
from tests.support.redis_server import RedisServer
from tests.test_live_server import call

pytestmark = pytest.mark.slow

LIMIT = 6


def wrong_sign_in(base_url: str) -> int:
    status, _, _ = call("POST", f"{base_url}/api/v1/auth/token",
                        {"email": "ninguem@example.jus.br", "password": "errada"})
    return status


def test_one_sign_in_limit_across_two_instances_of_two_workers(database_url):
    with RedisServer() as redis:
        limits = {"RATELIMIT_ENABLED": "true", "RATELIMIT_STORAGE_URI": redis.url,
                  "LOGIN_RATE_LIMIT": f"{LIMIT}/hour"}
        with LiveServer(database_url, workers=2, extra_env=limits) as first, \
                LiveServer(database_url, workers=2, extra_env=limits) as second:
            answers = [wrong_sign_in(server.url) for _ in range(LIMIT) for server in (first, second)]
    assert answers.count(401) == LIMIT, answers
    assert answers.count(429) == LIMIT, answers
    assert answers[-1] == 429


def test_gunicorn_refuses_private_counters_with_several_workers(database_url):
    server = LiveServer(database_url, workers=2, extra_env={
        "RATELIMIT_ENABLED": "true", "RATELIMIT_STORAGE_URI": "memory://"})
    with pytest.raises(RuntimeError, match="memory://"):
        server.start()
    server.stop()


def test_one_worker_may_count_in_memory(database_url):
    with LiveServer(database_url, workers=1, extra_env={
            "RATELIMIT_ENABLED": "true", "RATELIMIT_STORAGE_URI": "memory://",
            "LOGIN_RATE_LIMIT": "2/hour"}) as server:
        answers = [wrong_sign_in(server.url) for _ in range(3)]
    assert answers == [401, 401, 429]
