"""Horizontal bar charts: each bar a share of the longest, drawn by the `bar_chart` macro
of the templates (labels and numbers as text of the page's size, bars to scale). Pure."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Bar:
    label: str
    text: str  # the number as shown beside the bar
    share: float  # the bar's length in percent of the longest; 0 draws no bar


@dataclass(frozen=True)
class Chart:
    title: str
    bars: list[Bar]

    @property
    def description(self) -> str:
        """The whole chart in words, for a screen reader."""
        return f"{self.title}: " + "; ".join(f"{bar.label}: {bar.text}" for bar in self.bars)


def chart(title: str, values: list[tuple[str, object]]) -> Chart:
    """One bar per (label, value). Only a count gets a bar (at least a sliver when above
    zero); a value that is not one (a hidden "<5", a missing median) shows only its text."""
    counts = [value for _, value in values if _is_count(value)]
    top = max(counts, default=0) or 1
    return Chart(title, [
        Bar(label, shown_text(value),
            max(0.5, round(100 * value / top, 1)) if _is_count(value) and value > 0 else 0)
        for label, value in values])


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def shown_text(value) -> str:
    """A figure as a Brazilian reader reads it: a decimal comma, a dash for none."""
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", ",")
    return str(value)
