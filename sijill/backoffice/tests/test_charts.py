"""Chart geometry: bars where their values are, the threshold where it falls, mirrored for
right-to-left pages, axis tops in whole steps; and no localised number inside the SVG."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from sijill.backoffice import charts

DATA = {"edges": [8.0, 9.0, 10.0, 11.0, 12.0], "households": [2, 5, 3, 0],
        "eligible": [2, 1, 0, 0], "threshold": 9.25}


def test_the_threshold_falls_inside_its_bin_and_the_axis_mirrors_in_rtl():
    ltr = charts.histogram(DATA)
    rtl = charts.histogram(DATA, rtl=True)
    assert ltr.bars[1].x < ltr.threshold_x < ltr.bars[2].x
    assert rtl.bars[1].x < rtl.threshold_x < rtl.bars[1].x + rtl.bars[1].width
    assert rtl.bars[2].x < rtl.bars[1].x  # high values on the left
    assert ltr.bars[0].x < ltr.bars[3].x and rtl.bars[0].x > rtl.bars[3].x
    assert ltr.bars[1].height > ltr.bars[2].height > 0 and ltr.bars[3].height == 0
    assert ltr.bars[0].eligible_height == ltr.bars[0].height


def test_count_axes_end_on_whole_steps():
    assert [charts._nice_top(v) for v in (0, 3, 5, 9, 41, 1234)] == [4, 4, 8, 20, 80, 2000]
    assert [t["label"] for t in charts.histogram(DATA).y_ticks] == [0, 2, 4, 6, 8]


def test_no_histogram_without_data():
    assert charts.histogram({"edges": [], "households": []}) is None
    assert charts.hbars([]) is None


@pytest.mark.parametrize("language", ["ar", "fr"])
def test_svg_coordinates_are_not_localised(language):
    with translation.override(language):
        svg = render_to_string("backoffice/_histogram.html",
                               {"chart": charts.histogram(DATA, rtl=language == "ar"),
                                "title": "t"})
    coordinates = [part.split('"')[1] for part in svg.split(' x="')[1:]]
    assert coordinates and all("," not in c for c in coordinates)
    assert "9,2500" in svg  # the threshold's label is written in the locale


def test_an_index_is_rounded_to_its_decimals_not_cut_off() -> None:
    from django.utils import translation

    from sijill.backoffice.templatetags.bo import num

    with translation.override("en"):
        assert num(13.1260544, 4) == "13.1261"  # the figure the notice gives
        assert num(9.3264284, 4) == "9.3264"
    with translation.override("fr"):
        assert num(11.38918, 4) == "11,3892"
