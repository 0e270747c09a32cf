"""What each part of a booking costs the service's own process, by leaving it out (#21).

Run by bench.flows.booking_parts with the service's settings in the environment, on a file
of booking bodies (distinct open slots, one lawyer each); prints one JSON line. In this
process (Flask's test client: no HTTP, no server), blocks of BLOCK bookings alternate with
and without one part, and the part's cost is the difference of the medians of CPU time per
booking (the machine's speed drifts from minute to minute; alternating blocks shares the
drift; a share still moves by two or three points from one run to the next). Then the
service's booking alternates with the ceiling's (bench/ceiling.py) the same way. A
sampler's shares say where the samples stopped; this says what leaving a part out saves.
"""

from __future__ import annotations

import importlib
import json
import statistics
import sys
import time
from pathlib import Path

from bench.harness import INTEGRATION_KEY

BLOCK, BLOCKS, WARM = 25, 60, 300
BOOKING_PATH = "/api/v1/bookings"

# The parts left out in turns: (what, module, function, its stand-in). The stand-ins do
# only what the rest of the booking needs of them; only this bench swaps them in.
PARTS = (
    ("the messages to everyone involved, built and written", "booking.bookings.service",
     "_notify", lambda *args, **kwargs: None),
    ("of those, the outbox's one INSERT of the three", "booking.notifications.service",
     "queue_payloads", lambda messages, **kwargs: len(messages)),
    ("the audit row's INSERT", "booking.audit.service", "record",
     lambda *args, **kwargs: None),
    ("the answer's document, built and dumped by marshmallow", "booking.bookings.api",
     "_created_body", lambda booked, direct: {"id": booked.booking.id}),
    ("the integration key's read", "booking.accounts.service", "is_integration_key",
     lambda plain: bool(plain)),
)


def measure(bodies_path: Path) -> dict:
    from wsgi import app

    bodies = iter(bodies_path.read_text().splitlines())
    client = app.test_client()
    headers = {"X-Integration-Key": INTEGRATION_KEY, "Content-Type": "application/json"}

    def cpu_ms_per_booking(count: int, through=client, path: str = BOOKING_PATH) -> float:
        started = time.process_time()
        for _ in range(count):
            response = through.post(path, data=next(bodies), headers=headers)
            if response.status_code != 201:
                raise RuntimeError(f"booking answered {response.status_code}: "
                                   f"{response.get_data(as_text=True)[:200]}")
        return (time.process_time() - started) / count * 1000

    cpu_ms_per_booking(WARM)  # statements compiled, schemas built, caches filled
    whole, parts = [], []
    for what, module_name, name, stand_in in PARTS:
        module = importlib.import_module(module_name)
        real = getattr(module, name)
        times: dict[bool, list[float]] = {False: [], True: []}
        try:
            for number in range(BLOCKS):
                left_out = number % 2 == 1
                setattr(module, name, stand_in if left_out else real)
                times[left_out].append(cpu_ms_per_booking(BLOCK))
        finally:
            setattr(module, name, real)
        with_it, without = statistics.median(times[False]), statistics.median(times[True])
        whole += times[False]
        parts.append({"part": what, "ms": round(with_it - without, 3),
                      "share": round((with_it - without) / with_it * 100, 1)})
    # The same against the ceiling's booking (bench/ceiling.py), alternating with the service's.
    from bench.ceiling import app as ceiling_app

    ceiling = ceiling_app.test_client()
    sides: dict[str, list[float]] = {"service": [], "ceiling": []}
    for number in range(BLOCKS):
        side = "ceiling" if number % 2 else "service"
        sides[side].append(cpu_ms_per_booking(BLOCK, ceiling if side == "ceiling" else client,
                                              "/book" if side == "ceiling" else BOOKING_PATH))
    return {"cpu_ms": round(statistics.median(whole), 3), "parts": parts, "block": BLOCK,
            "blocks": BLOCKS, "against_ceiling": {
                side: round(statistics.median(times), 3) for side, times in sides.items()}}


if __name__ == "__main__":
    print(json.dumps(measure(Path(sys.argv[1]))))
