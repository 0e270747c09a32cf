"""The benchmark's markdown report: every figure against the ceiling and the targets."""

from __future__ import annotations

import os
import platform
import statistics
from datetime import datetime

from bench.harness import answered


def _ok(passed: bool) -> str:
    return "✅" if passed else "❌"


def _ratio(value: float, base: float) -> float:
    return value / base if base else 0.0


def _statuses(run: dict) -> str:
    return ", ".join(f"{k}: {v}" for k, v in sorted(run.get("statuses", {}).items())) or "—"


def _race_ok(statuses: dict) -> bool:
    return statuses.get("201", statuses.get(201, 0)) == 1 and not any(
        str(k).startswith("5") or k == "error" for k in statuses)


def _row(label: str, run: dict | None, share: str = "—") -> str:
    if not run:
        return f"| {label} | — | — | — | {share} | not measured in this run |"
    return (f"| {label} | {run['rps']:.0f} | {run['p50_ms']:.1f} | {run['p99_ms']:.1f} | {share} "
            f"| {_statuses(run)} |")


def _senders(closure: dict) -> str:
    """How the closure's e-mails were sent (runs before sender processes: one)."""
    if "sender_processes" not in closure:
        return "one sender process"
    return (f"{closure['sender_processes']} sender processes with "
            f"{closure['smtp_connections']} SMTP connections in all")


def _target(text: str, measured: str, passed: bool | None) -> str:
    return f"| {text} | {measured} | {'—' if passed is None else _ok(passed)} |"


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
        "(`bench/ceiling.py`) on the same server settings and database: a JSON hello, one "
        "indexed read, one insert, a page of the agenda's size rendered from one indexed read, "
        "and the least a booking can cost (Core statements on the service's tables: one read "
        "of magistrate, rule and slot, the address's count, the slot's compare-and-set, the "
        "booking, an audit row and three outbox rows in one transaction, PostgreSQL's advisory "
        "lock), and the least the public's two steps cost (a hold: the same with the live "
        "holds counted, the code's hash and one e-mail; its confirmation: the hold read by its "
        "token, read again under the lock, the code compared, the address counted, the "
        "booking confirmed, an audit row and three outbox rows). The public's holds come each "
        "from its own address through one trusted proxy hop, to the service and the ceiling "
        "alike. Booking and the pair are measured in turns, the service's and the ceiling's a "
        "minute apart on fresh servers (which goes first alternates from turn to turn), "
        "and every share against them is the "
        "median of the turns' ratios (one run of each, ten minutes apart, moved by up to 40% "
        "on this machine). PostgreSQL runs without durability (fsync, synchronous_commit and "
        "full_page_writes off), with "
        + ", ".join(f"{name} {value}" for name, value in postgres_settings.items()) + ".",
        "",
    ]
    by_backend: dict[str, dict[str, dict]] = {}
    for result in results:
        by_backend.setdefault(result["backend"], {})[result["scale"]] = result
        lines += _combo(result)
    lines += ["## Listing cost against scale", "",
              "| database | state req/s | country req/s | ratio | ≤ 1.2 |",
              "| --- | ---: | ---: | ---: | --- |"]
    for backend, scales in by_backend.items():
        if {"state", "country"} <= set(scales):
            state, country = scales["state"]["listing"]["rps"], scales["country"]["listing"]["rps"]
            ratio = _ratio(state, country)
            lines.append(f"| {backend} | {state:.0f} | {country:.0f} | {ratio:.2f} | {_ok(ratio <= 1.2)} |")
    lines.append("")
    for result in results:
        if result.get("profile"):
            lines += _profile(result)
        if result.get("booking_parts"):
            lines += _booking_parts(result)
    return "\n".join(lines) + "\n"


def _combo(result: dict) -> list[str]:
    ceiling = result["ceiling"]
    listing, agenda = result["listing"], result["agenda"]
    read, insert, page = ceiling["read"], ceiling["insert"], ceiling["page"]
    against = _against_ceiling(result)
    turns = len(against["booking"])
    features = _features(result)
    lines = [
        f"## {result['backend']} — {result['scale']}",
        "",
        f"Measured {result.get('measured_at', 'in an earlier run')}.",
        "",
        "Data: " + ", ".join(f"{table} {count:,}".replace(",", ".")
                             for table, count in result["counts"].items())
        + f" (loaded in {result['load_seconds']} s); "
        + f"{result.get('open_slots_left', 0):,} open slots still ahead after the last booking "
          "run.".replace(",", "."),
        "",
        "| figure | req/s | p50 ms | p99 ms | share of ceiling | answers |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
        _row("ceiling: JSON hello", ceiling["hello"]),
        _row("ceiling: one indexed read", read),
        _row("ceiling: one insert (unique)", insert),
        _row("ceiling: page from one indexed read", page),
        _row(f"ceiling: the least a booking costs (median of {turns} turns)",
             against["ceiling"]["booking"]),
        _row(f"ceiling: the least a hold costs (median of {turns} turns)",
             against["ceiling"]["hold"]),
        _row(f"ceiling: the least its confirmation costs (median of {turns} turns)",
             against["ceiling"]["confirm"]),
        _row("slots of a magistrate, 4 weeks", listing,
             f"{_ratio(listing['rps'], read['rps']):.0%} of the read"),
        _row("public agenda page", agenda, f"{_ratio(agenda['rps'], page['rps']):.0%} of the page"),
        _row(f"booking distinct slots, integration key (median of {turns} turns)",
             against["service"]["booking"],
             f"{_median_share(against['booking'])} of the booking"),
        _row(f"the public: hold (median of {turns} turns)", against["service"]["hold"]),
        _row(f"the public: confirm with the code (median of {turns} turns)",
             against["service"]["confirm"]),
        *_feature_rows(features),
        "",
        "| target | measured | |",
        "| --- | --- | --- |",
        _target("slot listing ≥ 60% of the ceiling's indexed read",
                f"{_ratio(listing['rps'], read['rps']):.0%}",
                _ratio(listing['rps'], read['rps']) >= 0.6),
        _target("listing p99 < 3 × the read's p99",
                f"{listing['p99_ms']:.1f} ms vs {3 * read['p99_ms']:.1f} ms",
                listing['p99_ms'] < 3 * read['p99_ms']),
    ]
    booking_share = statistics.median(against["booking"])
    p99_times = statistics.median(against["booking_p99"])
    lines += [
        _target("booking ≥ 60% of the booking ceiling (median of the turns)",
                _median_share(against["booking"]), booking_share >= 0.6),
        _target("booking p99 ≤ 2 × the booking ceiling's p99 (median of the turns)",
                f"{p99_times:.2f} × (turns: "
                + ", ".join(f"{times:.2f} ×" for times in against["booking_p99"]) + ")",
                p99_times <= 2),
        *_pair_targets(against),
        _target("public agenda page ≥ 50% of the ceiling's page",
                f"{_ratio(agenda['rps'], page['rps']):.0%}",
                _ratio(agenda["rps"], page["rps"]) >= 0.5)]
    for key, label in (("listing", "slot listing"), ("booking", "booking")):
        if key in features:
            share = features[key]["share"]
            lines.append(_target(f"{label} with every newer feature on ≥ 90% of without "
                                 "(median of the turns)", f"{share:.0%}", share >= 0.9))
    refresh = result.get("busy_refresh")
    if refresh:
        lines.append(_target(
            f"busy-time refresh of {refresh['sources']} calendars within its interval "
            f"({refresh['interval_seconds'] // 60} min)",
            f"{refresh['seconds']:.1f} s, {refresh['failing']} failing",
            refresh["seconds"] < refresh["interval_seconds"] and not refresh["failing"]))
    closure = result.get("closure")
    if closure:
        lines += [
            _target(f"court-wide closure over {closure['bookings']:,} bookings: the admin's "
                    "answer < 5 s".replace(",", "."), f"{closure['answer_seconds']:.2f} s",
                    closure["answer_seconds"] < 5),
            _target(f"its {closure['messages_expected']:,} e-mails accepted by the SMTP server "
                    "< 2 min after the request".replace(",", "."),
                    f"{closure['last_message_seconds']} s ({closure['messages_received']:,} "
                    f"received; {_senders(closure)})".replace(",", "."),
                    closure["last_message_seconds"] is not None
                    and closure["messages_received"] >= closure["messages_expected"]
                    and closure["last_message_seconds"] < 120)]
        if "lift_seconds" in closure:
            lines.append(_target("the closure lifted, every agenda given the day back: the "
                                 "admin's answer < 5 s", f"{closure['lift_seconds']:.2f} s",
                                 closure["lift_seconds"] < 5))
    lines.append(_target("race: 1,000 requests over 100 connections for one slot",
                         str(result["race"]), _race_ok(result["race"])))
    if "race_two_instances" in result:
        lines.append(_target("the same race across two instances",
                             str(result["race_two_instances"]),
                             _race_ok(result["race_two_instances"])))
    memory = max(result["memory_mb"]) if result["memory_mb"] else 0
    lines += [
        _target("memory per web worker < 120 MB",
                f"{memory:.0f} MB (ceiling's: {max(result['ceiling_memory_mb'] or [0]):.0f} MB)",
                memory < 120),
        "",
    ]
    counts = (result.get("features") or {}).get("counts")
    if counts:
        lines += [f"Newer features on: {counts['busy_sources']} busy-time sources with four "
                  f"busy times each, {counts['webhook_subscribers']} webhook subscribers of "
                  f"every booking event, WhatsApp asked on every booking, "
                  f"{counts['questions_per_form']} questions on every form, answered. Each "
                  f"turn measures the service without them and with them (which goes first "
                  f"alternates), each booking run after a second of warm-up; the rows above "
                  f"are the turns' median runs.", ""]
    lines += ["Plan of the listing query:", "", "```", result["explain"], "```", ""]
    return lines


def _features(result: dict) -> dict:
    """Per figure (listing, booking): the median runs without and with every newer feature,
    each turn's ratio (on / off, a minute apart) and their median."""
    turns = result.get("features") or {}
    if not turns.get("on"):
        return {}
    figures = {}
    for key, status in (("listing", "200"), ("booking", "201")):
        off = [turn[key] for turn in turns["off"]]
        on = [turn[key] for turn in turns["on"]]
        ratios = [_ratio(answered(b, status), answered(a, status)) for a, b in zip(off, on, strict=True)]
        figures[key] = {"off": _median_run(off), "on": _median_run(on), "ratios": ratios,
                        "share": statistics.median(ratios)}
    return figures


def _median_run(runs: list[dict]) -> dict | None:
    """The run of median throughput (a real run: its latencies are shown with it)."""
    if not runs:
        return None
    return sorted(runs, key=lambda run: run["rps"])[(len(runs) - 1) // 2]


def _feature_rows(features: dict) -> list[str]:
    rows = []
    for key, label in (("listing", "slots"), ("booking", "booking")):
        if key not in features:
            continue
        figure = features[key]
        turns = len(figure["ratios"])
        each = ", ".join(f"{ratio:.0%}" for ratio in figure["ratios"])
        rows += [_row(f"{label}, features off (median of {turns} turns)", figure["off"]),
                 _row(f"{label}, every newer feature on (median of {turns} turns)", figure["on"],
                      f"{figure['share']:.0%} of without (turns: {each})")]
    return rows


def _against_ceiling(result: dict) -> dict:
    """Booking and the pair, the service's and the ceiling's, measured in turns a minute
    apart: per side the median runs, and per target each turn's ratio."""
    turns = result["turns"]
    service, ceiling = turns["service"], turns["ceiling"]
    pairs = list(zip(service, ceiling, strict=True))
    return {
        side: {"booking": _median_run([turn["booking"] for turn in runs]),
               "hold": _median_run([turn["pair"]["hold"] for turn in runs]),
               "confirm": _median_run([turn["pair"]["confirm"] for turn in runs
                                       if turn["pair"]["confirm"]]),
               "pair_rps": statistics.median(turn["pair"]["pair_rps"] for turn in runs)}
        for side, runs in (("service", service), ("ceiling", ceiling))
    } | {
        "booking": [_ratio(answered(s["booking"], "201"), answered(c["booking"], "201"))
                    for s, c in pairs],
        "booking_p99": [_ratio(s["booking"]["p99_ms"], c["booking"]["p99_ms"]) for s, c in pairs],
        "pair": [_ratio(s["pair"]["pair_rps"], c["pair"]["pair_rps"]) for s, c in pairs],
        "pair_vs_bookings": [_ratio(s["pair"]["pair_rps"], answered(c["booking"], "201"))
                             for s, c in pairs],
        "ceiling_pair_vs_bookings": [_ratio(c["pair"]["pair_rps"], answered(c["booking"], "201"))
                                     for _s, c in pairs],
    }


def _median_share(ratios: list[float]) -> str:
    return f"{statistics.median(ratios):.0%} (turns: " + ", ".join(f"{r:.0%}" for r in ratios) + ")"


def _pair_targets(against: dict) -> list[str]:
    """The pair's target: at least half of what the least the same two steps cost (the
    ceiling's hold and confirm). Beside it, for comparison only, the pair against the
    ceiling's one-step bookings: a pair is two write requests, so that share could reach
    50% only if each step cost no more than a whole ceiling booking, which the ceiling's
    own two steps do not (their share is printed too). Each share is the median of the
    turns' ratios."""
    service, ceiling = against["service"], against["ceiling"]
    return [
        _target("hold + confirm together ≥ 50% of the ceiling's hold + confirm "
                "(median of the turns)",
                f"{service['pair_rps']:.0f} vs {ceiling['pair_rps']:.0f} pairs/s, "
                + _median_share(against["pair"]), statistics.median(against["pair"]) >= 0.5),
        _target("(for comparison: hold + confirm together against the ceiling's one-step "
                "bookings)",
                f"{service['pair_rps']:.0f} pairs/s vs {ceiling['booking']['rps']:.0f} "
                "bookings/s, " + _median_share(against["pair_vs_bookings"]), None),
        _target("(for comparison: the ceiling's own hold + confirm against its one-step "
                "bookings)",
                f"{ceiling['pair_rps']:.0f} pairs/s vs {ceiling['booking']['rps']:.0f} "
                "bookings/s, " + _median_share(against["ceiling_pair_vs_bookings"]), None)]


def _profile(result: dict) -> list[str]:
    profile = result["profile"]
    lines = [f"## Where a booking's time goes — {result['backend']}, {result['scale']}", "",
             f"py-spy sampling gunicorn's workers at 200 Hz (idle time left out"
             f"{'; attached after a second of warm-up' if profile.get('warm') else ''}) "
             f"while wrk books distinct slots: {profile['samples']:,} samples, "
             f"{profile['run']['rps']:.0f} bookings/s under the profiler.".replace(",", "."), "",
             "| function (file) | on the stack | at the top |", "| --- | ---: | ---: |"]
    own = dict(profile["self"])
    for frame, share in profile["inclusive"]:
        lines.append(f"| `{frame}` | {share}% | {own.get(frame, 0)}% |")
    lines += ["", "Most often at the top of the stack:", "",
              "| function (file) | at the top |", "| --- | ---: |"]
    lines += [f"| `{frame}` | {share}% |" for frame, share in profile["self"][:10]]
    return lines + [""]


def _booking_parts(result: dict) -> list[str]:
    measured = result["booking_parts"]
    lines = [f"## What each part of a booking costs — {result['backend']}, {result['scale']}",
             "", f"Measured {measured.get('measured_at') or result.get('measured_at')}.", "",
             f"Each part left out in turns, in one process through Flask's test client (no "
             f"HTTP, no server): {measured['blocks']} blocks of {measured['block']} bookings "
             f"alternating with and without it; the medians of the service process's CPU "
             f"time per booking compared. A booking costs {measured['cpu_ms']:.2f} ms of it "
             f"here{_parts_against_ceiling(measured)}.", "",
             "| part | ms of CPU per booking | share |", "| --- | ---: | ---: |"]
    lines += [f"| {part['part']} | {part['ms']:.2f} | {part['share']:.1f}% |"
              for part in measured["parts"]]
    return lines + [""]


def _parts_against_ceiling(measured: dict) -> str:
    sides = measured.get("against_ceiling")
    if not sides:
        return ""
    return (f"; measured in alternating blocks, the service's booking {sides['service']:.2f} ms "
            f"and the ceiling's {sides['ceiling']:.2f} ms "
            f"({sides['ceiling'] / sides['service'] * 100:.0f}%)")
