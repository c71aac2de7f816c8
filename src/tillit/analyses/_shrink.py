"""Empirical-Bayes shrinkage of unit estimates towards a common mean (normal–normal model).

A small municipality's rate jumps about from year to year because it rests on few people. The
normal–normal model treats each unit's true value ``θ_i`` as drawn from ``N(μ, τ²)`` and its
observed value as ``y_i ~ N(θ_i, v_i)`` with known sampling variance ``v_i``. The posterior mean
pulls ``y_i`` towards ``μ`` by a share ``1 − B_i`` that is large when ``v_i`` is large compared with
the real between-unit spread ``τ²`` (Efron & Morris 1975, "Data analysis using Stein's estimator
and its generalizations", JASA 70:311). ``τ²`` is estimated by the method of moments of
DerSimonian & Laird (1986, "Meta-analysis in clinical trials", Control Clin Trials 7:177).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from tillit.errors import InvalidInputError

__all__ = ["Shrunk", "shrink"]


@dataclass(frozen=True, eq=False)
class Shrunk:
    """Shrunken estimates, one entry per unit in input order (NaN where the input was missing).

    ``mu`` and ``tau2`` are in the units of the values (``tau2`` squared); ``weight`` is
    ``B_i = tau2 / (tau2 + v_i)`` in [0, 1], the share of the unit's own deviation that is kept.
    """

    mu: float
    tau2: float
    weight: NDArray[np.float64]
    shrunk: NDArray[np.float64]
    posterior_sd: NDArray[np.float64]


def shrink(values: ArrayLike, variances: ArrayLike, *, mean: float | None = None) -> Shrunk:
    """Shrink ``values`` towards a common mean given each value's sampling variance.

    ``variances`` are the squared standard errors of ``values`` (same units squared), and must be
    positive. ``tau2`` is the DerSimonian–Laird moment estimate, floored at 0. With ``mean=None``
    it uses ``Q = Σ w (y − ȳ_w)²`` with ``w = 1/v`` and ``k − 1`` degrees of freedom, and ``mu`` is
    then the random-effects weighted mean ``Σ y/(v+τ²) / Σ 1/(v+τ²)``. With a given prior ``mean``
    nothing is estimated for the mean, so ``Q`` is taken around it with ``k`` degrees of freedom:
    ``τ² = max(0, (Q − k) / Σw)``.

    Per unit: ``shrunk = mu + B·(y − mu)`` and ``posterior_sd = sqrt(B·v)``. With ``tau2 = 0``
    every unit gets ``mu``. Units with a NaN value or variance are left out of the estimates and
    get NaN. Raises :class:`InvalidInputError` for length mismatch, a variance ≤ 0, or no usable
    unit when ``mean`` is not given.
    """
    y = np.asarray(values, dtype=np.float64)
    v = np.asarray(variances, dtype=np.float64)
    if y.shape != v.shape or y.ndim != 1:
        raise InvalidInputError(
            f"Värden och varianser måste vara lika långa listor ({y.shape} och {v.shape})."
        )
    ok = ~(np.isnan(y) | np.isnan(v))
    if np.any(v[ok] <= 0.0):
        raise InvalidInputError("Varianserna måste vara större än 0.")
    k = int(ok.sum())
    if k == 0 and mean is None:
        raise InvalidInputError("Inga värden att krympa: alla saknas.")

    yk, vk = y[ok], v[ok]
    w = 1.0 / vk
    sw = float(w.sum())
    if mean is None:
        fixed = float((w * yk).sum() / sw)
        q_stat = float((w * (yk - fixed) ** 2).sum())
        denom = sw - float((w**2).sum()) / sw
        # A single unit leaves no spread to estimate (the denominator is then 0).
        tau2 = max(0.0, (q_stat - (k - 1)) / denom) if denom > 0 else 0.0
        w_re = 1.0 / (vk + tau2)
        mu = float((w_re * yk).sum() / w_re.sum())
    else:
        mu = float(mean)
        q_stat = float((w * (yk - mu) ** 2).sum())
        tau2 = max(0.0, (q_stat - k) / sw) if k else 0.0

    weight = np.full(y.shape, np.nan)
    shrunk = np.full(y.shape, np.nan)
    posterior_sd = np.full(y.shape, np.nan)
    b = tau2 / (tau2 + vk)
    weight[ok] = b
    shrunk[ok] = mu + b * (yk - mu)
    posterior_sd[ok] = np.sqrt(b * vk)
    for arr in (weight, shrunk, posterior_sd):
        arr.setflags(write=False)
    return Shrunk(mu=mu, tau2=tau2, weight=weight, shrunk=shrunk, posterior_sd=posterior_sd)
