"""One evaluation, kept: a trial's evaluations stored in the bank and found again, so that the
command line and the web reuse each other's results.

Each KPI's evaluation is stored under a key (a SHA-256 hash) of everything it was computed
from: the state of the store (``store_state``), the trial and its version, the KPI, the
trial's KPIs judged with it (its Holm family), each with the units left out of its donors
for their own trial on it, the donor pool's size, the significance level, the predictors
and ``METHOD_VERSION``. A sync, an edit of the trial, a new trial elsewhere on one of its
KPIs or a new version of the method gives another key, and the evaluation is computed anew.
The evaluation itself is kept as JSON by a generic codec (``tillit.query._trial_codec``):
what it cannot read back (an older format) counts as not stored."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy.exc import SQLAlchemyError

from tillit.analyses import METHOD_VERSION, parse_predictor
from tillit.errors import TillitError
from tillit.query._store_state import store_state
from tillit.query._trial_codec import CodecError, decode, encode
from tillit.query._trial_evaluation import (
    TrialEvaluation,
    TrialEvaluations,
    _kpi_column,
    evaluate_trial_kpis,
    trial_exclusions,
)
from tillit.query._trials import MapFunction
from tillit.store import Store

_log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from tillit.bank import Bank, TrialRecord, UserRecord

__all__ = [
    "NOT_EVALUATED",
    "EvaluationKeys",
    "StoredLabel",
    "evaluation_keys",
    "save_trial_evaluations",
    "shown_to",
    "stored_trial_evaluations",
    "stored_verdicts",
    "trial_evaluations",
]

#: What a KPI without a stored evaluation shows in the trials list.
NOT_EVALUATED = "inte utvärderat än"
#: The stored JSON's format; a record of another format is computed again.
FORMAT = 1


@dataclass(frozen=True)
class EvaluationKeys:
    """The keys a trial's evaluations are stored under (KPI → key), with the state of the
    store they are for."""

    store_state: str
    keys: dict[str, str]


@dataclass(frozen=True)
class StoredLabel:
    """A KPI's latest stored verdict for the trials list (``kind`` None: refused or not
    evaluated; ``label`` "inte utvärderat än" when nothing is stored)."""

    kpi: str
    kind: str | None
    label: str
    evaluated: bool


def _predictor_key(predictors: Sequence[str]) -> list[list[Any]]:
    """Own predictors as they are used (a KPI id in any case is the same column)."""
    out = []
    for text in predictors:
        p = _kpi_column(parse_predictor(text))
        out.append([p.column, list(p.times), p.op])
    return out


def evaluation_keys(
    store: Store,
    bank: Bank,
    trial: TrialRecord,
    *,
    peers: int = 50,
    alpha: float = 0.1,
    predictors: Sequence[str] = (),
    structure_predictors: bool = True,
    state: str | None = None,
    exclusions: dict[str, tuple[str, ...]] | None = None,
) -> EvaluationKeys:
    """The key of each KPI's evaluation of ``trial`` with these settings at the store's
    current state (or ``state``); ``exclusions`` (KPI → units left out) default to the
    bank's trials now."""
    state = store_state(store) if state is None else state
    excluded = trial_exclusions(store, bank, trial) if exclusions is None else exclusions
    family = {
        "format": FORMAT,
        "store": state,
        "trial": trial.id,
        "version": trial.version,
        "method": METHOD_VERSION,
        "peers": peers,
        "alpha": alpha,
        "predictors": _predictor_key(predictors),
        "structure": structure_predictors,
        "kpis": [[k.kpi, k.direction, list(excluded.get(k.kpi, ()))] for k in trial.kpis],
    }
    keys = {}
    for k in trial.kpis:
        text = orjson.dumps({**family, "kpi": k.kpi}, option=orjson.OPT_SORT_KEYS)
        keys[k.kpi] = hashlib.sha256(text).hexdigest()
    return EvaluationKeys(state, keys)


def _payload(result: TrialEvaluation) -> str:
    data = {"format": FORMAT, "evaluation": encode(result, skip=frozenset({"trial"}))}
    return orjson.dumps(data).decode()


def _read(payload: str, trial: TrialRecord) -> TrialEvaluation:
    try:
        data = orjson.loads(payload)
    except orjson.JSONDecodeError:
        raise CodecError("not JSON") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CodecError("another format")
    return decode(TrialEvaluation, data.get("evaluation"), trial=trial)


def stored_trial_evaluations(
    store: Store,
    bank: Bank,
    trial: TrialRecord,
    *,
    peers: int = 50,
    alpha: float = 0.1,
    predictors: Sequence[str] = (),
    structure_predictors: bool = True,
    keys: EvaluationKeys | None = None,
) -> TrialEvaluations | None:
    """The trial's evaluations with these settings as stored for the store's current state,
    the trial's version and this method; None unless every KPI's is stored and readable
    (nothing is computed). ``trial`` is shown as given (as its reader may see it)."""
    keys = keys or evaluation_keys(
        store,
        bank,
        trial,
        peers=peers,
        alpha=alpha,
        predictors=predictors,
        structure_predictors=structure_predictors,
    )
    found = bank.stored_evaluations(list(keys.keys.values()))
    evaluations = []
    for k in trial.kpis:
        row = found.get(keys.keys[k.kpi])
        if row is None:
            return None
        try:
            evaluations.append(_read(row.payload, trial))
        except (CodecError, TypeError, ValueError, KeyError, AttributeError):
            # An older format (or a row damaged by hand): computed again, never an error.
            return None
    at = min(found[keys.keys[k.kpi]].computed_at for k in trial.kpis)
    return TrialEvaluations(
        trial=trial,
        evaluations=tuple(evaluations),
        peers=peers,
        alpha=alpha,
        predictors=tuple(predictors),
        structure_predictors=structure_predictors,
        store_state=keys.store_state,
        method_version=METHOD_VERSION,
        computed_at=at,
        stored=True,
    )


def save_trial_evaluations(store: Store, bank: Bank, result: TrialEvaluations) -> int:
    """Store ``result`` (each KPI under its key, as of the state of the store it was
    computed at) and prune the trial's stale rows; the rows written (0 when the trial was
    deleted meanwhile or another process stored the same first)."""
    from tillit.bank import NewEvaluation

    if result.method_version != METHOD_VERSION:
        return 0
    keys = evaluation_keys(
        store,
        bank,
        result.trial,
        peers=result.peers,
        alpha=result.alpha,
        predictors=result.predictors,
        structure_predictors=result.structure_predictors,
        state=result.store_state,
        exclusions={e.kpi: e.excluded for e in result.evaluations},
    )
    rows = [
        NewEvaluation(
            kpi=e.kpi,
            key=keys.keys[e.kpi],
            verdict=e.evaluation.verdict.kind if e.evaluation is not None else None,
            label=e.evaluation.verdict.label if e.evaluation is not None else REFUSED,
            payload=_payload(e),
        )
        for e in result.evaluations
    ]
    return bank.store_evaluations(
        result.trial.id, result.trial.version, result.store_state, METHOD_VERSION, rows
    )


#: The label of a KPI that cannot be evaluated (a refusal).
REFUSED = "kan inte utvärderas"


def trial_evaluations(
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
    recompute: bool = False,
) -> TrialEvaluations:
    """The trial's evaluations of every KPI: the stored ones when the bank has them for
    these settings at the store's current state (``stored`` True), else computed by
    :func:`evaluate_trial_kpis` and stored. ``recompute`` computes anew in any case."""
    trial = bank.trial(actor, trial_id)
    if not recompute:
        found = stored_trial_evaluations(
            store,
            bank,
            trial,
            peers=peers,
            alpha=alpha,
            predictors=predictors,
            structure_predictors=structure_predictors,
        )
        if found is not None:
            return found
    result = evaluate_trial_kpis(
        store,
        bank,
        trial_id,
        peers=peers,
        map_function=map_function,
        actor=actor,
        predictors=predictors,
        structure_predictors=structure_predictors,
        alpha=alpha,
    )
    try:
        save_trial_evaluations(store, bank, result)
    except (TillitError, SQLAlchemyError) as error:
        # minutes of computing are not thrown away because the bank is busy or read-only:
        # the result is answered, and computed again next time
        _log.warning("Utvärderingen kunde inte sparas i banken: %s", error)
    return result


def stored_verdicts(
    store: Store | None,
    bank: Bank,
    trials: Iterable[TrialRecord],
    *,
    peers: int = 50,
    alpha: float = 0.1,
) -> dict[int, tuple[StoredLabel, ...]]:
    """Per trial, each KPI's stored verdict with the list's settings (by default the trial
    page's: 50 peers, level 0.1; the default predictors, the exclusions of today's trials) for the
    store's current state, the trial's version and this method, or "inte utvärderat än"
    (nothing is computed; without a store nothing is evaluated). An evaluation made with
    other settings (``--niva``, ``--peers``, own predictors) is not the list's."""
    listed = list(trials)
    found = {}
    if store is not None and listed:
        state = store_state(store)
        keys = [
            key
            for t in listed
            for key in evaluation_keys(
                store, bank, t, peers=peers, alpha=alpha, state=state
            ).keys.values()
        ]
        found = bank.stored_verdicts(
            [(t.id, t.version) for t in listed], state, METHOD_VERSION, keys
        )
    out = {}
    for t in listed:
        labels = []
        for k in t.kpis:
            v = found.get((t.id, k.kpi))
            if v is None:
                labels.append(StoredLabel(k.kpi, None, NOT_EVALUATED, False))
            else:
                labels.append(StoredLabel(k.kpi, v.verdict, v.label, True))
        out[t.id] = tuple(labels)
    return out


def shown_to(result: TrialEvaluations, trial: TrialRecord) -> TrialEvaluations:
    """``result`` with the trial as ``trial`` (the same one as a given reader sees it)."""
    return replace(
        result,
        trial=trial,
        evaluations=tuple(replace(e, trial=trial) for e in result.evaluations),
    )
