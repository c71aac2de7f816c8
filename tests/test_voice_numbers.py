"""The one voice's numbers (tillit.swedish): properties that hold for every value Hypothesis
can think of, and the cases the issue named ("0,01 mot 0,01", "-0,00 per år", "21 122,0 kr")."""

from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_UP, Context, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tillit.swedish import (
    GROUP,
    MINUS,
    count,
    count_of,
    decimals_for,
    difference,
    interval,
    kpi_label,
    kpi_unit,
    money,
    number,
    p_value,
    per_year,
    percent,
    plural,
    share,
    side_by_side,
    with_unit,
)

finite = st.floats(allow_nan=False, allow_infinity=False)
# The sizes Kolada's values have: from a thousandth of a per cent to billions of kronor.
kpi_values = st.floats(min_value=-1e10, max_value=1e10, allow_nan=False).filter(
    lambda x: x == 0 or abs(x) >= 1e-6
)

SHAPE = re.compile(r"^[−+]?\d{1,3}(\u202f\d{3})*(,\d+)?$")


def parse(text: str) -> float:
    """Read a number back the way a person would: drop the groups, comma → point."""
    return float(text.replace(GROUP, "").replace(",", ".").replace(MINUS, "-"))


@given(finite, st.integers(min_value=0, max_value=6))
def test_a_number_has_one_shape_and_reads_back_to_itself(x: float, decimals: int) -> None:
    text = number(x, decimals)
    assert SHAPE.match(text), text
    assert "-" not in text  # the minus sign, never the hyphen
    assert (decimals == 0) == ("," not in text)
    assert parse(text) == pytest.approx(x, abs=0.5 * 10**-decimals * 1.000001, rel=1e-15)


@given(finite)
def test_the_default_decimals_read_back_closely(x: float) -> None:
    text = number(x)
    assert SHAPE.match(text), text
    if x != 0 and abs(x) < 100 and not x.is_integer():
        # two significant digits at least
        assert parse(text) == pytest.approx(x, rel=0.05)
    assert parse(text) == pytest.approx(x, abs=0.5000001)


@given(finite, st.integers(min_value=0, max_value=4))
def test_a_minus_sign_only_on_what_reads_below_zero(x: float, decimals: int) -> None:
    text = number(x, decimals)
    assert text.startswith(MINUS) == (x < 0 and parse(text) != 0)
    assert not re.search(r"[−-]0(,0*)?$", text)  # never "−0" or "-0,00"


@given(st.lists(finite, min_size=2, max_size=6), st.integers(min_value=0, max_value=3))
def test_side_by_side_never_shows_two_different_values_as_the_same(
    values: list[float], decimals: int
) -> None:
    texts = side_by_side(values, decimals)
    for a, ta in zip(values, texts, strict=True):
        for b, tb in zip(values, texts, strict=True):
            assert (a == b) == (ta == tb), (a, b, ta, tb)
    assert len({t.count(",") and len(t.split(",")[1]) for t in texts}) == 1  # one set of decimals


@given(finite, finite)
def test_an_interval_keeps_its_ends_apart(lo: float, hi: float) -> None:
    text = interval(lo, hi, "%")
    a, b = text.removesuffix("\u00a0%").split(" till ")
    assert (a == b) == (lo == hi)


@given(kpi_values, st.integers(min_value=0, max_value=3))
def test_a_difference_is_never_rounded_away(d: float, decimals: int) -> None:
    text = difference(d, decimals)
    if d == 0:
        assert text == "0"
    else:
        assert text[0] == ("+" if d > 0 else MINUS)
        assert parse(text) != 0
        assert math.copysign(1, parse(text)) == math.copysign(1, d)
    assert "-" not in text


@given(kpi_values)
def test_a_change_per_year_is_never_minus_zero(slope: float) -> None:
    text = per_year(slope, "%", 2)
    assert text.endswith(" per år")
    assert not re.search(r"[−-]0(,0*)?\s", text)
    assert "procentenheter" in text  # a change of a percentage is in percentage points


def test_the_cases_the_issue_named() -> None:
    assert side_by_side((0.0123, 0.0138), 2) == ("0,012", "0,014")
    assert per_year(-0.0031, "", 2) == "−0,003 per år"
    assert per_year(-0.0031) == "−0,0031 per år"
    assert per_year(0.0) == "0 per år"
    assert money(21122.0) == "21\u202f122\u00a0kr"
    assert money(12.5) == "12,5\u00a0kr"
    assert number(-1234567.891) == "−1\u202f234\u202f568"
    assert number(31.34) == "31,3"
    assert number(None) == number(float("nan")) == "–"
    assert percent(12.5) == "12,5\u00a0%"
    assert share(0.125) == "13\u00a0%"
    assert interval(-1.23, 3.4) == "−1,2 till 3,4"
    assert decimals_for([1.0, 2.0, 300.0]) == 0
    assert decimals_for([0.5, 0.25]) == 2
    assert decimals_for([0.0123]) == 3


@pytest.mark.parametrize(
    ("title", "unit"),
    [
        ("Elever i åk 9, andel (%)", "%"),
        ("Kostnad grundskola, kr/inv", "kr/inv"),
        ("Anmälda brott, antal/1000 inv", "per 1\u202f000 inv"),
        ("Dödsfall, antal/100 000 invånare", "per 100\u202f000 invånare"),
        ("Väntetid, antal dagar", "dagar"),
        ("Invånare totalt, antal", ""),
        ("Nöjd medborgar-index, index", ""),
        ("Behörighet, andel (%) (-2024)", "%"),
        ("Utan komma", ""),
    ],
)
def test_the_kpis_unit_from_its_title(title: str, unit: str) -> None:
    assert kpi_unit(title) == unit


def test_with_unit_writes_kronor_whole_and_keeps_unitless_values_bare() -> None:
    assert with_unit(21122.04, "kr/inv") == "21\u202f122\u00a0kr/inv"
    assert with_unit(31.34, "%") == "31,3\u00a0%"
    assert with_unit(3.25, "") == "3,3"


@pytest.mark.parametrize(
    ("n", "noun", "expected"),
    [
        (1, "gott exempel", "1 gott exempel"),
        (2, "gott exempel", "2 goda exempel"),
        (0, "gott exempel", "0 goda exempel"),
        (1, "kommun", "1 kommun"),
        (290, "kommun", "290 kommuner"),
        (1, "träff", "1 träff"),
        (1234, "värde", "1\u202f234 värden"),
        (1, "nyckeltal", "1 nyckeltal"),
    ],
)
def test_plural_forms(n: int, noun: str, expected: str) -> None:
    assert count(n, noun) == expected


@given(st.integers(min_value=0, max_value=10**7), st.sampled_from(["kommun", "träff", "text"]))
def test_singular_exactly_for_one(n: int, noun: str) -> None:
    text = count(n, noun)
    assert text.endswith(" " + (noun if n == 1 else plural(noun)))
    assert parse(text.split(" ")[0]) == n


def test_part_of_a_whole_agrees_with_the_whole() -> None:
    assert count_of(1, 1, "träff") == "1 av 1 träff"
    assert count_of(20, 181, "träff") == "20 av 181 träffar"


def test_a_kpi_is_named_by_its_title() -> None:
    assert kpi_label("N01951", "Invånare totalt, antal") == "Invånare totalt, antal (N01951)"
    assert kpi_label("N01951", None) == "N01951"


@given(st.floats(min_value=1e-12, max_value=0.999))
def test_a_p_value_has_three_significant_digits(p: float) -> None:
    text = p_value(p)
    digits = text.replace(",", "").lstrip("0")
    assert len(digits) == 3, text
    assert parse(text) == pytest.approx(p, rel=0.006)


def test_p_values_either_side_of_a_threshold_read_differently() -> None:
    assert (p_value(0.0499), p_value(0.05)) == ("0,0499", "0,0500")
    assert p_value(0.0588) == "0,0588" and p_value(None) == "–"


def _by_decimal(x: float, decimals: int) -> str:
    exact = Decimal(abs(x)).quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP, Context(prec=999))
    return f"{exact:,f}".replace(",", GROUP).replace(".", ",")


@given(finite, st.integers(min_value=0, max_value=8))
def test_half_rounds_away_from_zero_on_the_exact_value(x: float, decimals: int) -> None:
    assert number(abs(x), decimals) == _by_decimal(x, decimals)


@given(st.integers(min_value=-(10**9), max_value=10**9), st.integers(min_value=0, max_value=6))
def test_a_true_half_rounds_up(n: int, decimals: int) -> None:
    # n + 0.5 in units of the last decimal, exact in binary when it is a multiple of 1/2**k
    x = (2 * n + 1) / 2 / 10**decimals
    if Decimal(x) == (Decimal(2 * n + 1) / 2).scaleb(-decimals):
        assert number(abs(x), decimals) == _by_decimal(x, decimals)


def test_ties_and_near_ties() -> None:
    assert (number(0.125, 2), number(12.5, 0), number(2.675, 2)) == ("0,13", "13", "2,67")
