"""Horizontal bar charts as plain geometry, drawn as SVG by the templates. Pure."""

from __future__ import annotations

from dataclasses import dataclass

ROW = 28
LABEL_WIDTH = 260
BAR_AREA = 320


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    y: int
    width: int


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    height: int
    width: int = LABEL_WIDTH + BAR_AREA + 60
    label_width: int = LABEL_WIDTH


def bar_chart(groups: list[dict], limit: int = 15) -> Chart:
    """One bar per group (label, count), longest = full width, at most `limit` bars."""
    shown = groups[:limit]
    top = max((g["count"] for g in shown), default=0) or 1
    bars = [Bar(label=g["label"][:40], value=g["count"], y=index * ROW,
                width=max(2, round(BAR_AREA * g["count"] / top)))
            for index, g in enumerate(shown)]
    return Chart(bars=bars, height=max(ROW, len(bars) * ROW))
