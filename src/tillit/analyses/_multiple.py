"""Multiple testing: the Benjamini–Hochberg false discovery rate procedure.

When Tillit tests a trend for every municipality and KPI at once, some tests come out
"significant" by chance alone. Controlling the false discovery rate keeps the expected share of
false findings among the reported ones at ``q`` (Benjamini & Hochberg 1995, "Controlling the false
discovery rate", J R Stat Soc B 57:289).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from tillit.errors import InvalidInputError

__all__ = ["benjamini_hochberg"]


def benjamini_hochberg(
    p_values: ArrayLike, q: float = 0.05
) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
    """Benjamini–Hochberg step-up procedure at false discovery rate ``q``.

    Returns ``(rejected, q_values)``, both shaped like ``p_values``. ``q_values`` are the
    BH-adjusted p-values, ``min_{k >= i} p_(k) · m / k`` capped at 1, so ``rejected`` is
    ``q_values <= q``; it is decided by the step-up rule itself (the largest rank i with
    ``p_(i) <= i/m · q`` and every rank below it), so that a p-value exactly on its threshold is
    rejected whatever the rounding of ``p · m / i``. Missing p-values (NaN) are never rejected,
    get a NaN q-value and do not count in ``m``, the number of tests: a test that was not run
    cannot use up the error budget.

    Raises :class:`InvalidInputError` when ``q`` is not in (0, 1) or a p-value is outside [0, 1].
    """
    if not 0.0 < q < 1.0:
        raise InvalidInputError(
            f"FDR-nivån q måste ligga mellan 0 och 1, fick {q}.",
            hint="Ange t.ex. --fdr 0.05 (i genomsnitt högst 5 % felaktiga bland de flaggade).",
        )
    p = np.asarray(p_values, dtype=np.float64)
    valid = ~np.isnan(p)
    if np.any((p[valid] < 0.0) | (p[valid] > 1.0)):
        raise InvalidInputError("p-värden måste ligga mellan 0 och 1.")

    flat = p.ravel()
    flat_valid = valid.ravel()
    q_flat = np.full(flat.shape, np.nan)
    reject_flat = np.zeros(flat.shape, dtype=bool)
    pv = flat[flat_valid]
    m = pv.size
    if m:
        order = np.argsort(pv, kind="stable")
        ranked = pv[order] * m / np.arange(1, m + 1)
        # The step-up rule: each adjusted value is the smallest ratio at its rank or above.
        adjusted = np.minimum.accumulate(ranked[::-1])[::-1]
        np.minimum(adjusted, 1.0, out=adjusted)
        unsorted = np.empty(m)
        unsorted[order] = adjusted
        q_flat[flat_valid] = unsorted
        below = np.flatnonzero(pv[order] <= np.arange(1, m + 1) / m * q)
        reject_sorted = np.zeros(m, dtype=bool)
        if below.size:
            reject_sorted[: below[-1] + 1] = True
        reject_unsorted = np.empty(m, dtype=bool)
        reject_unsorted[order] = reject_sorted
        reject_flat[flat_valid] = reject_unsorted
    return reject_flat.reshape(p.shape), q_flat.reshape(p.shape)
