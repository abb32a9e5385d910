"""Geometry of the statistics charts, which templates/admin/charts/bars.svg draws as plain SVG.

The charts are served as image/svg+xml by the app itself, so the page needs
no script and no chart library. Each chart has a data table on the page for
screen readers and exact numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# Okabe-Ito colours, distinguishable with the common forms of colour blindness;
# the last one is for "other".
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")
OTHER_COLOUR = "#8C8C8C"
MAX_SERIES = len(PALETTE)

WIDTH = 880
HEIGHT = 320
PLOT_LEFT = 48
PLOT_RIGHT = 700  # the legend goes to the right of this
PLOT_TOP = 12
PLOT_BOTTOM = 270


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    label: str  # tooltip text


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class LegendItem:
    y: float
    colour: str
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    ticks: list[Tick]
    x_labels: list[tuple[float, str]]
    legend: list[LegendItem]
    title: str


def axis_scale(value: int) -> tuple[int, int]:
    """Return (maximum, step) of a count axis: a round step of 1, 2 or 5 times a power of ten, at most five steps."""
    if value <= 0:
        return 1, 1
    rough = value / 4
    power = 10 ** math.floor(math.log10(rough)) if rough >= 1 else 1
    step = next(multiple * power for multiple in (1, 2, 5, 10) if rough <= multiple * power)
    return step * math.ceil(value / step), step


def limit_series(series: list[tuple[str, list[int]]], other_label: str) -> list[tuple[str, list[int], str]]:
    """Keep the largest MAX_SERIES - 1 series, sum the rest into "other" and attach a colour to each."""
    ranked = sorted(series, key=lambda item: -sum(item[1]))
    if len(ranked) <= MAX_SERIES:
        return [(label, counts, PALETTE[index]) for index, (label, counts) in enumerate(ranked)]
    kept = ranked[: MAX_SERIES - 1]
    rest = ranked[MAX_SERIES - 1 :]
    other = [sum(values) for values in zip(*(counts for _, counts in rest))]
    return [(label, counts, PALETTE[index]) for index, (label, counts) in enumerate(kept)] + [(other_label, other, OTHER_COLOUR)]


def _ticks(maximum: int, step: int, format_number) -> list[Tick]:
    height = PLOT_BOTTOM - PLOT_TOP
    return [Tick(y=PLOT_BOTTOM - height * value / maximum, label=format_number(value)) for value in range(0, maximum + 1, step)]


def stacked_bars(series: list[tuple[str, list[int], str]], x_labels: list[str], title: str, format_number) -> Chart:
    """Lay out one stacked bar per x label; `series` are (label, values per x label, colour)."""
    totals = [sum(values) for values in zip(*(counts for _, counts, _ in series))] if series else [0] * len(x_labels)
    maximum, step = axis_scale(max(totals, default=0))
    band = (PLOT_RIGHT - PLOT_LEFT) / max(len(x_labels), 1)
    scale = (PLOT_BOTTOM - PLOT_TOP) / maximum

    bars = []
    for index, x_label in enumerate(x_labels):
        top = PLOT_BOTTOM
        for label, counts, colour in series:
            value = counts[index]
            if not value:
                continue
            top -= value * scale
            bars.append(Bar(x=PLOT_LEFT + index * band + band * 0.15, y=top, width=band * 0.7, height=value * scale, colour=colour, label=f"{x_label}: {label} {format_number(value)}"))

    label_every = max(1, math.ceil(len(x_labels) / 13))  # about thirteen labels fit without overlapping
    labels = [(PLOT_LEFT + index * band + band / 2, text) for index, text in enumerate(x_labels) if index % label_every == 0]
    legend = [LegendItem(y=PLOT_TOP + 8 + 22 * index, colour=colour, label=label) for index, (label, _, colour) in enumerate(series)]
    return Chart(WIDTH, HEIGHT, bars, _ticks(maximum, step, format_number), labels, legend, title)


def single_bars(values: list[tuple[str, int]], title: str, format_number) -> Chart:
    """Lay out one bar per (label, value), all in the first palette colour."""
    maximum, step = axis_scale(max((value for _, value in values), default=0))
    band = (PLOT_RIGHT - PLOT_LEFT) / max(len(values), 1)
    scale = (PLOT_BOTTOM - PLOT_TOP) / maximum
    bars = [
        Bar(x=PLOT_LEFT + index * band + band * 0.2, y=PLOT_BOTTOM - value * scale, width=band * 0.6, height=value * scale, colour=PALETTE[0], label=f"{label}: {format_number(value)}")
        for index, (label, value) in enumerate(values)
    ]
    labels = [(PLOT_LEFT + index * band + band / 2, label) for index, (label, _) in enumerate(values)]
    return Chart(WIDTH, HEIGHT, bars, _ticks(maximum, step, format_number), labels, [], title)
