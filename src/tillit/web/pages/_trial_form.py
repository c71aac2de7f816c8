"""The forms that register (``/forsok/ny``), edit (``/forsok/{nr}/andra``) and delete
(``/forsok/{nr}/ta-bort``) a trial (försök). They follow the example form: "Förhandsgranska"
saves nothing, "Spara" saves and goes to the trial, and whatever goes wrong the form comes
back with what the user typed. Before anything is saved the form says which KPIs will be
marked "inte förregistrerat" (the store already has a result for the start year or later):
a save that would mark one the user has not been shown comes back with the warning first.
The bank decides who may write; ``tillit.query`` reads ``data_through`` from the store."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from tillit.bank import TrialRecord, UserRecord
from tillit.errors import (
    ConflictError,
    InvalidInputError,
    NoDataError,
    NotFoundError,
    PermissionDeniedError,
)
from tillit.query import RIKET, register_trial, update_trial
from tillit.store import Store
from tillit.web._auth import WebState, web_state
from tillit.web._params import MAX_ID, request_int
from tillit.web.pages._account import login_redirect
from tillit.web.pages._render import Viewer, check_csrf, first, read_form, render, viewer
from tillit.web.pages._trial_form_data import (
    LABELS,
    TrialForm,
    bank_error,
    check,
    stamps,
)
from tillit.web.pages._trials import DIRECTIONS, may_edit_trial

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
State = Annotated[WebState, Depends(web_state)]


#: Examples offered to link to (the newest first).
_EXAMPLE_CHOICES = 200


# --- the pages ----------------------------------------------------------------------------------
def _store(state: WebState) -> Store:
    if state.atlas is None:
        raise NoDataError(
            "Servern har inget arkiv med nyckeltal, så försök kan inte registreras här.",
            hint="Starta `tillit serve` med ett arkiv (`tillit import` eller `tillit sync`).",
        )
    return state.atlas.store


def _writer(who: Viewer) -> UserRecord:
    assert who.user is not None
    if who.user.role not in ("admin", "editor"):
        raise PermissionDeniedError(
            "Bara redaktörer och administratörer får registrera och ändra försök.",
            hint="Be en administratör om redaktörsbehörighet för din organisation.",
        )
    return who.user


def _own_municipality(state: WebState, user: UserRecord) -> str | None:
    """The code of the user's organisation when it is a municipality: it registers trials
    only in itself. None for admins (who choose), regions and other organisations."""
    if user.role == "admin" or user.organisation_id is None:
        return None
    org = state.bank.organisation(user.organisation_id)
    return org.code if org.kind == "kommun" and org.code else None


def _own_region(state: WebState, user: UserRecord) -> str | None:
    """The code of the user's organisation when it is a region: the form offers it first
    (a region registers trials for itself, and may also run them in municipalities)."""
    if user.role == "admin" or user.organisation_id is None:
        return None
    org = state.bank.organisation(user.organisation_id)
    return org.code if org.kind == "region" and org.code else None


def _editable(state: WebState, user: UserRecord, trial_id: int) -> TrialRecord:
    if not 1 <= trial_id <= MAX_ID:
        raise NotFoundError(f"Försöket {trial_id} finns inte.")
    trial = state.bank.trial(user, trial_id)
    if not may_edit_trial(user, trial):
        raise PermissionDeniedError(
            "Du får inte ändra det här försöket.",
            hint="Bara redaktörer för försökets organisation och administratörer får ändra det.",
        )
    return trial


def _examples(state: WebState, user: UserRecord, current: str) -> list[tuple[str, str]]:
    """(id, title) of the examples to choose from: the organisation's own (an admin's: the
    newest they may see), and the one linked now."""
    org = user.organisation_id if user.role != "admin" else None
    found = state.bank.list_examples(user, organisation=org, limit=_EXAMPLE_CHOICES).items
    out = [(str(e.id), e.title) for e in found]
    linked = request_int(current, low=1, high=MAX_ID)
    if linked is not None and str(linked) not in dict(out):
        with contextlib.suppress(NotFoundError):  # another organisation's draft: not offered
            out.append((str(linked), state.bank.example(user, linked).title))
    return out


def _form_page(
    request: Request,
    state: WebState,
    who: Viewer,
    form: TrialForm,
    *,
    trial: TrialRecord | None = None,
    errors: Sequence[tuple[str, str]] = (),
    conflict: str | None = None,
    preview: bool = False,
    confirm: bool = False,
    status: int = 200,
) -> Response:
    user = who.user
    assert user is not None
    store = _store(state)
    fixed = trial.municipality if trial else _own_municipality(state, user)
    if fixed:
        form = replace(form, municipality=fixed)
    rows = [m for m in store.municipalities() if m["id"] and m["id"] != RIKET]
    names = {m["id"]: m["title"] for m in rows if m.get("type") in ("K", "L")}
    regions = sorted(
        ((m["id"], m["title"]) for m in rows if m.get("type") == "L"), key=lambda item: item[1]
    )
    by_id: dict[str, str] = {}
    for control, message in errors:
        if control:
            by_id.setdefault(control, message)
    return render(
        request,
        "trials/form.html",
        {
            "viewer": who,
            "form": form,
            "trial": trial,
            "action": f"/forsok/{trial.id}/andra" if trial else "/forsok/ny",
            "errors": list(errors),
            "field_errors": by_id,
            "conflict": conflict,
            "preview": preview,
            "confirm": confirm,
            "stamps": stamps(store, form, form.municipality, trial),
            "fixed": fixed,
            "municipalities": sorted(
                ((c, n) for c, n in names.items() if c not in dict(regions)),
                key=lambda item: item[1],
            ),
            "regions": regions,
            "municipality_name": names.get(form.municipality, form.municipality),
            "examples": _examples(state, user, form.example_id),
            "directions": DIRECTIONS,
            "labels": LABELS,
        },
        status=status,
    )


def _unseen_warning(store: Store, form: TrialForm, trial: TrialRecord | None) -> bool:
    """A KPI would be newly marked not pre-registered and the form has not said so yet."""
    shown = {k.strip().upper() for k in form.accepted.split(",") if k.strip()}
    marked = stamps(store, form, form.municipality, trial)
    return any(s.known and not s.kept and s.kpi not in shown for s in marked)


@router.get("/forsok/ny")
def new_trial_page(request: Request, state: State) -> Response:
    who = viewer(request, state)
    if who.user is None:
        return login_redirect(request)
    user = _writer(who)
    return _form_page(request, state, who, TrialForm(municipality=_own_region(state, user) or ""))


@router.post("/forsok/ny")
async def create_trial(request: Request, state: State) -> Response:
    posted = await read_form(request)
    who = viewer(request, state)
    if who.user is None:
        return login_redirect(request)
    check_csrf(request, posted, who.csrf_token)
    user = _writer(who)
    store = _store(state)
    form = TrialForm.of_form(posted)
    own = _own_municipality(state, user)
    if own:
        form = replace(form, municipality=own)
    if first(posted, "action") != "save":
        return _form_page(request, state, who, form, preview=True)
    errors = check(store, form, creating=True)
    if errors:
        return _form_page(request, state, who, form, errors=errors, status=422)
    if _unseen_warning(store, form, None):
        return _form_page(request, state, who, form, confirm=True)
    try:
        record = register_trial(
            store, state.bank, user, {**form.data(), "municipality": form.municipality}
        )
    except InvalidInputError as exc:
        return _form_page(request, state, who, form, errors=[bank_error(form, exc)], status=422)
    return RedirectResponse(f"/forsok/{record.id}", status_code=303)


@router.get("/forsok/{trial_id:int}/andra")
def edit_trial_page(request: Request, state: State, trial_id: int) -> Response:
    who = viewer(request, state)
    if who.user is None:
        return login_redirect(request)
    trial = _editable(state, who.user, trial_id)
    return _form_page(request, state, who, TrialForm.of_record(trial), trial=trial)


@router.post("/forsok/{trial_id:int}/andra")
async def change_trial(request: Request, state: State, trial_id: int) -> Response:
    posted = await read_form(request)
    who = viewer(request, state)
    if who.user is None:
        return login_redirect(request)
    check_csrf(request, posted, who.csrf_token)
    user = who.user
    trial = _editable(state, user, trial_id)
    store = _store(state)
    form = replace(TrialForm.of_form(posted), municipality=trial.municipality)
    if first(posted, "action") != "save":
        return _form_page(request, state, who, form, trial=trial, preview=True)
    version = request_int(form.version, low=1, high=MAX_ID)
    if version is None:
        form = replace(form, version=str(trial.version))
        error = ("", "Formuläret saknar versionen det utgick från. Kontrollera och spara igen.")
        return _form_page(request, state, who, form, trial=trial, errors=[error], status=422)
    errors = check(store, form, creating=False)
    if errors:
        return _form_page(request, state, who, form, trial=trial, errors=errors, status=422)
    if _unseen_warning(store, form, trial):
        return _form_page(request, state, who, form, trial=trial, confirm=True)
    try:
        saved = update_trial(store, state.bank, user, trial_id, version, form.data())
    except InvalidInputError as exc:
        errors = [bank_error(form, exc)]
        return _form_page(request, state, who, form, trial=trial, errors=errors, status=422)
    except ConflictError as exc:
        # Keep what the user typed; the next save starts from the version stored now, so
        # that saving again (after comparing) deliberately replaces the other change.
        current = state.bank.trial(user, trial_id)
        form = replace(form, version=str(current.version))
        return _form_page(
            request, state, who, form, trial=current, conflict=exc.message, status=409
        )
    return RedirectResponse(f"/forsok/{saved.id}", status_code=303)


def _delete_page(
    request: Request,
    who: Viewer,
    trial: TrialRecord,
    *,
    conflict: str | None = None,
    status: int = 200,
) -> Response:
    context = {"viewer": who, "trial": trial, "conflict": conflict}
    return render(request, "trials/delete.html", context, status=status)


@router.get("/forsok/{trial_id:int}/ta-bort")
def delete_trial_page(request: Request, state: State, trial_id: int) -> Response:
    who = viewer(request, state)
    if who.user is None:
        return login_redirect(request)
    return _delete_page(request, who, _editable(state, who.user, trial_id))


@router.post("/forsok/{trial_id:int}/ta-bort")
async def delete_trial(request: Request, state: State, trial_id: int) -> Response:
    posted = await read_form(request)
    who = viewer(request, state)
    if who.user is None:
        return login_redirect(request)
    check_csrf(request, posted, who.csrf_token)
    trial = _editable(state, who.user, trial_id)
    version = request_int(first(posted, "version"), low=1, high=MAX_ID)
    try:
        if version is None:
            raise ConflictError("Formuläret saknar versionen det utgick från.")
        state.bank.delete_trial(who.user, trial_id, version)
    except ConflictError as exc:
        return _delete_page(request, who, trial, conflict=exc.message, status=409)
    return RedirectResponse("/forsok", status_code=303)
