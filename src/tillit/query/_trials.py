"""Trials (försök): registering one against the store and the panel a synthetic control of
it is built on (``_trial_evaluation`` evaluates it); also a synthetic control on any long panel
in a CSV file.

The bank (SQLAlchemy) is only named for type checking here: it loads when a trial command
runs, not with every query."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

from tillit.analyses import (
    Panel,
    Predictor,
    Structure,
    SynthEvaluation,
    SynthPanel,
    build_structure,
    evaluate_synthetic_control,
    outcome_lags,
)
from tillit.errors import InvalidInputError, NoDataError, NotEvaluableError, NotFoundError
from tillit.query._context import (
    load_context,
    structural_variables,
    unit_word,
)
from tillit.query._reports import check_kpi_kind, resolve_municipality
from tillit.store import Store

if TYPE_CHECKING:
    from tillit.bank import Bank, TrialRecord, UserRecord

__all__ = [
    "evaluate_panel_csv",
    "kpi_data_through",
    "parse_direction",
    "register_trial",
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
