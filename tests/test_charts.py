"""The SVG charts of tillit.reports: valid, safe, accessible XML that draws what it is given."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tillit.errors import InvalidInputError
from tillit.reports import (
    Chart,
    FunnelLimits,
    Mark,
    Role,
    Series,
    distribution_chart,
    funnel_chart,
    series_chart,
    sparkline,
)

NS = "{http://www.w3.org/2000/svg}"
HOSTILE = 'Ö<script>alert("x")</script> & "co"\x07'


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def elements(root: ET.Element, tag: str | None = None) -> Iterator[ET.Element]:
    for el in root.iter():
        if tag is None or el.tag == NS + tag:
            yield el


def with_class(root: ET.Element, cls: str) -> list[ET.Element]:
    return [el for el in root.iter() if cls in el.get("class", "").split()]


def texts(root: ET.Element) -> list[str]:
    return ["".join(el.itertext()) for el in elements(root, "text")]


def tick_labels(root: ET.Element) -> list[str]:
    return ["".join(el.itertext()) for el in elements(root, "text") if el.get("font-size") == "12"]


def marks_spread(n_other: int = 20) -> list[Mark]:
    marks = [
        Mark(f"{i:04d}", f"Kommun {i}", 10.0 + i, "other", 1000.0 * (i + 1)) for i in range(n_other)
    ]
    marks += [
        Mark("0114", "Upplands Väsby", 3.0, "peer", 50_000.0),
        Mark("2023", "Malung-Sälen", 40.0, "peer", 10_000.0),
        Mark("1384", "Kungsbacka", 25.5, "focal", 85_000.0),
    ]
    return marks


LIMITS = FunnelLimits(
    sizes=(500.0, 5_000.0, 50_000.0, 500_000.0),
    lower95=(0.0, 10.0, 15.0, 18.0),
    upper95=(40.0, 30.0, 25.0, 22.0),
    lower998=(-10.0, 5.0, 12.0, 17.0),
    upper998=(50.0, 35.0, 28.0, 23.0),
    target=20.0,
)

SERIES = [
    Series("Kungsbacka", (2018, 2019, 2020, 2021), (10.0, 11.5, None, 12.0), "focal"),
    Series("Median, liknande kommuner", (2018, 2019, 2020, 2021), (9.0, 9.5, 10.0, 10.2), "peer"),
    Series("Riket (median)", (2018, 2019, 2020, 2021), (8.0, 8.1, 8.3, 8.2), "national"),
    Series("Trend", (2018, 2021), (10.2, 11.9), "trend"),
]


def all_charts(name: str = "Kungsbacka", chart_prefix: str = "") -> list[Chart]:
    marks = [*marks_spread()[:-1], Mark("1384", name, 25.5, "focal", 85_000.0)]
    return [
        distribution_chart(
            marks, chart_id=chart_prefix + "fordelning", title=name, description=name, unit="%"
        ),
        funnel_chart(
            marks,
            LIMITS,
            chart_id=chart_prefix + "tratt",
            title=name,
            description=name,
            unit="%",
            size_label="Invånare",
        ),
        series_chart(
            [Series(name, (2020, 2021), (1.0, 2.0)), *SERIES[1:]],
            chart_id=chart_prefix + "tidsserie",
            title=name,
            description=name,
            unit="%",
        ),
    ]


def plot_area(root: ET.Element) -> tuple[float, float, float, float]:
    (rect,) = with_class(root, "plot-area")
    x, y = float(rect.get("x", "")), float(rect.get("y", ""))
    return x, y, x + float(rect.get("width", "")), y + float(rect.get("height", ""))


def centre(el: ET.Element) -> tuple[float, float]:
    tag = el.tag.removeprefix(NS)
    if tag == "circle":
        return float(el.get("cx", "")), float(el.get("cy", ""))
    if tag == "rect":
        return (
            float(el.get("x", "")) + float(el.get("width", "")) / 2,
            float(el.get("y", "")) + float(el.get("height", "")) / 2,
        )
    numbers = [float(v) for v in re.findall(r"-?[\d.]+", el.get("d", ""))]
    xs, ys = numbers[0::2], numbers[1::2]
    return (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2


# --- safety and accessibility -------------------------------------------------------------


def test_hostile_names_are_escaped_and_every_chart_parses() -> None:
    for chart in all_charts(HOSTILE):
        root = parse(chart.svg)
        assert "<script" not in chart.svg
        assert "&lt;script&gt;" in chart.svg
        assert "\x07" not in chart.svg
        title = root.find(f"{NS}title")
        assert title is not None
        assert title.text == HOSTILE.replace("\x07", "")
        assert any(HOSTILE.replace("\x07", "") in t for t in texts(root))


def test_swedish_names_survive_unchanged() -> None:
    chart = distribution_chart(marks_spread(), chart_id="f", title="t", description="d", unit="%")
    labels = texts(parse(chart.svg))
    assert "Kungsbacka" in labels
    assert "Upplands Väsby" in labels
    assert "Malung-Sälen" in labels


def test_root_element_names_the_chart_by_its_title_and_description() -> None:
    chart = distribution_chart(
        marks_spread(), chart_id="Fördelning N15419 / 1384", title="T", description="D", unit="%"
    )
    assert chart.chart_id == "fordelning-n15419-1384"
    root = parse(chart.svg)
    assert root.tag == NS + "svg"
    assert root.get("role") == "img"
    assert root.get("width") == "100%"
    assert re.fullmatch(r"0 0 \d+ [\d.]+", root.get("viewBox", ""))
    assert root.get("aria-labelledby") == f"{chart.chart_id}-title {chart.chart_id}-desc"
    assert root.get("font-family") == "system-ui, sans-serif"
    title, desc = root[0], root[1]
    assert (title.tag, title.get("id"), title.text) == (
        NS + "title",
        "fordelning-n15419-1384-title",
        "T",
    )
    assert (desc.tag, desc.get("id"), desc.text) == (
        NS + "desc",
        "fordelning-n15419-1384-desc",
        "D",
    )


@pytest.mark.parametrize("raw", ["", "123", "---", "ÅÄÖ"])
def test_chart_ids_are_xml_names_even_from_odd_input(raw: str) -> None:
    chart = distribution_chart(marks_spread(), chart_id=raw, title="t", description="d", unit="")
    assert re.fullmatch(r"[a-z][a-z0-9-]*", chart.chart_id)
    parse(chart.svg)


def test_two_charts_on_one_page_share_no_id_and_references_resolve_within_each() -> None:
    seen: set[str] = set()
    for chart in [*all_charts(chart_prefix="a-"), *all_charts(chart_prefix="b-")]:
        root = parse(chart.svg)
        ids = {el.get("id", "") for el in root.iter() if el.get("id")}
        assert ids and all(i.startswith(chart.chart_id + "-") for i in ids)
        assert not ids & seen
        seen |= ids
        refs = set(root.get("aria-labelledby", "").split())
        refs |= set(re.findall(r"url\(#([^)]+)\)", chart.svg))
        assert refs <= ids


def test_no_scripts_styles_or_outside_references() -> None:
    for chart in all_charts():
        svg = chart.svg
        for forbidden in ("<script", "<style", "foreignObject", "href", "@import", "<image"):
            assert forbidden not in svg
        assert re.findall(r"https?://[^\"]*", svg) == ["http://www.w3.org/2000/svg"]
        assert all(u.startswith("url(#") for u in re.findall(r"url\([^)]*\)", svg))


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast_on_white(colour: str) -> float:
    return 1.05 / (_luminance(colour) + 0.05)


def test_text_contrast_is_4_5_and_data_graphics_3_on_white() -> None:
    for chart in all_charts():
        root = parse(chart.svg)
        for el in elements(root, "text"):
            assert contrast_on_white(el.get("fill", "#000000")) >= 4.5
        graphics = [
            el
            for el in root.iter()
            if el.get("class", "").split()[:1]
            in (["mark"], ["line"], ["limit"], ["target"], ["median"])
        ]
        assert graphics
        for el in graphics:
            colours = [el.get("fill"), el.get("stroke")]
            drawn = [c for c in colours if c and c not in ("none", "#ffffff")]
            assert drawn
            assert max(contrast_on_white(c) for c in drawn) >= 3


def test_font_sizes_are_at_least_12() -> None:
    for chart in all_charts():
        sizes = re.findall(r'font-size="([\d.]+)"', chart.svg)
        assert sizes and min(float(s) for s in sizes) >= 12


# --- roles: colour never alone ------------------------------------------------------------


def test_each_role_has_its_own_shape_in_distribution_and_funnel() -> None:
    marks = marks_spread(n_other=7)
    limits = LIMITS
    for chart in (
        distribution_chart(marks, chart_id="d", title="t", description="d", unit="%"),
        funnel_chart(
            marks, limits, chart_id="f", title="t", description="d", unit="%", size_label="Invånare"
        ),
    ):
        root = parse(chart.svg)
        shapes = {
            role: sorted({el.tag.removeprefix(NS) for el in with_class(root, f"mark-{role}")})
            for role in ("focal", "peer", "other")
        }
        assert shapes == {"focal": ["path"], "peer": ["rect"], "other": ["circle"]}
        assert len(with_class(root, "mark-other")) == 7
        assert len(with_class(root, "mark-peer")) == 2
        assert len(with_class(root, "mark-focal")) == 1


def test_legend_shows_shape_dash_and_text_for_every_role() -> None:
    dist, funnel, series = all_charts()
    for chart, words in (
        (dist, ["Kungsbacka", "Liknande kommuner", "Övriga kommuner", "Median"]),
        (funnel, ["Kungsbacka", "Målvärde/medel", "95 %-gräns", "99,8 %-gräns"]),
        (series, ["Median, liknande kommuner", "Riket (median)", "Trend"]),
    ):
        (legend,) = with_class(parse(chart.svg), "legend")
        assert all(w in texts(legend) for w in words)
        assert list(elements(legend, "path")) or list(elements(legend, "rect"))
    (legend,) = with_class(parse(series.svg), "legend")
    dashes = [el.get("stroke-dasharray") for el in elements(legend, "line")]
    assert dashes[0] is None and len(set(dashes)) == 4  # solid, dashed, dotted, dash-dot
    legend_shapes = [el.tag.removeprefix(NS) for el in legend if el.tag != NS + "text"]
    assert legend_shapes.count("circle") == 1 and legend_shapes.count("rect") == 1


def test_series_roles_differ_in_dash_and_marker() -> None:
    root = parse(all_charts()[2].svg)
    dash = {
        role: {el.get("stroke-dasharray") for el in with_class(root, f"line-{role}")}
        for role in ("focal", "peer", "national", "trend")
    }
    assert dash["focal"] == {None}
    assert len({next(iter(d)) for d in dash.values()}) == 4
    assert {el.tag.removeprefix(NS) for el in with_class(root, "mark-national")} == {"path"}
    assert with_class(root, "mark-trend") == []


# --- what is drawn ------------------------------------------------------------------------


def test_missing_values_are_skipped_and_never_drawn_at_zero() -> None:
    marks = [
        Mark("1", "A", 10.0),
        Mark("2", "B", 20.0),
        Mark("3", "Saknas", math.nan),
        Mark("4", "Oändlig", math.inf),
        Mark("5", "Inget", None),  # type: ignore[arg-type]
    ]
    root = parse(distribution_chart(marks, chart_id="d", title="t", description="d", unit="").svg)
    assert len(with_class(root, "mark")) == 2
    assert "0" not in tick_labels(root)
    assert not any(
        "Saknas" in t or "Inget" in t for t in map("".join, map(ET.Element.itertext, root.iter()))
    )

    series = [Series("S", (2018, 2019, 2020, 2021, 2022), (10.0, 11.0, None, math.nan, 14.0))]
    root = parse(series_chart(series, chart_id="s", title="t", description="d", unit="").svg)
    assert len(with_class(root, "mark-focal")) == 3
    (line,) = with_class(root, "line-focal")  # 2018–2019 only; 2022 stands alone
    assert line.get("d", "").count("L") == 1
    assert "0" not in tick_labels(root)


def test_a_gap_breaks_the_line_into_two() -> None:
    series = [Series("S", (2018, 2019, 2020, 2021, 2022), (10.0, 11.0, None, 13.0, 14.0), "peer")]
    root = parse(series_chart(series, chart_id="s", title="t", description="d", unit="").svg)
    assert len(with_class(root, "line-peer")) == 2


def test_tick_labels_use_decimal_comma_true_minus_and_narrow_space() -> None:
    marks = [Mark(str(i), f"K{i}", v) for i, v in enumerate([-0.35, 0.1, 0.62])]
    labels = tick_labels(
        parse(distribution_chart(marks, chart_id="d", title="t", description="d", unit="").svg)
    )
    assert "\u22120,2" in labels and "0,4" in labels
    assert not any("-" in label or "." in label for label in labels)
    big = [Mark(str(i), f"K{i}", v) for i, v in enumerate([1_500.0, 24_000.0])]
    labels = tick_labels(
        parse(distribution_chart(big, chart_id="d", title="t", description="d", unit="").svg)
    )
    assert "10\u202f000" in labels and "20\u202f000" in labels


@pytest.mark.parametrize(
    "pair", [(1e15, 1e15 + 0.125), (0.1, 0.1 + 1e-12), (-7.0, -7.0), (0.0, 0.0), (0.0, 5e-324)]
)
def test_ticks_are_distinct_and_ascending_for_nearly_equal_values(
    pair: tuple[float, float],
) -> None:
    marks = [Mark(str(i), f"K{i}", v) for i, v in enumerate(pair)]
    root = parse(distribution_chart(marks, chart_id="d", title="t", description="d", unit="").svg)
    labels = tick_labels(root)
    assert len(labels) >= 2 and len(set(labels)) == len(labels)
    xs = [float(el.get("x", "")) for el in elements(root, "text") if el.get("font-size") == "12"]
    assert xs == sorted(xs)


def test_unit_labels_the_value_axis() -> None:
    dist, funnel, series = all_charts()
    for chart in (dist, funnel, series):
        assert "%" in texts(parse(chart.svg))


def test_log_scale_is_chosen_when_sizes_span_more_than_one_and_a_half_decades() -> None:
    def funnel(sizes: list[float]) -> ET.Element:
        marks = [Mark(str(i), f"K{i}", 20.0 + i, size=s) for i, s in enumerate(sizes)]
        return parse(
            funnel_chart(
                marks,
                LIMITS,
                chart_id="f",
                title="t",
                description="d",
                unit="%",
                size_label="Invånare",
            ).svg
        )

    wide = funnel([2_500.0, 200_000.0])
    assert "Invånare (logaritmisk skala)" in texts(wide)
    assert {"1\u202f000", "10\u202f000", "100\u202f000"} <= set(tick_labels(wide))
    narrow = funnel([2_500.0, 60_000.0])
    assert "Invånare" in texts(narrow)
    assert "100\u202f000" not in tick_labels(narrow)


def test_funnel_skips_marks_without_size_and_draws_limits_and_target() -> None:
    marks = [*marks_spread(), Mark("9999", "Utan storlek", 12.0, "peer", None)]
    root = parse(
        funnel_chart(
            marks, LIMITS, chart_id="f", title="t", description="d", unit="%", size_label="Invånare"
        ).svg
    )
    assert len(with_class(root, "mark-peer")) == 2
    limits = with_class(root, "limit")
    assert len(limits) == 4
    assert {el.get("stroke-dasharray") for el in limits} == {"6 4", "2 3"}
    (target,) = with_class(root, "target")
    assert target.get("stroke-dasharray") is None


def test_funnel_limits_of_different_lengths_are_an_input_error() -> None:
    bad = FunnelLimits((1.0, 2.0), (1.0,), (1.0, 2.0), (1.0, 2.0), (1.0, 2.0), 1.0)
    with pytest.raises(InvalidInputError):
        funnel_chart(
            marks_spread(), bad, chart_id="f", title="t", description="d", unit="", size_label=""
        )
    with pytest.raises(InvalidInputError):
        series_chart(
            [Series("S", (2020, 2021), (1.0,))], chart_id="s", title="t", description="d", unit=""
        )


def test_distribution_median_line_and_better_note() -> None:
    marks = [Mark(str(i), f"K{i}", float(v)) for i, v in enumerate([1, 2, 3, 10])]
    root = parse(
        distribution_chart(
            marks, chart_id="d", title="t", description="d", unit="", better="higher"
        ).svg
    )
    (median,) = with_class(root, "median")
    axis_x = {
        label: float(el.get("x", ""))
        for el in elements(root, "text")
        if el.get("font-size") == "12"
        for label in [el.text]
    }
    # the computed median 2,5 lies between the ticks 2 and 4
    assert axis_x["2"] < float(median.get("x1", "")) < axis_x["4"]
    assert median.get("stroke-dasharray")
    assert [el.text for el in with_class(root, "better")] == ["Bättre →"]
    root = parse(
        distribution_chart(
            marks, chart_id="d", title="t", description="d", unit="", better="lower", median=8.0
        ).svg
    )
    assert [el.text for el in with_class(root, "better")] == ["← Bättre"]
    (median,) = with_class(root, "median")
    assert axis_x["8"] == pytest.approx(float(median.get("x1", "")), abs=0.01)
    root = parse(distribution_chart(marks, chart_id="d", title="t", description="d", unit="").svg)
    assert with_class(root, "better") == []


def _labels(marks: list[Mark]) -> list[str]:
    chart = distribution_chart(marks, chart_id="d", title="t", description="d", unit="")
    return [el.text or "" for el in with_class(parse(chart.svg), "label")]


def test_peers_are_labelled_when_they_fit_and_left_to_the_legend_when_they_crowd() -> None:
    assert sorted(_labels(marks_spread())) == ["Kungsbacka", "Malung-Sälen", "Upplands Väsby"]
    crowded = [Mark(f"o{i}", f"K{i}", float(i)) for i in range(200)]
    crowded += [Mark(f"p{i}", f"Liknande {i}", 100.1 + i * 0.01, "peer") for i in range(6)]
    crowded.append(Mark("1384", "Kungsbacka", 150.0, "focal"))
    assert _labels(crowded) == ["Kungsbacka"]


def test_series_labels_only_years_with_values_without_thousands_space() -> None:
    series = [Series("S", (2015, 2016, 2017, 2020), (1.0, None, 2.0, 3.0))]
    labels = tick_labels(
        parse(series_chart(series, chart_id="s", title="t", description="d", unit="").svg)
    )
    years = [label for label in labels if label.startswith("20")]
    assert years == ["2015", "2017", "2020"]


def test_empty_input_says_there_is_nothing_to_show() -> None:
    charts = [
        distribution_chart([], chart_id="d", title="t", description="d", unit=""),
        distribution_chart(
            [Mark("1", "A", math.nan)], chart_id="d", title="t", description="d", unit=""
        ),
        funnel_chart(
            [Mark("1", "A", 1.0)],
            LIMITS,
            chart_id="f",
            title="t",
            description="d",
            unit="",
            size_label="",
        ),
        series_chart([], chart_id="s", title="t", description="d", unit=""),
        series_chart(
            [Series("S", (2020,), (None,))], chart_id="s", title="t", description="d", unit=""
        ),
    ]
    for chart in charts:
        root = parse(chart.svg)
        assert "Inga värden att visa" in texts(root)
        assert with_class(root, "mark") == []


def test_same_input_gives_the_same_bytes() -> None:
    first = [c.svg for c in all_charts()]
    assert first == [c.svg for c in all_charts()]
    shuffled = list(reversed(marks_spread()))
    assert (
        distribution_chart(
            shuffled, chart_id="fordelning", title="Kungsbacka", description="Kungsbacka", unit="%"
        ).svg
        == first[0]
    )


def test_sparkline_is_a_small_named_image_with_the_last_point_marked() -> None:
    svg = sparkline(
        [2019, 2020, 2021, 2022], [1.0, None, 2.0, 3.0], label='Trend <"Väsby">', chart_id="sp-0114"
    )
    root = parse(svg)
    assert root.get("role") == "img"
    assert root.get("aria-label") == 'Trend <"Väsby">'
    assert root.get("viewBox") == "0 0 120 28"
    (last,) = with_class(root, "last")
    assert float(last.get("cx", "")) > 100
    assert len(list(elements(root, "path"))) == 1  # 2019 stands alone; 2021–2022 is a line
    empty = parse(sparkline([2020], [None], label="X", chart_id="sp"))
    assert empty.get("aria-label") == "X (inga värden)"


# --- geometry property --------------------------------------------------------------------

values = st.floats(min_value=-1e300, max_value=1e300, allow_nan=False, allow_infinity=False)
roles: st.SearchStrategy[Role] = st.sampled_from(["focal", "peer", "other"])


def assert_marks_inside(chart: Chart) -> None:
    root = parse(chart.svg)
    left, top, right, bottom = plot_area(root)
    drawn = with_class(root, "mark")
    assert drawn
    for el in drawn:
        x, y = centre(el)
        assert left <= x <= right and top <= y <= bottom, (x, y, (left, top, right, bottom))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(values, roles), min_size=1, max_size=30), st.booleans())
@example([(0.0, "other"), (5e-324, "focal")], False)
@example([(-1e300, "other"), (1e300, "peer")], False)
def test_every_mark_lies_inside_the_plot_area_in_distributions(
    data: list[tuple[float, Role]], all_equal: bool
) -> None:
    marks = [
        Mark(str(i), f"K{i}", data[0][0] if all_equal else v, r) for i, (v, r) in enumerate(data)
    ]
    assert_marks_inside(
        distribution_chart(marks, chart_id="d", title="t", description="d", unit="")
    )


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(values, st.floats(min_value=1e-3, max_value=1e12), roles), min_size=1, max_size=30
    )
)
def test_every_mark_lies_inside_the_plot_area_in_funnels(
    data: list[tuple[float, float, Role]],
) -> None:
    marks = [Mark(str(i), f"K{i}", v, r, s) for i, (v, s, r) in enumerate(data)]
    assert_marks_inside(
        funnel_chart(
            marks, LIMITS, chart_id="f", title="t", description="d", unit="", size_label=""
        )
    )


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(st.integers(1990, 2030), st.one_of(st.none(), values), min_size=1, max_size=20)
)
def test_every_mark_lies_inside_the_plot_area_in_series(data: dict[int, float | None]) -> None:
    years = tuple(sorted(data))
    series = Series("S", years, tuple(data[y] for y in years))
    chart = series_chart([series], chart_id="s", title="t", description="d", unit="")
    if all(v is None for v in data.values()):
        assert "Inga värden att visa" in chart.svg
    else:
        assert_marks_inside(chart)
