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
kinks where W's support changes. With ``V = softmax(θ)`` and the gradient of the loss from
implicit differentiation of the KKT system, BFGS runs from several starting points (equal
weights, the regression-based weights of Synth, seeded random ones); the best is polished by
Nelder–Mead, which walks over the kinks, and the best pre-period fit is kept.

Different starting points can end in different local optima, and the best is not always
the one a single search from equal weights (Synth, pysyncon) finds: on the Basque data of
Abadie & Gardeazabal (2003) that search gives their published weights, while more starting
points find a V with a lower pre-period error (see docs/analyses.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.optimize import minimize, nnls

from tillit.analyses._synth_panel import FloatArray, Predictor, SynthPanel
from tillit.errors import InvalidInputError

__all__ = ["Balance", "SynthFit", "fit_synthetic_control", "outcome_lags"]

SUM_ROW = 1e4
"""Weight of the row that holds ΣW = 1 in the NNLS form; the predictors are scaled to unit
standard deviation, so this makes a violation 10⁸ times costlier than a unit of misfit."""


@dataclass(frozen=True)
class Balance:
    """A predictor's value for the treated unit, its synthetic control and the plain donor
    average, with the weight V the fit gave it."""

    predictor: Predictor
    treated: float
    synthetic: float
    donor_mean: float
    importance: float


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
    starts: int = 8,
    seed: int = 0,
) -> SynthFit:
    """Fit the synthetic control of ``treated`` for ``outcome``, treated from ``start`` on.

    ``fit`` (inclusive times, default: every time before ``start``) is where V is chosen to
    minimise the outcome error; ``predictors`` default to :func:`outcome_lags`. ``donors``
    default to every other unit; a donor without the outcome at a fit or post time, or without
    a predictor value, is left out and listed in ``dropped`` with the reason. ``v`` fixes the
    predictor weights (Synth's ``custom.v``) instead of optimising them. ``starts`` starting
    points for V (at least 1: equal weights; then Synth's regression-based weights; then
    random ones from ``seed``), the best pre-period fit kept."""
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
        if starts < 1:
            raise InvalidInputError("Antalet startpunkter ska vara minst 1.")
        chosen = problem.optimise_v(starts, seed)
    return problem.result(chosen)


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
    x1_raw: FloatArray
    x0_raw: FloatArray
    z1: FloatArray  # (T,) outcome at fit times
    z0: FloatArray  # (T, J)
    y1: FloatArray  # outcome at ``times``
    y0: FloatArray  # (len(times), J)
    support: npt.NDArray[np.intp] | None = None  # W's support at the last solve

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
        the whole simplex (W_S > 0 and no multiplier of a zero weight negative), else None."""
        n = len(support)
        xs = self.x0[:, support]
        kkt = np.empty((n + 1, n + 1))
        kkt[:n, :n] = xs.T @ (v[:, None] * xs)
        kkt[:n, n] = 1.0
        kkt[n, :n] = 1.0
        kkt[n, n] = 0.0
        rhs = np.empty(n + 1)
        rhs[:n] = xs.T @ (v * self.x1)
        rhs[n] = 1.0
        try:
            solution = np.linalg.solve(kkt, rhs)
        except np.linalg.LinAlgError:
            return None
        ws = solution[:n]
        if not np.all(ws > 0) or not np.all(np.isfinite(solution)):
            return None
        w = np.zeros(len(self.donors))
        w[support] = ws
        multipliers = self.x0.T @ (v * (xs @ ws - self.x1)) + solution[n]
        if multipliers.min() < -1e-9 * (1.0 + abs(solution[n])):
            return None
        return w

    def loss(self, w: FloatArray) -> float:
        r = self.z1 - self.z0 @ w
        return float(r @ r) / len(r)

    # -- the outer problem: V ---------------------------------------------------------------
    def loss_at(self, theta: FloatArray, reference: float) -> float:
        """The fit-period outcome MSPE at ``v = softmax(θ)``, divided by ``reference``."""
        e = np.exp(theta - theta.max())
        return self.loss(self.weights(e / e.sum())) / reference

    def objective(self, theta: FloatArray, reference: float) -> tuple[float, FloatArray]:
        """The fit-period outcome MSPE (divided by ``reference``) at ``v = softmax(θ)``, and
        its gradient in θ. W(V) is differentiated implicitly: on W's support S the KKT system
        ``[P_SS 1; 1ᵀ 0] [w_S; λ] = [q_S; 1]`` (``P = X₀ᵀVX₀``, ``q = X₀ᵀVx₁``) holds, so
        one adjoint solve gives ``∂L/∂v_i = r_i · (X₀,S a)_i`` with ``r`` the predictor
        residual and ``a`` the adjoint of the outcome error."""
        e = np.exp(theta - theta.max())
        v = e / e.sum()
        w = self.weights(v)
        support = np.flatnonzero(w > 1e-12)
        xs = self.x0[:, support]
        zs = self.z0[:, support]
        residual = self.z1 - zs @ w[support]
        t = len(residual)
        loss = float(residual @ residual) / t
        n = len(support)
        kkt = np.zeros((n + 1, n + 1))
        kkt[:n, :n] = xs.T @ (v[:, None] * xs)
        kkt[:n, n] = 1.0
        kkt[n, :n] = 1.0
        rhs = np.zeros(n + 1)
        rhs[:n] = -2.0 * (zs.T @ residual) / t
        adjoint = np.linalg.lstsq(kkt, rhs, rcond=None)[0][:n]
        grad_v = (self.x1 - xs @ w[support]) * (xs @ adjoint)
        grad_theta = v * (grad_v - v @ grad_v)
        return loss / reference, grad_theta / reference

    def optimise_v(self, starts: int, seed: int) -> FloatArray:
        if self.k == 1:
            return np.ones(1)
        reference = float(np.var(self.z1)) or float(np.mean(self.z1**2)) or 1.0
        best = np.inf
        best_theta = np.zeros(self.k)
        for v0 in self._starting_points(starts, seed):
            self.support = None
            result = minimize(
                self.objective,
                np.log(np.maximum(v0, 1e-8)),
                args=(reference,),
                jac=True,
                # BFGS, not L-BFGS-B: θ is unconstrained, and scipy's L-BFGS-B costs
                # ~0.7 ms per iteration here, more than the loss itself.
                method="BFGS",
                options={"maxiter": 100, "gtol": 1e-5},
            )
            if result.fun < best:
                best, best_theta = float(result.fun), np.asarray(result.x)
        # The loss has kinks where W's support changes, where a gradient method can stop
        # short; a derivative-free polish from the best point walks over them.
        result = minimize(
            self.loss_at,
            best_theta,
            args=(reference,),
            method="Nelder-Mead",
            options={"maxiter": 50 * self.k, "xatol": 1e-4, "fatol": 1e-10},
        )
        if result.fun < best:
            best_theta = np.asarray(result.x)
        e = np.exp(best_theta - best_theta.max())
        v: FloatArray = e / e.sum()
        return v

    def _starting_points(self, starts: int, seed: int) -> list[FloatArray]:
        points = [np.full(self.k, 1.0 / self.k)]
        if starts >= 2:
            points.append(self._regression_v())
        rng = np.random.default_rng(seed)
        while len(points) < starts:
            points.append(rng.dirichlet(np.ones(self.k)))
        return points

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

    def result(self, v: FloatArray) -> SynthFit:
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
                )
                for i, p in enumerate(self.predictors)
            ),
            fit_times=self.fit_times,
            pre_rmspe=_rms(gaps[fit_mask]),
            post_rmspe=_rms(gaps[post_mask]),
            dropped=self.dropped,
        )


def _rms(values: FloatArray) -> float:
    return float(np.sqrt(np.mean(values**2))) if len(values) else float("nan")
