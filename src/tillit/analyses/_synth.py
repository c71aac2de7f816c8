"""The synthetic control of Abadie & Gardeazabal (2003) and Abadie, Diamond & Hainmueller
(2010, 2015): a weighted average of donor units that reproduces the treated unit before
the treatment, whose path afterwards is the estimate of what would have happened without it.

Donor weights ``W ≥ 0, ΣW = 1`` minimise ``(x₁ − X₀W)ᵀ V (x₁ − X₀W)`` for the predictors X
(each row divided by its standard deviation across all units, as Synth does); the diagonal
predictor weights ``V ≥ 0, ΣV = 1`` minimise the mean squared error of the outcome over the
fit period, ``‖z₁ − Z₀W(V)‖² / T``.

The inner problem, least squares on the simplex, is solved exactly: by a KKT solve on the
last support of W when that is still optimal (the usual case, since the outer search moves V
a little at a time), else by non-negative least squares with a heavily weighted row holding
``ΣW = 1``, then made exact on the support it found. The outer problem is not convex and has
kinks where W's support changes. V on one predictor alone is solved exactly: the inner
problem then fixes only that predictor's value, and among the W that give it the best outcome
fit is taken (the optimistic bilevel solution), one convex problem per predictor. With
``V = softmax(θ)`` and the gradient of the loss from implicit differentiation of the KKT
system, BFGS runs from several starting points (equal weights, the regression-based weights of
Synth, V's that come closest to making the best outcome-only fit or its truncations the inner
solution, seeded random ones); an interior best is polished by Nelder–Mead, which walks over
the kinks, and the best pre-period fit is kept.

Different starting points can end in different local optima, and the best is not always
the one a single search from equal weights (Synth, pysyncon) finds: on the Basque data of
Abadie & Gardeazabal (2003) that search gives their published weights, while more starting
points find a V with a lower pre-period error (see docs/analyses.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
from scipy.linalg.lapack import dgesv as _gesv
from scipy.linalg.lapack import dgetrs as _getrs
from scipy.optimize import linprog, minimize, nnls

from tillit.analyses._synth_panel import FloatArray, Predictor, SynthPanel
from tillit.errors import InvalidInputError

__all__ = [
    "Balance",
    "Search",
    "Solution",
    "SynthFit",
    "fit_synthetic_control",
    "outcome_lags",
    "prepare_fit",
]

PERFECT = 1e-7
"""Predictor residuals (in standard deviations) below this are an exact match."""
SUM_ROW = 1e4
"""Weight of the row that holds ΣW = 1 in the NNLS form; the predictors are scaled to unit
standard deviation, so this makes a violation 10⁸ times costlier than a unit of misfit."""

BFGS_ITERATIONS = 50
"""Iterations of one local search (BFGS in θ = log V)."""
BFGS_GTOL = 1e-4
"""Its gradient tolerance, on the loss divided by the outcome's variance."""
SAMPLES = 40
"""Random V's evaluated per predictor in each round of the search."""
CLIMBS = 3
"""Local searches per round, from the best samples with different donor supports."""
HOPS = 3
"""Basin-hopping jumps from the best point per round (good optima lie near each other)."""
HOP = 2.0
"""The jump's standard deviation in θ = log V (a factor of e² per weight)."""
MIN_ROUNDS = 2
"""The V search never stops before this many rounds, and after them at the first round that
finds nothing better (waiting for two such rounds cost 40 % more time on the Kolada
benchmark for no steadier result)…"""
MAX_ROUNDS = 8
"""…nor runs more than this many (then ``Search.converged`` is False)."""
IMPROVEMENT = 1e-3
"""A relative drop of the best loss smaller than this does not count as finding better."""
NEAR_OPTIMAL = 0.01
"""Solutions within this share of the best loss are near-optimal: told with their weights."""
POLISH_EVALUATIONS = 400
"""Loss evaluations of one Nelder–Mead polish (each costs about one BFGS iteration)."""
SAME_WEIGHTS = 1e-3
"""Two solutions whose donor weights differ by less than this everywhere are the same."""


@dataclass(frozen=True)
class Solution:
    """One local optimum of the V search: its fit-period loss (MSPE), V and W."""

    loss: float
    v: FloatArray
    weights: FloatArray


@dataclass(frozen=True)
class Search:
    """How V was found. ``starts`` local searches were run over ``rounds`` rounds of
    sampling; ``converged`` when a round stopped finding better before the limit (or V was
    certified). ``bound`` is the lowest fit-period loss any V could give (the donors' best
    convex combination for the outcome alone); ``certified`` when the chosen V attains it,
    so no better V exists. ``near_optimal`` are the distinct solutions within
    ``NEAR_OPTIMAL`` of the best loss, best first (the chosen one among them). The rounds
    also stop, converged, once the loss is within ``IMPROVEMENT`` of the bound
    (``near_bound``), even when ``rounds`` were requested."""

    starts: int
    rounds: int
    converged: bool
    loss: float
    bound: float
    certified: bool
    near_optimal: tuple[Solution, ...]
    #: The number of rounds was fixed by the caller (``rounds=``): no convergence rule.
    requested: bool = False

    @property
    def near_bound(self) -> bool:
        """The loss is within ``IMPROVEMENT`` of the bound, where the search stops: no V
        could improve on it by more than the convergence rule counts."""
        return self.loss <= _near(self.bound)


@dataclass(frozen=True)
class Balance:
    """A predictor's value for the treated unit, its synthetic control and the plain donor
    average, with the weight V the fit gave it."""

    predictor: Predictor
    treated: float
    synthetic: float
    donor_mean: float
    importance: float
    #: The predictor's standard deviation across the treated unit and the donors (what
    #: the fit divides it by), so ``|treated − synthetic| / scale`` is the mismatch in SDs.
    scale: float = float("nan")

    @property
    def mismatch(self) -> float:
        """|treated − synthetic| in standard deviations of the predictor."""
        return abs(self.treated - self.synthetic) / self.scale if self.scale > 0 else 0.0


@dataclass(frozen=True)
class SynthFit:
    """One synthetic control. ``times`` are the times with a treated outcome; the series are
    aligned to them. ``pre_rmspe`` is over ``fit_times``, ``post_rmspe`` over the times from
    ``start`` on."""

    outcome: str
    treated: str
    start: int
    times: tuple[int, ...]
    treated_series: FloatArray
    synthetic_series: FloatArray
    donors: tuple[str, ...]
    weights: FloatArray
    v: FloatArray
    balance: tuple[Balance, ...]
    fit_times: tuple[int, ...]
    pre_rmspe: float
    post_rmspe: float
    dropped: tuple[tuple[str, str], ...]  # (donor, reason) left out of the pool
    #: How V was found (None when V was given).
    search: Search | None = None

    @property
    def gaps(self) -> FloatArray:
        """Treated minus synthetic at each of ``times``."""
        return self.treated_series - self.synthetic_series

    @property
    def post_times(self) -> tuple[int, ...]:
        return tuple(t for t in self.times if t >= self.start)

    @property
    def pre_times(self) -> tuple[int, ...]:
        return tuple(t for t in self.times if t < self.start)

    @property
    def ratio(self) -> float:
        """Post/pre RMSPE: how much larger the gap became after the start than before."""
        if self.pre_rmspe == 0:
            return float("inf") if self.post_rmspe > 0 else 1.0
        return self.post_rmspe / self.pre_rmspe

    def weight(self, unit: str) -> float:
        return float(self.weights[self.donors.index(unit)]) if unit in self.donors else 0.0

    def top_donors(self, n: int = 5, *, minimum: float = 0.001) -> tuple[tuple[str, float], ...]:
        """The ``n`` donors with the largest weights (at least ``minimum``), largest first."""
        order = np.argsort(-self.weights, kind="stable")[:n]
        return tuple(
            (self.donors[i], float(self.weights[i])) for i in order if self.weights[i] >= minimum
        )


def outcome_lags(
    outcome: str, fit_times: Sequence[int], *, blocks: int = 3
) -> tuple[Predictor, ...]:
    """The default predictors: the outcome averaged over ``blocks`` consecutive parts of the
    fit period (so the synthetic control must match both level and direction before the
    start), plus the last fit time on its own."""
    times = sorted(fit_times)
    if not times:
        return ()
    parts = np.array_split(np.array(times), min(blocks, len(times)))
    lags = [Predictor(outcome, tuple(int(t) for t in part), "mean") for part in parts if len(part)]
    if len(times) > blocks:
        lags.append(Predictor(outcome, (times[-1],), "mean"))
    return tuple(lags)


def fit_synthetic_control(
    panel: SynthPanel,
    *,
    outcome: str,
    treated: str,
    start: int,
    predictors: Sequence[Predictor] | None = None,
    fit: tuple[int, int] | None = None,
    donors: Sequence[str] | None = None,
    v: Sequence[float] | None = None,
    rounds: int | None = None,
    seed: int = 0,
    max_rounds: int = MAX_ROUNDS,
) -> SynthFit:
    """Fit the synthetic control of ``treated`` for ``outcome``, treated from ``start`` on.

    ``fit`` (inclusive times, default: every time before ``start``) is where V is chosen to
    minimise the outcome error; ``predictors`` default to :func:`outcome_lags`. ``donors``
    default to every other unit; a donor without the outcome at a fit or post time, or without
    a predictor value, is left out and listed in ``dropped`` with the reason. ``v`` fixes the
    predictor weights (Synth's ``custom.v``) instead of optimising them. Otherwise V is
    searched until the best pre-period fit stops improving (at most ``max_rounds`` rounds
    of sampling and local searches from ``seed``; see ``_Problem.optimise_v``); ``rounds``
    fixes the number of rounds instead. The result's ``search`` tells how it went."""
    problem = _Problem.build(panel, outcome, treated, start, predictors, fit, donors)
    if v is not None:
        chosen = np.asarray(v, dtype=np.float64)
        if chosen.shape != (problem.k,) or (chosen < 0).any() or chosen.sum() <= 0:
            raise InvalidInputError(
                f"V ska ha {problem.k} icke-negativa vikter med positiv summa.",
                hint="Ange en vikt per prediktor, i prediktorernas ordning.",
            )
        chosen = chosen / chosen.sum()
    else:
        if (rounds is not None and rounds < 0) or max_rounds < 1:
            raise InvalidInputError("Antalet sökomgångar kan inte vara negativt.")
        chosen, search = problem.optimise_v(rounds, seed, max_rounds)
        # the weights the search found, not a new inner solve (which, where the inner
        # problem is nearly degenerate, could land elsewhere)
        best = search.near_optimal[0]
        return replace(problem.result(chosen, best.weights), search=search)
    return problem.result(chosen)


def prepare_fit(
    panel: SynthPanel,
    *,
    outcome: str,
    treated: str,
    start: int,
    predictors: Sequence[Predictor] | None = None,
    fit: tuple[int, int] | None = None,
    donors: Sequence[str] | None = None,
) -> tuple[tuple[str, ...], tuple[int, ...], tuple[int, ...]]:
    """What :func:`fit_synthetic_control` would fit on, without fitting: the donors kept
    (those with complete values), the fit times and the times with a treated outcome. Raises
    what the fit would raise for its input."""
    problem = _Problem.build(panel, outcome, treated, start, predictors, fit, donors)
    return problem.donors, problem.fit_times, problem.times


@dataclass
class _Problem:
    panel: SynthPanel
    outcome: str
    treated: str
    start: int
    predictors: tuple[Predictor, ...]
    donors: tuple[str, ...]
    dropped: tuple[tuple[str, str], ...]
    times: tuple[int, ...]  # times with a treated outcome
    fit_times: tuple[int, ...]
    x1: FloatArray  # (k,) scaled
    x0: FloatArray  # (k, J) scaled
    scale: FloatArray  # (k,) each predictor's SD across the treated and the donors
    x1_raw: FloatArray
    x0_raw: FloatArray
    z1: FloatArray  # (T,) outcome at fit times
    z0: FloatArray  # (T, J)
    y1: FloatArray  # outcome at ``times``
    y0: FloatArray  # (len(times), J)
    support: npt.NDArray[np.intp] | None = None  # W's support at the last solve
    _matched: FloatArray | None = None  # the best W matching the predictors exactly
    _exact: bool = False  # the last W was that exact match (the loss is flat in V there)
    # the support and LU factors of the last exact KKT system
    _kkt: tuple[npt.NDArray[np.intp], FloatArray, npt.NDArray[np.int32]] | None = None

    @property
    def k(self) -> int:
        return len(self.predictors)

    @classmethod
    def build(
        cls,
        panel: SynthPanel,
        outcome: str,
        treated: str,
        start: int,
        predictors: Sequence[Predictor] | None,
        fit: tuple[int, int] | None,
        donors: Sequence[str] | None,
    ) -> _Problem:
        y = panel.column(outcome)
        i1 = panel.unit(treated)
        own = y[i1]
        times = tuple(t for t, value in zip(panel.times, own, strict=True) if not np.isnan(value))
        pre = [t for t in times if t < start]
        if fit is None:
            fit_times = tuple(pre)
        else:
            low, high = fit
            if high < low:
                raise InvalidInputError(f"Anpassningsperioden {low}–{high} är baklänges.")
            fit_times = tuple(t for t in times if low <= t <= high)
            missing = [t for t in range(low, high + 1) if t not in fit_times]
            if missing and len(missing) == high - low + 1:
                raise InvalidInputError(
                    f"{treated} saknar {outcome} under hela anpassningsperioden {low}–{high}.",
                    hint="Välj en period med värden för den behandlade enheten.",
                )
        if not fit_times:
            raise InvalidInputError(
                f"{treated} har inga värden för {outcome} före {start}.",
                hint="En syntetisk kontroll behöver en förperiod med värden.",
            )
        chosen = tuple(predictors) if predictors else outcome_lags(outcome, fit_times)
        if not chosen:
            raise InvalidInputError("Inga prediktorer.")
        raw = np.vstack([p.values(panel) for p in chosen])  # (k, units)
        if np.isnan(raw[:, i1]).any():
            bad = [p.label for p, value in zip(chosen, raw[:, i1], strict=True) if np.isnan(value)]
            raise InvalidInputError(
                f"{treated} saknar värden för prediktorerna: {', '.join(bad)}.",
                hint="Välj prediktorer och år där den behandlade enheten har värden.",
            )
        pool = [u for u in panel.units if u != treated] if donors is None else list(donors)
        post = [t for t in times if t >= start]
        fit_cols = [panel.time_index[t] for t in fit_times]
        post_cols = [panel.time_index[t] for t in post]
        kept: list[str] = []
        dropped: list[tuple[str, str]] = []
        for unit in dict.fromkeys(pool):
            if unit == treated:
                continue
            j = panel.unit(unit)
            if np.isnan(y[j, fit_cols]).any():
                dropped.append((unit, "saknar utfallet under anpassningsperioden"))
            elif np.isnan(y[j, post_cols]).any():
                dropped.append((unit, "saknar utfallet efter starten"))
            elif np.isnan(raw[:, j]).any():
                dropped.append((unit, "saknar värden för någon prediktor"))
            else:
                kept.append(unit)
        if len(kept) < 2:
            raise InvalidInputError(
                f"Bara {len(kept)} jämförbara enheter har fullständiga värden; minst 2 behövs.",
                hint="Vidga urvalet av jämförbara enheter eller välj en annan period.",
            )
        cols = [panel.unit_index[u] for u in kept]
        both = raw[:, [i1, *cols]]
        scale = both.std(axis=1, ddof=1) if both.shape[1] > 1 else np.ones(len(chosen))
        scale = np.where((scale > 0) & np.isfinite(scale), scale, 1.0)
        all_cols = [panel.time_index[t] for t in times]
        return cls(
            panel=panel,
            outcome=outcome,
            treated=treated,
            start=start,
            predictors=chosen,
            donors=tuple(kept),
            dropped=tuple(dropped),
            times=times,
            fit_times=fit_times,
            x1=raw[:, i1] / scale,
            x0=raw[:, cols] / scale[:, None],
            scale=scale,
            x1_raw=raw[:, i1],
            x0_raw=raw[:, cols],
            z1=y[i1, fit_cols],
            z0=y[np.ix_(cols, fit_cols)].T,
            y1=y[i1, all_cols],
            y0=y[np.ix_(cols, all_cols)].T,
        )

    # -- the inner problem: W given V -------------------------------------------------------
    def weights(self, v: FloatArray) -> FloatArray:
        """W minimising the V-weighted predictor error on the simplex. The outer search
        moves V a little at a time, so W's support rarely changes: the last support is tried
        first (one small KKT solve, accepted only when it satisfies every optimality
        condition), NNLS from scratch otherwise."""
        w = self._inner(v)
        self._exact = False
        weighted = np.flatnonzero(v > 0)
        if len(weighted) < self.k:
            # V on a face of the simplex: the predictors it leaves out do not enter the inner
            # problem, whose minimisers are then every W with the same weighted predictors
            # (least squares fixes the fitted values, not W); again the best outcome fit.
            # The loss is not differentiable in V here: no gradient is given.
            self._exact = True
            return self._best_among_minimisers(weighted, self.x0[weighted] @ w, w)
        if np.abs(self.x1 - self.x0 @ w).max() <= PERFECT:
            self._exact = True
            # The predictors are matched exactly, by more than one W: the inner problem does
            # not decide between them, and a solver's arbitrary pick would make the loss jump
            # with V. Among the exact matches the one that fits the outcome best is taken
            # (the optimistic solution of the bilevel problem); it does not depend on V.
            if self._matched is None:
                self._matched = self._best_among_minimisers(np.arange(self.k), self.x1, w)
            return self._matched
        return w

    def _best_among_minimisers(
        self, rows: npt.NDArray[np.intp], target: FloatArray, fallback: FloatArray
    ) -> FloatArray:
        """argmin ‖z₁ − Z₀W‖² over W ≥ 0, ΣW = 1, X₀[rows]W = target: among the W that give
        the predictors ``rows`` the values ``target``, the best fit of the outcome
        (``fallback`` if the solver's answer misses the target or fits worse)."""
        scale = max(1.0, float(np.abs(self.z0).max(initial=0.0)))
        # with ΣW = 1, X₀W = t is (X₀ − t)W = 0: centred rows keep the penalty's precision
        # where a predictor's values lie far from zero in its standard deviations
        a = np.vstack(
            [
                self.z0 / scale,
                SUM_ROW * (self.x0[rows] - target[:, None]),
                np.full(len(self.donors), SUM_ROW),
            ]
        )
        b = np.concatenate([self.z1 / scale, np.zeros(len(rows)), [SUM_ROW]])
        w, _ = nnls(a, b, maxiter=50 * len(self.donors))
        total = w.sum()
        if total <= 0:
            return fallback
        w = w / total
        if np.abs(target - self.x0[rows] @ w).max() > 1e3 * PERFECT:
            return fallback
        return w if self.loss(w) < self.loss(fallback) else fallback

    def _inner(self, v: FloatArray) -> FloatArray:
        if self.support is not None:
            w = self._on_support(v, self.support)
            if w is not None:
                return w
        root = np.sqrt(v)
        a = np.empty((self.k + 1, len(self.donors)))
        a[: self.k] = self.x0 * root[:, None]
        a[self.k] = SUM_ROW
        b = np.empty(self.k + 1)
        b[: self.k] = self.x1 * root
        b[self.k] = SUM_ROW
        w, _ = nnls(a, b, maxiter=50 * len(self.donors))
        total = w.sum()
        if total <= 0:
            return np.full(len(self.donors), 1.0 / len(self.donors))
        w /= total
        self.support = np.flatnonzero(w > 0)
        exact = self._on_support(v, self.support)
        return w if exact is None else exact

    def _on_support(self, v: FloatArray, support: npt.NDArray[np.intp]) -> FloatArray | None:
        """The exact minimiser with W zero outside ``support``, if it is the minimiser on
        the whole simplex (W_S > 0 and no multiplier of a zero weight negative), else None.
        The KKT matrix it solved is kept (``_kkt``) for the gradient's adjoint solve."""
        n = len(support)
        xs = self.x0[:, support]
        kkt = np.empty((n + 1, n + 1))
        kkt[:n, :n] = (xs.T * v) @ xs
        kkt[:n, n] = 1.0
        kkt[n, :n] = 1.0
        kkt[n, n] = 0.0
        rhs = np.empty(n + 1)
        rhs[:n] = xs.T @ (v * self.x1)
        rhs[n] = 1.0
        lu, pivots, solution, info = _gesv(kkt, rhs)
        if info != 0:
            return None
        ws = solution[:n]
        if not ws.min() > 0:  # also False for NaN
            return None
        w = np.zeros(len(self.donors))
        w[support] = ws
        multipliers = self.x0.T @ (v * (xs @ ws - self.x1)) + solution[n]
        if multipliers.min() < -1e-9 * (1.0 + abs(solution[n])):
            return None
        self._kkt = (support, lu, pivots)
        return w

    def loss(self, w: FloatArray) -> float:
        r = self.z1 - self.z0 @ w
        return float(r @ r) / len(r)

    # -- the outer problem: V ---------------------------------------------------------------
    def loss_at(self, theta: FloatArray, reference: float) -> float:
        """The fit-period outcome MSPE at ``v = softmax(θ)``, divided by ``reference``."""
        return self.loss(self.weights(_softmax(theta))) / reference

    def objective(self, theta: FloatArray, reference: float) -> tuple[float, FloatArray]:
        """The fit-period outcome MSPE (divided by ``reference``) at ``v = softmax(θ)``, and
        its gradient in θ. W(V) is differentiated implicitly: on W's support S the KKT system
        ``[P_SS 1; 1ᵀ 0] [w_S; λ] = [q_S; 1]`` (``P = X₀ᵀVX₀``, ``q = X₀ᵀVx₁``) holds, so
        one adjoint solve gives ``∂L/∂v_i = r_i · (X₀,S a)_i`` with ``r`` the predictor
        residual and ``a`` the adjoint of the outcome error."""
        e = np.exp(theta - theta.max())
        v = e / e.sum()
        loss, grad_v = self.loss_and_gradient(v)
        grad_theta = v * (grad_v - v @ grad_v)
        return loss / reference, grad_theta / reference

    def loss_and_gradient(self, v: FloatArray) -> tuple[float, FloatArray]:
        """The fit-period outcome MSPE at ``v`` and its gradient in ``v``."""
        self._kkt = None
        w = self.weights(v)
        if self._exact:
            return self.loss(w), np.zeros(self.k)
        if self._kkt is not None:
            support, lu, pivots = self._kkt
        else:  # NNLS's answer was not exact on its support: factorise the system anew
            support = np.flatnonzero(w > 1e-12)
            xs = self.x0[:, support]
            n = len(support)
            kkt = np.zeros((n + 1, n + 1))
            kkt[:n, :n] = (xs.T * v) @ xs
            kkt[:n, n] = 1.0
            kkt[n, :n] = 1.0
            lu, pivots, _, _ = _gesv(kkt, np.zeros(n + 1))
        n = len(support)
        xs = self.x0[:, support]
        zs = self.z0[:, support]
        residual = self.z1 - zs @ w[support]
        t = len(residual)
        loss = float(residual @ residual) / t
        rhs = np.zeros(n + 1)
        rhs[:n] = -2.0 * (zs.T @ residual) / t
        # the KKT matrix is symmetric, so its LU factors solve the adjoint system too
        solved, info = _getrs(lu, pivots, rhs)
        adjoint = solved[:n] if info == 0 and np.isfinite(solved).all() else np.zeros(n)
        grad_v: FloatArray = (self.x1 - xs @ w[support]) * (xs @ adjoint)
        return loss, grad_v

    def optimise_v(
        self, rounds: int | None, seed: int, max_rounds: int
    ) -> tuple[FloatArray, Search]:
        """V with the lowest fit-period loss found, and how the search went.

        The lowest loss any V could give is bounded by the best convex combination of the
        donors' outcomes alone, W* (ignoring the predictors). A linear programme finds the V
        that comes closest to making W* the inner solution (the inner problem's optimality
        conditions at W*, violated as little as possible; Becker & Klößner 2018 check the
        same conditions): when it satisfies them, W(V) = W* and V is the global optimum.

        Every vertex of the simplex (V on one predictor) is then solved exactly: the inner
        problem fixes only that predictor's value, and the W with the best outcome fit among
        those giving it is taken (one convex problem each, no seed).

        Otherwise the loss has many local optima (kinks where W's support changes), and the
        search samples before it climbs: local searches (BFGS on ``V = softmax(θ)`` with the
        implicit gradient) start from equal weights, Synth's regression-based weights and
        that V; when the best is still more than ``IMPROVEMENT`` above the bound, from the V's
        closest to making W* on its m largest donors the inner solution (deterministic), and
        then, round after round, ``SAMPLES`` × k random V's (Dirichlet, dense and
        sparse alike: good optima rest on a few predictors) are evaluated — one inner solve
        each, ~50 times cheaper than a local search — and local searches start from the
        ``CLIMBS`` best of them with different donor supports, and from the best point's
        neighbourhood (half its V moved onto each predictor in turn) when the round found
        better. With ``rounds`` None the search stops when a round after the first
        ``MIN_ROUNDS`` found nothing better (by more than ``IMPROVEMENT``), or after
        ``max_rounds`` (then ``converged`` is False), or when it is within ``IMPROVEMENT`` of
        the bound;
        ``rounds`` fixes the number of rounds instead (0: the fixed starts only). The best
        optimum, when interior, is then polished by Nelder–Mead, which walks over kinks where
        a gradient method stops."""
        bound_w = self._outcome_only_weights()
        bound = self.loss(bound_w)
        if self.k == 1:
            v = np.ones(1)
            w = self.weights(v)
            loss = self.loss(w)
            one = Solution(loss, v, w)
            return v, Search(0, 0, True, loss, bound, loss <= _reached(bound), (one,))
        closest = self._closest_to_bound(bound_w)
        if closest is not None:
            self.support = None
            w = self.weights(closest)
            loss = self.loss(w)
            if loss <= _reached(bound):
                one = Solution(loss, closest, w)
                return closest, Search(0, 0, True, loss, bound, True, (one,))
        reference = float(np.var(self.z1)) or float(np.mean(self.z1**2)) or 1.0
        found: list[Solution] = []
        best = Solution(np.inf, np.full(self.k, 1.0 / self.k), np.zeros(len(self.donors)))
        # V on one predictor alone: the inner problem then fixes only that predictor's
        # value (the donors' nearest to the treated unit's), and among the W that give it,
        # the best outcome fit is taken. One convex problem per predictor, no search: the
        # best of them is the optimum over the simplex's vertices, whatever the seed.
        for i, vertex in enumerate(np.eye(self.k)):
            if np.ptp(self.x0[i]) <= PERFECT:
                # the donors all have the same value: V on it alone would leave W free
                continue
            self.support = None
            w = self.weights(vertex)
            solution = Solution(self.loss(w), vertex, w)
            _remember(found, solution)
            if solution.loss < best.loss:
                best = solution
        climbs = 0

        def climb(v0: FloatArray) -> Solution:
            nonlocal best, climbs
            climbs += 1
            self.support = None
            result = minimize(
                self.objective,
                np.log(np.maximum(v0, 1e-8)),
                args=(reference,),
                jac=True,
                # BFGS, not L-BFGS-B: θ is unconstrained, and scipy's L-BFGS-B costs
                # ~0.7 ms per iteration here, more than the loss itself.
                method="BFGS",
                options={"maxiter": BFGS_ITERATIONS, "gtol": BFGS_GTOL},
            )
            v = _softmax(np.asarray(result.x))
            w = self.weights(v)
            solution = Solution(self.loss(w), v, w)
            _remember(found, solution)
            if solution.loss < best.loss:
                best = solution
            return solution

        fixed = [np.full(self.k, 1.0 / self.k), self._regression_v()]
        if closest is not None:
            fixed.append(closest)
        for v0 in fixed:
            climb(v0)
        if best.loss > _near(bound):
            # W* itself is out of reach; the best reachable W often keeps its largest
            # donors: the V closest to making W* on its m largest donors the inner solution,
            # for each m (deterministic starts, no seed).
            for target in self._truncated_bounds(bound_w):
                start = self._closest_to_bound(target)
                if start is not None:
                    climb(start)
        rng = np.random.default_rng(seed)
        sampled: list[Solution] = []  # samples that may be near-optimal, kept for the end
        limit = max_rounds if rounds is None else rounds
        converged = False
        done = 0
        # No round can find better by more than IMPROVEMENT when the best is that close to
        # the bound already: then the search has nothing left to look for.
        while done < limit and best.loss > _near(bound):
            done += 1
            before = best.loss
            for v0 in self._promising(rng, SAMPLES * self.k, CLIMBS, sampled):
                climb(v0)
            for _ in range(HOPS):
                # basin hopping: a jump from the best point (good optima lie near each other)
                climb(_softmax(np.log(np.maximum(best.v, 1e-8)) + rng.normal(0.0, HOP, self.k)))
            if best.loss < before * (1 - IMPROVEMENT):
                centre = best.v
                for i in range(self.k):
                    moved = 0.5 * centre
                    moved[i] += 0.5
                    climb(moved)
            if rounds is None and done >= MIN_ROUNDS and best.loss >= before * (1 - IMPROVEMENT):
                converged = True
                break
        if best.loss <= _near(bound):
            converged = True
        if best.loss > _reached(bound) and np.isfinite(best.loss) and best.v.min() > 0:
            # The loss has kinks where W's support changes, where a gradient method can
            # stop short; a derivative-free polish from the best optimum walks over them.
            self.support = None
            result = minimize(
                self.loss_at,
                np.log(np.maximum(best.v, 1e-12)),
                args=(reference,),
                method="Nelder-Mead",
                options={"maxfev": POLISH_EVALUATIONS, "xatol": 1e-4, "fatol": 1e-10},
            )
            v = _softmax(np.asarray(result.x))
            w = self.weights(v)
            _remember(found, Solution(self.loss(w), v, w))
        for solution in sampled:
            if solution.loss <= best.loss * (1 + NEAR_OPTIMAL):
                _remember(found, solution)
        found.sort(key=lambda s: s.loss)
        top = found[0]
        near = tuple(s for s in found if s.loss <= top.loss * (1 + NEAR_OPTIMAL) + 1e-12)
        certified = top.loss <= _reached(bound)
        search = Search(
            climbs, done, converged, top.loss, bound, certified, near, rounds is not None
        )
        return top.v, search

    def _promising(
        self, rng: np.random.Generator, samples: int, count: int, kept: list[Solution]
    ) -> list[FloatArray]:
        """``samples`` random V's (Dirichlet with concentration 1, 0.3 and 0.1 in turn:
        dense and sparse) and the k vertices, each evaluated by one inner solve; the
        ``count`` with the lowest loss among those with different donor supports. The best
        few are added to ``kept`` (near-optimal candidates)."""
        concentration = (1.0, 0.3, 0.1)
        scored: list[tuple[float, bytes, FloatArray]] = []
        # V near each vertex (floored at 10⁻⁸, so inside the simplex: the small weights
        # choose W there, unlike at the vertex itself, which optimise_v solves exactly)
        drawn = [rng.dirichlet(np.full(self.k, concentration[i % 3])) for i in range(samples)]
        for v in [*np.eye(self.k), *drawn]:
            v = np.maximum(v, 1e-8)  # where a local search would start from
            v /= v.sum()
            w = self.weights(v)
            scored.append((self.loss(w), (w > 1e-9).tobytes(), v))
        scored.sort(key=lambda item: item[0])
        for _loss, _support, v in scored[: 2 * count]:
            self.support = None
            w = self.weights(v)
            kept.append(Solution(self.loss(w), v, w))
        chosen: list[FloatArray] = []
        seen: set[bytes] = set()
        for _loss, support, v in scored:
            if support not in seen:
                seen.add(support)
                chosen.append(v)
                if len(chosen) == count:
                    break
        return chosen

    def _outcome_only_weights(self, kept: Sequence[int] | None = None) -> FloatArray:
        """W* = argmin ‖z₁ − Z₀W‖² on the simplex: no V can give a lower fit-period loss.
        With ``kept``, the same on those donors alone (the others' weights zero)."""
        columns = list(range(len(self.donors))) if kept is None else list(kept)
        scale = max(1.0, float(np.abs(self.z0).max(initial=0.0)))
        a = np.vstack([self.z0[:, columns] / scale, np.full(len(columns), SUM_ROW)])
        b = np.append(self.z1 / scale, SUM_ROW)
        w, _ = nnls(a, b, maxiter=50 * len(columns))
        total = w.sum()
        out = np.zeros(len(self.donors))
        out[columns] = w / total if total > 0 else 1.0 / len(columns)
        return out

    def _truncated_bounds(self, bound_w: FloatArray) -> list[FloatArray]:
        """The best outcome-only fits on W*'s m largest donors, for m from one less than
        its support down to 1."""
        order = np.argsort(-bound_w, kind="stable")
        support = [int(j) for j in order if bound_w[j] > 1e-10]
        return [self._outcome_only_weights(support[:m]) for m in range(len(support) - 1, 0, -1)]

    def _closest_to_bound(self, target: FloatArray) -> FloatArray | None:
        """The V that comes closest to making ``target`` (W*) the inner solution: the
        inner problem's optimality conditions at W* say that the multiplier of donor j,
        ``g_j·V + λ`` with ``g_j = X₀[:, j] ∘ (X₀W* − x₁)``, is zero on W*'s support and
        non-negative off it; a linear programme in (V, λ) minimises their total violation.
        None when the programme fails."""
        support = np.flatnonzero(target > 1e-10)
        outside = np.flatnonzero(target <= 1e-10)
        residual = self.x0 @ target - self.x1
        g = self.x0 * residual[:, None]  # (k, J)
        g = g / max(float(np.abs(g).max(initial=0.0)), 1e-300)
        k, n_in, n_out = self.k, len(support), len(outside)
        size = k + 1 + 2 * n_in + n_out  # V, λ, slack up and down on S, slack off S
        cost = np.zeros(size)
        cost[k + 1 :] = 1.0
        a_eq = np.zeros((1 + n_in, size))
        a_eq[0, :k] = 1.0
        a_eq[1:, :k] = g[:, support].T
        a_eq[1:, k] = 1.0
        a_eq[1:, k + 1 : k + 1 + n_in] = -np.eye(n_in)
        a_eq[1:, k + 1 + n_in : k + 1 + 2 * n_in] = np.eye(n_in)
        b_eq = np.zeros(1 + n_in)
        b_eq[0] = 1.0
        a_ub = np.zeros((n_out, size))
        a_ub[:, :k] = -g[:, outside].T
        a_ub[:, k] = -1.0
        a_ub[:, k + 1 + 2 * n_in :] = -np.eye(n_out)
        bounds = [(0.0, None)] * k + [(None, None)] + [(0.0, None)] * (2 * n_in + n_out)
        try:
            result = linprog(
                cost,
                A_ub=a_ub if n_out else None,
                b_ub=np.zeros(n_out) if n_out else None,
                A_eq=a_eq,
                b_eq=b_eq,
                bounds=bounds,
                method="highs",
            )
        except ValueError:
            return None
        if result.status != 0:
            return None
        v = np.maximum(np.asarray(result.x[:k]), 1e-9)
        out: FloatArray = v / v.sum()
        return out

    def _regression_v(self) -> FloatArray:
        """Synth's regression-based starting point: regress the fit-period outcomes of all
        units on the scaled predictors; V ∝ the sum of squared coefficients per predictor."""
        x = np.hstack([self.x1[:, None], self.x0]).T  # (units, k)
        design = np.hstack([np.ones((x.shape[0], 1)), x])
        z = np.hstack([self.z1[:, None], self.z0]).T  # (units, T)
        beta, *_ = np.linalg.lstsq(design, z, rcond=None)
        v = (beta[1:] ** 2).sum(axis=1)
        total = v.sum()
        return v / total if total > 0 and np.isfinite(total) else np.full(self.k, 1.0 / self.k)

    def result(self, v: FloatArray, w: FloatArray | None = None) -> SynthFit:
        if w is None:
            w = self.weights(v)
        synthetic = self.y0 @ w
        gaps = self.y1 - synthetic
        fit_mask = np.isin(self.times, self.fit_times)
        post_mask = np.array(self.times) >= self.start
        synthetic_raw = self.x0_raw @ w
        donor_mean = self.x0_raw.mean(axis=1)
        return SynthFit(
            outcome=self.outcome,
            treated=self.treated,
            start=self.start,
            times=self.times,
            treated_series=self.y1.copy(),
            synthetic_series=synthetic,
            donors=self.donors,
            weights=w,
            v=v,
            balance=tuple(
                Balance(
                    p,
                    float(self.x1_raw[i]),
                    float(synthetic_raw[i]),
                    float(donor_mean[i]),
                    float(v[i]),
                    float(self.scale[i]),
                )
                for i, p in enumerate(self.predictors)
            ),
            fit_times=self.fit_times,
            pre_rmspe=_rms(gaps[fit_mask]),
            post_rmspe=_rms(gaps[post_mask]),
            dropped=self.dropped,
        )


def _reached(bound: float) -> float:
    """A loss at most this has reached ``bound`` (up to rounding)."""
    return bound * (1 + 1e-6) + 1e-12


def _near(bound: float) -> float:
    """A loss at most this is within ``IMPROVEMENT`` of ``bound``: no V could improve on it
    by more than the search's convergence rule counts."""
    return max(bound / (1 - IMPROVEMENT), _reached(bound))


def _softmax(theta: FloatArray) -> FloatArray:
    e = np.exp(theta - theta.max())
    out: FloatArray = e / e.sum()
    return out


def _remember(found: list[Solution], solution: Solution) -> None:
    """Add ``solution`` to ``found`` unless the same weights are there already (then the
    lower loss of the two is kept)."""
    for i, other in enumerate(found):
        if np.abs(other.weights - solution.weights).max() < SAME_WEIGHTS:
            if solution.loss < other.loss:
                found[i] = solution
            return
    found.append(solution)


def _rms(values: FloatArray) -> float:
    return float(np.sqrt(np.mean(values**2))) if len(values) else float("nan")
