"""The suite's servers get ports no outgoing connection can be given meanwhile."""

from __future__ import annotations

import socket

from tests.support.postgres import _ephemeral_range, free_port


def test_free_ports_lie_below_the_ephemeral_range_and_are_never_given_twice():
    low, _ = _ephemeral_range()
    ports = [free_port() for _ in range(50)]
    assert len(set(ports)) == len(ports)
    assert all(port < low for port in ports)
    with socket.socket() as sock:  # and each one is free to bind
        sock.bind(("127.0.0.1", ports[-1]))
