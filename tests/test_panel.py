"""The KPI × municipality × year cube the analyses read (tillit.analyses.Panel)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from tillit.analyses import Panel
from tillit.errors import InvalidInputError, NoDataError, NotFoundError


def _frame(rows: list[tuple[str, str, int, float]]) -> pa.Table:
    kpi, municipality, period, value = zip(*rows, strict=True)
    return pa.table(
        {
            "kpi": list(kpi),
            "municipality": list(municipality),
            "period": pa.array(period, pa.int16()),
            "value": list(value),
        }
    )


ROWS = [
    ("N2", "0180", 2018, 1.0),
    ("N2", "0180", 2021, 4.0),  # 2019 and 2020 missing
    ("N1", "1384", 2019, 10.0),
    ("N1", "0180", 2020, 20.0),
    ("N1", "1384", 2021, 30.0),
]


def test_gaps_stay_nan_and_are_never_closed_up() -> None:
    panel = Panel.from_frame(_frame(ROWS))
    assert panel.kpis == ("N1", "N2")
    assert panel.municipalities == ("0180", "1384")
    assert panel.years == (2018, 2019, 2020, 2021)
    series = panel.values[panel.kpi_index("N2"), panel.municipality_index("0180")]
    np.testing.assert_array_equal(series, [1.0, np.nan, np.nan, 4.0])
    assert np.isnan(panel.values[panel.kpi_index("N2"), panel.municipality_index("1384")]).all()
    assert int((~np.isnan(panel.values)).sum()) == len(ROWS)


def test_from_frame_and_from_codes_build_the_same_cube() -> None:
    kpis, municipalities = ("N1", "N2"), ("0180", "1384")
    by_name = Panel.from_frame(_frame(ROWS), kpis=kpis, municipalities=municipalities)
    codes = pa.table(
        {
            "kpi_index": pa.array([kpis.index(r[0]) for r in ROWS], pa.int32()),
            "municipality_index": pa.array([municipalities.index(r[1]) for r in ROWS], pa.int32()),
            "period": pa.array([r[2] for r in ROWS], pa.int16()),
            "value": [r[3] for r in ROWS],
        }
    )
    by_code = Panel.from_codes(kpis, municipalities, codes)
    assert (by_code.kpis, by_code.municipalities, by_code.years) == (
        by_name.kpis,
        by_name.municipalities,
        by_name.years,
    )
    np.testing.assert_array_equal(by_code.values, by_name.values)


def test_rows_outside_the_axes_are_ignored() -> None:
    rows = [
        *ROWS,
        ("N9", "0180", 2020, 99.0),
        ("N1", "9999", 2020, 99.0),
        ("N1", "0180", 2030, 99.0),
    ]
    panel = Panel.from_frame(
        _frame(rows), kpis=["N1", "N2"], municipalities=["0180", "1384"], years=range(2018, 2022)
    )
    reference = Panel.from_frame(_frame(ROWS))
    np.testing.assert_array_equal(panel.values, reference.values)
    assert 99.0 not in panel.values


def test_from_codes_ignores_years_and_positions_outside_the_cube() -> None:
    codes = pa.table(
        {
            "kpi_index": pa.array([0, 0, 1, 5], pa.int32()),
            "municipality_index": pa.array([0, 3, 0, 0], pa.int32()),
            "period": pa.array([2020, 2020, 2016, 2021], pa.int16()),
            "value": [1.0, 2.0, 3.0, 4.0],
        }
    )
    panel = Panel.from_codes(("A", "B"), ("0180", "1384"), codes, years=[2019, 2020, 2021])
    assert panel.years == (2019, 2020, 2021)
    assert panel.values.shape == (2, 2, 3)
    assert int((~np.isnan(panel.values)).sum()) == 1
    assert panel.values[0, 0, 1] == 1.0


def test_explicit_years_keep_trailing_empty_years() -> None:
    panel = Panel.from_frame(_frame(ROWS), years=range(2017, 2024))
    assert panel.years == tuple(range(2017, 2024))
    assert np.isnan(panel.values[:, :, [0, -2, -1]]).all()
    # The last year with any value, per KPI: 2021 for both.
    assert [panel.years[i] for i in panel.latest_years()] == [2021, 2021]


def test_latest_years_are_per_kpi_and_minus_one_for_an_empty_kpi() -> None:
    values = np.full((3, 2, 4), np.nan)
    values[0, 1, 3] = 1.0
    values[1, 0, 1] = 2.0
    panel = Panel(("A", "B", "C"), ("0180", "1384"), (2019, 2020, 2021, 2022), values)
    assert panel.latest_years().tolist() == [3, 1, -1]


@pytest.mark.parametrize("missing", ["kpi", "municipality", "period", "value"])
def test_a_missing_column_is_invalid_input(missing: str) -> None:
    frame = _frame(ROWS)
    frame = frame.drop_columns([missing])
    with pytest.raises(InvalidInputError, match=missing):
        Panel.from_frame(frame)


def test_empty_frames_are_no_data() -> None:
    with pytest.raises(NoDataError):
        Panel.from_frame(_frame(ROWS).slice(0, 0))
    empty = pa.table(
        {
            "kpi_index": pa.array([], pa.int32()),
            "municipality_index": pa.array([], pa.int32()),
            "period": pa.array([], pa.int16()),
            "value": pa.array([], pa.float64()),
        }
    )
    with pytest.raises(NoDataError):
        Panel.from_codes(("A",), ("0180",), empty)


def test_rows_without_a_municipality_are_invalid_input() -> None:
    frame = _frame(ROWS).set_column(
        1, "municipality", pa.array(["0180", None, "0180", "1384", None])
    )
    with pytest.raises(InvalidInputError):
        Panel.from_frame(frame)


def test_unknown_kpi_or_municipality_is_not_found_with_a_next_step() -> None:
    panel = Panel.from_frame(_frame(ROWS))
    with pytest.raises(NotFoundError) as kpi:
        panel.kpi_index("N99999")
    assert kpi.value.hint and "tillit sync --kpi N99999" in kpi.value.hint
    with pytest.raises(NotFoundError):
        panel.municipality_index("2584")
