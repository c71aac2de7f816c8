"""The synthetic-control charts: the treated unit against its synthetic control, and the gap
against the placebo gaps, as valid, safe, accessible SVG that draws what it is given."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.test_charts import (
    HOSTILE,
    NS,
    assert_marks_inside,
    contrast_on_white,
    elements,
    parse,
    plot_area,
    texts,
    with_class,
)
from tillit.errors import InvalidInputError
from tillit.reports import Chart, gap_chart, synth_chart

TIMES = tuple(range(2010, 2022))
TREATED = (10.0, 10.5, 11.0, 11.2, 11.8, 12.0, 12.4, 13.5, 14.2, None, 15.0, 15.8)
SYNTHETIC = (10.1, 10.4, 11.1, 11.3, 11.7, 12.1, 12.3, 12.6, 12.9, 13.1, 13.4, 13.7)
GAPS = tuple(None if t is None else t - s for t, s in zip(TREATED, SYNTHETIC, strict=True))
PLACEBOS = (
    ("Varberg", tuple(0.2 * math.sin(i) for i in range(len(TIMES)))),
    ("Falkenberg", tuple(-0.3 + 0.05 * i for i in range(len(TIMES)))),
    ("Halmstad", (None, None, 0.1, 0.2, 0.1, 0.0, -0.1, 0.3, 0.2, 0.1, 0.4, 0.5)),
)


def charts(name: str = "Kungsbacka", prefix: str = "") -> tuple[Chart, Chart]:
    synth = synth_chart(
        TIMES,
        TREATED,
        SYNTHETIC,
        start=2017,
        chart_id=prefix + "syntes",
        title=f"{name} och dess syntetiska kontroll",
        description=f"{name} följde sin syntetiska kontroll före starten.",
        unit="andel (%)",
        treated_label=name,
    )
    gap = gap_chart(
        TIMES,
        GAPS,
        PLACEBOS,
        start=2017,
        chart_id=prefix + "skillnad",
        title=f"Skillnad mellan {name} och den syntetiska kontrollen",
        description="Skillnaden efter starten är större än för de flesta placebon.",
        unit="procentenheter",
        gap_label=name,
    )
    return synth, gap


def x_of(el_d: str) -> list[float]:
    numbers = [float(v) for v in re.findall(r"-?[\d.]+", el_d)]
    return numbers[0::2]


def test_both_charts_parse_and_name_themselves_by_title_and_description() -> None:
    for chart in charts():
        root = parse(chart.svg)
        assert root.get("role") == "img"
        title_id, desc_id = root.get("aria-labelledby", "").split()
        desc = root.find(f"{NS}desc")
        assert root.find(f"{NS}title") is not None and desc is not None
        assert title_id == f"{chart.chart_id}-title" and desc_id == f"{chart.chart_id}-desc"
        assert "".join(desc.itertext()) == chart.description


def test_hostile_names_are_escaped_and_nothing_outside_is_referenced() -> None:
    for chart in charts(HOSTILE, prefix="x"):
        root = parse(chart.svg)
        assert "<script" not in chart.svg
        assert HOSTILE.replace("\x07", "") in texts(root)
        for forbidden in ("<style", "foreignObject", "href", "<image"):
            assert forbidden not in chart.svg
        assert re.findall(r"https?://[^\"]*", chart.svg) == ["http://www.w3.org/2000/svg"]
    gap = gap_chart(
        TIMES,
        GAPS,
        [(HOSTILE, GAPS)],
        start=2017,
        chart_id="g",
        title="t",
        description="d",
        unit="",
    )
    assert parse(gap.svg) is not None


def test_legend_names_the_municipality_the_synthetic_control_and_the_start_in_swedish() -> None:
    synth, gap = charts()
    (legend,) = with_class(parse(synth.svg), "legend")
    assert texts(legend) == ["Kungsbacka", "Syntetisk kontroll", "Start 2017"]
    (legend,) = with_class(parse(gap.svg), "legend")
    assert texts(legend) == ["Kungsbacka", "Placebo: varje jämförbar kommun", "Start 2017"]
    default = synth_chart(
        TIMES, TREATED, SYNTHETIC, start=2017, chart_id="s", title="t", description="d", unit=""
    )
    (legend,) = with_class(parse(default.svg), "legend")
    assert texts(legend)[0] == "Kommunen"


def test_treated_and_synthetic_differ_in_dash_and_marker_not_only_colour() -> None:
    root = parse(charts()[0].svg)
    treated = with_class(root, "line-treated")
    synthetic = with_class(root, "line-synthetic")
    assert {el.get("stroke-dasharray") for el in treated} == {None}
    assert {el.get("stroke-dasharray") for el in synthetic} == {"7 4"}
    assert {el.tag.removeprefix(NS) for el in with_class(root, "mark-treated")} == {"circle"}
    assert {el.tag.removeprefix(NS) for el in with_class(root, "mark-synthetic")} == {"rect"}
    # 2019 is missing for the municipality: no mark there, and the line breaks in two
    assert len(with_class(root, "mark-treated")) == len(TIMES) - 1
    assert len(with_class(root, "mark-synthetic")) == len(TIMES)
    assert len(treated) == 2 and len(synthetic) == 1


def test_start_is_a_vertical_line_between_the_last_year_before_and_the_first_year_with() -> None:
    for chart in charts():
        root = parse(chart.svg)
        (start,) = with_class(root, "start")
        x = float(start.get("x1", ""))
        assert x == float(start.get("x2", ""))
        assert start.get("stroke-dasharray")
        marks = with_class(root, "mark-treated") + with_class(root, "mark-gap")
        tips = {"".join(m.itertext()).split(":")[0].rsplit(" ", 1)[-1]: m for m in marks}
        before, after = float(tips["2016"].get("cx", "")), float(tips["2017"].get("cx", ""))
        assert before < x < after
        assert abs(x - (before + after) / 2) < 0.02
        (label,) = with_class(root, "start-label")
        assert "".join(label.itertext()) == "Start 2017"


def test_gap_chart_draws_every_placebo_thin_and_grey_behind_the_treated_gap() -> None:
    root = parse(charts()[1].svg)
    placebos = with_class(root, "line-placebo")
    assert len(placebos) == len(PLACEBOS)
    assert {el.get("stroke") for el in placebos} == {"#8A8A8A"}
    (group,) = with_class(root, "placebos")
    assert group.get("stroke-width") == "1"
    assert ["".join(p.itertext()) for p in placebos] == ["Varberg", "Falkenberg", "Halmstad"]
    assert with_class(root, "mark-placebo") == []
    # drawn first, so the municipality's line lies on top
    order = [el for el in root.iter() if el.get("class", "").startswith(("line-", "line "))]
    assert order[-1].get("class") == "line line-gap"
    # Halmstad has no values for the first two years: its line starts at 2012
    halmstad = placebos[2]
    assert min(x_of(halmstad.get("d", ""))) > min(x_of(placebos[0].get("d", "")))


def test_gap_chart_has_a_zero_line_even_when_every_gap_is_positive() -> None:
    gaps = (1.0, 2.0, 3.0, 4.0, 5.0, 6.0)
    chart = gap_chart(
        range(2015, 2021),
        gaps,
        [],
        start=2018,
        chart_id="g",
        title="t",
        description="d",
        unit="",
    )
    root = parse(chart.svg)
    (zero,) = with_class(root, "zero")
    _left, top, _right, bottom = plot_area(root)
    y = float(zero.get("y1", ""))
    assert top <= y <= bottom
    marks = with_class(root, "mark-gap")
    lowest = max(float(m.get("cy", "")) for m in marks)
    assert y > lowest  # zero lies below the smallest gap (1.0)
    assert "Placebo: varje jämförbar kommun" not in texts(root)


def test_placebo_values_outside_the_treated_years_do_not_stretch_the_axes() -> None:
    wild = (("Utanför", (1000.0, *([0.0] * (len(TIMES) - 1)))),)
    gaps = (None, *GAPS[1:])
    chart = gap_chart(
        TIMES, gaps, wild, start=2017, chart_id="g", title="t", description="d", unit=""
    )
    labels = [t for t in texts(parse(chart.svg)) if t.replace("\u2212", "").isdigit()]
    assert "1000" not in labels and "1 000" not in labels


def test_missing_values_are_never_drawn_at_zero() -> None:
    root = parse(charts()[0].svg)
    tips = ["".join(m.itertext()) for m in with_class(root, "mark-treated")]
    assert not any("2019" in t for t in tips)


def test_lengths_that_differ_are_an_input_error() -> None:
    with pytest.raises(InvalidInputError):
        synth_chart(
            TIMES,
            TREATED[:-1],
            SYNTHETIC,
            start=2017,
            chart_id="s",
            title="",
            description="",
            unit="",
        )
    with pytest.raises(InvalidInputError):
        gap_chart(
            TIMES,
            GAPS,
            [("Kort", (1.0,))],
            start=2017,
            chart_id="g",
            title="",
            description="",
            unit="",
        )


def test_nothing_to_draw_says_so() -> None:
    chart = synth_chart(
        (2020, 2021),
        (None, None),
        (1.0, 2.0),
        start=2021,
        chart_id="s",
        title="t",
        description="d",
        unit="",
    )
    # the synthetic control alone is still drawn
    assert with_class(parse(chart.svg), "mark-synthetic")
    empty = gap_chart(
        (2020,),
        (math.nan,),
        [("A", (1.0,))],
        start=2021,
        chart_id="g",
        title="t",
        description="d",
        unit="",
    )
    assert "Inga värden att visa" in texts(parse(empty.svg))


def test_contrast_font_sizes_and_determinism() -> None:
    first = charts()
    assert [c.svg for c in first] == [c.svg for c in charts()]
    for chart in first:
        root = parse(chart.svg)
        for el in elements(root, "text"):
            assert contrast_on_white(el.get("fill", "#000000")) >= 4.5
        for el in with_class(root, "line") + with_class(root, "mark") + with_class(root, "start"):
            assert contrast_on_white(el.get("stroke") or el.get("fill") or "") >= 3
        sizes = re.findall(r'font-size="([\d.]+)"', chart.svg)
        assert min(float(s) for s in sizes) >= 12


values = st.floats(min_value=-1e300, max_value=1e300, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(st.integers(1990, 2030), st.one_of(st.none(), values), min_size=1, max_size=20),
    st.integers(1990, 2031),
)
def test_every_mark_lies_inside_the_plot_area(data: dict[int, float | None], start: int) -> None:
    times = tuple(sorted(data))
    gaps = tuple(data[t] for t in times)
    placebo = tuple(None if v is None else -v / 2 for v in gaps)
    for chart in (
        gap_chart(
            times,
            gaps,
            [("P", placebo)],
            start=start,
            chart_id="g",
            title="t",
            description="d",
            unit="",
        ),
        synth_chart(
            times, gaps, placebo, start=start, chart_id="s", title="t", description="d", unit=""
        ),
    ):
        if all(v is None for v in gaps):
            continue
        assert_marks_inside(chart)
        root = parse(chart.svg)
        left, _top, right, _bottom = plot_area(root)
        (line,) = with_class(root, "start")
        assert left <= float(line.get("x1", "")) <= right
