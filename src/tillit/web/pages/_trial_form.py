"""The forms that register (``/forsok/ny``), edit (``/forsok/{nr}/andra``) and delete
(``/forsok/{nr}/ta-bort``) a trial (försök). They follow the example form: "Förhandsgranska"
saves nothing, "Spara" saves and goes to the trial, and whatever goes wrong the form comes
back with what the user typed. Before anything is saved the form says which KPIs will be
marked "inte förregistrerat" (the store already has a result for the start year or later):
a save that would mark one the user has not been shown comes back with the warning first.
The bank decides who may write; ``tillit.query`` reads ``data_through`` from the store."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Annotated, Any

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
from tillit.query import kpi_data_through, register_trial, update_trial
from tillit.store import Store
from tillit.web._auth import WebState, web_state
from tillit.web.pages._account import login_redirect
from tillit.web.pages._bank import MAX_ID
from tillit.web.pages._render import Viewer, check_csrf, first, read_form, render, viewer
from tillit.web.pages._trials import DIRECTIONS, may_edit_trial

__all__ = ["Stamp", "TrialForm", "router"]

router = APIRouter(include_in_schema=False)
State = Annotated[WebState, Depends(web_state)]

KPI_ROWS = 3
LABELS = {
    "municipality": "Kommun",
    "title": "Titel",
    "description": "Beskrivning",
    "start_year": "Startår",
    "kpi": "Nyckeltal",
    "direction": "Väntas",
    "example_id": "Gott exempel",
    "example_other": "Eller ett annat exempels nummer",
}
_EXAMPLE_CHOICES = 200


@dataclass
class TrialForm:
    """What the form holds, as typed (strings), so that it can always be shown again.
    ``accepted`` are the KPIs the user has been told will be marked not pre-registered."""

    municipality: str = ""
    title: str = ""
    description: str = ""
    start_year: str = ""
    kpis: list[dict[str, str]] = field(default_factory=list)
    example_id: str = ""
    example_other: str = ""
    version: str = ""
    accepted: str = ""

    def __post_init__(self) -> None:
        while len(self.kpis) < KPI_ROWS:
            self.kpis.append({"kpi": "", "direction": ""})

    @classmethod
    def of_record(cls, t: TrialRecord) -> TrialForm:
        kpis = [{"kpi": k.kpi, "direction": k.direction} for k in t.kpis]
        kpis.append({"kpi": "", "direction": ""})  # one empty row beyond the KPIs there are
        return cls(
            t.municipality,
            t.title,
            t.description,
            str(t.start_year),
            kpis,
            str(t.example_id or ""),
            "",
            str(t.version),
            ",".join(k.kpi for k in t.kpis if k.results_known),
        )

    @classmethod
    def of_form(cls, form: Mapping[str, Sequence[str]]) -> TrialForm:
        def text(name: str) -> str:
            # NUL cannot be stored (PostgreSQL refuses it); nothing else is touched.
            return first(form, name).replace("\x00", "")

        kpis = []
        for i in range(100):
            if f"kpi-{i}-kpi" not in form:
                break
            direction = text(f"kpi-{i}-direction")
            known = direction if direction in DIRECTIONS else ""
            kpis.append({"kpi": text(f"kpi-{i}-kpi"), "direction": known})
        return cls(
            text("municipality").strip(),
            text("title"),
            text("description"),
            text("start_year").strip(),
            kpis,
            text("example_id").strip(),
            text("example_other").strip(),
            text("version").strip(),
            text("accepted").strip(),
        )

    def filled_rows(self) -> list[int]:
        """The KPI rows with anything in them (empty rows are ignored)."""
        return [i for i, r in enumerate(self.kpis) if r["kpi"].strip() or r["direction"]]

    def start(self) -> int | None:
        return int(self.start_year) if self.start_year.isdigit() else None

    def example(self) -> str:
        return self.example_other or self.example_id

    def data(self) -> dict[str, Any]:
        """The fields for ``tillit.query.register_trial``/``update_trial`` (all of them)."""
        return {
            "title": self.title,
            "description": self.description,
            "start_year": self.start_year or None,
            "kpis": [
                {"kpi": self.kpis[i]["kpi"].strip(), "direction": self.kpis[i]["direction"]}
                for i in self.filled_rows()
            ],
            "example_id": self.example() or None,
        }


@dataclass(frozen=True)
class Stamp:
    """How a KPI of the form will be registered: ``known`` when the store has a result for
    the start year or later (not pre-registered); ``kept`` when it keeps its earlier stamp."""

    kpi: str
    title: str
    direction: str
    data_through: int | None
    known: bool
    kept: bool


def field_id(name: str, row: int | None = None) -> str:
    """The id of a form control: ``f-title``, ``f-kpi-0-direction``."""
    return f"f-kpi-{row}-{name}" if row is not None else f"f-{name}"


def bank_error(form: TrialForm, exc: InvalidInputError) -> tuple[str, str]:
    """(the id of the control the bank's error is about, a Swedish message naming it)."""
    name = getattr(exc, "field", None)
    if name == "example_id":
        control = field_id("example_other" if form.example_other else "example_id")
        return control, f"{LABELS['example_id']}: {exc.message.split(': ', 1)[-1]}"
    if name == "kpis":
        return field_id("kpi", 0), f"{LABELS['kpi']}: {exc.message.split(': ', 1)[-1]}"
    if isinstance(name, str) and name.startswith("kpis["):
        rows = form.filled_rows()
        index = int(name[5:].split("]", 1)[0])
        row = rows[index] if index < len(rows) else 0
        column = "direction" if name.endswith(".direction") else "kpi"
        detail = exc.message.split(": ", 1)[-1]
        return field_id(column, row), f"{LABELS[column]} (rad {row + 1}): {detail}"
    if name in LABELS:
        return field_id(str(name)), f"{LABELS[str(name)]}: {exc.message.split(': ', 1)[-1]}"
    return "", exc.message


def check(store: Store, form: TrialForm, *, creating: bool) -> list[tuple[str, str]]:
    """What the form can tell before the bank is asked: a municipality to register in, a
    start year in digits, at least one KPI, each one known to the store and with a
    direction. The bank checks the rest (lengths, the year's range, the example)."""
    errors: list[tuple[str, str]] = []
    if creating and not form.municipality:
        errors.append((field_id("municipality"), "Kommun: välj kommunen där försöket görs."))
    elif creating:
        try:
            row = store.municipality(form.municipality)
            if row.get("type") != "K":
                raise NotFoundError(f"{row['title']} är ingen kommun.")
        except NotFoundError as exc:
            errors.append((field_id("municipality"), f"Kommun: {exc.message}"))
    if not form.start_year.isdigit():
        message = "Startår: skriv året med siffror, t.ex. 2024."
        errors.append((field_id("start_year"), message))
    rows = form.filled_rows()
    if not rows:
        message = "Nyckeltal: ange minst ett nyckeltal som försöket väntas påverka."
        errors.append((field_id("kpi", 0), message))
    for i in rows:
        kpi, label = form.kpis[i]["kpi"].strip(), f"rad {i + 1}"
        if not kpi:
            errors.append((field_id("kpi", i), f"Nyckeltal ({label}): ange nyckeltalets id."))
        else:
            try:
                store.kpi(kpi)
            except NotFoundError as exc:
                hint = f" {exc.hint}" if exc.hint else ""
                errors.append((field_id("kpi", i), f"Nyckeltal ({label}): {exc.message}{hint}"))
        if not form.kpis[i]["direction"]:
            message = f"Väntas ({label}): välj om nyckeltalet väntas öka eller minska."
            errors.append((field_id("direction", i), message))
    example = form.example()
    if example and not (example.isdigit() and 1 <= int(example) <= MAX_ID):
        message = f"{LABELS['example_id']}: skriv exemplets nummer, t.ex. 12."
        errors.append((field_id("example_other" if form.example_other else "example_id"), message))
    return errors


def stamps(
    store: Store, form: TrialForm, municipality: str, trial: TrialRecord | None
) -> list[Stamp]:
    """How each complete KPI row would be registered if the form were saved now: a KPI the
    trial keeps unchanged (same direction, same start year) keeps its stamp; any other is
    stamped with the last year the store has for it. Empty when the start year is unclear."""
    start = form.start()
    if start is None or not municipality:
        return []
    rows: list[tuple[str, str, str]] = []
    for i in form.filled_rows():
        direction = form.kpis[i]["direction"]
        try:
            found = store.kpi(form.kpis[i]["kpi"])
        except NotFoundError:
            continue
        if direction and found["id"] not in {r[0] for r in rows}:
            rows.append((found["id"], str(found.get("title") or found["id"]), direction))
    earlier = {k.kpi: k for k in trial.kpis} if trial else {}
    moved = trial is not None and trial.start_year != start
    through = kpi_data_through(store, municipality, [r[0] for r in rows])
    out = []
    for kpi, title, direction in rows:
        old = earlier.get(kpi)
        if old is not None and old.direction == direction and not moved:
            out.append(Stamp(kpi, title, direction, old.data_through, old.results_known, True))
        else:
            year = through[kpi]
            known = year is not None and year >= start
            out.append(Stamp(kpi, title, direction, year, known, False))
    return out


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
    only in itself. None for admins without one, regions and other organisations."""
    if user.organisation_id is None:
        return None
    org = state.bank.organisation(user.organisation_id)
    return org.code if org.kind == "kommun" and org.code else None


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
    if current.isdigit() and 1 <= int(current) <= MAX_ID and current not in dict(out):
        with contextlib.suppress(NotFoundError):  # another organisation's draft: not offered
            out.append((current, state.bank.example(user, int(current)).title))
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
    names = {
        m["id"]: m["title"] for m in store.municipalities() if m.get("type") == "K" and m["id"]
    }
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
            "municipalities": sorted(names.items(), key=lambda item: item[1]),
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
    _writer(who)
    return _form_page(request, state, who, TrialForm())


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
    if not form.version.isdigit() or not 1 <= int(form.version) <= MAX_ID:
        form = replace(form, version=str(trial.version))
        error = ("", "Formuläret saknar versionen det utgick från. Kontrollera och spara igen.")
        return _form_page(request, state, who, form, trial=trial, errors=[error], status=422)
    errors = check(store, form, creating=False)
    if errors:
        return _form_page(request, state, who, form, trial=trial, errors=errors, status=422)
    if _unseen_warning(store, form, trial):
        return _form_page(request, state, who, form, trial=trial, confirm=True)
    try:
        saved = update_trial(store, state.bank, user, trial_id, int(form.version), form.data())
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
    version = first(posted, "version").strip()
    try:
        if not version.isdigit() or not 1 <= int(version) <= MAX_ID:
            raise ConflictError("Formuläret saknar versionen det utgick från.")
        state.bank.delete_trial(who.user, trial_id, int(version))
    except ConflictError as exc:
        return _delete_page(request, who, trial, conflict=exc.message, status=409)
    return RedirectResponse("/forsok", status_code=303)
