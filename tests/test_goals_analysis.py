"""Goals (issue 16): the judgement is calibrated on series with a known line and AR(1)
noise, the measurability limits detect what they say, and the edge cases give honest
verdicts (tillit.analyses._goals; method in docs/goals.md)."""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import pytest

from tillit.analyses import (
    SLOPE_SD,
    IndicatorJudgement,
    IndicatorSeries,
    Target,
    ambition,
    judge_indicator,
    judge_indicators,
    judge_many,
    measurability,
    summarise_goal,
)
from tillit.errors import InvalidInputError

FIRST, NOW = 2011, 2018


def simulate_goals(rng: np.random.Generator, n: int, slope_sd: float = SLOPE_SD) -> dict[str, Any]:
    """``n`` goals on generated series: a line (level ~ N(50, 5²), slope ~ N(0,
    (slope_sd·σ)²) per year, as the judgement assumes; with ``slope_sd`` inf, N(0, 3²)
    whatever σ) plus AR(1) noise (σ in [0.5, 3], ρ in [0, 0.8]) over 2011–2024, 10 % of the
    values missing at random; judged as of 2018 (later values hidden) with a target
    1–6 years ahead. σ is known (df = inf) for a third and estimated with 5 or 20 degrees
    of freedom (σ̂² = σ²·χ²/df) for the rest. The target is set from what a council sees:
    the last value plus a change drawn at random, up or down. ``met``: whether the
    target year's generated value is on the right side."""
    years = np.arange(FIRST, NOW + 7)
    horizon = rng.integers(1, 7, n)
    rho = rng.uniform(0.0, 0.8, n)
    sd = rng.uniform(0.5, 3.0, n)
    slope = rng.normal(0.0, 1.0, n) * (3.0 if math.isinf(slope_sd) else slope_sd * sd)
    level = rng.normal(50.0, 5.0, n)
    e = np.empty((n, years.size))
    e[:, 0] = rng.standard_normal(n)
    for i in range(1, years.size):
        e[:, i] = rho * e[:, i - 1] + np.sqrt(1 - rho**2) * rng.standard_normal(n)
    y = level[:, None] + slope[:, None] * (years - NOW) + sd[:, None] * e
    target_year = NOW + horizon
    truth = y[np.arange(n), target_year - FIRST]
    seen = y.copy()
    seen[:, years > NOW] = np.nan
    seen[rng.random(seen.shape) < 0.1] = np.nan
    df = rng.choice([np.inf, 5.0, 20.0], n)
    finite = np.isfinite(df)
    chi2 = np.ones(n)
    chi2[finite] = rng.chisquare(df[finite]) / df[finite]
    sign = rng.choice([-1, 1], n)
    last = seen[:, years == NOW][:, 0]
    last = np.where(np.isnan(last), seen[:, years == NOW - 1][:, 0], last)
    last = np.where(np.isnan(last), level, last)
    spread = 2.5 if math.isinf(slope_sd) else 0.6 * sd
    target = last + rng.normal(0.0, 1.0, n) * spread * horizon
    return {
        "values": seen,
        "years": years,
        "noise_sd": sd * np.sqrt(chi2),
        "noise_df": df,
        "rho": rho,
        "target": target,
        "target_year": target_year,
        "direction_sign": sign,
        "now": NOW,
        "slope_sd": slope_sd,
        # the generated trends go on for sure: no extra uncertainty about how long
        "persistence_sd": 0.0,
        "met": sign * (truth - target) >= 0,
    }


def calibration_table(p: np.ndarray, met: np.ndarray) -> list[tuple[int, int, float, float]]:
    """Per bin of 0.1 of the judged probability: (bin, goals, mean judged, share met)."""
    ok = ~np.isnan(p)
    bins = np.minimum((p[ok] * 10).astype(int), 9)
    rows = []
    for b in range(10):
        inside = bins == b
        rows.append(
            (b, int(inside.sum()), float(p[ok][inside].mean()), float(met[ok][inside].mean()))
        )
    return rows


@pytest.mark.parametrize("slope_sd", [SLOPE_SD, math.inf])
def test_judged_probabilities_are_calibrated_on_generated_series(slope_sd: float) -> None:
    """With the damped trend the judgement uses (slopes drawn as it assumes) and with a
    fixed unknown trend (slope_sd inf, slopes anywhere)."""
    goals = simulate_goals(np.random.default_rng(16), 60_000, slope_sd)
    met = goals.pop("met")
    judged = judge_many(**goals)
    table = calibration_table(judged.probability, met)
    for b, n, judged_p, share in table:
        assert n >= 800, (b, n)
        assert abs(share - judged_p) <= 0.05, (b, n, judged_p, share)
        assert b / 10 - 0.05 <= share <= (b + 1) / 10 + 0.05, (b, share)
    # and the verdicts' thresholds mean what they say
    verdicts = np.array(judged.verdicts())
    assert met[verdicts == "on_track"].mean() >= 0.8
    assert met[verdicts == "off_track"].mean() <= 0.2


def test_judge_many_is_fast() -> None:
    goals = simulate_goals(np.random.default_rng(1), 5_800)
    goals.pop("met")
    start = time.perf_counter()
    judge_many(**goals)
    assert time.perf_counter() - start < 1.0


def test_smallest_detectable_change_is_detected_half_the_time_and_the_reliable_one_80() -> None:
    rng = np.random.default_rng(7)
    for rho, years in ((0.0, 4), (0.6, 4), (0.8, 2)):
        series = IndicatorSeries((2020,), (10.0,), noise_sd=2.0, noise_df=math.inf, rho=rho)
        m = measurability(series, Target(11.0, 2020 + years, "increase", 2020, 10.0))
        n = 200_000
        start = rng.standard_normal(n)
        # the target year's noise, correlated ρ^years with the baseline year's
        end = rho**years * start + math.sqrt(1 - rho ** (2 * years)) * rng.standard_normal(n)
        noise = 2.0 * (end - start)
        for change, rate in ((m.smallest_detectable_change, 0.5), (m.reliable_change, 0.8)):
            detected = np.abs(change + noise) > m.smallest_detectable_change
            assert abs(detected.mean() - rate) < 0.01, (rho, years, change, detected.mean())
        false_alarm = (np.abs(noise) > m.smallest_detectable_change).mean()
        assert abs(false_alarm - 0.05) < 0.005


def test_measurability_with_an_estimated_noise_keeps_its_false_alarms_at_five_percent() -> None:
    rng = np.random.default_rng(8)
    df, rho, years, sd = 6.0, 0.4, 3, 1.5
    n = 20_000
    noise = sd * math.sqrt(2 * (1 - rho**years)) * rng.standard_normal(n)
    sd_hat = sd * np.sqrt(rng.chisquare(df, n) / df)
    limits = np.array(
        [
            measurability(
                IndicatorSeries((2020,), (0.0,), noise_sd=s, noise_df=df, rho=rho),
                Target(1.0, 2020 + years, "increase", 2020, 0.0),
            ).smallest_detectable_change
            for s in sd_hat
        ]
    )
    assert abs((np.abs(noise) > limits).mean() - 0.05) < 0.006


def test_measurability_text_names_the_required_and_the_smallest_change() -> None:
    series = IndicatorSeries((2020,), (80.0,), noise_sd=1.4, noise_df=math.inf, unit="%")
    small = measurability(series, Target(80.5, 2026, "increase", 2022, 80.0))
    assert small.measurable is False
    assert small.required_change == pytest.approx(0.5)
    assert small.smallest_detectable_change == pytest.approx(1.96 * 1.4 * math.sqrt(2), rel=1e-3)
    assert small.text.startswith("Målet kräver +0,50\u00a0procentenheter från 2022 till 2026")
    assert (
        "går en förändring under 3,9\u00a0procentenheter inte att skilja från slumpen" in small.text
    )
    large = measurability(series, Target(90.0, 2026, "increase", 2022, 80.0))
    assert large.measurable is True and "går att skilja från slumpen" in large.text
    none = measurability(series, Target(75.0, 2026, "at_least", 2022, 80.0))
    assert none.measurable is None and "ingen förbättring" in none.text
    unknown = measurability(
        IndicatorSeries((2020,), (80.0,), noise_sd=math.nan), Target(90, 2026, "increase", 2022, 80)
    )
    assert unknown.measurable is None and "okänt" in unknown.text
    assert math.isnan(unknown.smallest_detectable_change)
    same_year = measurability(series, Target(90, 2022, "increase", 2022, 80))
    assert same_year.measurable is None and "samma år" in same_year.text


def _series(values: list[float], sd: float = 1.0, **kw: Any) -> IndicatorSeries:
    return IndicatorSeries(tuple(range(2011, 2011 + len(values))), tuple(values), sd, **kw)


def test_a_published_target_year_is_met_or_not_whatever_the_noise() -> None:
    series = _series([70, 71, 73, 72, 74, 76, 75, 77], sd=math.nan)
    met = judge_indicator(series, Target(74.5, 2016, "increase", 2012, 71))
    assert (met.verdict, met.verdict_label, met.probability_met) == ("met", "uppnått", 1.0)
    assert met.reason.startswith("Värdet 2016 blev 76; målet var minst 74,5.")
    missed = judge_indicator(series, Target(74.5, 2016, "decrease", 2012, 71))
    assert (missed.verdict, missed.verdict_label, missed.probability_met) == (
        "not_met",
        "inte uppnått",
        0.0,
    )
    close = judge_indicator(
        _series([70, 71, 73, 72, 74, 76], sd=2.0), Target(75, 2016, "at_least", 2012, 71)
    )
    assert close.verdict == "met" and "kunde lika gärna ha slagit åt andra hållet" in close.reason


def test_a_target_year_after_now_is_judged_from_data_up_to_now_only() -> None:
    series = _series([70, 71, 73, 72, 74, 76, 75, 77], sd=1.0)
    early = judge_indicator(series, Target(90, 2017, "increase", 2012, 71), now=2015)
    assert early.verdict == "off_track" and early.now == 2015
    assert early.trend_years == (2011, 2015)
    assert [p[0] for p in early.projection] == [2016, 2017]


def test_too_few_years_and_unknown_noise_cannot_be_judged() -> None:
    target = Target(80, 2024, "increase", 2018, 75)
    nothing = judge_indicator(IndicatorSeries((), (), 1.0), target)
    assert (
        nothing.verdict == "cannot_judge"
        and nothing.verdict_label == "kan inte bedömas ännu (inga värden)"
    )
    one = judge_indicator(_series([75.0]), target)
    assert one.verdict_label == "kan inte bedömas ännu (för få år)"
    assert math.isnan(one.probability_met)
    two = judge_indicator(_series([74.0, 75.0]), target)
    assert two.verdict_label == "kan inte bedömas ännu (för få år)"
    assert "en trend kräver minst 3" in two.reason
    noisy = judge_indicator(_series([70, 72, 74, 75], sd=math.nan), target)
    assert noisy.verdict_label == "kan inte bedömas ännu (okänt årsbrus)"
    zero_df = judge_indicator(_series([70, 72, 74, 75], sd=1.0, noise_df=0.0), target)
    assert zero_df.verdict == "cannot_judge"
    nan_rho = judge_indicator(_series([70, 72, 74, 75], sd=1.0, rho=math.nan), target)
    assert nan_rho.verdict != "cannot_judge"  # an unknown ρ counts as 0


def test_judge_indicator_agrees_with_judge_many_and_words_the_numbers() -> None:
    values = [70.0, 71, 73, 72, 74, 76, 75, 77]
    series = _series(values, sd=1.2, noise_df=20.0, rho=0.3, unit="%")
    target = Target(80, 2023, "increase", 2018, 77)
    one = judge_indicator(series, target)
    many = judge_many(
        [values],
        list(range(2011, 2019)),
        noise_sd=1.2,
        noise_df=20.0,
        rho=0.3,
        target=80,
        target_year=2023,
        direction_sign=1,
        now=2018,
    )
    assert one.probability_met == pytest.approx(float(many.probability[0]))
    assert one.expected == pytest.approx(float(many.mean[0]))
    assert one.verdict == "uncertain" and one.verdict_label == "osäkert"
    assert one.probability_met == pytest.approx(0.4537, abs=1e-3)
    assert one.slope_low < one.slope < one.slope_high
    assert one.low < one.expected < one.high
    assert one.projection[-1][0] == 2023 and one.projection[-1][1] == pytest.approx(one.expected)
    assert one.trend == pytest.approx(float(many.trend[0]))
    assert one.slope < one.trend  # damped
    assert one.reason.startswith(
        "Trenden 2011–2018 (8 år med värden) är +0,96\u00a0procentenheter per år; "
        "framskrivningen räknar med +0,71\u00a0procentenheter per år"
    )
    assert (
        "målet är minst 80\u00a0%" in one.reason
        and "Sannolikheten att målet nås är 45\u00a0%" in one.reason
    )


def test_an_exact_line_with_little_noise_is_on_or_off_track() -> None:
    series = _series([10.0 + 2 * i for i in range(6)], sd=0.1)

    def verdict(target: float, direction: str, **kw: float) -> str:
        return judge_indicator(series, Target(target, 2020, direction, 2016, 20), **kw).verdict

    plain = {"slope_sd": math.inf, "persistence_sd": 0.0}
    assert verdict(27.5, "increase", **plain) == "on_track"
    assert verdict(28.5, "increase", **plain) == "off_track"
    # lower is better: the same line rising is off track for a decrease
    assert verdict(25, "decrease", **plain) == "off_track"
    # By default a trend is damped and may stop: 20 noise SDs a year is far outside what
    # Kolada's series show, so the judgement doubts it.
    assert verdict(25, "increase") == "uncertain"
    assert verdict(35, "increase") == "off_track"
    assert verdict(15, "increase") == "on_track"


def test_interim_targets_report_published_years_only() -> None:
    series = _series([70, 71, 73, 72, 74], sd=1.0)
    target = Target(80, 2020, "increase", 2012, 71, interim=((2013, 72.5), (2015, 76), (2017, 77)))
    checks = judge_indicator(series, target).interim
    assert [(c.year, c.met) for c in checks] == [(2013, True), (2015, False), (2017, None)]


def test_target_validates_its_direction_and_years() -> None:
    with pytest.raises(InvalidInputError):
        Target(80, 2024, "upp", 2018, 75)
    with pytest.raises(InvalidInputError):
        Target(80, 2017, "increase", 2018, 75)
    with pytest.raises(InvalidInputError):
        Target(math.nan, 2024, "increase", 2018, 75)
    with pytest.raises(InvalidInputError):
        IndicatorSeries((2018, 2019), (1.0,), 1.0)


def test_ambition_counts_peers_that_improved_as_much() -> None:
    a = ambition(2.0, 4, [1, 3, 0.5, 2.5, math.nan, -1, 4], "increase")
    assert (a.achieved, a.peers, a.level) == (3, 6, "realistic")
    assert a.text == "3 av 6 liknande kommuner har förbättrat sig så mycket på fyra år."
    down = ambition(-2.0, 3, [-1, -3, 0.5, -0.5], "decrease", unit_plural="liknande regioner")
    assert down.text == "1 av 4 liknande regioner har förbättrat sig så mycket på tre år."
    assert ambition(5.0, 4, [1, 2], "at_least").level == "beyond_peers"
    assert ambition(0.1, 4, [1, 2, 3, 4], "at_least").level == "modest"
    assert ambition(1.0, 4, [math.nan], "increase").level == "unknown"
    one = ambition(1.0, 2, [3.0], "increase", unit_plural="liknande regioner")
    assert one.text == "1 av 1 liknande region har förbättrat sig så mycket på två år."


def _judgement(verdict: str, p: float = math.nan) -> IndicatorJudgement:
    series = _series([10.0 + 2 * i for i in range(6)], sd=0.1)
    real = judge_indicator(series, Target(25, 2020, "increase", 2016, 20))
    from dataclasses import replace

    return replace(real, verdict=verdict, probability_met=p)  # type: ignore[arg-type]


def test_a_goal_is_as_bad_as_its_worst_indicator() -> None:
    goal = summarise_goal(
        [_judgement("met", 1.0), _judgement("off_track", 0.1), _judgement("on_track", 0.9)]
    )
    assert goal.verdict == "off_track" and goal.worst == 1
    assert goal.lowest_probability == 0.1
    assert "sämsta indikator (nummer 2): inte på väg" in goal.text
    assert "inte på väg: 1, på väg att nås: 1, uppnått: 1" in goal.text
    unknown = summarise_goal([_judgement("on_track", 0.9), _judgement("cannot_judge")])
    assert unknown.verdict == "cannot_judge"
    assert unknown.verdict_label == "kan inte bedömas ännu (1 av 2 indikatorer)"
    assert summarise_goal([]).verdict == "cannot_judge"
    assert summarise_goal([_judgement("met", 1.0)]).verdict == "met"


def test_judge_indicators_in_one_batch_equals_one_by_one() -> None:
    items = [
        (
            _series([70, 71, 73, 72, 74, 76, 75, 77], sd=1.2, rho=0.3),
            Target(80, 2023, "increase", 2018, 77),
        ),
        (_series([5.0, 4.0, 4.5, 3.0], sd=0.5, noise_df=8.0), Target(2, 2020, "decrease", 2014, 3)),
        (IndicatorSeries((), (), 1.0), Target(2, 2020, "decrease", 2014, 3)),
        (_series([70, 71, 73, 72, 74, 76], sd=math.nan), Target(74, 2015, "at_least", 2012, 71)),
        (_series([1.0, 2.0]), Target(4, 2016, "increase", 2012, 2)),
    ]
    batch = judge_indicators(items)
    for (series, target), together in zip(items, batch, strict=True):
        alone = judge_indicator(series, target)
        assert together.verdict_label == alone.verdict_label
        assert together.reason == alone.reason
        np.testing.assert_allclose(
            np.array(together.projection).reshape(-1, 4), np.array(alone.projection).reshape(-1, 4)
        )
        np.testing.assert_allclose(together.probability_met, alone.probability_met)
    assert [j.verdict for j in batch] == [
        "uncertain",
        batch[1].verdict,
        "cannot_judge",
        "met",
        "cannot_judge",
    ]
    as_of = judge_indicators(items[:2], now=2013)
    assert as_of[0].now == 2013 and as_of[0].trend_years == (2011, 2013)
