"""The fast (pyarrow) page parser agrees with the exact validator, and falls back to it."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tillit.errors import KoladaPayloadError
from tillit.sources.kolada import parse_data_page, parse_envelope, parse_values
from tillit.sources.kolada._pages import _exact, _fast


def page(rows: list[dict[str, Any]], next_url: str | None = "http://x/v3/next") -> bytes:
    return orjson.dumps({"count": len(rows), "values": rows, "next_url": next_url})


def row(
    kpi: str = "N00945", muni: Any = "0180", period: Any = 2020, values: Any = None
) -> dict[str, Any]:
    return {
        "kpi": kpi,
        "municipality": muni,
        "period": period,
        "values": values
        if values is not None
        else [
            {"gender": "T", "count": 1, "status": "", "value": 31.3},
            {"gender": "K", "count": 0, "status": "Saknas", "value": None},
        ],
    }


def test_fast_and_exact_agree_on_an_ordinary_page() -> None:
    body = page([row(), row(muni="1480", period=2021)])
    fast = _fast(body, "municipality")
    assert fast is not None
    assert fast[0].to_pylist() == _exact(body, "u", "municipality")[0].to_pylist()
    assert fast[1] == "http://x/v3/next"
    assert fast[0].to_pylist()[1] == {
        "kpi": "N00945",
        "unit": "0180",
        "period": 2020,
        "gender": "K",
        "value": None,
        "count": 0,
        "status": "Saknas",
        "deleted": False,
    }


@pytest.mark.parametrize(
    ("body_row", "why"),
    [
        (row(muni=180), "a municipality code sent as a number is padded back to 0180"),
        (row(period="2020"), "a year sent as text"),
    ],
)
def test_lenient_cases_go_to_the_exact_validator(body_row: dict[str, Any], why: str) -> None:
    body = page([body_row])
    assert _fast(body, "municipality") is None, why
    table, _ = parse_data_page(body, "u")
    assert table.column("unit").to_pylist()[0] == "0180"
    assert table.column("period").to_pylist()[0] == 2020


@pytest.mark.parametrize(
    ("body_row", "field"),
    [
        (row(period="twenty"), "values[0].period"),
        (row(period="²⁰²⁰"), "values[0].period"),  # str.isdigit() takes superscripts
        (row(muni="¹⁴⁸⁰"), "values[0].municipality"),
        (row(muni="01800"), "values[0].municipality"),
        (row(values=[{"gender": "X", "value": 1.0}]), "values[0].values[0].gender"),
        (row(values=[{"gender": "T", "value": "mycket"}]), "values[0].values[0].value"),
        (row(kpi=""), "values[0].kpi"),
    ],
)
def test_malformed_pages_name_the_field(body_row: dict[str, Any], field: str) -> None:
    with pytest.raises(KoladaPayloadError) as info:
        parse_data_page(page([body_row]), "http://x/v3/data/kpi/N00945")
    assert info.value.field == field and info.value.url == "http://x/v3/data/kpi/N00945"


def test_count_must_match_the_rows_on_the_page() -> None:
    body = orjson.dumps({"count": 5, "values": [row()], "next_url": ""})
    with pytest.raises(KoladaPayloadError) as info:
        parse_data_page(body, "u")
    assert info.value.field == "count"


def test_a_deleted_row_removes_every_gender() -> None:
    body = page(
        [
            {
                "kpi": "N00945",
                "municipality": "0180",
                "period": 2020,
                "isdeleted": True,
                "values": [],
            }
        ],
        next_url=None,
    )
    table, next_url = parse_data_page(body, "u")
    assert next_url is None
    assert sorted(table.column("gender").to_pylist()) == ["K", "M", "T"]
    assert all(table.column("deleted").to_pylist())


values_strategy = st.lists(
    st.fixed_dictionaries(
        {
            "gender": st.sampled_from(["T", "K", "M"]),
            "count": st.one_of(st.none(), st.integers(0, 10)),
            "status": st.one_of(st.none(), st.sampled_from(["", "Saknas", "Prel"])),
            "value": st.one_of(
                st.none(), st.floats(allow_nan=False, allow_infinity=False, width=64)
            ),
        }
    ),
    max_size=3,
)
rows_strategy = st.lists(
    st.builds(
        row,
        kpi=st.sampled_from(["N00945", "U28116"]),
        muni=st.sampled_from(["0180", "0114", "2584"]),
        period=st.integers(1990, 2030),
        values=values_strategy,
    ),
    max_size=20,
)


@settings(max_examples=150, deadline=None)
@given(rows_strategy)
def test_fast_parser_matches_the_exact_validator_on_any_valid_page(
    rows: list[dict[str, Any]],
) -> None:
    body = page(rows)
    exact_rows, _ = parse_envelope(orjson.loads(body), "u")
    expected = parse_values(exact_rows, "u")
    table, _ = parse_data_page(body, "u")
    assert table.column("kpi").to_pylist() == expected.kpi
    assert table.column("unit").to_pylist() == expected.unit
    assert table.column("period").to_pylist() == expected.period
    assert table.column("gender").to_pylist() == expected.gender
    assert table.column("value").to_pylist() == expected.value
    assert table.column("count").to_pylist() == expected.count
    assert table.column("status").to_pylist() == expected.status
