"""Regressions: totals with a slash meaning "or"; shares of the population above 100 %."""

from __future__ import annotations

import numpy as np
import pytest

from tillit.analyses import (
    Denominators,
    Panel,
    Polarity,
    compare,
    denominator_rule,
    find_learning_partners,
    gather_evidence,
    size_dependent,
)


@pytest.mark.parametrize(
    "title",
    [
        "Lönesumma, arbetsställets belägenhet/dagbefolkning, mkr",  # N00125
        "Asylsökande/inskrivna i Migrationsverkets mottagningssystem, antal",  # N01990
        "Årsarbetare, kommunalt anställda behandlingsassistenter/socialpedagoger, antal",  # N10041
        "Månadsavlönade inom gymnasieskola/komvux, kommun, antal",  # N17019
    ],
)
def test_a_slash_that_means_or_does_not_make_a_total_a_rate(title: str) -> None:
    assert size_dependent(title)


def test_a_share_of_the_population_above_100_percent_does_not_break_the_comparison() -> None:
    # N09809 "Aktiva låntagare i kommunala bibliotek, andel (%) av befolkningen": Kolada has
    # values up to 924 % in 2022 (borrowers from outside the municipality).
    rng = np.random.default_rng(0)
    years = tuple(range(2011, 2023))
    codes = tuple(f"{1000 + i}" for i in range(60))
    values = rng.normal(60.0, 5.0, (1, 60, 12))
    values[0, 10, -1] = 924.0
    population = np.exp(rng.uniform(8, 12, 60))
    evidence = gather_evidence(
        Panel(("N09809",), codes, years, values), population, polarity={"N09809": Polarity.HIGHER}
    )
    share = Denominators("proportion", population, 100.0, "Invånare totalt (N01951), 2022")
    (result,) = compare(evidence, codes[0], codes[1:8], denominators={"N09809": share})
    assert result.funnel is not None


@pytest.mark.parametrize(
    "title",
    [
        "Inskrivna barn/årsarbetare i fritidshem, lägeskommun, antal",
        "Elever/lärare (heltidstjänst) i kommunal grundskola åk 1-9, antal",
        "Bostäder med hyresrätter, antal/1000 inv",
        "Nettokostnad grundläggande vuxenutbildning, kr/inv",
    ],
)
def test_a_slash_before_a_denominator_is_a_rate(title: str) -> None:
    assert not size_dependent(title)


def test_a_pool_length_is_not_an_age_band() -> None:
    rule = denominator_rule("N07965", "Inomhusbassänger 25-49 m, antal/10 000 inv")
    assert rule is not None and rule.scale == 10_000
    assert denominator_rule("N01451", "Förtida dödsfall 25-64 år, antal/100 000 inv") is None


def _panel_with(values: np.ndarray, kpis: tuple[str, ...]) -> tuple[Panel, np.ndarray]:
    codes = tuple(f"{1000 + i}" for i in range(values.shape[1]))
    years = tuple(range(2023 - values.shape[2], 2023))
    population = np.exp(np.random.default_rng(1).uniform(8, 12, values.shape[1]))
    return Panel(kpis, codes, years, values), population


def test_a_kpi_whose_noise_cannot_be_measured_is_never_called_beyond_noise() -> None:
    # Two years of values only: no series shows its year-to-year noise, so even a large gap
    # stays "noise_unknown" in compare and untested in learn (it used to count with z ≈ 0).
    rng = np.random.default_rng(3)
    values = np.full((1, 40, 12), np.nan)
    values[0, :, -2:] = rng.normal(50.0, 5.0, (40, 2))
    values[0, 0, -2:] = 10.0
    panel, population = _panel_with(values, ("N00001",))
    evidence = gather_evidence(panel, population, polarity={"N00001": Polarity.HIGHER})
    assert not evidence.noise.measured[0]
    (result,) = compare(evidence, panel.municipalities[0], panel.municipalities[1:8])
    assert result.tier == "noise_unknown"
    learning = find_learning_partners(evidence, panel.municipalities[0], panel.municipalities[1:8])
    assert learning.tested == 0 and not learning.findings


def test_kpis_that_ended_years_ago_are_left_out() -> None:
    rng = np.random.default_rng(4)
    values = rng.normal(50.0, 5.0, (2, 30, 12))
    values[1, :, -4:] = np.nan  # the second KPI's last value is four years old
    panel, population = _panel_with(values, ("N00001", "N00002"))
    evidence = gather_evidence(
        panel, population, polarity={"N00001": Polarity.HIGHER, "N00002": Polarity.HIGHER}
    )
    assert evidence.kpis == ("N00001",)
