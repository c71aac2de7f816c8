"""Goals (mål): setting one against the store, and judging it.

Setting or editing a goal reads what the bank cannot: the unit (a municipality or a region,
by name or code), each KPI (it must be one Kolada publishes for that kind of unit), and a
baseline not given (the unit's value of the KPI in the baseline year; the latest year with a
value when no year is given). Before anything is saved, each indicator's measurability is
checked: can the change it asks for be told from the KPI's year-to-year noise? And how
ambitious is it against what the unit's structural peers achieved over as many years?

Judging builds the analyses' inputs from the store: the unit's series of the KPI (its
gender), the KPI's noise at the unit from :meth:`Context.evidence` (``noise.variance``,
``total_df``, ``rho``), and the structural peers' changes over the goal's horizon; then
calls ``tillit.analyses``' goal functions. One shape for every surface: :func:`goal_data`.

The bank (SQLAlchemy) is only named for type checking here: it loads when a goal command
runs, not with every query."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tillit.analyses import (
    Ambition,
    GoalJudgement,
    IndicatorJudgement,
    IndicatorSeries,
    Measurability,
    Target,
    ambition,
    judge_indicators,
    measurability,
    summarise_goal,
)
from tillit.errors import InvalidInputError, NoDataError, NotFoundError
from tillit.query._context import Context, load_context, unit_word
from tillit.query._reports import check_kpi_kind, resolve_municipality
from tillit.store import Store
from tillit.swedish import kpi_label, kpi_unit

if TYPE_CHECKING:
    from tillit.analyses import Evidence
    from tillit.bank import Bank, GoalIndicatorRecord, GoalRecord, UserRecord
    from tillit.query._atlas import Atlas, Loaded

__all__ = [
    "GOAL_DIRECTION_LABELS",
    "GoalAssessment",
    "IndicatorAssessment",
    "IndicatorCheck",
    "PreparedGoal",
    "add_goal",
    "assess_goal",
    "assess_goals",
    "edit_goal",
    "indicator_changes",
    "parse_goal_direction",
    "prepare_goal",
    "prepare_indicators",
]

#: Structural peers an indicator's ambition is measured against (as Kolada's own groups).
PEERS = 7
#: A gender's series (K or M) has about half the population behind each value, so its
#: sampling noise has about twice the variance of the total's (T), whose noise is what
#: the noise model estimates: the SD is scaled by √2 (docs/goals.md).
GENDER_NOISE_FACTOR = math.sqrt(2.0)
GOAL_DIRECTION_LABELS: dict[str, str] = {
    "increase": "öka till",
    "decrease": "minska till",
    "at_least": "minst",
    "at_most": "högst",
}
_DIRECTIONS: dict[str, str] = {
    "increase": "increase",
    "decrease": "decrease",
    "at_least": "at_least",
    "at_most": "at_most",
    "ökning": "increase",
    "öka": "increase",
    "okning": "increase",
    "oka": "increase",
    "upp": "increase",
    "minskning": "decrease",
    "minska": "decrease",
    "ner": "decrease",
    "ned": "decrease",
    "minst": "at_least",
    "högst": "at_most",
    "hogst": "at_most",
}
_GENDERS = {"T": "totalt", "K": "kvinnor", "M": "män"}


def parse_goal_direction(text: str) -> str:
    """``increase``/``decrease``/``at_least``/``at_most``, also in Swedish: ökning/minskning
    (upp/ner), minst/högst."""
    found = _DIRECTIONS.get(str(text).strip().lower())
    if found is None:
        raise InvalidInputError(
            f"Okänd riktning {text!r} för ett mål.",
            hint="Skriv ökning, minskning, minst eller högst.",
        )
    return found


# -- what one indicator needs ---------------------------------------------------------------


@dataclass(frozen=True)
class _Unit:
    code: str
    name: str
    kind: str  # "K" or "L"


@dataclass(frozen=True)
class _Noise:
    sd: float
    df: float
    rho: float


class _Inputs:
    """What the store says about a set of (KPI, gender) at one kind of unit: loaded once,
    for several indicators and goals."""

    def __init__(
        self,
        store: Store,
        kind: str,
        kpis: Sequence[str],
        atlas: Atlas | None = None,
        as_of: int | None = None,
        state: Loaded | None = None,
    ) -> None:
        self.store = store
        self.kind = kind
        self.as_of = as_of
        self.kpis = sorted(set(kpis))
        try:
            self.meta = {k["id"]: k for k in store.kpis()}
        except NoDataError:  # no catalogue: the goals are read, and cannot be judged
            self.meta = {}
        self.context: Context | None = None
        self.evidence: Evidence | None = None
        if state is None and atlas is not None:
            state = atlas.loaded(kind, as_of=as_of)
        # A server's loaded analyses give the same noise and peers (both are per KPI and
        # unit, whatever else was loaded) without reading the store again.
        if state is not None and state.kind == kind and set(self.kpis) <= set(state.evidence.kpis):
            self.context, self.evidence = state.context, state.evidence
        if self.context is None:
            try:
                self.context = load_context(store, kpis=self.kpis, kind=kind, as_of=as_of)
            except NoDataError:
                self.context = None
        self._series: dict[tuple[str, str, str], tuple[tuple[int, ...], tuple[float, ...]]] = {}
        self._fetched: set[str] = set()
        self._peers: dict[str, tuple[str, ...]] = {}
        self._total_df: Any = None

    def title(self, kpi: str) -> str:
        return str((self.meta.get(kpi) or {}).get("title") or kpi)

    def unit(self, kpi: str) -> str:
        return kpi_unit(self.title(kpi))

    def noise(self, kpi: str, code: str, gender: str) -> _Noise:
        context = self.context
        if context is None or kpi not in context.chosen or code not in context.municipalities:
            return _Noise(math.nan, math.nan, 0.0)
        evidence = self.evidence or context.evidence([k for k in self.kpis if k in context.chosen])
        k, m = evidence.kpis.index(kpi), evidence.municipalities.index(code)
        variance = float(evidence.noise.variance[k, m])
        if self._total_df is None:  # a property that adds two (kpi, unit) arrays: once
            self._total_df = evidence.noise.total_df
        df = float(self._total_df[k, m])
        rho = float(evidence.noise.rho[k])
        sd = math.sqrt(variance) if math.isfinite(variance) and variance >= 0 else math.nan
        if gender != "T":
            sd *= GENDER_NOISE_FACTOR
        return _Noise(sd, df if math.isfinite(df) or df == math.inf else math.nan, rho)

    def load(self, codes: Iterable[str]) -> None:
        """Read the values of every KPI for ``codes`` and their structural peers, all
        genders, in one query (the store opens a connection per query)."""
        wanted = set(codes)
        wanted |= {p for c in wanted for p in self.peers(c)}
        missing = sorted(wanted - self._fetched)
        if missing:
            self._series.update(_values(self.store, self.kpis, missing, self.as_of))
            self._fetched.update(missing)

    def series(self, kpi: str, code: str, gender: str) -> tuple[tuple[int, ...], tuple[float, ...]]:
        """The unit's (non-missing) values of ``kpi`` for ``gender``: (years, values)."""
        self.load([code])
        return self._series.get((kpi, code, gender), ((), ()))

    def indicator_series(self, kpi: str, code: str, gender: str) -> IndicatorSeries:
        years, values = self.series(kpi, code, gender)
        noise = self.noise(kpi, code, gender)
        return IndicatorSeries(
            years=years,
            values=values,
            noise_sd=noise.sd,
            noise_df=noise.df,
            rho=noise.rho,
            unit=self.unit(kpi),
        )

    def peers(self, code: str) -> tuple[str, ...]:
        if self.context is None or code not in self.context.municipalities:
            return ()
        if code not in self._peers:
            self._peers[code] = self.context.peer_set(code, "struktur", k=PEERS).members
        return self._peers[code]

    def peer_changes(self, kpi: str, code: str, gender: str, years: int) -> list[float]:
        """Each structural peer's latest change of ``kpi`` over ``years`` years (NaN when
        it has no two values that far apart)."""
        peers = self.peers(code)
        if not peers or years < 1:
            return []
        self.load([code])
        changes = []
        for peer in peers:
            by_year = dict(zip(*self._series.get((kpi, peer, gender), ((), ())), strict=True))
            ends = [y for y in sorted(by_year, reverse=True) if y - years in by_year]
            changes.append(by_year[ends[0]] - by_year[ends[0] - years] if ends else math.nan)
        return changes


def _values(
    store: Store, kpis: Sequence[str], codes: Sequence[str], as_of: int | None = None
) -> dict[tuple[str, str, str], tuple[tuple[int, ...], tuple[float, ...]]]:
    """The stored (non-missing) values of ``kpis`` for ``codes``, every gender, by (KPI,
    code, gender): (years, values), by year; none after ``as_of`` when given."""
    try:
        table = store.query_values(list(kpis), municipalities=list(codes))
    except NoDataError:
        return {}
    rows: dict[tuple[str, str, str], list[tuple[int, float]]] = {}
    for kpi, code, period, gender, value in zip(
        table.column("kpi").to_pylist(),
        table.column("municipality").to_pylist(),
        table.column("period").to_pylist(),
        table.column("gender").to_pylist(),
        table.column("value").to_pylist(),
        strict=True,
    ):
        if value is not None and math.isfinite(value) and (as_of is None or int(period) <= as_of):
            rows.setdefault((kpi, code, gender), []).append((int(period), float(value)))
    return {
        key: (tuple(y for y, _ in sorted(pairs)), tuple(v for _, v in sorted(pairs)))
        for key, pairs in rows.items()
    }


def _unit(store: Store, text: str) -> _Unit:
    row = resolve_municipality(store, text)
    return _Unit(row["id"], row["title"], str(row.get("type") or "K"))


def _unit_of_goal(store: Store, goal: GoalRecord) -> _Unit:
    try:
        rows = store.municipalities()
    except NoDataError:
        rows = []
    for row in rows:
        if row["id"] == goal.organisation_code:
            return _Unit(row["id"], row["title"], str(row.get("type") or "K"))
    kind = "L" if goal.organisation_kind == "region" else "K"
    return _Unit(goal.organisation_code, goal.organisation_name, kind)


# -- setting a goal: baselines and the measurability check ----------------------------------


@dataclass(frozen=True)
class IndicatorCheck:
    """One indicator as it is about to be saved: its series and target, whether the change
    it asks for can be measured, and how ambitious it is against the unit's peers."""

    kpi: str
    gender: str
    title: str
    series: IndicatorSeries
    target: Target
    baseline_from_store: bool
    measurability: Measurability
    ambition: Ambition


@dataclass(frozen=True)
class PreparedGoal:
    """A goal's fields ready for the bank (``data``: the unit's code as ``organisation``,
    KPI ids, English directions, baselines filled in) and each indicator's check."""

    data: dict[str, Any]
    unit_code: str
    unit_name: str
    kind: str
    checks: tuple[IndicatorCheck, ...]


def _given(value: Any) -> bool:
    return value is not None and value != ""


def _year_of(value: Any, field: str) -> int:
    if isinstance(value, bool):
        raise InvalidInputError(f"{field} ska vara ett årtal, inte {value!r}.")
    try:
        return int(str(value).strip())
    except ValueError:
        raise InvalidInputError(
            f"{field} ska vara ett årtal, inte {value!r}.", hint="T.ex. 2022."
        ) from None


def prepare_indicators(
    store: Store, unit: _Unit, raw: Any, *, atlas: Atlas | None = None
) -> tuple[list[dict[str, Any]], tuple[IndicatorCheck, ...]]:
    """Check each indicator against the store and fill in a missing baseline: the unit's
    value in ``baseline_year`` (the latest year with a value when no year is given).
    Returns the indicators for the bank and each one's check."""
    if not isinstance(raw, list | tuple) or not raw:
        raise InvalidInputError(
            "Ange minst en indikator: ett nyckeltal med målvärde och målår.",
            hint="T.ex. --indikator N15419:ökning:85:2026.",
        )
    focal = {"id": unit.code, "title": unit.name, "type": unit.kind}
    items: list[dict[str, Any]] = []
    for item in raw:
        if not isinstance(item, Mapping):
            raise InvalidInputError("Varje indikator ska ha kpi, målvärde, målår och riktning.")
        meta = store.kpi(str(item.get("kpi") or ""))
        check_kpi_kind(store, meta, focal)
        items.append({**item, "kpi": meta["id"]})
    inputs = _Inputs(store, unit.kind, [i["kpi"] for i in items], atlas)
    out: list[dict[str, Any]] = []
    checks: list[IndicatorCheck] = []
    for item in items:
        kpi = item["kpi"]
        gender = str(item.get("gender") or "T").strip().upper()
        if gender not in _GENDERS:
            raise InvalidInputError(f"Okänt kön {gender!r}.", hint="Ange T, K eller M.")
        years, values = inputs.series(kpi, unit.code, gender)
        label = kpi_label(kpi, inputs.title(kpi))
        from_store = not _given(item.get("baseline_value"))
        if _given(item.get("baseline_year")):
            baseline_year = _year_of(item["baseline_year"], "Basåret")
        elif years:
            baseline_year = years[-1]
        else:
            raise NoDataError(
                f"Arkivet har inga värden av {label} ({_GENDERS[gender]}) för {unit.name}, så "
                "basvärdet kan inte läsas.",
                hint=f"Ange basår och basvärde själv, eller hämta värdena med "
                f"`tillit sync --kpi {kpi} --municipality {unit.code}`.",
            )
        baseline_value = item.get("baseline_value")
        if from_store:
            by_year = dict(zip(years, values, strict=True))
            if baseline_year not in by_year:
                shown = ", ".join(str(y) for y in years[-5:]) or "inga"
                raise NoDataError(
                    f"Arkivet har inget värde av {label} ({_GENDERS[gender]}) för {unit.name} "
                    f"{baseline_year}.",
                    hint=f"Välj ett basår med värde (de senaste: {shown}) eller ange basvärdet.",
                )
            baseline_value = by_year[baseline_year]
        indicator = {
            "kpi": kpi,
            "gender": gender,
            "baseline_year": baseline_year,
            "baseline_value": baseline_value,
            "target_value": item.get("target_value"),
            "target_year": item.get("target_year"),
            "direction": parse_goal_direction(str(item.get("direction") or "")),
            "interim": item.get("interim") or [],
        }
        out.append(indicator)
    # The bank's own checks (numbers, years, direction against the baseline) run first, so
    # that the measurability check gets clean numbers.
    from tillit.bank import clean_goal_indicators

    cleaned = clean_goal_indicators(out)
    for indicator, item in zip(cleaned, items, strict=True):
        checks.append(
            _check(inputs, unit, indicator, from_store=not _given(item.get("baseline_value")))
        )
    return cleaned, tuple(checks)


def _target(ind: Mapping[str, Any]) -> Target:
    return Target(
        target=float(ind["target_value"]),
        target_year=int(ind["target_year"]),
        direction=str(ind["direction"]),
        baseline_year=int(ind["baseline_year"]),
        baseline_value=float(ind["baseline_value"]),
        interim=tuple((int(y), float(v)) for y, v in ind.get("interim") or ()),
    )


def _check(
    inputs: _Inputs, unit: _Unit, ind: Mapping[str, Any], *, from_store: bool
) -> IndicatorCheck:
    kpi, gender = str(ind["kpi"]), str(ind["gender"])
    series = inputs.indicator_series(kpi, unit.code, gender)
    target = _target(ind)
    horizon = target.target_year - target.baseline_year
    peers = inputs.peer_changes(kpi, unit.code, gender, horizon)
    return IndicatorCheck(
        kpi=kpi,
        gender=gender,
        title=inputs.title(kpi),
        series=series,
        target=target,
        baseline_from_store=from_store,
        measurability=measurability(series, target),
        ambition=ambition(
            target.required_change,
            horizon,
            peers,
            target.direction,
            unit_plural=f"liknande {unit_word(unit.kind, plural=True)}",
        ),
    )


def prepare_goal(
    store: Store, data: Mapping[str, Any], *, atlas: Atlas | None = None
) -> PreparedGoal:
    """A goal's fields checked against the store, baselines filled in, and each indicator's
    measurability and ambition, before anything is saved. ``data`` as for
    ``Goals.create_goal``, except that ``organisation`` is a municipality or region by name
    or code (required: the unit the indicators are read for), directions may be Swedish, and
    ``baseline_year``/``baseline_value`` may be left out."""
    text = data.get("organisation")
    if not _given(text):
        raise InvalidInputError(
            "Ange kommunen eller regionen som målet gäller.",
            hint="T.ex. --kommun Kungsbacka eller --region 'Region Halland'.",
        )
    unit = _unit(store, str(text))
    indicators, checks = prepare_indicators(store, unit, data.get("indicators"), atlas=atlas)
    fields = {**data, "organisation": unit.code, "indicators": indicators}
    return PreparedGoal(fields, unit.code, unit.name, unit.kind, checks)


def add_goal(
    store: Store,
    bank: Bank,
    actor: UserRecord | None,
    data: Mapping[str, Any],
    *,
    atlas: Atlas | None = None,
) -> tuple[GoalRecord, PreparedGoal]:
    """Check and save a goal: :func:`prepare_goal`, then ``Goals.create_goal``."""
    from tillit.bank import goals_of

    prepared = prepare_goal(store, data, atlas=atlas)
    return goals_of(bank).create_goal(actor, prepared.data), prepared


def edit_goal(
    store: Store,
    bank: Bank,
    actor: UserRecord | None,
    goal_id: int,
    changes: Mapping[str, Any],
    *,
    version: int | None = None,
    atlas: Atlas | None = None,
) -> tuple[GoalRecord, PreparedGoal | None]:
    """Change a goal. New ``indicators`` are checked as when the goal was set (baselines
    read from the store when left out); ``version`` defaults to the goal's current one
    (the bank still refuses a save that someone else made in between)."""
    from tillit.bank import goals_of

    goals = goals_of(bank)
    goal = goals.goal(actor, goal_id)
    fields = dict(changes)
    prepared = None
    if "indicators" in fields:
        unit = _unit_of_goal(store, goal)
        indicators, checks = prepare_indicators(store, unit, fields["indicators"], atlas=atlas)
        fields["indicators"] = indicators
        prepared = PreparedGoal(fields, unit.code, unit.name, unit.kind, checks)
    saved = goals.update_goal(actor, goal_id, goal.version if version is None else version, fields)
    return saved, prepared


def indicator_changes(goal: GoalRecord, updates: Mapping[str, Mapping[str, Any]]) -> list[Any]:
    """The goal's indicators as a list for ``edit_goal``, with ``updates`` applied: keys
    ``"KPI"`` or ``"KPI/KÖN"``, values the fields to change (e.g. ``{"target_value": 80}``)."""
    wanted = {(k.split("/")[0].strip().upper(), _gender_of(k)): v for k, v in updates.items()}
    out = []
    for ind in goal.indicators:
        item: dict[str, Any] = {
            "kpi": ind.kpi,
            "gender": ind.gender,
            "baseline_year": ind.baseline_year,
            "baseline_value": ind.baseline_value,
            "target_value": ind.target_value,
            "target_year": ind.target_year,
            "direction": ind.direction,
            "interim": [list(p) for p in ind.interim],
        }
        item.update(wanted.pop((ind.kpi, ind.gender), {}))
        out.append(item)
    if wanted:
        kpi, gender = next(iter(wanted))
        raise NotFoundError(
            f"Målet {goal.id} har ingen indikator {kpi} ({gender}).",
            hint="Indikatorerna är "
            + ", ".join(f"{i.kpi}/{i.gender}" for i in goal.indicators)
            + "; ersätt alla med --indikator.",
        )
    return out


def _gender_of(key: str) -> str:
    _, _, gender = key.partition("/")
    return gender.strip().upper() or "T"


# -- judging ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndicatorAssessment:
    """One indicator judged: the verdict with its reason, and the checks made when set."""

    indicator: GoalIndicatorRecord
    title: str
    series: IndicatorSeries
    judgement: IndicatorJudgement
    measurability: Measurability
    ambition: Ambition


@dataclass(frozen=True)
class GoalAssessment:
    """A goal judged: each indicator and the summary that hides no bad one."""

    goal: GoalRecord
    unit_name: str
    kind: str
    indicators: tuple[IndicatorAssessment, ...]
    summary: GoalJudgement


def assess_goals(
    store: Store,
    goals: Sequence[GoalRecord],
    *,
    atlas: Atlas | None = None,
    as_of: int | None = None,
    state: Loaded | None = None,
) -> list[GoalAssessment]:
    """Judge ``goals``: the store is read once per kind of unit for all their KPIs (not at
    all for the noise and peers when ``atlas``, a server's loaded analyses, has the KPIs).
    ``as_of`` judges them as they stood that year (a yearly report of an earlier year):
    later values are not read. ``state``, loaded analyses (of that year), is used instead
    of the atlas's for the goals of its kind."""
    units = {g.id: _unit_of_goal(store, g) for g in goals}
    kpis_by_kind: dict[str, set[str]] = {}
    for goal in goals:
        kpis_by_kind.setdefault(units[goal.id].kind, set()).update(i.kpi for i in goal.indicators)
    inputs = {
        kind: _Inputs(store, kind, sorted(k), atlas, as_of, state)
        for kind, k in kpis_by_kind.items()
    }
    for kind, found in inputs.items():
        found.load(u.code for u in units.values() if u.kind == kind)
    checks = [
        [
            _check(
                inputs[units[goal.id].kind],
                units[goal.id],
                {
                    "kpi": ind.kpi,
                    "gender": ind.gender,
                    "baseline_year": ind.baseline_year,
                    "baseline_value": ind.baseline_value,
                    "target_value": ind.target_value,
                    "target_year": ind.target_year,
                    "direction": ind.direction,
                    "interim": ind.interim,
                },
                from_store=False,
            )
            for ind in goal.indicators
        ]
        for goal in goals
    ]
    # Every indicator of every goal in one batch of the analyses.
    judged = iter(judge_indicators([(c.series, c.target) for row in checks for c in row]))
    out = []
    for goal, row in zip(goals, checks, strict=True):
        assessed = [
            IndicatorAssessment(
                indicator=ind,
                title=check.title,
                series=check.series,
                judgement=next(judged),
                measurability=check.measurability,
                ambition=check.ambition,
            )
            for ind, check in zip(goal.indicators, row, strict=True)
        ]
        unit = units[goal.id]
        out.append(
            GoalAssessment(
                goal=goal,
                unit_name=unit.name,
                kind=unit.kind,
                indicators=tuple(assessed),
                summary=summarise_goal([a.judgement for a in assessed]),
            )
        )
    return out


def assess_goal(store: Store, goal: GoalRecord, *, atlas: Atlas | None = None) -> GoalAssessment:
    """Judge one goal (see :func:`assess_goals`)."""
    return assess_goals(store, [goal], atlas=atlas)[0]
