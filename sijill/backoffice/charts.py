"""Server-rendered charts: plain data for inline SVG templates (no script, no inline style).

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


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return float(step * magnitude)
    return float(10 * magnitude)


def histogram(data: dict[str, Any], *, rtl: bool = False) -> Histogram | None:
    """The simulator's histogram {edges, households, eligible, threshold} as SVG geometry."""
    edges: list[float] = data.get("edges") or []
    counts: list[int] = data.get("households") or []
    eligible: list[int] = data.get("eligible") or [0] * len(counts)
    if not counts or len(edges) != len(counts) + 1:
        return None
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    low, high = edges[0], edges[-1]
    span = (high - low) or 1.0
    top = _nice_max(max(counts))

    def x_of(v: float) -> float:
        frac = (v - low) / span
        if rtl:
            frac = 1 - frac
        return PAD_LEFT + frac * plot_w

    base = PAD_TOP + plot_h
    bars = []
    for i, count in enumerate(counts):
        x0, x1 = sorted((x_of(edges[i]), x_of(edges[i + 1])))
        h = plot_h * count / top
        eh = plot_h * eligible[i] / top
        bars.append(Bar(x=round(x0 + 0.5, 2), width=round(max(x1 - x0 - 1, 0.5), 2),
                        y=round(base - h, 2), height=round(h, 2), value=count,
                        eligible=eligible[i], eligible_y=round(base - eh, 2),
                        eligible_height=round(eh, 2),
                        label=f"{edges[i]:.2f}–{edges[i + 1]:.2f}"))
    threshold = data.get("threshold")
    tx = round(x_of(threshold), 2) if threshold is not None else None
    ticks = [{"x": round(x_of(low + span * k / 4), 2), "label": f"{low + span * k / 4:.2f}"}
             for k in range(5)]
    y_ticks = [{"y": round(base - plot_h * k / 4, 2), "label": int(top * k / 4)}
               for k in range(5)]
    return Histogram(width=WIDTH, height=HEIGHT, bars=bars, threshold_x=tx, threshold=threshold,
                     ticks=ticks, y_ticks=y_ticks, baseline_y=base)


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
                     label_x=(WIDTH - 8) if rtl else 8, bar_height=bar_h)
