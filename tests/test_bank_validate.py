"""The bank's checks of ids and whole numbers take ASCII digits only: Python's ``\\d`` and
``int()`` also take other scripts' digits ("N٠٠٩٤٥", "٢٠٢١"), which are no Kolada ids or
years (issue 12)."""

from __future__ import annotations

import pytest

from tillit.bank._validate import clean_example, clean_trial
from tillit.errors import InvalidInputError


@pytest.mark.parametrize(
    "link",
    [
        {"kpi": "N٠٠٩٤٥", "municipality": "1480"},
        {"kpi": "N００９４５", "municipality": "1480"},
        {"kpi": "N00945", "municipality": "١٤٨٠"},
        {"kpi": "N00945", "municipality": "１４８０"},
    ],
)
def test_kpi_ids_and_codes_in_other_scripts_digits_are_refused(link: dict[str, str]) -> None:
    with pytest.raises(InvalidInputError):
        clean_example({"title": "T", "kpis": [link]}, creating=True)


def test_ascii_ids_and_codes_are_taken() -> None:
    cleaned = clean_example(
        {"title": "T", "kpis": [{"kpi": " n00945 ", "municipality": "1480"}]}, creating=True
    )
    assert (cleaned["kpis"][0].kpi, cleaned["kpis"][0].municipality) == ("N00945", "1480")


@pytest.mark.parametrize("year", ["٢٠٢١", "２０２１", "2021²", "9" * 5000])
def test_a_trial_year_in_other_digits_is_refused(year: str) -> None:
    data = {
        "municipality": "1384",
        "title": "T",
        "description": "D",
        "start_year": year,
        "kpis": [{"kpi": "N15419", "direction": "increase"}],
    }
    with pytest.raises(InvalidInputError, match="startår"):
        clean_trial(data, creating=True)
