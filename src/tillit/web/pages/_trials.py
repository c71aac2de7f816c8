"""The trial pages (försök): the list of registered trials (filters kommun, nyckeltal) and
one trial with its evaluation by a synthetic control on each of its KPIs: the verdict in
plain Swedish, the municipality (or region) against its synthetic control, the gap against
the placebo gaps, the donor weights, the predictor balance and the numbers. Each page has a
JSON twin from the same function; the evaluation itself is ``tillit.query.evaluate_trial``."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from tillit import swedish
from tillit.analyses import STRUCTURAL_VARIABLES, Predictor, SynthEvaluation
from tillit.bank import TrialKpiRecord, TrialRecord, UserRecord
from tillit.errors import NotFoundError
from tillit.query import (
    TrialEvaluation,
    average_effect_text,
    shown_to,
    stored_verdicts,
    trial_data,
    trial_evaluation_data,
    unit_word,
)
from tillit.web._auth import WebState, web_state
from tillit.web._params import is_digits
from tillit.web.pages._bank import MAX_ID, kpi_title, page_number
from tillit.web.pages._render import (
    Viewer,
    csv_response,
    json_response,
    render,
    svg_response,
    viewer,
)
from tillit.web.pages._trial_eval import Prepared, PreparedTrial, TrialEvaluator
from tillit.web.pages._trial_figures import TRIAL_CHARTS, TrialFigure, genitive

__all__ = ["may_edit_trial", "router", "trial_detail", "trials_list"]

router = APIRouter(include_in_schema=False)
State = Annotated[WebState, Depends(web_state)]
Text = Annotated[str, Query(max_length=200)]

PER_PAGE = 20
#: Seconds a page waiting for its evaluation asks the browser to wait before it reloads.
RETRY_SECONDS = 5
DIRECTIONS = {"increase": "öka", "decrease": "minska"}
_STRUCTURE_LABELS = {v.key: v.label for v in STRUCTURAL_VARIABLES}
#: How ``tillit.query.trial_panel`` names the structural variables' columns.
STRUCTURE_PREFIX = "struktur:"
#: The verdict's tone on the page: a word and a symbol as well as a colour.
VERDICT_TONES = {
    "clear_improvement": "good",
    "clear_deterioration": "bad",
    "clear_increase": "clear",
    "clear_decrease": "clear",
    "possible_improvement": "uncertain",
    "possible_deterioration": "uncertain",
    "possible_increase": "uncertain",
    "possible_decrease": "uncertain",
    "no_clear_effect": "neutral",
    "no_clear_effect_yet": "neutral",
    "too_few_donors": "none",
    "poor_fit": "none",
}


def evaluator(request: Request) -> TrialEvaluator:
    """The app's trial evaluator (made on first use; a test or a server may set its own
    on ``app.state.trial_evaluator`` beforehand)."""
    found = getattr(request.app.state, "trial_evaluator", None)
    if not isinstance(found, TrialEvaluator):
        found = TrialEvaluator()
        request.app.state.trial_evaluator = found
    return found


def may_edit_trial(user: UserRecord | None, trial: TrialRecord) -> bool:
    """The bank's rule for changing a trial: an admin, or an editor of its organisation."""
    if user is None:
        return False
    return user.role == "admin" or (
        user.role == "editor" and user.organisation_id == trial.organisation_id
    )


def _names(state: WebState) -> dict[str, str]:
    return {o.code: o.name for o in state.bank.organisations() if o.code}


#: A trial's unit's kind ("K"/"L") by the kind of the organisation of the same code.
_KINDS = {"kommun": "K", "region": "L"}


def _unit_kinds(state: WebState) -> dict[str, str]:
    """Code → "K" (municipality) or "L" (region): the store's catalogue when the server has
    one, else the bank's organisations (kind "kommun" or "region")."""
    if state.atlas is not None:
        return {
            row["id"]: "L" if row.get("type") == "L" else "K"
            for row in state.atlas.store.municipalities()
        }
    return {
        o.code: _KINDS[o.kind] for o in state.bank.organisations() if o.code and o.kind in _KINDS
    }


def _trial_id(trial_id: int) -> int:
    if not 1 <= trial_id <= MAX_ID:
        raise NotFoundError(f"Försöket {trial_id} finns inte.")
    return trial_id


# --- the list -------------------------------------------------------------------------------
def trials_list(
    state: WebState,
    who: Viewer,
    *,
    kommun: str = "",
    nyckeltal: str = "",
    sida: str = "",
    peers: int = 50,
) -> dict[str, Any]:
    """One page (20) of registered trials, newest registration first, of one municipality
    (code or name) and/or with one KPI (id); each KPI's stored verdict with the trial
    page's settings (``peers``, the evaluator's)."""
    kommun, nyckeltal = kommun.strip(), nyckeltal.strip().upper()
    page = page_number(sida)
    out: dict[str, Any] = {
        "filters": {"kommun": kommun, "nyckeltal": nyckeltal},
        "page": page,
        "per_page": PER_PAGE,
        "has_next": False,
        "notice": None,
        "items": [],
    }
    municipality = None
    if kommun:
        try:
            municipality = state.bank.organisation(kommun).code
        except NotFoundError:
            if not (is_digits(kommun) and len(kommun) == 4):
                out["notice"] = f"Ingen kommun eller region som heter {kommun!r} finns i banken."
                return out
            municipality = kommun
    offset = (page - 1) * PER_PAGE
    found = state.bank.trials(
        who.user,
        municipality=municipality,
        kpi=nyckeltal or None,
        limit=PER_PAGE + 1,
        offset=offset,
    )
    out["has_next"] = len(found) > PER_PAGE
    names = _names(state) if found else {}
    kinds = _unit_kinds(state) if found else {}
    titles: dict[str, str | None] = {}
    # Stored verdicts only: the list never computes an evaluation.
    store = state.atlas.store if state.atlas is not None else None
    verdicts = stored_verdicts(store, state.bank, found[:PER_PAGE], peers=peers)
    for trial in found[:PER_PAGE]:
        item = trial_data(trial, verdicts[trial.id])
        item["municipality_name"] = names.get(trial.municipality, trial.municipality)
        item["kind"] = kinds.get(trial.municipality, "K")
        for k in item["kpis"]:
            if k["kpi"] not in titles:
                titles[k["kpi"]] = kpi_title(state, k["kpi"])
            k["title"] = titles[k["kpi"]]
            k["direction_label"] = DIRECTIONS.get(k["direction"], k["direction"])
            k["tone"] = VERDICT_TONES.get(k["verdict"] or "", "none")
        item["url"] = f"/forsok/{trial.id}"
        out["items"].append(item)
    return out


def _list_params(kommun: Text = "", nyckeltal: Text = "", sida: Text = "") -> dict[str, str]:
    return {"kommun": kommun, "nyckeltal": nyckeltal, "sida": sida}


ListParams = Annotated[dict[str, str], Depends(_list_params)]


@router.get("/forsok.json")
def trials_json(request: Request, state: State, params: ListParams) -> Response:
    return json_response(
        trials_list(state, viewer(request, state), **params, peers=evaluator(request).peers)
    )


@router.get("/forsok")
def trials_page(request: Request, state: State, params: ListParams) -> Response:
    who = viewer(request, state)
    return render(
        request,
        "trials/list.html",
        {
            "viewer": who,
            "result": trials_list(state, who, **params, peers=evaluator(request).peers),
            "may_create": who.user is not None and who.user.role in ("admin", "editor"),
        },
    )


# --- one trial ------------------------------------------------------------------------------
@dataclass(frozen=True)
class TrialPage:
    """One trial as the viewer sees it, with the chosen KPI's evaluation: ``prepared`` is
    None while it is being computed, or when the server has no store (``no_store``);
    ``every`` is every KPI's evaluation (judged together), None likewise."""

    trial: TrialRecord
    kpi: TrialKpiRecord
    kpi_titles: dict[str, str]
    municipality_name: str
    may_edit: bool
    prepared: Prepared | None
    no_store: bool
    #: "K" when the trial is a municipality's, "L" when it is a region's.
    kind: str = "K"
    every: PreparedTrial | None = None

    @property
    def verdicts(self) -> dict[str, dict[str, Any]]:
        """Each KPI's verdict in short (kind, label, tone, the average effect in words), or
        nothing while the evaluation is being computed."""
        if self.every is None:
            return {}
        return {e.kpi: kpi_verdict(e) for e in self.every.evaluations.evaluations}

    @property
    def computing(self) -> bool:
        return self.prepared is None and not self.no_store

    @property
    def unit_url(self) -> str:
        """The page of the trial's municipality or region."""
        base = "/region" if self.kind == "L" else "/kommun"
        return f"{base}/{self.trial.municipality}"

    def units(self, *, definite: bool = False) -> str:
        """ "kommuner"/"regioner" (``definite``: "kommunerna"/"regionerna")."""
        return unit_word(self.kind, plural=True, definite=definite)

    @property
    def unit(self) -> str:
        """ "kommun" or "region"."""
        return unit_word(self.kind)


def _chosen(trial: TrialRecord, kpi: str | None) -> TrialKpiRecord:
    if not kpi:
        return trial.kpis[0]
    wanted = kpi.strip().upper()
    for k in trial.kpis:
        if k.kpi == wanted:
            return k
    raise NotFoundError(
        f"Försöket {trial.id} har inte nyckeltalet {kpi!r}.",
        hint="Försökets nyckeltal: " + ", ".join(k.kpi for k in trial.kpis) + ".",
    )


def trial_detail(
    state: WebState, who: Viewer, trial_id: int, kpi: str | None, evaluation: TrialEvaluator
) -> TrialPage:
    """The trial (as the viewer may see it) and its evaluation on ``kpi`` (default its
    first KPI), from the evaluator's cache or computed now (None while it runs on)."""
    trial = state.bank.trial(who.user, _trial_id(trial_id))
    chosen = _chosen(trial, kpi)
    prepared = None
    every = None
    if state.atlas is not None:
        every = evaluation.get_trial(state.atlas.store, state.bank, trial)
        if every is not None:
            # the evaluation was made for anyone; the trial is shown as this viewer sees it
            every = replace(every, evaluations=shown_to(every.evaluations, trial))
            prepared = every.prepared(chosen.kpi)
    titles = {k.kpi: kpi_title(state, k.kpi) or k.kpi for k in trial.kpis}
    name = prepared.result.municipality_name if prepared else None
    return TrialPage(
        trial=trial,
        kpi=chosen,
        kpi_titles=titles,
        municipality_name=name or _names(state).get(trial.municipality, trial.municipality),
        may_edit=may_edit_trial(who.user, trial),
        prepared=prepared,
        no_store=state.atlas is None,
        kind=prepared.result.kind if prepared else _unit_kinds(state).get(trial.municipality, "K"),
        every=every,
    )


def kpi_verdict(result: TrialEvaluation) -> dict[str, Any]:
    """One KPI's verdict in short, for the trial page's list of KPIs and its JSON twin."""
    e = result.evaluation
    if e is None:
        return {
            "verdict": None,
            "label": "kan inte utvärderas",
            "tone": "none",
            "average_effect_text": None,
            "judged_p_value": None,
        }
    return {
        "verdict": e.verdict.kind,
        "label": e.verdict.label,
        "tone": VERDICT_TONES.get(e.verdict.kind, "neutral"),
        "average_effect_text": average_effect_text(e.average_effect, e.spec.unit),
        "judged_p_value": e.judged_p_value,
    }


def page_data(page: TrialPage) -> dict[str, Any]:
    """The JSON twin: the trial, its KPIs with their addresses and each KPI's verdict in
    short (``verdict`` None while computing), the multiplicity across them, and the chosen
    KPI's evaluation as ``tillit.query.trial_evaluation_data`` gives it (``status``
    "ready"), or ``status`` "computing" (ask again after ``retry_after`` seconds) or
    "no_store"."""
    trial = page.trial
    verdicts = page.verdicts
    every = page.every.evaluations if page.every is not None else None
    out: dict[str, Any] = {
        "status": "ready" if page.prepared else "computing" if page.computing else "no_store",
        "trial": trial_data(trial),
        "municipality_name": page.municipality_name,
        "kind": page.kind,
        "kpi": page.kpi.kpi,
        "kpis": [
            {
                "kpi": k.kpi,
                "title": page.kpi_titles.get(k.kpi),
                "url": f"/forsok/{trial.id}?nyckeltal={k.kpi}",
                "json": f"/forsok/{trial.id}.json?nyckeltal={k.kpi}",
                **verdicts.get(k.kpi, {"verdict": None, "label": None}),
            }
            for k in trial.kpis
        ],
        "family": every.family if every is not None else None,
        "multiplicity": every.multiplicity if every is not None else None,
        "stored": every.stored if every is not None else None,
        "computed_at": (
            every.computed_at.isoformat() if every is not None and every.computed_at else None
        ),
        "evaluation": None,
    }
    if page.prepared is not None:
        data = trial_evaluation_data(page.prepared.result)
        data.pop("trial", None)
        out["evaluation"] = data
    elif page.computing:
        out["retry_after"] = RETRY_SECONDS
    return out


@router.get("/forsok/{trial_id:int}.json")
def trial_json(request: Request, state: State, trial_id: int, nyckeltal: Text = "") -> Response:
    page = trial_detail(state, viewer(request, state), trial_id, nyckeltal, evaluator(request))
    response = json_response(page_data(page), status=202 if page.computing else 200)
    if page.computing:
        response.headers["Retry-After"] = str(RETRY_SECONDS)
    return response


@router.get("/forsok/{trial_id:int}")
def trial_page(request: Request, state: State, trial_id: int, nyckeltal: Text = "") -> Response:
    who = viewer(request, state)
    page = trial_detail(state, who, trial_id, nyckeltal, evaluator(request))
    if nyckeltal and nyckeltal != page.kpi.kpi:
        return RedirectResponse(f"/forsok/{trial_id}?nyckeltal={page.kpi.kpi}", status_code=308)
    context: dict[str, Any] = {"viewer": who, "page": page, "retry": RETRY_SECONDS}
    if page.prepared is not None and page.prepared.result.evaluation is not None:
        context["view"] = evaluation_view(page.prepared, page.prepared.result.evaluation)
    headers = {"Retry-After": str(RETRY_SECONDS)} if page.computing else None
    return render(
        request,
        "trials/trial.html",
        context,
        status=202 if page.computing else 200,
        headers=headers,
    )


def _figure(
    request: Request, state: WebState, trial_id: int, chart: str, nyckeltal: str
) -> tuple[TrialPage, TrialFigure]:
    if chart not in TRIAL_CHARTS:
        raise NotFoundError(
            f"Det finns inget diagram som heter {chart!r}.",
            hint="Diagrammen heter " + ", ".join(TRIAL_CHARTS) + ".",
        )
    page = trial_detail(state, viewer(request, state), trial_id, nyckeltal, evaluator(request))
    if page.prepared is None or not page.prepared.figures:
        raise NotFoundError(
            "Försöket har ingen utvärdering att rita för nyckeltalet ännu.",
            hint=f"Se /forsok/{trial_id}.",
        )
    figure = next(f for f in page.prepared.figures if f.slug == chart)
    return page, figure


@router.get("/forsok/{trial_id:int}/{chart}.svg")
def trial_chart_svg(
    request: Request, state: State, trial_id: int, chart: str, nyckeltal: Text = ""
) -> Response:
    page, figure = _figure(request, state, trial_id, chart, nyckeltal)
    name = f"forsok-{trial_id}-{page.kpi.kpi}-{chart}"
    return svg_response(figure.chart.svg, f"{name}.svg")


@router.get("/forsok/{trial_id:int}/{chart}.csv")
def trial_chart_csv(
    request: Request, state: State, trial_id: int, chart: str, nyckeltal: Text = ""
) -> Response:
    page, figure = _figure(request, state, trial_id, chart, nyckeltal)
    name = f"forsok-{trial_id}-{page.kpi.kpi}-{chart}"
    return csv_response(figure.csv_rows, figure.csv_columns, f"{name}.csv")


# --- what the page shows of an evaluation ---------------------------------------------------
def predictor_label(column: str, times: tuple[int, ...], op: str, outcome: str) -> str:
    """A predictor in Swedish: "Nyckeltalet, medel 2008–2010", "Invånare"."""
    if column.startswith(STRUCTURE_PREFIX):
        key = column.removeprefix(STRUCTURE_PREFIX)
        return f"Struktur: {_STRUCTURE_LABELS.get(key, key)}"
    predictor = Predictor(column, times, op)  # type: ignore[arg-type]
    what = "Nyckeltalet" if column == outcome else column
    if len(times) == 1:
        return f"{what} {predictor.span}"
    return f"{what}, {predictor.swedish_span}"


def evaluation_view(prepared: Prepared, e: SynthEvaluation) -> dict[str, Any]:
    """The tables and numbers of the page, from the evaluation: donors by weight (with
    their codes, for links), the balance of the predictors, the effects after the start,
    the leave-one-out range and the verdict's tone."""
    result = prepared.result
    fit = e.fit
    codes = {name: code for code, name in result.names.items()}
    order = sorted(range(len(fit.donors)), key=lambda i: (-float(fit.weights[i]), fit.donors[i]))
    weighted = [
        {"name": fit.donors[i], "code": codes.get(fit.donors[i]), "weight": float(fit.weights[i])}
        for i in order
        if fit.weights[i] >= 0.0005
    ]
    balance = [
        {
            "label": predictor_label(
                b.predictor.column, b.predictor.times, b.predictor.op, fit.outcome
            ),
            "treated": b.treated,
            "synthetic": b.synthetic,
            "donor_mean": b.donor_mean,
            "importance": b.importance,
        }
        for b in fit.balance
    ]
    loo = [x.average_effect for x in e.leave_one_out]
    dropped = [{"name": u, "code": codes.get(u), "reason": r} for u, r in fit.dropped]
    return {
        "e": e,
        "fit": fit,
        # Every figure the page writes with the unit is a difference: "procentenheter" for %.
        "unit": swedish.change_unit(e.spec.unit or result.unit),
        "effect_text": average_effect_text(e.average_effect, e.spec.unit or result.unit),
        "tone": VERDICT_TONES.get(e.verdict.kind, "neutral"),
        "donors": weighted,
        "zero_weight": len(fit.donors) - len(weighted),
        "balance": balance,
        "loo_range": (min(loo), max(loo)) if loo else None,
        "dropped": dropped,
        "excluded": [{"code": c, "name": result.names.get(c, c)} for c in result.excluded],
        "figures": prepared.figures,
        "genitive": genitive(result.municipality_name),
        "units": unit_word(result.kind, plural=True),
        "unit_base": "/region" if result.kind == "L" else "/kommun",
    }
