"""Turning the HTML forms of the agenda into the dicts the API schemas load.

The pages validate with the same marshmallow schemas and service checks as
the API; these helpers only move values and messages between the form's field
names and the schema's.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

WINDOW_ROWS_EXTRA = 3
WINDOW_ROWS_MAX = 12


def rules_from_form(form) -> tuple[dict, list[int]]:
    """The availability dict and, for each window in it, the form row it came from."""
    data = {name: (form.get(name) or "").strip() or None for name in (
        "slot_minutes", "buffer_minutes", "min_notice_hours", "horizon_days", "max_per_day",
        "meeting_url", "address")}
    for name in ("buffer_minutes", "min_notice_hours", "horizon_days"):
        if data[name] is None:
            data.pop(name)
    windows, rows = [], []
    for row in range(WINDOW_ROWS_MAX):
        start, end = form.get(f"win-{row}-start", ""), form.get(f"win-{row}-end", "")
        if not start and not end:
            continue
        windows.append({
            "weekday": form.get(f"win-{row}-weekday", ""),
            "start": start, "end": end,
            "modes": [mode for mode in ("video", "in_person") if form.get(f"win-{row}-{mode}")],
        })
        rows.append(row)
    data["weekly_windows"] = windows
    if form.get("accepted_requesters_sent"):  # the page's checkboxes; none checked is an error
        data["accepted_requesters"] = form.getlist("accepted_requesters")
    return data, rows


def window_rows_for_page(windows: list[dict]) -> list[dict]:
    """The windows as form rows, plus a few blank ones to add more."""
    rows = [{"weekday": w["weekday"], "start": _hhmm(w["start"]), "end": _hhmm(w["end"]),
             "modes": w["modes"]} for w in windows]
    blanks = min(WINDOW_ROWS_EXTRA, WINDOW_ROWS_MAX - len(rows))
    rows += [{"weekday": 1, "start": "", "end": "", "modes": ["video"]}] * blanks
    return rows


def _hhmm(value) -> str:
    return value.strftime("%H:%M") if hasattr(value, "strftime") else str(value or "")


def row_errors(messages: dict, rows: list[int], collection: str, prefix: str,
               first_field: str) -> dict[str, list[str]]:
    """Schema error keys of a list's items to the inputs of the form's rows, which may
    differ from the items' positions (blank rows are left out before loading):
    weekly_windows.2.start to win-5-start; an item's own error goes beside its
    `first_field`. Other keys are kept as they are."""
    from ..errors import flatten_errors

    out: dict[str, list[str]] = {}
    for key, value in flatten_errors(messages).items():
        parts = key.split(".")
        if parts[0] == collection and len(parts) >= 2 and parts[1].isdigit():
            index = int(parts[1])
            field = parts[2] if len(parts) > 2 else first_field
            key = f"{prefix}-{rows[index] if index < len(rows) else index}-{field}"
        out.setdefault(key, []).extend(value)
    return out


def exception_from_form(form, zone_name: str) -> dict:
    """Local date and time inputs to the instants ExceptionSchema loads."""
    zone = ZoneInfo(zone_name)

    def instant(prefix: str):
        day, hour = form.get(f"{prefix}_day", ""), form.get(f"{prefix}_time", "") or "00:00"
        try:
            return datetime.fromisoformat(f"{day}T{hour}").replace(tzinfo=zone).isoformat()
        except ValueError:
            return day or None

    modes = [mode for mode in ("video", "in_person") if form.get(f"mode-{mode}")]
    return {"kind": form.get("kind", ""), "start": instant("start"), "end": instant("end"),
            "reason": (form.get("reason") or "").strip() or None,
            "modes": modes or None}
