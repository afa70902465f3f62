"""Geometry of the index explanation chart: one diverging bar per characteristic.

Each row of the chart is HTML (the characteristic's label, which wraps on a narrow phone, and
its signed value as text) plus a small inline SVG bar drawn from a middle axis: towards the
inline end for what raised the index, towards the inline start for what lowered it (mirrored on
right-to-left pages). Direction is said by position, sign and words, never by colour alone."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

WIDTH = 200  # viewBox units; the SVG stretches to the row's width
HEIGHT = 14
AXIS = WIDTH / 2


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    magnitude: float
    raised: bool
    x: float
    width: float


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
    biggest = max((abs(i["contribution"]) for i in rows), default=0.0) or 1.0
    bars = []
    for item in rows:
        value = float(item["contribution"])
        length = max(abs(value) / biggest * (AXIS - 2), 1.0)
        raised = value > 0
        towards_right = raised != rtl  # LTR: raised to the right; RTL: mirrored
        x = AXIS if towards_right else AXIS - length
        bars.append(Bar(label=item["label"], value=value, magnitude=abs(value), raised=raised,
                        x=round(x, 2), width=round(length, 2)))
    return Chart(width=WIDTH, height=HEIGHT, axis_x=AXIS, bars=bars, rtl=rtl)
