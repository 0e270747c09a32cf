"""The benchmark's markdown report: every figure against the ceiling and the targets."""

from __future__ import annotations

import os
import platform
from datetime import datetime


def _ok(passed: bool) -> str:
    return "✅" if passed else "❌"


def _ratio(value: float, base: float) -> float:
    return value / base if base else 0.0


def _statuses(run: dict) -> str:
    return ", ".join(f"{k}: {v}" for k, v in sorted(run.get("statuses", {}).items())) or "—"


def _race_ok(statuses: dict) -> bool:
    return statuses.get("201", statuses.get(201, 0)) == 1 and not any(
        str(k).startswith("5") or k == "error" for k in statuses)


def write_report(results: list[dict], postgres_settings: dict[str, str]) -> str:
    lines = [
        "# Benchmark report",
        "",
        f"Written on {datetime.now().strftime('%Y-%m-%d %H:%M')} on this machine: "
        f"{os.cpu_count()} cores, Python {platform.python_version()}. "
        f"gunicorn with {os.environ.get('BENCH_WORKERS', '4')} sync workers; wrk with 2 threads and "
        f"{os.environ.get('BENCH_CONNECTIONS', '32')} connections for "
        f"{os.environ.get('BENCH_DURATION', '10s')} "
        "per figure, on loopback. The ceiling is a minimal Flask app of the bench's own "
        "(`bench/ceiling.py`) on the same server settings and database. PostgreSQL runs "
        "without durability (fsync, synchronous_commit and full_page_writes off), with "
        + ", ".join(f"{name} {value}" for name, value in postgres_settings.items()) + ".",
        "",
    ]
    by_backend: dict[str, dict[str, dict]] = {}
    for result in results:
        by_backend.setdefault(result["backend"], {})[result["scale"]] = result
        ceiling = result["ceiling"]
        listing, agenda, booking = result["listing"], result["agenda"], result["booking"]
        read, insert = ceiling["read"], ceiling["insert"]
        lines += [
            f"## {result['backend']} — {result['scale']}",
            "",
            f"Measured {result.get('measured_at', 'in an earlier run')}.",
            "",
            "Data: " + ", ".join(f"{table} {count:,}".replace(",", ".")
                                 for table, count in result["counts"].items())
            + f" (loaded in {result['load_seconds']} s).",
            "",
            "| figure | req/s | p50 ms | p99 ms | share of ceiling | answers |",
            "| --- | ---: | ---: | ---: | ---: | --- |",
            f"| ceiling: JSON hello | {ceiling['hello']['rps']:.0f} | {ceiling['hello']['p50_ms']:.1f} | "
            f"{ceiling['hello']['p99_ms']:.1f} | — | {_statuses(ceiling['hello'])} |",
            f"| ceiling: one indexed read | {read['rps']:.0f} | {read['p50_ms']:.1f} | {read['p99_ms']:.1f} "
            f"| — | {_statuses(read)} |",
            f"| ceiling: one insert (unique) | {insert['rps']:.0f} | {insert['p50_ms']:.1f} | "
            f"{insert['p99_ms']:.1f} | — | {_statuses(insert)} |",
            f"| slots of a magistrate, 4 weeks | {listing['rps']:.0f} | {listing['p50_ms']:.1f} | "
            f"{listing['p99_ms']:.1f} | {_ratio(listing['rps'], read['rps']):.0%} of the read | "
            f"{_statuses(listing)} |",
            f"| public agenda page | {agenda['rps']:.0f} | {agenda['p50_ms']:.1f} | {agenda['p99_ms']:.1f} "
            f"| {_ratio(agenda['rps'], read['rps']):.0%} of the read | {_statuses(agenda)} |",
            f"| booking distinct slots | {booking['rps']:.0f} | {booking['p50_ms']:.1f} | "
            f"{booking['p99_ms']:.1f} | {_ratio(booking['rps'], insert['rps']):.0%} of the insert | "
            f"{_statuses(booking)} |",
            "",
            "| target | measured | |",
            "| --- | --- | --- |",
            f"| slot listing ≥ 60% of the ceiling's indexed read | "
            f"{_ratio(listing['rps'], read['rps']):.0%} | "
            f"{_ok(_ratio(listing['rps'], read['rps']) >= 0.6)} |",
            f"| booking ≥ 50% of the ceiling's insert | {_ratio(booking['rps'], insert['rps']):.0%} | "
            f"{_ok(_ratio(booking['rps'], insert['rps']) >= 0.5)} |",
            f"| listing p99 < 3 × the read's p99 | {listing['p99_ms']:.1f} ms vs "
            f"{3 * read['p99_ms']:.1f} ms | "
            f"{_ok(listing['p99_ms'] < 3 * read['p99_ms'])} |",
            f"| booking p99 < 3 × the insert's p99 | {booking['p99_ms']:.1f} ms vs "
            f"{3 * insert['p99_ms']:.1f} ms | "
            f"{_ok(booking['p99_ms'] < 3 * insert['p99_ms'])} |",
            f"| race: 1,000 requests over 100 connections for one slot | {result['race']} | "
            f"{_ok(_race_ok(result['race']))} |",
        ]
        if "race_two_instances" in result:
            lines.append(f"| the same race across two instances | {result['race_two_instances']} | "
                         f"{_ok(_race_ok(result['race_two_instances']))} |")
        memory = max(result["memory_mb"]) if result["memory_mb"] else 0
        lines += [
            f"| memory per web worker < 120 MB | {memory:.0f} MB (ceiling's: "
            f"{max(result['ceiling_memory_mb'] or [0]):.0f} MB) | {_ok(memory < 120)} |",
            "",
            "Plan of the listing query:",
            "",
            "```",
            result["explain"],
            "```",
            "",
        ]
    lines += ["## Listing cost against scale", "",
              "| database | state req/s | country req/s | ratio | ≤ 1.2 |",
              "| --- | ---: | ---: | ---: | --- |"]
    for backend, scales in by_backend.items():
        if {"state", "country"} <= set(scales):
            state, country = scales["state"]["listing"]["rps"], scales["country"]["listing"]["rps"]
            ratio = _ratio(state, country)
            lines.append(f"| {backend} | {state:.0f} | {country:.0f} | {ratio:.2f} | {_ok(ratio <= 1.2)} |")
    return "\n".join(lines) + "\n"
