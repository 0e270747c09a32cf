"""Many clients at once: release them together, collect every answer."""

from __future__ import annotations

import http.client
import json
import threading
from urllib.parse import urlsplit


def race(count: int, attempt) -> list:
    """Run attempt(i) in `count` threads released by one barrier; results in order."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = attempt(index)
        except Exception as error:  # a crash is a result the test must see
            results[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def post_json(base_url: str, path: str, body: dict, headers: dict | None = None,
              timeout: float = 60) -> tuple[int, dict]:
    """One POST on its own connection, as a separate client would send it."""
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        connection.request("POST", path, body=json.dumps(body),
                           headers={"Content-Type": "application/json", **(headers or {})})
        response = connection.getresponse()
        data = response.read()
        return response.status, json.loads(data) if data else {}
    finally:
        connection.close()
