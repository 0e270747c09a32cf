"""Start-and-stop helpers shared by the suite's loopback servers (Radicale, the OpenID
Provider): wait for a server to answer, and stop it without leaving it behind."""

from __future__ import annotations

import subprocess
import time

import requests


def wait_until_answers(url: str, process: subprocess.Popen, *, timeout: float = 20,
                       verify: bool | str = True) -> bool:
    """True once url answers any HTTP status; False when the process exits or time runs out.
    `verify`: the CA file of a server with a throwaway certificate."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            requests.get(url, timeout=1, verify=verify)
            return True
        except requests.ConnectionError:
            time.sleep(0.1)
    return False


def stop_process(process: subprocess.Popen | None) -> None:
    """Ask politely, then insist: a server the suite started never outlives it."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
