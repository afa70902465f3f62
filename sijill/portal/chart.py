"""Geometry of the index explanation chart: diverging horizontal bars, server-rendered SVG.

Each row: the variable's label on one line, then a bar from the middle axis, towards the
inline end for what raised the index and the inline start for what lowered it (mirrored for
right-to-left pages), with its signed value written at the bar's tip: the direction is said
by position, sign and text, never by colour alone."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

WIDTH = 640
ROW = 46
BAR = 16
PAD = 8
VALUE_ROOM = 64


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    magnitude: float
    raised: bool
    label_x: float
    label_y: float
    x: float
    y: float
    width: float
    value_x: float
    value_y: float
    value_anchor: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    axis_x: float
    bars: list[Bar]
    rtl: bool


def chart_build(items: list[dict[str, Any]], *, rtl: bool) -> Chart:
    """`items`: {"label", "contribution"}; drawn largest effect first."""
    rows = sorted(items, key=lambda i: -abs(i["contribution"]))
    axis = WIDTH / 2
    span = axis - VALUE_ROOM - PAD
    biggest = max((abs(i["contribution"]) for i in rows), default=0.0) or 1.0
    bars = []
    for n, item in enumerate(rows):
        value = float(item["contribution"])
        length = max(abs(value) / biggest * span, 1.5)
        raised = value > 0
        towards_right = raised != rtl  # LTR: raised to the right; RTL: mirrored
        top = n * ROW
        bar_y = top + 22
        x = axis if towards_right else axis - length
        tip = axis + length if towards_right else axis - length
        bars.append(Bar(
            label=item["label"], value=value, magnitude=abs(value), raised=raised,
            label_x=(WIDTH - PAD) if rtl else PAD, label_y=top + 15,
            x=round(x, 1), y=bar_y, width=round(length, 1),
            value_x=round(tip + (4 if towards_right else -4), 1), value_y=bar_y + BAR - 3,
            value_anchor="start" if towards_right else "end"))
    return Chart(width=WIDTH, height=max(len(rows), 1) * ROW + 4, axis_x=axis, bars=bars,
                 rtl=rtl)
