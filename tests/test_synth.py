"""The synthetic control: published reproductions (Basque Country, West Germany), the
cross-check against pysyncon on the same inputs, and the properties an evaluation promises
(weights on the simplex, exact recovery, placebo p-values, DiD, honest refusals)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pysyncon import Dataprep, Synth

from tillit.analyses import (
    Predictor,
    SynthFit,
    SynthPanel,
    evaluate_synthetic_control,
    fit_synthetic_control,
    parse_predictor,
)
from tillit.errors import InvalidInputError, NotEvaluableError

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "synthetic_control"
BASQUE = "Basque Country (Pais Vasco)"
SPAIN = "Spain (Espana)"
SCHOOL = ["school.illit", "school.prim", "school.med", "school.high", "school.post.high"]
SECTORS = [
    "sec.agriculture",
    "sec.energy",
    "sec.industry",
    "sec.construction",
    "sec.services.venta",
    "sec.services.nonventa",
]

needs_data = pytest.mark.skipif(not DATA.exists(), reason=f"no reference panels at {DATA}")


# -- the reference panels -------------------------------------------------------------------


def _panel(frame: pd.DataFrame, unit: str, skip: Sequence[str]) -> SynthPanel:
    columns = [c for c in frame.columns if c not in (unit, "year", *skip)]
    return SynthPanel.from_long(
        frame[unit].tolist(),
        frame["year"].tolist(),
        {c: frame[c].to_numpy(dtype=float) for c in columns},
    )


@pytest.fixture(scope="module")
def basque_frame() -> pd.DataFrame:
    return pd.read_csv(DATA / "basque.csv")


@pytest.fixture(scope="module")
def basque(basque_frame: pd.DataFrame) -> SynthPanel:
    return _panel(basque_frame, "regionname", ["regionno"])


@pytest.fixture(scope="module")
def germany_frame() -> pd.DataFrame:
    return pd.read_csv(DATA / "germany.csv")


@pytest.fixture(scope="module")
def germany(germany_frame: pd.DataFrame) -> SynthPanel:
    return _panel(germany_frame, "country", ["code"])


def basque_predictors() -> list[Predictor]:
    """Abadie & Gardeazabal (2003), as in PROVENANCE.md and R Synth's example."""
    years = tuple(range(1964, 1970))
    odd = (1961, 1963, 1965, 1967, 1969)
    return [
        *(Predictor(c, years) for c in [*SCHOOL, "invest"]),
        Predictor("gdpcap", tuple(range(1960, 1970))),
        *(Predictor(c, odd) for c in SECTORS),
        Predictor("popdens", (1969,)),
    ]


def basque_dataprep(frame: pd.DataFrame, controls: list[str]) -> Dataprep:
    """The same specification for pysyncon, in the order of :func:`basque_predictors`."""
    odd = range(1961, 1970, 2)
    return Dataprep(
        foo=frame,
        predictors=[*SCHOOL, "invest"],
        predictors_op="mean",
        time_predictors_prior=range(1964, 1970),
        special_predictors=[
            ("gdpcap", range(1960, 1970), "mean"),
            *((c, odd, "mean") for c in SECTORS),
            ("popdens", [1969], "mean"),
        ],
        dependent="gdpcap",
        unit_variable="regionname",
        time_variable="year",
        treatment_identifier=BASQUE,
        controls_identifier=controls,
        time_optimize_ssr=range(1960, 1970),
    )


def germany_predictors(first: int, school: tuple[int, int], invest: str) -> list[Predictor]:
    """ADH (2015): gdp, trade, infrate, industry averaged over ten years, schooling over two
    census years, investment in one year."""
    years = tuple(range(first, first + 10))
    return [
        *(Predictor(c, years) for c in ["gdp", "trade", "infrate", "industry"]),
        Predictor("schooling", school),
        Predictor(invest, (1980,)),
    ]


def germany_dataprep(
    frame: pd.DataFrame, first: int, school: list[int], invest: str, ssr: range
) -> Dataprep:
    return Dataprep(
        foo=frame,
        predictors=["gdp", "trade", "infrate"],
        predictors_op="mean",
        time_predictors_prior=range(first, first + 10),
        special_predictors=[
            ("industry", range(first, first + 10), "mean"),
            ("schooling", school, "mean"),
            (invest, [1980], "mean"),
        ],
        dependent="gdp",
        unit_variable="country",
        time_variable="year",
        treatment_identifier="West Germany",
        controls_identifier=sorted(set(frame["country"]) - {"West Germany"}),
        time_optimize_ssr=ssr,
    )


def inner_loss(dataprep: Dataprep, v: np.ndarray, w: pd.Series) -> float:
    """(x₁ − X₀W)ᵀ V (x₁ − X₀W) on the rows scaled by their sd across all units."""
    x0, x1 = dataprep.make_covariate_mats()
    scale = pd.concat([x0, x1], axis=1).std(axis=1).to_numpy()
    r = (x1.to_numpy() - x0.to_numpy() @ w[list(x0.columns)].to_numpy()) / scale
    return float(r @ (v * r))


def as_series(weights: np.ndarray, donors: Sequence[str]) -> pd.Series:
    return pd.Series(weights, index=list(donors))


# -- Basque Country (Abadie & Gardeazabal 2003) ----------------------------------------------


PUBLISHED_BASQUE = {"Cataluna": 0.8508, "Madrid (Comunidad De)": 0.1492}


def pre_period_mspe(
    panel: SynthPanel, outcome: str, treated: str, years: range, weights: dict[str, float]
) -> float:
    """The fit-period MSPE of a given synthetic control (e.g. a published one)."""
    y = panel.column(outcome)
    cols = [panel.time_index[t] for t in years]
    synthetic = sum(w * y[panel.unit(u), cols] for u, w in weights.items())
    return float(np.mean((y[panel.unit(treated), cols] - synthetic) ** 2))


@needs_data
@pytest.mark.parametrize("seed", [0, 1, 7])
def test_basque_fits_at_least_as_well_as_the_published_solution(
    basque: SynthPanel, seed: int
) -> None:
    """Abadie & Gardeazabal's weights (Cataluña .8508, Madrid .1492) are not the best
    pre-period fit of their own specification (Becker & Klößner 2018): the best convex
    combination of the regions' gdpcap, which no V can beat, is reached by a V resting
    almost wholly on gdpcap itself, and the search certifies it whatever the seed."""
    donors = [u for u in basque.units if u not in (BASQUE, SPAIN)]
    fit = fit_synthetic_control(
        basque,
        outcome="gdpcap",
        treated=BASQUE,
        start=1970,
        predictors=basque_predictors(),
        fit=(1960, 1969),
        donors=donors,
        seed=seed,
    )
    published = pre_period_mspe(basque, "gdpcap", BASQUE, range(1960, 1970), PUBLISHED_BASQUE)
    assert published == pytest.approx(0.0942**2, rel=0.01)
    assert fit.search is not None
    assert fit.pre_rmspe**2 <= published
    assert fit.pre_rmspe == pytest.approx(0.0642, abs=0.001)
    assert fit.search.certified and fit.search.converged
    assert fit.pre_rmspe**2 == pytest.approx(fit.search.bound, rel=1e-6)
    weights = as_series(fit.weights, fit.donors)
    assert weights["Madrid (Comunidad De)"] == pytest.approx(0.440, abs=0.005)
    assert weights["Baleares (Islas)"] == pytest.approx(0.370, abs=0.005)
    assert weights["Rioja (La)"] == pytest.approx(0.189, abs=0.005)
    labels = [b.predictor.label for b in fit.balance]
    assert labels[int(np.argmax(fit.v))].startswith("gdpcap")
    assert fit.v.max() > 0.99
    assert fit.dropped == ()


@pytest.fixture(scope="module")
def basque_pysyncon(basque_frame: pd.DataFrame) -> tuple[Dataprep, Synth]:
    """pysyncon's own Basque test: Spain as a whole among the 17 controls (it gets no
    weight). Without it pysyncon's single Nelder–Mead run stops early, at Cataluña .92 with
    4 times the pre-period error of the published fit."""
    controls = sorted(set(basque_frame["regionname"]) - {BASQUE})
    dataprep = basque_dataprep(basque_frame, controls)
    synth = Synth()
    synth.fit(dataprep=dataprep, optim_method="Nelder-Mead", optim_initial="equal")
    return dataprep, synth


@needs_data
@pytest.mark.slow  # pysyncon's fit alone takes ~20 s
def test_basque_matches_pysyncon_on_the_same_inputs(
    basque: SynthPanel, basque_pysyncon: tuple[Dataprep, Synth]
) -> None:
    dataprep, synth = basque_pysyncon
    assert synth.V is not None and synth.loss_V is not None
    controls = list(dataprep.controls_identifier)
    theirs = as_series(synth.W, controls)
    ours = fit_synthetic_control(
        basque,
        outcome="gdpcap",
        treated=BASQUE,
        start=1970,
        predictors=basque_predictors(),
        fit=(1960, 1969),
        donors=controls,
    )
    # pysyncon's single Nelder–Mead run stops at the published local optimum; our search
    # goes on to the certified best fit, so our loss is lower and the weights differ.
    assert ours.pre_rmspe**2 <= synth.loss_V * (1 + 1e-6)
    assert ours.search is not None and ours.search.certified
    assert theirs["Cataluna"] == pytest.approx(0.8508, abs=0.02)

    # Given pysyncon's V, the inner problem (W given V) must agree: pysyncon solves it with
    # SLSQP, we with an exact NNLS, so ours is never worse and the weights agree closely.
    given_v = fit_synthetic_control(
        basque,
        outcome="gdpcap",
        treated=BASQUE,
        start=1970,
        predictors=basque_predictors(),
        fit=(1960, 1969),
        donors=controls,
        v=synth.V,
    )
    mine = as_series(given_v.weights, given_v.donors)[controls]
    assert np.abs(mine - theirs).max() < 1e-3
    assert inner_loss(dataprep, synth.V, mine) <= inner_loss(dataprep, synth.V, theirs) + 1e-12
    assert given_v.pre_rmspe**2 == pytest.approx(synth.loss_V, rel=1e-6)
    z0, z1 = dataprep.make_outcome_mats()
    assert Synth.calc_loss_V(mine.to_numpy(), z0.to_numpy(), z1.to_numpy()) == pytest.approx(
        given_v.pre_rmspe**2, rel=1e-12
    )


# -- West Germany (Abadie, Diamond & Hainmueller 2015) ---------------------------------------

PUBLISHED_GERMANY = {
    "Austria": 0.42,
    "USA": 0.22,
    "Japan": 0.16,
    "Switzerland": 0.11,
    "Netherlands": 0.09,
}


@needs_data
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_germany_fits_at_least_as_well_as_the_published_solution(
    germany: SynthPanel, seed: int
) -> None:
    """ADH's published weights (chosen with a cross-validated V) against our search on
    their main specification: our pre-period fit is never worse than theirs, and the same
    under every seed. The best fit of this specification puts V on trade alone (the
    optimum over the simplex's vertices, docs/analyses.md), so the weights differ from
    the published ones beyond their two largest donors (Klößner et al. 2018: the published
    V is not unique, nor the best fit of its own criterion)."""

    def fitted(seed: int) -> SynthFit:
        return fit_synthetic_control(
            germany,
            outcome="gdp",
            treated="West Germany",
            start=1990,
            predictors=germany_predictors(1981, (1980, 1985), "invest80"),
            fit=(1960, 1989),
            seed=seed,
        )

    main = fitted(seed)
    published = pre_period_mspe(
        germany, "gdp", "West Germany", range(1960, 1990), PUBLISHED_GERMANY
    )
    assert published == pytest.approx(122.3**2, rel=0.01)
    assert main.pre_rmspe**2 <= published
    assert main.search is not None and main.search.converged
    assert main.pre_rmspe**2 >= main.search.bound * (1 - 1e-6)
    weights = as_series(main.weights, main.donors)
    assert {"Austria", "USA"} <= set(weights.nlargest(2).index)
    assert len(main.donors) == 16
    again = fitted(seed + 10)
    assert again.pre_rmspe**2 == pytest.approx(main.pre_rmspe**2, rel=1e-9)
    np.testing.assert_allclose(again.weights, main.weights, atol=1e-9)


@needs_data
def test_germany_matches_pysyncon_given_its_cross_validated_v(
    germany: SynthPanel, germany_frame: pd.DataFrame
) -> None:
    training_prep = germany_dataprep(
        germany_frame, 1971, [1970, 1975], "invest70", range(1981, 1991)
    )
    training = Synth()
    training.fit(dataprep=training_prep, optim_method="Nelder-Mead", optim_initial="equal")
    assert training.V is not None and training.loss_V is not None

    ours_training = fit_synthetic_control(
        germany,
        outcome="gdp",
        treated="West Germany",
        start=1991,
        predictors=germany_predictors(1971, (1970, 1975), "invest70"),
        fit=(1981, 1990),
    )
    # V itself is not unique (Klößner et al. 2018): ours and pysyncon's differ, but neither
    # fits the training period worse than the other by more than a rounding.
    assert ours_training.pre_rmspe**2 <= training.loss_V * (1 + 1e-5)

    main_prep = germany_dataprep(germany_frame, 1981, [1980, 1985], "invest80", range(1960, 1990))
    main = Synth()
    main.fit(dataprep=main_prep, custom_V=training.V)
    assert main.loss_V is not None
    controls = list(main_prep.controls_identifier)
    theirs = as_series(main.W, controls)
    ours = fit_synthetic_control(
        germany,
        outcome="gdp",
        treated="West Germany",
        start=1990,
        predictors=germany_predictors(1981, (1980, 1985), "invest80"),
        fit=(1960, 1989),
        v=training.V,
    )
    mine = as_series(ours.weights, ours.donors)[controls]
    assert np.abs(mine - theirs).max() < 1e-3
    assert inner_loss(main_prep, training.V, mine) <= inner_loss(main_prep, training.V, theirs)
    # gdp is in dollars per head (~10⁴), so SLSQP's last digits of W move the loss by ~1 %
    assert ours.pre_rmspe**2 == pytest.approx(main.loss_V, rel=0.01)
    z0, z1 = main_prep.make_outcome_mats()
    assert Synth.calc_loss_V(mine.to_numpy(), z0.to_numpy(), z1.to_numpy()) == pytest.approx(
        ours.pre_rmspe**2, rel=1e-12
    )


# -- properties on generated panels ----------------------------------------------------------

FIRST, START = 2000, 2012  # 12 years before the start
UNIT_NAMES = ["Åre kommun", "0180", "Region/Gävleborg", "x y z", "Ö-vik", "1.5", "NaN-land"]


def unit_name(i: int) -> str:
    """Arbitrary strings: a panel need not be Kolada's."""
    return f"{UNIT_NAMES[i % len(UNIT_NAMES)]} #{i}"


def factor_panel(
    seed: int,
    *,
    donors: int = 11,
    post: int = 5,
    mix: dict[int, float] | None = None,
    effect: float = 0.0,
    treated_noise: float = 0.0,
    shift: float = 0.0,
) -> tuple[SynthPanel, str, np.ndarray]:
    """Donors y_jt = a_j + b_j·f_t + c_j·g_t + noise (two common factors, own loadings) and a
    covariate ``x``; the treated unit is the ``mix`` of donors (outcome and covariate alike),
    plus ``effect`` from START on, plus its own noise, plus ``shift`` everywhere. Returns the
    panel, the treated unit's name and the true donor weights."""
    rng = np.random.default_rng(seed)
    years = np.arange(FIRST, START + post)
    t = years - FIRST
    f = 0.3 * t + np.cumsum(rng.normal(0, 0.5, len(t)))
    g = np.sin(t / 2.0) + rng.normal(0, 0.2, len(t))
    a = rng.normal(50, 5, donors)
    b = rng.normal(1, 0.4, donors)
    c = rng.normal(0, 1.5, donors)
    y0 = a[:, None] + b[:, None] * f + c[:, None] * g + rng.normal(0, 0.6, (donors, len(t)))
    x0 = rng.normal(10, 2, donors)[:, None] + rng.normal(0, 0.3, (donors, len(t)))
    weights = np.zeros(donors)
    for j, w in (mix or {0: 0.5, 3: 0.3, 7: 0.2}).items():
        weights[j] = w
    y1 = weights @ y0 + effect * (years >= START) + rng.normal(0, 1, len(t)) * treated_noise
    y1 = y1 + shift
    x1 = weights @ x0
    names = [unit_name(i) for i in range(donors)]
    treated = "Behandlad: ∑ (test)"
    unit = [n for n in [*names, treated] for _ in years]
    time = [int(y) for _ in range(donors + 1) for y in years]
    outcome = np.concatenate([*y0, y1])
    covariate = np.concatenate([*x0, x1])
    panel = SynthPanel.from_long(unit, time, {"y": outcome, "x": covariate})
    return panel, treated, weights


def per_year_predictors(first: int = FIRST, start: int = START) -> list[Predictor]:
    """One predictor per pre-year (and the covariate): with more pre-years than donors the
    weights that reproduce them are unique."""
    years = tuple(range(first, start))
    return [*(Predictor("y", (year,)) for year in years), Predictor("x", years)]


def true_weights(panel: SynthPanel, weights: np.ndarray, donors: Sequence[str]) -> np.ndarray:
    order = {unit_name(i): w for i, w in enumerate(weights)}
    return np.array([order[d] for d in donors])


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    donors=st.integers(2, 12),
    v=st.one_of(st.none(), st.lists(st.floats(0.01, 1.0), min_size=4, max_size=4)),
)
def test_weights_are_non_negative_and_sum_to_one(
    seed: int, donors: int, v: list[float] | None
) -> None:
    panel, treated, _ = factor_panel(seed, donors=donors, mix={0: 1.0}, treated_noise=2.0)
    fit = fit_synthetic_control(panel, outcome="y", treated=treated, start=START, v=v, rounds=0)
    assert (fit.weights >= 0).all()
    assert fit.weights.sum() == pytest.approx(1.0, abs=1e-12)
    assert (fit.v >= 0).all()
    assert fit.v.sum() == pytest.approx(1.0)
    assert len(fit.donors) == donors
    # the synthetic series is the weighted donors, and the RMSPE is over the fit years
    gaps = fit.gaps[np.array(fit.times) < START]
    assert fit.pre_rmspe == pytest.approx(float(np.sqrt(np.mean(gaps**2))))


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    mix=st.lists(st.floats(0.05, 1.0), min_size=3, max_size=3),
    which=st.lists(st.integers(0, 8), min_size=3, max_size=3, unique=True),
)
def test_an_exact_convex_combination_of_donors_is_recovered(
    seed: int, mix: list[float], which: list[int]
) -> None:
    total = sum(mix)
    planted = {j: w / total for j, w in zip(which, mix, strict=True)}
    panel, treated, weights = factor_panel(seed, donors=9, mix=planted)
    predictors = per_year_predictors()
    fit = fit_synthetic_control(
        panel,
        outcome="y",
        treated=treated,
        start=START,
        predictors=predictors,
        v=[1.0] * len(predictors),
    )
    assert np.abs(fit.weights - true_weights(panel, weights, fit.donors)).max() < 1e-6
    assert fit.pre_rmspe < 1e-6
    assert fit.post_rmspe < 1e-6


def test_an_exact_convex_combination_is_recovered_with_v_searched() -> None:
    panel, treated, weights = factor_panel(7, donors=9)
    fit = fit_synthetic_control(
        panel, outcome="y", treated=treated, start=START, predictors=per_year_predictors()
    )
    assert np.abs(fit.weights - true_weights(panel, weights, fit.donors)).max() < 1e-4
    assert fit.pre_rmspe < 1e-4


def evaluate(panel: SynthPanel, treated: str, **options: object) -> object:
    predictors = per_year_predictors()
    return evaluate_synthetic_control(
        panel,
        outcome="y",
        treated=treated,
        start=START,
        predictors=predictors,
        v=[1.0] * len(predictors),
        rounds=1,
        **options,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("effect", "expected", "verdict"),
    [
        (8.0, "increase", "clear_improvement"),
        (-8.0, "increase", "clear_deterioration"),
        (8.0, None, "clear_increase"),
        (-8.0, "decrease", "clear_improvement"),
    ],
)
def test_a_planted_effect_is_found_with_the_smallest_possible_p_value(
    effect: float, expected: str | None, verdict: str
) -> None:
    panel, treated, _ = factor_panel(11, effect=effect)
    result = evaluate_synthetic_control(
        panel,
        outcome="y",
        treated=treated,
        start=START,
        predictors=per_year_predictors(),
        v=[1.0] * 13,
        rounds=1,
        expected=expected,  # type: ignore[arg-type]
    )
    assert result.fit.pre_rmspe < 1e-6
    assert result.average_effect == pytest.approx(effect, abs=1e-6)
    assert [e.gap for e in result.effects] == pytest.approx([effect] * 5, abs=1e-6)
    assert len(result.placebos) == 11
    assert result.rank == 1
    assert result.p_value == pytest.approx(1 / 12)
    assert result.verdict.kind == verdict
    assert result.verdict.label and result.verdict.explanation
    assert not result.quality.poor
    assert result.in_time.reason is None
    assert abs(result.in_time.average_gap) < 1e-3
    assert result.leave_one_out  # the top donors were each left out once
    assert {x.left_out for x in result.leave_one_out} <= set(result.fit.donors)


@pytest.mark.parametrize(("post", "verdict"), [(5, "no_clear_effect"), (2, "no_clear_effect_yet")])
def test_no_effect_gives_no_small_p_value(post: int, verdict: str) -> None:
    # the treated unit is a donor-like mix with noise of its own and nothing planted
    panel, treated, _ = factor_panel(3, post=post, treated_noise=0.6)
    result = evaluate_synthetic_control(
        panel,
        outcome="y",
        treated=treated,
        start=START,
        predictors=per_year_predictors(),
        v=[1.0] * 13,
        rounds=1,
    )
    assert result.p_value > 0.2
    assert result.verdict.kind == verdict
    assert not result.quality.poor


@pytest.mark.parametrize("seed", [1, 2])
def test_p_value_and_rank_are_the_recount_from_the_placebo_ratios(seed: int) -> None:
    panel, treated, _ = factor_panel(seed, treated_noise=0.8, effect=1.0)
    result = evaluate_synthetic_control(panel, outcome="y", treated=treated, start=START, rounds=0)
    ratios = np.array([p.post_rmspe / p.pre_rmspe for p in result.placebos])
    assert [p.ratio for p in result.placebos] == pytest.approx(list(ratios))
    own = result.fit.post_rmspe / result.fit.pre_rmspe
    j = len(result.placebos)
    assert j == len(result.fit.donors) == 11
    assert result.p_value == pytest.approx((1 + np.sum(ratios >= own)) / (j + 1))
    assert result.rank == 1 + np.sum(ratios > own)
    assert {p.unit for p in result.placebos} == set(result.fit.donors)


def test_did_is_the_hand_computed_difference_in_differences() -> None:
    panel, treated, _ = factor_panel(4, treated_noise=0.8, effect=2.0)
    result = evaluate_synthetic_control(panel, outcome="y", treated=treated, start=START, rounds=0)
    y = panel.column("y")
    pre = [panel.time_index[t] for t in range(FIRST, START)]
    post = [panel.time_index[t] for t in range(START, START + 5)]

    def change(unit: str) -> float:
        row = y[panel.unit(unit)]
        return float(row[post].mean() - row[pre].mean())

    donors = list(result.fit.donors)
    assert result.did.estimate == pytest.approx(
        change(treated) - np.mean([change(d) for d in donors])
    )
    placebo = [change(d) - np.mean([change(o) for o in donors if o != d]) for d in donors]
    exceed = sum(abs(p) >= abs(result.did.estimate) for p in placebo)
    assert result.did.p_value == pytest.approx((1 + exceed) / (len(donors) + 1))
    assert result.did.placebo_sd == pytest.approx(np.std(placebo, ddof=1))


def test_without_an_effect_small_p_values_are_as_rare_as_chance() -> None:
    # under no effect the treated unit is exchangeable with the donors, so p ≤ 1/12 should
    # come up about one time in twelve; 20 panels, at most 4 (binomial tail ≈ 3 %)
    small = 0
    for seed in range(20):
        panel, treated, _ = factor_panel(100 + seed, treated_noise=0.6)
        result = evaluate_synthetic_control(
            panel,
            outcome="y",
            treated=treated,
            start=START,
            predictors=per_year_predictors(),
            v=[1.0] * 13,
            leave_out=0,
        )
        small += result.p_value <= 1 / 12 + 1e-12
    assert small <= 4


@pytest.mark.parametrize("pre_years", [0, 1, 4])
def test_fewer_than_five_pre_years_is_refused_with_the_count(pre_years: int) -> None:
    panel, treated, _ = factor_panel(3, post=3)
    start = FIRST + pre_years
    with pytest.raises(NotEvaluableError) as error:
        evaluate_synthetic_control(panel, outcome="y", treated=treated, start=start)
    assert f"{pre_years} år" in error.value.message
    assert "minst 5" in error.value.message


def test_a_fit_window_inside_the_pre_period_counts_only_its_years() -> None:
    panel, treated, _ = factor_panel(3)
    with pytest.raises(NotEvaluableError, match="3 år"):
        evaluate_synthetic_control(
            panel, outcome="y", treated=treated, start=START, fit=(START - 3, START - 1)
        )


def test_no_post_year_is_refused() -> None:
    panel, treated, _ = factor_panel(3, post=0)
    with pytest.raises(NotEvaluableError, match="inga värden"):
        evaluate_synthetic_control(panel, outcome="y", treated=treated, start=START)


def test_a_treated_unit_far_above_every_donor_gets_the_poor_fit_verdict() -> None:
    panel, treated, _ = factor_panel(6, shift=100.0, effect=5.0)
    result = evaluate_synthetic_control(panel, outcome="y", treated=treated, start=START, rounds=0)
    assert result.quality.poor
    assert result.quality.outside_range_share == 1.0
    assert result.quality.reason is not None and "utanför" in result.quality.reason
    assert result.verdict.kind == "poor_fit"
    assert result.verdict.label == "går inte att bedöma"


def test_donors_with_missing_values_are_dropped_with_the_reason() -> None:
    panel, treated, _ = factor_panel(8)
    y, x = panel.column("y").copy(), panel.column("x").copy()
    y[panel.unit(unit_name(1)), panel.time_index[FIRST + 4]] = np.nan
    y[panel.unit(unit_name(2)), panel.time_index[START + 2]] = np.nan
    x[panel.unit(unit_name(5)), :] = np.nan
    holed = SynthPanel(panel.units, panel.times, {"y": y, "x": x})
    fit = fit_synthetic_control(
        holed,
        outcome="y",
        treated=treated,
        start=START,
        predictors=[Predictor("y", tuple(range(FIRST, START))), Predictor("x", (FIRST,))],
        rounds=0,
    )
    assert dict(fit.dropped) == {
        unit_name(1): "saknar utfallet under anpassningsperioden",
        unit_name(2): "saknar utfallet efter starten",
        unit_name(5): "saknar värden för någon prediktor",
    }
    assert len(fit.donors) == 8
    assert not set(dict(fit.dropped)) & set(fit.donors)


def test_too_few_complete_donors_is_an_error_not_a_fit() -> None:
    panel, treated, _ = factor_panel(8, donors=3, mix={0: 1.0})
    with pytest.raises(InvalidInputError, match="Bara 1"):
        fit_synthetic_control(
            panel,
            outcome="y",
            treated=treated,
            start=START,
            donors=[unit_name(0), "saknas inte men", unit_name(1)][:1],
        )


# -- predictors and panels -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("invest:1964-1969", Predictor("invest", tuple(range(1964, 1970)), "mean")),
        ("invest:1964–1966:median", Predictor("invest", (1964, 1965, 1966), "median")),
        ("sec.energy:1961,1963,1965", Predictor("sec.energy", (1961, 1963, 1965), "mean")),
        ("popdens:1969", Predictor("popdens", (1969,), "mean")),
        (" x y:2001, 2003-2004:LAST ", Predictor("x y", (2001, 2003, 2004), "last")),
        ("a:2001,2001,2002", Predictor("a", (2001, 2002), "mean")),
        ("x : 2001-2003 : last", Predictor("x", (2001, 2002, 2003), "last")),
    ],
)
def test_parse_predictor_forms(text: str, expected: Predictor) -> None:
    assert parse_predictor(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("invest", "Kan inte tolka prediktorn"),
        ("invest:", "Kan inte tolka prediktorn"),
        ("invest:abc", "Kan inte tolka prediktorn"),
        ("invest:1969-1964", "Kan inte tolka åren"),
        ("invest:1960-1962-1964", "Kan inte tolka åren"),
        ("invest:1964:sum", "Okänd sammanfattning"),
    ],
)
def test_parse_predictor_errors(text: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message) as error:
        parse_predictor(text)
    assert error.value.hint


def test_predictor_labels_and_summaries() -> None:
    panel = SynthPanel.from_long(
        ["a", "a", "a", "b", "b", "b"],
        [1, 2, 3, 1, 2, 3],
        {"v": [1.0, None, 4.0, None, None, None]},
    )
    assert Predictor("v", (1, 2, 3)).label == "v (1–3, mean)"
    assert Predictor("v", (1, 3), "last").label == "v (1, 3, last)"
    assert Predictor("v", (2,)).label == "v (2)"
    assert list(Predictor("v", (1, 2, 3)).values(panel)) == pytest.approx(
        [2.5, np.nan], nan_ok=True
    )
    assert Predictor("v", (1, 2, 3), "last").values(panel)[0] == 4.0
    assert Predictor("v", (1, 2, 3), "median").values(panel)[0] == 2.5
    with pytest.raises(InvalidInputError, match="saknas i panelen"):
        Predictor("v", (7, 8)).values(panel)
    with pytest.raises(InvalidInputError, match="saknar år"):
        Predictor("v", ())


def test_from_long_keeps_arbitrary_unit_names_and_gaps() -> None:
    panel = SynthPanel.from_long(
        ["Zürich", "Åmål", 17.0, "Zürich"],
        [1990, 1990.0, "1993", 1993],
        {"v": [1.0, 2.0, 3.0, None]},
    )
    assert panel.units == ("17", "Zürich", "Åmål")
    assert panel.times == (1990, 1991, 1992, 1993)
    assert panel.column("v")[panel.unit("Zürich")] == pytest.approx(
        [1.0, np.nan, np.nan, np.nan], nan_ok=True
    )
    assert panel.column("v")[panel.unit("17")][3] == 3.0


@pytest.mark.parametrize(
    ("unit", "time", "values", "message"),
    [
        (["a", "a"], [2000, 2000], [1.0, 2.0], "flera rader för enheten 'a' och tiden 2000"),
        (["a", "b"], [2000, 2000.5], [1.0, 2.0], "inte är ett heltal"),
        (["a", "b"], [2000, "år 2001"], [1.0, 2.0], "inte är ett heltal"),
        (["a", "b"], [2000, float("nan")], [1.0, 2.0], "inte är ett heltal"),
        (["a", None], [2000, 2001], [1.0, 2.0], "saknar enhet"),
        (["a", "b"], [2000], [1.0, 2.0], "olika längd"),
        ([], [], [], "tom"),
        (["a", "b"], [2000, 2001], ["1", "x"], "inte är tal"),
    ],
)
def test_from_long_errors(
    unit: list[object], time: list[object], values: list[object], message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message):
        SynthPanel.from_long(unit, time, {"v": values})  # type: ignore[dict-item]


def test_unknown_unit_and_column_say_what_exists() -> None:
    panel, treated, _ = factor_panel(1, donors=3, mix={0: 1.0})
    with pytest.raises(InvalidInputError) as error:
        fit_synthetic_control(panel, outcome="z", treated=treated, start=START)
    assert error.value.hint is not None and "x, y" in error.value.hint
    with pytest.raises(InvalidInputError, match="ingen enhet"):
        fit_synthetic_control(panel, outcome="y", treated="Atlantis", start=START)
