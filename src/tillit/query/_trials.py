"""Trials (försök): registering one against the store, and evaluating it with a synthetic
control built from structurally similar units of the trial's own kind (municipalities for a
municipality, the other regions for a region) without a trial of their own on the same KPI;
also a synthetic control on any long panel in a CSV file.

The bank (SQLAlchemy) is only named for type checking here: it loads when a trial command
runs, not with every query."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

from tillit.analyses import (
    METHOD_VERSION,
    Panel,
    Predictor,
    Structure,
    SynthEvaluation,
    SynthPanel,
    adjust_for_multiplicity,
    build_structure,
    evaluate_synthetic_control,
    outcome_lags,
    parse_predictor,
)
from tillit.errors import InvalidInputError, NoDataError, NotEvaluableError, NotFoundError
from tillit.query._context import (
    load_context,
    structural_variables,
    unit_word,
    units,
)
from tillit.query._reports import check_kpi_kind, resolve_municipality
from tillit.query._store_state import store_state
from tillit.store import Store
from tillit.swedish import count, kpi_unit, number, share

if TYPE_CHECKING:
    from tillit.bank import Bank, TrialKpiRecord, TrialRecord, UserRecord

__all__ = [
    "TrialEvaluation",
    "TrialEvaluations",
    "evaluate_panel_csv",
    "evaluate_trial",
    "evaluate_trial_kpis",
    "kpi_data_through",
    "multiplicity_text",
    "parse_direction",
    "register_trial",
    "trial_exclusions",
    "trial_panel",
    "update_trial",
]

Direction = Literal["increase", "decrease"]
MapFunction = Callable[[Callable[[Any], Any], Iterable[Any]], Iterable[Any]]
#: Prefix of the structural covariates' columns in a trial's panel ("struktur:population").
STRUCTURE_PREFIX = "struktur:"
#: Years of structural data read for a trial: enough to reach the year before any start.
PANEL_HISTORY = 60
_DIRECTIONS: dict[str, Direction] = {
    "increase": "increase",
    "decrease": "decrease",
    "upp": "increase",
    "ner": "decrease",
    "ned": "decrease",
    "ökning": "increase",
    "okning": "increase",
    "öka": "increase",
    "oka": "increase",
    "minskning": "decrease",
    "minska": "decrease",
}


def parse_direction(text: str) -> Direction:
    """``increase``/``decrease``, also in Swedish: upp/ner, ökning/minskning."""
    direction = _DIRECTIONS.get(text.strip().lower())
    if direction is None:
        raise InvalidInputError(
            f"Okänd riktning {text!r}.",
            hint="Skriv ökning eller minskning (eller upp/ner).",
        )
    return direction


# -- registering --------------------------------------------------------------------------


def _last_year(store: Store, kpi: str, municipality: str) -> int | None:
    """The last year the store holds a value (gender T) of ``kpi`` for ``municipality``."""
    try:
        table = store.query_values([kpi], municipalities=[municipality], genders=["T"])
    except NoDataError:
        return None
    years = [
        int(p)
        for p, v in zip(
            table.column("period").to_pylist(), table.column("value").to_pylist(), strict=True
        )
        if v is not None
    ]
    return max(years, default=None)


def _clean_kpis(
    store: Store, raw: object, focal: Mapping[str, Any], *, hint: str
) -> list[dict[str, str]]:
    """A trial's KPIs as ``[{"kpi", "direction"}]``: each KPI checked against the store
    (NotFoundError with a suggestion) and against the trial's unit (a KPI Kolada publishes
    only for municipalities cannot measure a region's trial, nor the reverse:
    InvalidInputError naming the nearest KPIs of the right kind), directions in English or
    Swedish; at least one."""
    if not isinstance(raw, list | tuple) or not raw:
        raise InvalidInputError("Ange minst ett nyckeltal som försöket väntas påverka.", hint=hint)
    kpis: list[dict[str, str]] = []
    for item in raw:
        if not isinstance(item, Mapping):
            raise InvalidInputError("Varje nyckeltal ska ha kpi och direction.")
        meta = store.kpi(str(item.get("kpi") or ""))
        check_kpi_kind(store, meta, focal)
        direction = parse_direction(str(item.get("direction") or ""))
        kpis.append({"kpi": meta["id"], "direction": direction})
    return kpis


def _unit_row(store: Store, code: str) -> dict[str, Any]:
    """The catalogue row of a trial's unit (a municipality or a region) by code; a code the
    catalogue no longer has counts as a municipality."""
    for row in store.municipalities():
        if row["id"] == code:
            return dict(row)
    return {"id": code, "title": code, "type": "K"}


def register_trial(
    store: Store, bank: Bank, actor: UserRecord | None, data: Mapping[str, Any]
) -> TrialRecord:
    """Register a trial. ``data`` as for ``Bank.register_trial``, except that the
    municipality may be a name and the KPIs' directions may be Swedish; both are checked
    against the store (NotFoundError with a suggestion), and ``data_through`` (the last year
    with a value per KPI) is read from it, so the record shows whether results were known.
    ``organisation_id`` may also be an organisation's code or name; an admin without an
    organisation registers for the municipality's own organisation by default.

    The trial's unit may be a region as well as a municipality (Riket is refused); its
    KPIs must be ones Kolada publishes for that kind (``check_kpi_kind``)."""
    focal = resolve_municipality(store, str(data.get("municipality") or ""))
    municipality = focal["id"]
    kpis = _clean_kpis(store, data.get("kpis"), focal, hint="T.ex. --kpi N15419:ökning.")
    through = kpi_data_through(store, municipality, [k["kpi"] for k in kpis])
    fields = {**data, "municipality": municipality, "kpis": kpis}
    owner = data.get("organisation_id")
    if isinstance(owner, str):
        fields["organisation_id"] = resolve_organisation(bank, owner)
    elif owner is None and actor and actor.organisation_id is None:
        # An admin of no organisation registers for the municipality's own, when there is one.
        own = [o.id for o in bank.organisations() if o.code == municipality]
        if own:
            fields["organisation_id"] = own[0]
    return bank.register_trial(actor, fields, through)


def resolve_organisation(bank: Bank, text: str) -> int:
    """The id of the organisation ``text`` names: its code (Kolada's, e.g. "1384"), else its
    name (case-insensitive), else its id. NotFoundError when none does; InvalidInputError,
    naming the candidates, when several organisations share the name."""
    text = text.strip()
    organisations = bank.organisations()
    folded = text.casefold()
    for found in (
        [o for o in organisations if o.code == text],
        [o for o in organisations if o.name.casefold() == folded],
        [o for o in organisations if str(o.id) == text],
    ):
        if len(found) == 1:
            return found[0].id
        if found:
            raise InvalidInputError(
                f"Flera organisationer heter {text!r}: "
                + "; ".join(f"{o.name} (kod {o.code or '–'}, id {o.id})" for o in found)
                + ".",
                hint="Ange organisationens kod eller id, t.ex. "
                f"`--organisation {found[0].code or found[0].id}`.",
            )
    raise NotFoundError(
        f"Organisationen {text!r} finns inte i banken.",
        hint="Ange kod, namn eller id; `tillit bank seed` lägger in kommunerna och regionerna.",
    )


def kpi_data_through(store: Store, municipality: str, kpis: Iterable[str]) -> dict[str, int | None]:
    """The last year the store holds a value (gender T) of each KPI for ``municipality`` (a
    code), None where it has none: the ``data_through`` that ``Bank.register_trial`` and
    ``Bank.update_trial`` stamp a KPI with. A KPI's results are known when it is at least
    the trial's start year."""
    return {kpi: _last_year(store, kpi, municipality) for kpi in dict.fromkeys(kpis)}


def update_trial(
    store: Store,
    bank: Bank,
    actor: UserRecord | None,
    trial_id: int,
    expected_version: int,
    changes: Mapping[str, Any],
) -> TrialRecord:
    """Change a trial. ``changes`` as for ``Bank.update_trial``, except that the KPIs'
    directions may be Swedish. The KPIs are checked against the store (NotFoundError with a
    suggestion), and ``data_through`` is read from it for the trial's municipality: for
    every KPI in ``changes["kpis"]``, and for all the trial's KPIs when ``start_year`` is
    given (a new start year re-stamps them all). The bank keeps the stamp of a KPI that
    did not change. ConflictError when the trial is no longer at ``expected_version``."""
    trial = bank.trial(actor, trial_id)
    fields = dict(changes)
    stamped: list[str] = []
    if "kpis" in changes:
        kpis = _clean_kpis(
            store,
            changes["kpis"],
            _unit_row(store, trial.municipality),
            hint="Ta bort försöket om inget nyckeltal ska följas upp.",
        )
        fields["kpis"] = kpis
        stamped += [k["kpi"] for k in kpis]
    if "start_year" in changes:
        stamped += [k.kpi for k in trial.kpis]
    through = kpi_data_through(store, trial.municipality, stamped)
    return bank.update_trial(actor, trial_id, expected_version, fields, through)


# -- a trial's panel ------------------------------------------------------------------------


def trial_panel(
    store: Store,
    municipality: str,
    kpi: str,
    start: int,
    *,
    peers: int = 50,
    exclude: Iterable[str] = frozenset(),
    extra_kpis: Sequence[str] = (),
    structure_predictors: bool = True,
    kind: str | None = None,
) -> tuple[SynthPanel, tuple[str, ...], tuple[Predictor, ...]]:
    """The panel for a synthetic control of ``municipality`` (a municipality's or a region's
    code) on ``kpi`` from ``start``: the KPI's whole yearly series (gender T) for it and its
    ``peers`` structurally nearest units of the same kind (``kind``, "K" or "L"; default the
    unit's own type in the store) not in ``exclude``; the donors (those peers, nearest
    first); and the predictors: the outcome averaged over parts of the years before
    ``start`` (with the last one on its own) and the structural variables as constant columns
    ``struktur:<key>``, skipping those the unit has no value for. A region's peers are the
    other regions (at most 20), found on the regions' structural variables.

    Both the nearest peers and the structural predictors are taken as of the year before
    ``start`` (or the earliest year the store has), so that what the trial itself changed
    cannot choose its own comparison; a structural variable Kolada had not published for most
    units by then (out-commuting begins in 2020, a region's share aged 65+ in 2018) is left
    out rather than read from after the start. ``extra_kpis`` are read into the panel too
    (columns named by KPI id) for predictors of the caller's own;
    ``structure_predictors=False`` leaves the structural variables out of the default
    predictors (they stay on the panel as columns)."""
    kind = kind or str(_unit_row(store, municipality)["type"])
    ctx = load_context(store, kpis=[kpi], history=PANEL_HISTORY, kind=kind)
    structure = _structure_before(ctx.panel, start, kind)
    if municipality not in structure.municipalities:
        raise NoDataError(
            f"Strukturuppgifter saknas för {unit_word(kind, definite=False)}en {municipality}.",
            hint=f"{municipality} är ingen {unit_word(kind)} i arkivets katalog; läs in "
            "Koladas metadata med `tillit sync --metadata`.",
        )
    i = structure.municipalities.index(municipality)
    skip = set(exclude) | {municipality}
    order = np.argsort(structure.distances()[i], kind="stable")
    donors = tuple(
        structure.municipalities[j] for j in order if structure.municipalities[j] not in skip
    )[: max(peers, 0)]
    if len(donors) < 2:
        if peers >= 2:
            raise NotEvaluableError(
                f"Det finns bara {len(donors)} andra {unit_word(kind, plural=True)} utan eget "
                f"försök på {kpi} att jämföra med; en syntetisk kontroll behöver minst 2.",
                hint="Utvärdera när färre har egna försök på nyckeltalet.",
            )
        raise InvalidInputError(
            f"--peers ska vara minst 2, inte {peers}.", hint="Standard är 50 jämförbara."
        )
    units = (municipality, *donors)
    table = store.query_values([kpi], municipalities=list(units), genders=["T"])
    own = [
        int(p)
        for m, p, v in zip(
            table.column("municipality").to_pylist(),
            table.column("period").to_pylist(),
            table.column("value").to_pylist(),
            strict=True,
        )
        if m == municipality and v is not None
    ]
    if not own:
        raise NotEvaluableError(
            f"Arkivet har inga värden för {kpi} i {ctx.names.get(municipality, municipality)}.",
            hint=f"Hämta dem med `tillit sync --kpi {kpi}`.",
        )
    values = [np.nan if v is None else float(v) for v in table.column("value").to_pylist()]
    municipality_column = table.column("municipality").to_pylist()
    period_column = table.column("period").to_pylist()
    # Every unit on the panel, also a peer without any value (the fit reports it as dropped).
    missing = [u for u in units if u not in set(municipality_column)]
    panel = SynthPanel.from_long(
        [*municipality_column, *missing],
        [*period_column, *([min(own)] * len(missing))],
        {kpi: [*values, *([np.nan] * len(missing))]},
    )
    columns = dict(panel.columns)
    for extra in dict.fromkeys(k for k in extra_kpis if k != kpi):
        columns[extra] = _kpi_matrix(store, extra, panel)
    pre = sorted(t for t in own if t < start)
    predictors = list(outcome_lags(kpi, pre))
    rows = [structure.municipalities.index(u) for u in panel.units]
    for v, variable in enumerate(structure.variables):
        value = structure.raw[rows, v]
        if not math.isfinite(value[panel.unit_index[municipality]]):
            continue
        name = STRUCTURE_PREFIX + variable.key
        columns[name] = np.repeat(value[:, None], len(panel.times), axis=1)
        if structure_predictors:
            predictors.append(Predictor(name, (panel.times[0],), "mean"))
    return SynthPanel(panel.units, panel.times, columns), donors, tuple(predictors)


def _kpi_matrix(store: Store, kpi: str, panel: SynthPanel) -> npt.NDArray[np.float64]:
    """``kpi``'s values (gender T) on ``panel``'s units × times, NaN where there is none."""
    try:
        store.kpi(kpi)
    except NotFoundError:
        raise NotFoundError(
            f"Nyckeltalet {kpi} finns inte i arkivet.",
            hint=f"Sök med `tillit kpi search`, eller hämta det med `tillit sync --kpi {kpi}`.",
        ) from None
    table = store.query_values([kpi], municipalities=list(panel.units), genders=["T"])
    matrix = np.full((len(panel.units), len(panel.times)), np.nan)
    for m, p, v in zip(
        table.column("municipality").to_pylist(),
        table.column("period").to_pylist(),
        table.column("value").to_pylist(),
        strict=True,
    ):
        t = panel.time_index.get(int(p))
        if v is not None and t is not None and m in panel.unit_index:
            matrix[panel.unit_index[m], t] = float(v)
    return matrix


def _structure_before(panel: Panel, start: int, kind: str = "K") -> Structure:
    """The structure of ``kind``'s units as of the year before ``start`` (or the store's
    first year, when it begins later), leaving out a variable most units had no value for
    by then (named in ``Structure.dropped``): a variable read from after the start could
    carry the trial's own effect into the choice of its comparison. Only when too few
    variables are left that early is the first later year with enough of them taken."""
    years = [y for y in panel.years if y >= start - 1] or [panel.years[-1]]
    variables = structural_variables(kind)
    for year in years[:-1]:
        try:
            return build_structure(panel, year=year, variables=variables, drop_missing=True)
        except NoDataError:
            continue
    return build_structure(panel, year=years[-1], variables=variables, drop_missing=True)


# -- evaluating a trial -------------------------------------------------------------------


@dataclass(frozen=True)
class TrialEvaluation:
    """A trial judged on one of its KPIs: the evaluation, or why it was refused."""

    trial: TrialRecord
    kpi: str
    kpi_title: str
    municipality: str  # code
    municipality_name: str
    names: Mapping[str, str]  # code → name of the municipalities on the panel and excluded
    # The evaluation's units are the municipalities' names (``names``), so that the verdict
    # and its reasons speak of Kungsbacka rather than 1384.
    expected: Direction
    pre_registered: bool  # the KPI's results were not known when it was registered
    data_through: int | None  # the last year with a value at registration
    excluded: tuple[str, ...]  # units of the same kind left out: their own trial on the KPI
    peers: int  # the most donors asked for (the N structurally nearest)
    evaluation: SynthEvaluation | None
    refusal: str | None  # why there is no evaluation (NotEvaluableError's message)
    refusal_hint: str | None
    #: "K" when the trial is a municipality's, "L" when it is a region's: the donors are
    #: of the same kind.
    kind: str = "K"
    #: The donor pool (codes, nearest first), before the fit drops any without values.
    donors: tuple[str, ...] = ()
    #: How many units of the kind could have been donors: all the others without a trial
    #: of their own on the KPI (20 at most for a region).
    available: int = 0
    #: The donor pool in words: "de 50 strukturellt mest lika kommunerna", "alla 20 andra
    #: regioner".
    pool: str = ""
    #: What the pool's size means for the claim, in Swedish with the numbers, or None: the
    #: pool is all there is (fewer units exist than ``peers`` asked for), and when the
    #: verdict is that too few donors exist for the significance level, that no more exist.
    pool_note: str | None = None
    #: The significance level the verdict is judged at (``evaluate_synthetic_control``).
    alpha: float = 0.1
    #: The KPI's unit as a reader knows it ("kr/inv 65+", "%"; "" for a count), from the
    #: tail of its title (``tillit.swedish.kpi_unit``).
    unit: str = ""


@dataclass(frozen=True)
class TrialEvaluations:
    """Every KPI of a trial evaluated and judged together: ``evaluations`` in the trial's
    order of KPIs, the ones not refused with their p-values adjusted by Holm's method over
    the evaluated ones (``adjust_for_multiplicity``), and what they were computed from (the
    key a stored evaluation is found by)."""

    trial: TrialRecord
    evaluations: tuple[TrialEvaluation, ...]
    peers: int
    alpha: float
    #: Own predictors (``COL:FROM-TO[:op]`` texts) for every KPI; () for the defaults.
    predictors: tuple[str, ...]
    structure_predictors: bool
    #: ``store_state`` of the store when the evaluation began.
    store_state: str
    method_version: str
    #: When it was computed (UTC); ``stored`` when it was read from the bank, not computed now.
    computed_at: datetime | None = None
    stored: bool = False

    @property
    def family(self) -> int:
        """How many KPIs were judged together (the ones not refused)."""
        return sum(1 for e in self.evaluations if e.evaluation is not None)

    @property
    def multiplicity(self) -> str | None:
        """The multiplicity across the trial's KPIs in plain Swedish, or None for a trial
        with a single KPI."""
        return multiplicity_text(len(self.evaluations), self.family, self.alpha)

    def kpi(self, kpi: str | None = None) -> TrialEvaluation:
        """The evaluation of ``kpi`` (default the trial's first KPI); InvalidInputError,
        naming the trial's KPIs, for one the trial does not have."""
        return self.evaluations[_kpi_index(self.trial, kpi)]


def multiplicity_text(kpis: int, evaluated: int, alpha: float) -> str | None:
    """What judging ``evaluated`` of a trial's ``kpis`` KPIs together means, in Swedish."""
    if kpis <= 1:
        return None
    have = f"Försöket har {count(kpis, 'nyckeltal', 'nyckeltal')}"
    if evaluated >= 2:
        some = f", varav {number(evaluated)} kunde utvärderas" if evaluated < kpis else ""
        return (
            f"{have}{some}; p-värdena är justerade med Holms metod så att risken för minst "
            f"ett felaktigt ”tydligt” bland dem är högst {share(alpha)}."
        )
    if evaluated == 1:
        return (
            f"{have}, men bara ett kunde utvärderas, så dess p-värde behöver ingen "
            "justering för flera nyckeltal."
        )
    return f"{have}, men inget av dem kunde utvärderas."


def _kpi_index(trial: TrialRecord, kpi: str | None) -> int:
    if kpi is None:
        return 0
    wanted = kpi.strip().upper()
    for i, k in enumerate(trial.kpis):
        if k.kpi == wanted:
            return i
    raise InvalidInputError(
        f"Försöket {trial.id} har inte nyckeltalet {kpi!r}.",
        hint="Försökets nyckeltal: " + ", ".join(k.kpi for k in trial.kpis) + ".",
    )


def _trial_kind(store: Store, trial: TrialRecord) -> str:
    kind = str(_unit_row(store, trial.municipality)["type"])
    return kind if kind in ("K", "L") else "K"


def trial_exclusions(store: Store, bank: Bank, trial: TrialRecord) -> dict[str, tuple[str, ...]]:
    """Per KPI of the trial, the units of its own kind left out of the donors because they
    have a trial of their own on the KPI (codes, sorted)."""
    same_kind = set(units(store, _trial_kind(store, trial)))
    # Only units of the trial's own kind can be donors, so only they are left out.
    return {
        k.kpi: tuple(
            sorted(
                (bank.trial_municipalities(k.kpi, exclude_trial=trial.id) & same_kind)
                - {trial.municipality}
            )
        )
        for k in trial.kpis
    }


def _check_predictors(trial: TrialRecord, predictors: Sequence[str]) -> tuple[Predictor, ...]:
    chosen = tuple(_kpi_column(parse_predictor(text)) for text in predictors)
    late = [p.label for p in chosen if max(p.times) >= trial.start_year]
    if late:
        # Measured after the start, a predictor can carry the trial's own effect into the
        # choice of the comparison and so hide (or fake) that very effect. (The analysis API
        # allows it, because published specifications such as ADH 2015's do it.)
        raise InvalidInputError(
            f"Prediktorerna får bara avse år före försökets start {trial.start_year}: "
            + ", ".join(late)
            + ".",
            hint="Välj år före starten för varje prediktor.",
        )
    return chosen


def _check_alpha(alpha: float) -> None:
    if not 0 < alpha < 1:
        raise InvalidInputError(
            f"Signifikansnivån ska ligga mellan 0 och 1, inte {alpha}.",
            hint="Standard är 0,1; vanliga val är 0,05 och 0,01.",
        )


def evaluate_trial_kpis(
    store: Store,
    bank: Bank,
    trial_id: int,
    *,
    peers: int = 50,
    map_function: MapFunction | None = None,
    actor: UserRecord | None = None,
    predictors: Sequence[str] = (),
    structure_predictors: bool = True,
    alpha: float = 0.1,
) -> TrialEvaluations:
    """Evaluate every KPI of trial ``trial_id`` (each as :func:`evaluate_trial` describes:
    its panel, its donors, an honest refusal) and judge them together: the placebo p-values
    of the KPIs not refused are adjusted by Holm's method (``adjust_for_multiplicity``), so
    that the chance of at least one false "clear" verdict among them stays at most
    ``alpha``, and each verdict is judged by its adjusted p-value. A refused KPI is no part
    of the family. ``predictors`` apply to every KPI."""
    trial = bank.trial(actor, trial_id)
    chosen_predictors = _check_predictors(trial, predictors)
    _check_alpha(alpha)
    state = store_state(store)
    kind = _trial_kind(store, trial)
    same_kind = set(units(store, kind))
    exclusions = trial_exclusions(store, bank, trial)
    names = _labels(store)
    single = [
        _evaluate_kpi(
            store,
            trial,
            k,
            excluded=exclusions[k.kpi],
            available=len(same_kind - set(exclusions[k.kpi]) - {trial.municipality}),
            kind=kind,
            names=names,
            peers=peers,
            map_function=map_function,
            predictors=chosen_predictors,
            structure_predictors=structure_predictors,
            alpha=alpha,
        )
        for k in trial.kpis
    ]
    evaluated = [i for i, r in enumerate(single) if r.evaluation is not None]
    judged = adjust_for_multiplicity([e for r in single if (e := r.evaluation) is not None])
    for i, evaluation in zip(evaluated, judged, strict=True):
        r = single[i]
        pool, note = _pool_words(
            r.kind, len(r.donors), r.available, r.peers, bool(r.excluded), evaluation
        )
        single[i] = replace(r, evaluation=evaluation, pool=pool, pool_note=note)
    return TrialEvaluations(
        trial=trial,
        evaluations=tuple(single),
        peers=peers,
        alpha=alpha,
        predictors=tuple(predictors),
        structure_predictors=structure_predictors,
        store_state=state,
        method_version=METHOD_VERSION,
        computed_at=datetime.now(UTC),
    )


def evaluate_trial(
    store: Store,
    bank: Bank,
    trial_id: int,
    kpi: str | None = None,
    *,
    peers: int = 50,
    map_function: MapFunction | None = None,
    actor: UserRecord | None = None,
    predictors: Sequence[str] = (),
    structure_predictors: bool = True,
    alpha: float = 0.1,
) -> TrialEvaluation:
    """Evaluate trial ``trial_id`` on ``kpi`` (default: its first KPI) against a synthetic
    control from its ``peers`` structurally nearest units of its own kind (municipalities,
    or for a region's trial the other regions: with the default 50, all 20), leaving out
    those with a trial of their own on the KPI. A refusal (too short a pre-period, no year
    after the start yet, fewer than two donors) is returned as ``refusal``, not raised: it
    is an answer.

    The verdict is the one the KPI gets judged together with the trial's other KPIs (see
    :func:`evaluate_trial_kpis`, which this calls: every KPI is evaluated), so that it is
    the same as on the trial's page.

    ``alpha`` is the significance level the verdict claims. The placebo p-value is at least
    1/(J + 1) with J donors, so a level below that cannot be reached: the verdict is then
    "too few donors", with the numbers (with a region's 20 donors, 1/21 ≈ 0,048, so a
    level of 0,01 is refused and 0,05 is reached only by the largest deviation of all).

    ``predictors`` (``COL:FROM-TO[:op]`` texts, see ``parse_predictor``) replace the default
    ones (outcome lags and, unless ``structure_predictors`` is False, the structural
    variables). A column is the trial's KPI, another KPI id (read from the store) or
    ``struktur:<key>`` (a structural variable as of the year before the start)."""
    trial = bank.trial(actor, trial_id)
    _kpi_index(trial, kpi)  # a KPI the trial lacks is refused before anything is computed
    _check_predictors(trial, predictors)
    _check_alpha(alpha)
    return evaluate_trial_kpis(
        store,
        bank,
        trial_id,
        peers=peers,
        map_function=map_function,
        actor=actor,
        predictors=predictors,
        structure_predictors=structure_predictors,
        alpha=alpha,
    ).kpi(kpi)


def _evaluate_kpi(
    store: Store,
    trial: TrialRecord,
    chosen: TrialKpiRecord,
    *,
    excluded: tuple[str, ...],
    available: int,
    kind: str,
    names: Mapping[str, str],
    peers: int,
    map_function: MapFunction | None,
    predictors: tuple[Predictor, ...],
    structure_predictors: bool,
    alpha: float,
) -> TrialEvaluation:
    """One KPI of the trial evaluated on its own (not yet judged with the others)."""
    try:
        title = str(store.kpi(chosen.kpi)["title"])
    except NotFoundError:
        title = chosen.kpi
    unit = kpi_unit(title)
    expected = parse_direction(chosen.direction)
    evaluation: SynthEvaluation | None = None
    refusal: tuple[str, str | None] | None = None
    shown = {trial.municipality, *excluded}
    donors: tuple[str, ...] = ()
    try:
        extra = [
            p.column
            for p in predictors
            if not p.column.startswith(STRUCTURE_PREFIX) and p.column != chosen.kpi
        ]
        panel, donors, defaults = trial_panel(
            store,
            trial.municipality,
            chosen.kpi,
            trial.start_year,
            peers=peers,
            exclude=excluded,
            extra_kpis=extra,
            structure_predictors=structure_predictors,
            kind=kind,
        )
        used = predictors or defaults
        shown |= set(panel.units)
        # The units by name, so that the verdict and its reasons speak of municipalities.
        named = SynthPanel(tuple(names[u] for u in panel.units), panel.times, panel.columns)
        evaluation = evaluate_synthetic_control(
            named,
            outcome=chosen.kpi,
            treated=names[trial.municipality],
            start=trial.start_year,
            predictors=used,
            donors=[names[d] for d in donors],
            expected=expected,
            map_function=map_function,
            alpha=alpha,
            unit=unit,
        )
    except NotEvaluableError as error:
        refusal = (error.message, error.hint)
    pool, note = _pool_words(kind, len(donors), available, peers, bool(excluded), evaluation)
    return TrialEvaluation(
        trial=trial,
        kpi=chosen.kpi,
        kpi_title=title,
        municipality=trial.municipality,
        municipality_name=names.get(trial.municipality, trial.municipality),
        names={code: names[code] for code in sorted(shown) if code in names},
        expected=expected,
        pre_registered=not chosen.results_known,
        data_through=chosen.data_through,
        excluded=excluded,
        peers=peers,
        evaluation=evaluation,
        refusal=refusal[0] if refusal else None,
        refusal_hint=refusal[1] if refusal else None,
        kind=kind,
        donors=donors,
        available=available,
        pool=pool,
        pool_note=note,
        alpha=alpha,
        unit=unit,
    )


def _pool_words(
    kind: str,
    count: int,
    available: int,
    peers: int,
    excluded: bool,
    evaluation: SynthEvaluation | None,
) -> tuple[str, str | None]:
    """The donor pool in words, and what its size means for the claim (or None)."""
    plural = unit_word(kind, plural=True)
    without = " utan eget försök på nyckeltalet" if excluded else ""
    if count and count >= available:
        pool = f"alla {count} andra {plural}{without}"
    else:
        pool = f"de {count or peers} strukturellt mest lika {unit_word(kind, definite=True)}"
    notes = []
    if peers > available:
        notes.append(
            f"Det finns bara {available} andra {plural}{without}, färre än de {peers} "
            f"jämförbara som utvärderingen får välja bland, så alla {available} är med."
        )
    too_few = evaluation is not None and evaluation.verdict.kind == "too_few_donors"
    if too_few and count < available and evaluation is not None:
        floor = 1 / (available + 1)
        if floor <= evaluation.alpha:
            notes.append(
                f"Jämförelsen fick bara välja bland de {count} närmaste; med alla {available} "
                f"andra {plural}{without} vore lägsta möjliga p 1/{available + 1} = "
                f"{number(floor)}, vilket räcker för nivån {number(evaluation.alpha)}: "
                f"låt jämförelsen välja bland alla {available}."
            )
    if too_few and count >= available and evaluation is not None:
        floor = 1 / (available + 1)
        notes.append(
            f"Fler jämförbara {plural} finns inte: på nivån {number(evaluation.alpha)} kan "
            f"placebotestet inte visa någon effekt här, hur stor den än är. Den lägsta nivå "
            f"som går att nå med alla {available} är 1/{available + 1} = {number(floor)}; "
            "välj den eller en högre, eller läs skattningen som en beskrivning, inte som belägg."
        )
    return pool, " ".join(notes) or None


def _kpi_column(predictor: Predictor) -> Predictor:
    """A KPI id in any case is the KPI's column (n15419 → N15419)."""
    column = predictor.column.strip()
    if not column.startswith(STRUCTURE_PREFIX):
        column = column.upper()
    return Predictor(column, predictor.times, predictor.op)


def _labels(store: Store) -> dict[str, str]:
    """Code → name of every municipality and region; a name that two share gets its code."""
    rows = store.municipalities()
    count: dict[str, int] = {}
    for row in rows:
        count[row["title"]] = count.get(row["title"], 0) + 1
    return {
        r["id"]: r["title"] if count[r["title"]] == 1 else f"{r['title']} ({r['id']})" for r in rows
    }


# -- any panel in a CSV file ----------------------------------------------------------------


def evaluate_panel_csv(
    path: Path,
    *,
    unit: str,
    time: str,
    outcome: str,
    treated: str,
    start: int,
    predictors: Sequence[Predictor] = (),
    fit: tuple[int, int] | None = None,
    donors: Sequence[str] | None = None,
    expected: Direction | None = None,
    map_function: MapFunction | None = None,
    alpha: float = 0.1,
) -> SynthEvaluation:
    """A synthetic control on a long panel in a CSV file (comma, semicolon or tab separated):
    one row per ``unit`` and ``time``, ``outcome`` and the predictors' columns numeric.
    InvalidInputError names a missing file, column or unit and what there is instead."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    if not path.is_file():
        raise InvalidInputError(f"Filen {path} finns inte.", hint="Kontrollera sökvägen.")
    with path.open("rb") as handle:
        header = handle.readline().decode("utf-8-sig", errors="replace")
    delimiter = max((",", ";", "\t"), key=header.count)
    try:
        table = pcsv.read_csv(path, parse_options=pcsv.ParseOptions(delimiter=delimiter))
    except (pa.ArrowInvalid, OSError) as error:
        raise InvalidInputError(
            f"Kan inte läsa {path.name} som CSV: {error}",
            hint="En rad per enhet och tid, med rubrikrad.",
        ) from None
    needed = list(dict.fromkeys([unit, time, outcome, *(p.column for p in predictors)]))
    absent = [c for c in needed if c not in table.column_names]
    if absent:
        raise InvalidInputError(
            f"{path.name} saknar kolumnerna {', '.join(absent)}.",
            hint="Kolumner i filen: " + ", ".join(table.column_names) + ".",
        )
    columns: dict[str, Any] = {}
    for name in needed[2:]:
        try:
            columns[name] = table.column(name).cast(pa.float64()).to_numpy(zero_copy_only=False)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise InvalidInputError(
                f"Kolumnen {name!r} i {path.name} har värden som inte är tal.",
                hint="Utfall och prediktorer ska vara talkolumner (decimalpunkt).",
            ) from None
    panel = SynthPanel.from_long(
        table.column(unit).to_pylist(), table.column(time).to_pylist(), columns
    )
    for name in (treated, *(donors or ())):
        if name not in panel.unit_index:
            raise InvalidInputError(
                f"{path.name} har ingen enhet {name!r} i kolumnen {unit}.",
                hint="Enheter: "
                + ", ".join(panel.units[:30])
                + ("…" if len(panel.units) > 30 else "")
                + ".",
            )
    return evaluate_synthetic_control(
        panel,
        outcome=outcome,
        treated=treated,
        start=start,
        predictors=list(predictors) or None,
        fit=fit,
        donors=list(donors) if donors else None,
        expected=expected,
        map_function=map_function,
        alpha=alpha,
    )


# -- as data (the CLI's --format json, the pages' JSON twins) -----------------------------
