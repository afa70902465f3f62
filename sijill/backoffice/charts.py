"""Server-rendered charts: plain data for inline SVG templates (no script, no inline style).

Coordinates are written unlocalised (`{% localize off %}`: "9,5" is no SVG number) and the
SVG draws left to right (`direction: ltr` in the stylesheet) whatever the page's direction:
the right-to-left layout is done here, by mirroring the x axis and the anchors.
Every chart comes with a text table in the page; colour is never the only carrier of meaning
(eligible bars are also hatched / labelled, the threshold is a dashed line with its value
written next to it). Coordinates are computed here so the templates stay dumb; the templates
mirror the x axis for right-to-left pages by drawing from the other side.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

WIDTH = 640
HEIGHT = 240
PAD_LEFT = 48
PAD_RIGHT = 16
PAD_TOP = 16
PAD_BOTTOM = 36


@dataclass
class Bar:
    x: float
    width: float
    y: float
    height: float
    value: float
    label: str = ""
    eligible_y: float = 0.0
    eligible_height: float = 0.0
    eligible: float = 0.0
    low: float = 0.0
    high: float = 0.0


@dataclass
class Histogram:
    width: int
    height: int
    bars: list[Bar]
    threshold_x: float | None
    threshold: float | None
    ticks: list[dict[str, Any]] = field(default_factory=list)
    y_ticks: list[dict[str, Any]] = field(default_factory=list)
    baseline_y: float = 0.0
    plot_left: float = PAD_LEFT
    plot_right: float = WIDTH - PAD_RIGHT
    y_label_x: float = PAD_LEFT - 4
    y_label_anchor: str = "end"
    threshold_anchor: str = "middle"


def _nice_top(value: float, ticks: int = 4) -> float:
    """The top of a count axis: `ticks` equal whole steps of 1, 2 or 5 × 10^k covering value."""
    needed = max(value, 1) / ticks
    magnitude = 1
    while True:
        for step in (1, 2, 5):
            if step * magnitude >= needed:
                return float(step * magnitude * ticks)
        magnitude *= 10


def histogram(data: dict[str, Any], *, rtl: bool = False) -> Histogram | None:
    """The simulator's histogram {edges, households, eligible, threshold} as SVG geometry."""
    edges: list[float] = data.get("edges") or []
    counts: list[int] = data.get("households") or []
    eligible: list[int] = data.get("eligible") or [0] * len(counts)
    if not counts or len(edges) != len(counts) + 1:
        return None
    # The y axis sits on the start side: left in LTR, right in RTL (the x axis runs mirrored).
    plot_left, plot_right = (PAD_RIGHT, WIDTH - PAD_LEFT) if rtl else (PAD_LEFT, WIDTH - PAD_RIGHT)
    plot_w = plot_right - plot_left
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    low, high = edges[0], edges[-1]
    span = (high - low) or 1.0
    top = _nice_top(max(counts))

    def x_of(v: float) -> float:
        frac = (v - low) / span
        if rtl:
            frac = 1 - frac
        return plot_left + frac * plot_w

    base = PAD_TOP + plot_h
    bars = []
    for i, count in enumerate(counts):
        x0, x1 = sorted((x_of(edges[i]), x_of(edges[i + 1])))
        h = plot_h * count / top
        eh = plot_h * eligible[i] / top
        bars.append(Bar(x=round(x0 + 0.5, 2), width=round(max(x1 - x0 - 1, 0.5), 2),
                        y=round(base - h, 2), height=round(h, 2), value=count,
                        eligible=eligible[i], eligible_y=round(base - eh, 2),
                        eligible_height=round(eh, 2), low=edges[i], high=edges[i + 1]))
    threshold = data.get("threshold")
    tx = round(x_of(threshold), 2) if threshold is not None else None
    ticks = [{"x": round(x_of(low + span * k / 4), 2), "value": low + span * k / 4}
             for k in range(5)]
    y_ticks = [{"y": round(base - plot_h * k / 4, 2), "label": int(top * k / 4)}
               for k in range(5)]
    anchor = "middle"
    if tx is not None and tx < plot_left + 90:
        anchor = "start"
    elif tx is not None and tx > plot_right - 90:
        anchor = "end"
    return Histogram(width=WIDTH, height=HEIGHT, bars=bars, threshold_x=tx, threshold=threshold,
                     ticks=ticks, y_ticks=y_ticks, baseline_y=base, plot_left=plot_left,
                     plot_right=plot_right,
                     y_label_x=(plot_right + 4) if rtl else (plot_left - 4),
                     y_label_anchor="start" if rtl else "end", threshold_anchor=anchor)


@dataclass
class HBar:
    label: str
    y: float
    value: float
    width: float
    text: str
    x: float = 0.0
    text_x: float = 0.0


@dataclass
class HBarChart:
    width: int
    height: int
    bars: list[HBar]
    label_x: float
    bar_height: float
    label_anchor: str = "start"
    value_anchor: str = "start"


def hbars(rows: list[tuple[str, float, str]], *, rtl: bool = False, maximum: float | None = None,
          ) -> HBarChart | None:
    """Horizontal bars [(label, value, value as text)], one per row, labels on the start side."""
    if not rows:
        return None
    label_w, bar_h, gap = 190.0, 18.0, 8.0
    plot_w = WIDTH - label_w - 80
    top = maximum if maximum is not None else max((v for _, v, _ in rows), default=0) or 1.0
    bars = []
    for i, (label, value, text) in enumerate(rows):
        w = round(plot_w * max(value, 0) / top, 2) if top else 0.0
        y = round(PAD_TOP + i * (bar_h + gap), 2)
        if rtl:
            x = WIDTH - label_w - w
            text_x = x - 6
        else:
            x = label_w
            text_x = x + w + 6
        bars.append(HBar(label=label, y=y, value=value, width=w, text=text, x=round(x, 2),
                         text_x=round(text_x, 2)))
    height = int(PAD_TOP * 2 + len(rows) * (bar_h + gap))
    return HBarChart(width=WIDTH, height=height, bars=bars,
                     label_x=(WIDTH - 8) if rtl else 8, bar_height=bar_h,
                     label_anchor="end" if rtl else "start",
                     value_anchor="end" if rtl else "start")
