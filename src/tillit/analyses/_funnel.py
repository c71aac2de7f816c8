"""Funnel plots for comparing units (municipalities, regions) on one indicator.

Each unit is plotted against its precision (its denominator ``n``, its expected count ``E``, or its
standard error), and control limits around a target show how far a unit may stray by chance
alone. The methods, including the overdispersion adjustment, follow Spiegelhalter (2005),
"Funnel plots for comparing institutional performance", Stat Med 24:1185–1202, and
Spiegelhalter (2005), "Handling over-dispersion of performance indicators", Qual Saf Health Care
14:347–351.

Overdispersion: real units differ by more than sampling noise, so with many units nearly everyone
lands outside plain Poisson or binomial limits. We estimate the dispersion ``φ`` from winsorized
z-scores and, when ``Iφ > I − 1``, widen the limits with an additive between-unit variance ``τ²``
(a DerSimonian–Laird random-effects model).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from tillit.errors import InvalidInputError

__all__ = [
    "Funnel",
    "FunnelKind",
    "additive_tau2",
    "funnel",
    "normal_limits",
    "normal_z",
    "overdispersion",
    "poisson_ratio_limits",
    "proportion_limits",
    "proportion_z",
    "ratio_z",
]

FunnelKind = Literal["proportion", "ratio", "normal"]
FloatArray = NDArray[np.float64]
_KINDS = ("proportion", "ratio", "normal")


def _check_level(level: float) -> float:
    if not 0.0 < level < 1.0:
        raise InvalidInputError(f"Konfidensnivån måste ligga mellan 0 och 1, fick {level}.")
    return float(special.ndtri(0.5 + level / 2.0))


def _nonnegative(x: ArrayLike, what: str) -> FloatArray:
    a = np.asarray(x, dtype=np.float64)
    if np.any(a < 0.0):  # NaN compares False, so missing values pass
        raise InvalidInputError(f"{what} får inte vara negativ.")
    return a


def poisson_ratio_limits(expected: ArrayLike, level: float) -> tuple[FloatArray, FloatArray]:
    """Exact Poisson control limits for a ratio ``O/E`` around 1 (e.g. a standardised ratio).

    ``lower = χ²(α/2; 2E)/(2E)`` and ``upper = χ²(1 − α/2; 2E + 2)/(2E)`` with ``α = 1 − level``
    (Spiegelhalter 2005, appendix A.2): the exact limits for a Poisson count with mean ``E``,
    divided by ``E``. ``expected`` must be ≥ 0; ``E = 0`` gives NaN.
    """
    _check_level(level)
    e = _nonnegative(expected, "Förväntat antal")
    alpha = 1.0 - level
    with np.errstate(divide="ignore", invalid="ignore"):
        lower = special.chdtri(2.0 * e, 1.0 - alpha / 2.0) / (2.0 * e)
        upper = special.chdtri(2.0 * e + 2.0, alpha / 2.0) / (2.0 * e)
    bad = ~(e > 0)
    return np.where(bad, np.nan, lower), np.where(bad, np.nan, upper)


def proportion_limits(
    target: float, n: ArrayLike, level: float, tau2: float = 0.0
) -> tuple[FloatArray, FloatArray]:
    """Normal-approximation limits for a proportion: ``target ± z·sqrt(target(1−target)/n + τ²)``.

    ``target`` in [0, 1], ``n`` (denominator, ≥ 0) per unit, ``tau2`` ≥ 0 on the proportion
    scale. Limits are clipped to [0, 1]; ``n = 0`` gives NaN.
    """
    z = _check_level(level)
    if not 0.0 <= target <= 1.0:
        raise InvalidInputError(f"Målvärdet för en andel måste ligga i [0, 1], fick {target}.")
    nn = _nonnegative(n, "Antalet (nämnaren)")
    with np.errstate(divide="ignore", invalid="ignore"):
        half = z * np.sqrt(target * (1.0 - target) / nn + tau2)
    half = np.where(nn > 0, half, np.nan)
    return np.clip(target - half, 0.0, 1.0), np.clip(target + half, 0.0, 1.0)


def normal_limits(
    target: float, se: ArrayLike, level: float, tau2: float = 0.0
) -> tuple[FloatArray, FloatArray]:
    """Limits ``target ± z·sqrt(se² + τ²)`` for values with a known standard error ``se`` (≥ 0).

    Used for the noise band around an indicator whose own uncertainty is given.
    """
    z = _check_level(level)
    s = _nonnegative(se, "Standardfelet")
    half = z * np.sqrt(s**2 + tau2)
    return target - half, target + half


def ratio_z(observed: ArrayLike, expected: ArrayLike) -> FloatArray:
    """z-score of an observed count against its expectation on the log scale: ``√E·ln(O/E)``.

    ``O = 0`` gives −inf (the log is undefined there); ``E = 0`` gives NaN.
    """
    o = _nonnegative(observed, "Observerat antal")
    e = _nonnegative(expected, "Förväntat antal")
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.sqrt(e) * np.log(o / e)
    return np.where(e > 0, z, np.nan)


def proportion_z(y: ArrayLike, n: ArrayLike, target: float) -> FloatArray:
    """z-score of a proportion ``y`` with denominator ``n``: ``(y − t)/sqrt(t(1−t)/n)``."""
    yy = np.asarray(y, dtype=np.float64)
    nn = _nonnegative(n, "Antalet (nämnaren)")
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (yy - target) / np.sqrt(target * (1.0 - target) / nn)
    return np.where(nn > 0, z, np.nan)


def normal_z(y: ArrayLike, se: ArrayLike, target: float) -> FloatArray:
    """z-score ``(y − target)/se`` of a value with known standard error."""
    yy = np.asarray(y, dtype=np.float64)
    s = _nonnegative(se, "Standardfelet")
    with np.errstate(divide="ignore", invalid="ignore"):
        return (yy - target) / s


def overdispersion(z: ArrayLike, winsor: float = 0.1) -> float:
    """Dispersion factor ``φ``: the mean of the squared z-scores after winsorizing.

    Spiegelhalter (2005, §3.3) pulls the most extreme 10 % of z-scores at each end in to the
    10 % and 90 % points. We use the classical order-statistic definition of that, as
    ``scipy.stats.mstats.winsorize`` does: with ``I`` units the ``k = floor(winsor·I)`` smallest
    are set to the (k+1)-th smallest and the ``k`` largest to the (k+1)-th largest. So a sample
    of fewer than ``1/winsor`` units (fewer than 10 by default) is never changed: no unit lies
    strictly beyond its 10 % points. (R's FunnelPlotR clips at interpolated quantiles instead,
    which moves the two extremes of even a six-unit sample and gives a smaller ``φ``.)

    Non-finite z-scores (missing values, or ``−inf`` from a zero count) are left out. Returns NaN
    when no z-score is finite. ``φ ≈ 1`` means no overdispersion.
    """
    if not 0.0 <= winsor < 0.5:
        raise InvalidInputError(f"Winsoriseringsandelen måste ligga i [0, 0,5), fick {winsor}.")
    zz = np.asarray(z, dtype=np.float64)
    zz = np.sort(zz[np.isfinite(zz)])
    n = zz.size
    if n == 0:
        return math.nan
    k = math.floor(winsor * n)
    if k:
        zz = np.clip(zz, zz[k], zz[n - 1 - k])
    return float(np.mean(zz**2))


def additive_tau2(z: ArrayLike, se: ArrayLike, phi: float) -> float:
    """Spiegelhalter's additive between-unit variance ``τ²`` (a DerSimonian–Laird estimate).

    ``τ² = max(0, (I·φ − (I − 1)) / (Σw − Σw²/Σw))`` with ``w = 1/se²`` over the ``I`` units with
    a finite z-score and a finite positive ``se`` (Spiegelhalter 2005, §3.3.2). In the squared
    units of the value the ``se`` belongs to. ``τ² = 0`` when ``I·φ ≤ I − 1`` or ``I < 2``.
    """
    zz = np.asarray(z, dtype=np.float64)
    s = np.asarray(se, dtype=np.float64)
    if zz.shape != s.shape:
        raise InvalidInputError("z-värden och standardfel måste vara lika många.")
    ok = np.isfinite(zz) & np.isfinite(s) & (s > 0)
    i = int(ok.sum())
    if i < 2 or not math.isfinite(phi) or i * phi <= i - 1:
        return 0.0
    w = 1.0 / s[ok] ** 2
    sw = float(w.sum())
    return max(0.0, (i * phi - (i - 1)) / (sw - float((w**2).sum()) / sw))


def _label(level: float) -> str:
    # 0.95 -> "95", 0.998 -> "998": the names used in reports ("above_998").
    return f"{level * 100:g}".replace(".", "")


def _se(kind: str, target: float, precision: FloatArray) -> FloatArray:
    """Standard error of a unit's value under the target, on the scale z-scores use."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind == "proportion":
            return np.asarray(np.sqrt(target * (1.0 - target) / precision))
        if kind == "ratio":  # log scale: Var(ln O/E) ≈ 1/(θE)
            return np.asarray(1.0 / np.sqrt(target * precision))
        return precision


def _limits(
    kind: str, target: float, precision: FloatArray, level: float, tau2: float
) -> tuple[FloatArray, FloatArray]:
    if kind == "proportion":
        return proportion_limits(target, precision, level, tau2)
    if kind == "normal":
        return normal_limits(target, precision, level, tau2)
    if tau2 == 0.0:
        # Exact limits of a Poisson count with mean θE, as a ratio to E.
        lower, upper = poisson_ratio_limits(target * precision, level)
        return target * lower, target * upper
    z = _check_level(level)
    with np.errstate(divide="ignore", invalid="ignore"):
        half = z * np.sqrt(1.0 / (target * precision) + tau2)
    half = np.where(precision > 0, half, np.nan)
    return target * np.exp(-half), target * np.exp(half)


@dataclass(frozen=True, eq=False)
class Funnel:
    """A funnel plot's numbers, per unit in input order.

    ``z`` are the z-scores against ``target`` (adjusted for ``tau2`` when ``adjusted``; for ratios
    on the log scale). ``lower[level]``/``upper[level]`` are each unit's control limits in the
    units of the values. ``position`` is ``"above_998"``, ``"above_95"``, ``"inside"``,
    ``"below_95"`` or ``"below_998"`` (names follow ``levels``), or ``"missing"`` for a unit with
    a missing value or zero precision. A unit exactly on a limit is inside.
    """

    kind: FunnelKind
    target: float
    phi: float
    tau2: float
    adjusted: bool
    levels: tuple[float, ...]
    z: FloatArray
    lower: dict[float, FloatArray]
    upper: dict[float, FloatArray]
    position: NDArray[np.str_]

    def limits_at(self, precision: ArrayLike, level: float) -> tuple[FloatArray, FloatArray]:
        """Control limits at any precision (for drawing the funnel's curves), with ``tau2``."""
        p = _nonnegative(precision, "Precisionen")
        return _limits(self.kind, self.target, p, level, self.tau2)


def funnel(
    values: ArrayLike,
    precision: ArrayLike,
    target: float | None = None,
    kind: FunnelKind = "proportion",
    levels: Sequence[float] = (0.95, 0.998),
    overdispersion: bool = True,
) -> Funnel:
    """Compute a funnel plot: target, control limits, z-scores and where each unit falls.

    ``kind`` says what ``values`` and ``precision`` are:

    - ``"proportion"``: values are proportions in [0, 1], precision the denominators ``n``;
      the default target is the pooled proportion ``Σ y·n / Σ n``.
    - ``"ratio"``: values are ratios ``O/E`` (≥ 0), precision the expected counts ``E``; the
      default target is 1, and the unadjusted limits are exact Poisson limits.
    - ``"normal"``: values have a known standard error, and precision is that standard error
      ``se`` (not its inverse); the default target is the mean weighted by ``1/se²``.

    With ``overdispersion=True`` and ``τ² > 0`` (see :func:`additive_tau2`) the limits and
    z-scores include ``τ²`` and ``adjusted`` is True. ``phi`` is always reported; ``tau2`` is
    the value used (0 when not adjusted). Units with a missing value or a precision of 0 are left
    out of the target, ``φ`` and ``τ²`` and get NaN z-scores. Raises :class:`InvalidInputError`
    on a length mismatch, negative precision, a value out of range for ``kind``, a level outside
    (0, 1), or no usable unit when the target has to be estimated.
    """
    if kind not in _KINDS:
        raise InvalidInputError(f"Okänd trattyp {kind!r}; välj proportion, ratio eller normal.")
    y = np.asarray(values, dtype=np.float64)
    p = _nonnegative(precision, "Precisionen")
    if y.ndim != 1 or y.shape != p.shape:
        raise InvalidInputError(
            f"Värden och precision måste vara lika långa listor ({y.shape} och {p.shape})."
        )
    lv = tuple(sorted(float(level) for level in levels))
    if not lv:
        raise InvalidInputError("Ange minst en konfidensnivå.")
    for level in lv:
        _check_level(level)
    if kind == "proportion" and np.any((y < 0.0) | (y > 1.0)):
        raise InvalidInputError("En andel måste ligga mellan 0 och 1.")
    if kind == "ratio" and np.any(y < 0.0):
        raise InvalidInputError("En kvot O/E får inte vara negativ.")

    usable = np.isfinite(y) & np.isfinite(p) & (p > 0)
    if target is None:
        if kind == "ratio":
            target = 1.0
        elif not usable.any():
            raise InvalidInputError("Inga enheter med både värde och precision att jämföra.")
        elif kind == "proportion":
            target = float((y[usable] * p[usable]).sum() / p[usable].sum())
        else:
            w = 1.0 / p[usable] ** 2
            target = float((w * y[usable]).sum() / w.sum())
    target = float(target)
    if kind == "ratio" and not target > 0:
        raise InvalidInputError(f"Målvärdet för en kvot måste vara större än 0, fick {target}.")

    se = np.where(usable, _se(kind, target, p), np.nan)
    if kind == "ratio":
        z0 = ratio_z(np.where(usable, y * p, np.nan), target * p)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            z0 = (y - target) / se
    z0 = np.where(usable, z0, np.nan)

    phi = _overdispersion(z0)
    tau2 = additive_tau2(z0, se, phi) if overdispersion else 0.0
    adjusted = tau2 > 0.0
    z = z0
    if adjusted:
        with np.errstate(divide="ignore", invalid="ignore"):
            if kind == "ratio":
                z = np.log(y / target) / np.sqrt(se**2 + tau2)
            else:
                z = (y - target) / np.sqrt(se**2 + tau2)
        z = np.where(usable, z, np.nan)

    lower: dict[float, FloatArray] = {}
    upper: dict[float, FloatArray] = {}
    position = np.full(y.shape, "inside", dtype=object)
    for level in lv:  # ascending, so the outermost limit a unit crosses wins
        lo, hi = _limits(kind, target, p, level, tau2)
        lower[level], upper[level] = lo, hi
        position[y > hi] = f"above_{_label(level)}"
        position[y < lo] = f"below_{_label(level)}"
    position[~usable | np.isnan(lower[lv[0]])] = "missing"

    out = position.astype(str)
    for arr in (z, out, *lower.values(), *upper.values()):
        arr.setflags(write=False)
    return Funnel(
        kind=kind,
        target=target,
        phi=phi,
        tau2=tau2,
        adjusted=adjusted,
        levels=lv,
        z=z,
        lower=lower,
        upper=upper,
        position=out,
    )


# ``funnel`` has a flag named ``overdispersion``; this alias keeps the function reachable there.
_overdispersion = overdispersion
