"""Whether a KPI can be ranked as performance at all, and the smallest gap that matters.

A KPI with a known better direction can still be meaningless to rank: a yes/no answer
(Ja = 1 / Nej = 0) is not a scale with Gaussian noise; coded answers (1 = vänster, 2 = …)
are categories; a series that stays exactly the same for years and then jumps (turnout
between elections, a water authority's six-yearly classification) has no year-to-year
noise to measure a gap against; and the share of shoreline with buildings or of land that
is protected nature describes the place, not what the municipality does. Tillit decides,
in this order (see docs/eligibility.md):

1. the user's file (``TILLIT_ELIGIBILITY_FILE``), parsed by :func:`parse_eligibility_overrides`;
2. a KPI without a title in Kolada's metadata is not tested (nobody can say what it is);
3. Tillit's curated list, ``analyses/data/eligibility.csv`` (:func:`curated_eligibility`);
4. the title: coded answers such as "(Ja=1, Nej=0)" (:func:`judge_title`);
5. the values: binary, few categories, or step-shaped (:func:`judge_values`).

:func:`minimum_practical_difference` gives each KPI the smallest gap worth calling a
difference, from its national spread; :func:`practical_gap` is what a test then weighs.
"""

from __future__ import annotations

import csv
import functools
import importlib.resources
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

import numpy as np
import numpy.typing as npt

from tillit.analyses._overrides import checked_kpi, read_override_table
from tillit.errors import InvalidInputError

FloatArray = npt.NDArray[np.float64]

Reason = Literal[
    "eligible",
    "no_metadata",
    "binary",
    "categorical",
    "step_shaped",
    "structural",
    "excluded_by_user",
]
Source = Literal["override", "metadata", "table", "rule", "data", "default"]

#: Swedish wording of each reason a KPI is not ranked, for tables and pages.
REASON_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "no_metadata": "saknar titel i Koladas metadata, så det går inte att säga vad det mäter",
        "binary": "ett ja/nej-svar (1 eller 0), inte en skala",
        "categorical": "kodade svarsalternativ, inte en skala",
        "step_shaped": "värdet står still i åratal och ändras i enstaka språng",
        "structural": "beskriver geografi eller struktur, inte verksamhetens resultat",
        "excluded_by_user": "undantaget i din fil",
    }
)

#: A KPI whose values (over the analysis window, all municipalities) are integers with at
#: most this many distinct values is coded categories.
MAX_CATEGORIES = 6
#: A series is step-shaped when at least this share of its year-on-year changes are nil.
STEP_SHARE = 0.5
#: A change smaller than this fraction of the between-municipality spread counts as nil
#: (re-measured areas, rounding): a thousandth of the spread is no change in practice.
STILL_TOLERANCE = 1e-3
#: The minimum practical difference is this fraction of the robust between-municipality
#: standard deviation (IQR / 1.349) in the latest year: a fifth of it, Cohen's "small".
MPD_FRACTION = 0.2
#: Fewer year-on-year changes than this and the values are not judged by shape.
MIN_CHANGES = 20

_IQR_TO_SD = 1.349


@dataclass(frozen=True)
class Eligibility:
    """Whether one KPI may be ranked as performance, and why.

    ``reason`` is ``"eligible"`` or why not (a key of :data:`REASON_LABELS`); ``source`` says
    which step decided: ``"override"`` (the user's file), ``"metadata"`` (no title),
    ``"table"`` (Tillit's list), ``"rule"`` (the title), ``"data"`` (the values) or
    ``"default"`` (nothing applied: eligible). ``detail`` is a short English justification;
    ``mpd`` is the user's own minimum practical difference, in the KPI's unit (None: Tillit's
    default from the spread).
    """

    kpi: str
    reason: Reason
    source: Source
    detail: str
    mpd: float | None = None

    @property
    def eligible(self) -> bool:
        return self.reason == "eligible"

    @property
    def explanation(self) -> str:
        """One Swedish phrase, e.g. "ett ja/nej-svar (1 eller 0), inte en skala (härlett ur
        titeln)"; "prövas" for an eligible KPI."""
        if self.eligible:
            return "prövas" + (" (din fil)" if self.source == "override" else "")
        where = {
            "override": "din fil",
            "metadata": "Koladas metadata",
            "table": "Tillits lista",
            "rule": "härlett ur titeln",
            "data": "härlett ur värdena",
            "default": "",
        }[self.source]
        label = REASON_LABELS[self.reason]
        if not where or self.source in ("override", "metadata"):
            return label
        return f"{label} ({where})"


@dataclass(frozen=True)
class EligibilityOverride:
    """One row of the user's file: ``eligible`` True/False (None: keep Tillit's decision)
    and ``mpd`` in the KPI's unit (None: Tillit's default)."""

    eligible: bool | None
    mpd: float | None
    reason: str = ""


@dataclass(frozen=True)
class Exclusion:
    """A KPI the analyses leave out, and why: ``reason`` is a key of
    ``tillit.query.UNTESTABLE_LABELS`` (no polarity, size-dependent, or an eligibility
    reason), ``explanation`` the Swedish phrase every surface shows, ``detail`` an English
    justification (e.g. which rule or list decided)."""

    kpi: str
    title: str
    reason: str
    explanation: str
    detail: str = ""


# --- the curated list -------------------------------------------------------------------------


@functools.cache
def curated_eligibility() -> Mapping[str, tuple[Reason, str]]:
    """Tillit's curated list: KPI id -> (reason, English justification), read once."""
    resource = importlib.resources.files("tillit.analyses").joinpath("data/eligibility.csv")
    table: dict[str, tuple[Reason, str]] = {}
    for row in csv.DictReader(resource.read_text(encoding="utf-8").splitlines()):
        reason = row["reason"]
        if reason not in REASON_LABELS or reason in ("no_metadata", "excluded_by_user"):
            raise ValueError(f"eligibility.csv: bad reason {reason!r} for {row['kpi']}")
        table[row["kpi"]] = (reason, row["why"])  # type: ignore[assignment]
    return MappingProxyType(table)


# --- rules ------------------------------------------------------------------------------------

# "(Ja=1, Nej=0)", "(Ja=1, Nej=2)", "(1=Ja, 0=Nej)": a yes/no answer.
_YES = re.compile(r"\bja\s*=\s*\d\b|\b\d\s*=\s*ja\b")
_NO = re.compile(r"\bnej\s*=\s*\d\b|\b\d\s*=\s*nej\b")
_CODE = re.compile(r"\b\w+\s*=\s*\d\b|\b\d\s*=\s*\w+")
# "(Breddinfört=2, testverksamhet=1, Nej=0)", "(1=vänster, 2=…)", "(inget=0, några=1, alla=2)".
_CODES = re.compile(r"\b\w+\s*=\s*\d\b.*\b\w+\s*=\s*\d\b|\b\d\s*=\s*\w+.*\b\d\s*=\s*\w+")
_CODED = re.compile(r"kodade svarsalternativ")


@functools.lru_cache(maxsize=8192)
def judge_title(title: str) -> tuple[Reason, str] | None:
    """Binary or coded answers read from the title ("(Ja=1, Nej=0)", "(1=vänster, …)",
    "kodade svarsalternativ"); None when the title does not say. Cached (the rules are
    fixed; every analysis judges the same few thousand titles)."""
    text = " ".join(title.casefold().split())
    if _YES.search(text) and _NO.search(text) and len(_CODE.findall(text)) == 2:
        return "binary", "the title codes the answer as a number for yes and one for no"
    if _CODES.search(text) or _CODED.search(text):
        return "categorical", "the title codes the answers as numbered categories"
    return None


def judge_values(values: FloatArray, *, spread: float | None = None) -> tuple[Reason, str] | None:
    """Binary, categorical or step-shaped, judged from a KPI's values (municipality × year,
    NaN where missing, consecutive years); None when the values look like a measurement.

    - binary: every value is 0 or 1;
    - categorical: integers with at most :data:`MAX_CATEGORIES` distinct values;
    - step-shaped: at least :data:`STEP_SHARE` of the changes between consecutive years
      (both present) are nil, a change below :data:`STILL_TOLERANCE` × the robust
      between-municipality spread counting as nil.

    ``spread`` is that spread when the caller has it (:func:`robust_spreads`).
    """
    present = values[~np.isnan(values)]
    if present.size == 0:
        return None
    if np.all((present == 0.0) | (present == 1.0)):
        return "binary", "every value is 0 or 1"
    if np.all(present == np.round(present)):
        distinct = np.unique(present)
        if distinct.size <= MAX_CATEGORIES:
            return (
                "categorical",
                f"only {distinct.size} distinct whole-number values across all municipalities",
            )
    if values.ndim != 2 or values.shape[1] < 2:
        return None
    changes = np.diff(values, axis=1)
    changes = np.abs(changes[~np.isnan(changes)])
    if changes.size < MIN_CHANGES:
        return None
    if spread is None:
        spread = _spread(latest_values(values))
    tolerance = STILL_TOLERANCE * spread if spread > 0 else 0.0
    tolerance = max(tolerance, 1e-9 * float(np.abs(present).max()))
    still = float((changes <= tolerance).mean())
    if still >= STEP_SHARE:
        return (
            "step_shaped",
            f"the value is unchanged from one year to the next in {still:.0%} of cases",
        )
    return None


def assess_eligibility(
    kpi: str,
    title: str | None,
    values: FloatArray | None = None,
    overrides: Mapping[str, EligibilityOverride] | None = None,
    *,
    spread: float | None = None,
) -> Eligibility:
    """Whether ``kpi`` may be ranked: the user's file, else no title means no, else Tillit's
    list, else the title, else the values (municipality × year; None: not judged)."""
    kpi = kpi.strip().upper()
    override = (overrides or {}).get(kpi)
    mpd = override.mpd if override else None
    if override is not None and override.eligible is not None:
        why = override.reason or "set in the user's eligibility file"
        if override.eligible:
            return Eligibility(kpi, "eligible", "override", why, mpd)
        return Eligibility(kpi, "excluded_by_user", "override", why, mpd)
    if not (title or "").strip():
        return Eligibility(kpi, "no_metadata", "metadata", "the KPI has no title", mpd)
    curated = curated_eligibility().get(kpi)
    if curated is not None:
        return Eligibility(kpi, curated[0], "table", curated[1], mpd)
    found = judge_title(title or "")
    if found is not None:
        return Eligibility(kpi, found[0], "rule", found[1], mpd)
    if values is not None:
        found = judge_values(values, spread=spread)
        if found is not None:
            return Eligibility(kpi, found[0], "data", found[1], mpd)
    return Eligibility(kpi, "eligible", "default", "no rule excludes it", mpd)


# --- the minimum practical difference -----------------------------------------------------------


def minimum_practical_difference(latest: FloatArray, *, fraction: float = MPD_FRACTION) -> float:
    """The smallest gap worth calling a difference for a KPI, in its unit: ``fraction`` of
    the robust between-municipality standard deviation (IQR / 1.349) of ``latest``, the
    municipalities' values in the latest year (NaN ignored). Falls back to the plain
    standard deviation when the IQR is 0 (most values equal); 0 with fewer than 4 values."""
    present = latest[~np.isnan(latest)]
    return default_mpd(_spread(present), present.size, fraction=fraction)


def default_mpd(spread: float, count: int, *, fraction: float = MPD_FRACTION) -> float:
    """The minimum practical difference from a KPI's robust spread (see
    :func:`robust_spreads`) and its number of values: ``fraction`` × the spread, 0 with
    fewer than 4 values."""
    return fraction * spread if count >= 4 else 0.0


def robust_spreads(latest: FloatArray) -> tuple[FloatArray, npt.NDArray[np.int64]]:
    """Per row of ``latest`` (KPI × municipality, NaN ignored) the robust between-municipality
    standard deviation IQR / 1.349 (the sample standard deviation where the IQR is 0; 0 with
    fewer than 2 values), and the number of values: :func:`minimum_practical_difference` for
    many KPIs at once (the MPD is ``MPD_FRACTION`` × it where at least 4 values)."""
    ordered = np.sort(latest, axis=1)  # NaN last
    n = (~np.isnan(latest)).sum(axis=1)
    m = np.maximum(n, 1)

    def quantile(q: float) -> FloatArray:
        pos = q * (m - 1)
        lo = np.floor(pos).astype(np.int64)
        hi = np.minimum(lo + 1, m - 1)
        a = np.take_along_axis(ordered, lo[:, None], axis=1)[:, 0]
        b = np.take_along_axis(ordered, hi[:, None], axis=1)[:, 0]
        out: FloatArray = a + (pos - lo) * (b - a)
        return out

    robust = (quantile(0.75) - quantile(0.25)) / _IQR_TO_SD
    filled = np.where(np.isnan(latest), 0.0, latest)
    mean = filled.sum(axis=1) / m
    squares = np.where(np.isnan(latest), 0.0, (latest - mean[:, None]) ** 2).sum(axis=1)
    sd = np.sqrt(squares / np.maximum(n - 1, 1))
    spread = np.where(robust > 0, robust, sd)
    return np.where(n >= 2, spread, 0.0), n.astype(np.int64)


def practical_gap(difference: FloatArray, mpd: FloatArray | float) -> FloatArray:
    """The part of a gap beyond the minimum practical difference, keeping its sign:
    sign(d) · max(|d| − mpd, 0). Dividing it by the gap's standard error gives the
    statistic of the test of H0: |gap| ≤ mpd (see docs/eligibility.md)."""
    with np.errstate(invalid="ignore"):
        out: FloatArray = np.sign(difference) * np.maximum(np.abs(difference) - mpd, 0.0)
    return out


def latest_values(values: FloatArray) -> FloatArray:
    """Per municipality, its value (municipality × year) in the last year any municipality
    has one; all NaN when none has. Given a cube (KPI × municipality × year), the same per
    KPI at once (KPI × municipality)."""
    if values.ndim == 3:
        seen = np.asarray(~np.isnan(values).all(axis=1))  # KPI × year
        last = seen.shape[1] - 1 - np.argmax(seen[:, ::-1], axis=1)
        many: FloatArray = values[np.arange(values.shape[0]), :, last]
        many[~seen.any(axis=1)] = np.nan
        return many
    has = ~np.isnan(values).all(axis=0)
    if not has.any():
        return np.full(values.shape[0], np.nan)
    out: FloatArray = values[:, int(np.flatnonzero(has)[-1])]
    return out


def _spread(present: FloatArray) -> float:
    present = present[~np.isnan(present)]
    if present.size < 2:
        return 0.0
    q1, q3 = np.percentile(present, [25.0, 75.0])
    robust = float(q3 - q1) / _IQR_TO_SD
    return robust if robust > 0 else float(np.std(present, ddof=1))


# --- the user's file ----------------------------------------------------------------------------

_YES_WORDS = {"ja", "yes", "true", "1", "prövas", "provas"}
_NO_WORDS = {"nej", "no", "false", "0", "undanta", "exclude"}
_FORMAT_HINT = (
    "Filen ska börja med rubrikraden kpi,eligible,mpd (minst en av eligible och mpd); "
    "se docs/eligibility.md."
)


def parse_eligibility_overrides(text: str, source: str) -> dict[str, EligibilityOverride]:
    """Parse the user's eligibility file into KPI id (upper case) -> override.

    CSV with a header naming ``kpi`` and at least one of ``eligible`` (ja/nej, yes/no,
    true/false, 1/0; empty: keep Tillit's decision) and ``mpd`` (a number ≥ 0 in the KPI's
    unit, decimal comma allowed; empty: Tillit's default); an optional ``reason`` is kept.
    ``;`` or ``,`` separates fields; ``#`` lines and blank lines are skipped. A bad row
    raises :class:`~tillit.errors.InvalidInputError` naming ``source`` and the line.
    """
    table = read_override_table(
        text,
        source,
        accepts=lambda header: "kpi" in header and bool({"eligible", "mpd"} & header),
        needs="kpi och eligible eller mpd",
        hint=_FORMAT_HINT,
    )
    if table is None:
        return {}
    out: dict[str, EligibilityOverride] = {}
    for number, cells in table.rows:
        where = table.where(number)

        def cell(name: str, cells: list[str] = cells) -> str:
            i = table.columns.get(name)
            return cells[i].strip() if i is not None and i < len(cells) else ""

        kpi = checked_kpi(cell("kpi"), where)
        word = cell("eligible").casefold()
        eligible: bool | None
        if not word:
            eligible = None
        elif word in _YES_WORDS:
            eligible = True
        elif word in _NO_WORDS:
            eligible = False
        else:
            raise InvalidInputError(
                f"{where}: okänt värde {cell('eligible')!r} i kolumnen eligible för {kpi}.",
                hint="Skriv ja eller nej (yes/no), eller lämna fältet tomt.",
            )
        mpd = _number(cell("mpd"), where, kpi)
        if eligible is None and mpd is None:
            raise InvalidInputError(
                f"{where}: raden för {kpi} säger varken eligible eller mpd.",
                hint="Fyll i minst ett av fälten, eller ta bort raden.",
            )
        row = EligibilityOverride(eligible, mpd, cell("reason"))
        if kpi in out and out[kpi] != row:
            raise InvalidInputError(
                f"{where}: {kpi} står redan på en tidigare rad med andra värden.",
                hint="Låt varje nyckeltal stå på en rad.",
            )
        out[kpi] = row
    return out


def _number(text: str, where: str, kpi: str) -> float | None:
    if not text:
        return None
    try:
        value = float(text.replace(",", ".").replace("\u00a0", "").replace(" ", ""))
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise InvalidInputError(
            f"{where}: mpd {text!r} för {kpi} är inget tal ≥ 0.",
            hint="Skriv den minsta skillnad som betyder något, i nyckeltalets enhet, t.ex. 2,5.",
        )
    return value
