"""The forms that set (``/mal/ny``) and change (``/mal/{nr}/andra``) a goal. Like the trial
and example forms: "Förhandsgranska" saves nothing and shows, for each indicator, the
baseline read from the store and the measurability and ambition checks that
``tillit.query.prepare_goal`` makes before a goal is saved; "Spara" saves and goes to the
goal's page; whatever goes wrong, the form comes back with what the user typed and a
Swedish message next to the field. The bank decides who may write (the organisation's
editors and admins)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from tillit.bank import GoalRecord, UserRecord, goals_of
from tillit.errors import (
    ConflictError,
    InvalidInputError,
    NoDataError,
    NotFoundError,
    PermissionDeniedError,
    TillitError,
)
from tillit.query import GOAL_DIRECTION_LABELS, IndicatorCheck, add_goal, edit_goal, prepare_goal
from tillit.store import Store
from tillit.web._auth import WebState, web_state
from tillit.web._params import MAX_ID, request_int
from tillit.web.pages._account import login_redirect
from tillit.web.pages._goals import GENDER_LABELS, may_edit_goal
from tillit.web.pages._render import Viewer, check_csrf, first, read_form, render, viewer

__all__ = ["GoalForm", "router"]

router = APIRouter(include_in_schema=False)
State = Annotated[WebState, Depends(web_state)]
Code = Annotated[str, Query(max_length=60)]

#: Indicator rows a new goal's form offers (a goal has one to ten).
ROWS = 3
MAX_ROWS = 10
LABELS = {
    "organisation": "Kommun eller region",
    "title": "Mål",
    "description": "Beskrivning",
    "political_level": "Satt av",
    "note": "Varför målet ändras",
    "kpi": "Nyckeltal",
    "gender": "Kön",
    "direction": "Riktning",
    "baseline_year": "Basår",
    "baseline_value": "Basvärde",
    "target_value": "Målvärde",
    "target_year": "Målår",
    "interim": "Delmål",
}
ROW_FIELDS = (
    "kpi",
    "gender",
    "direction",
    "baseline_year",
    "baseline_value",
    "target_value",
    "target_year",
    "interim",
)
_KINDS = ("kommun", "region")


def field_id(name: str, row: int | None = None) -> str:
    """The id of a form control: ``f-title``, ``f-ind-0-target_value``."""
    return f"f-ind-{row}-{name}" if row is not None else f"f-{name}"


def _number(text: str) -> float | None:
    """A number as a Swede types it: "67,8", "1 234", "−2" (None when it is not one)."""
    cleaned = text.strip().replace("\u202f", "").replace("\xa0", "").replace(" ", "")
    cleaned = cleaned.replace("−", "-").replace(",", ".")
    if not cleaned or len(cleaned) > 40:
        return None
    try:
        value = float(cleaned)
    except ValueError:
        return None
    return value if math.isfinite(value) and abs(value) <= 1e15 else None


def _text(value: float) -> str:
    """A stored number back into the form: a decimal comma, no thousands separator."""
    return f"{value:.10g}".replace(".", ",")


@dataclass
class GoalForm:
    """What the form holds, as typed (strings), so that it can always be shown again."""

    organisation: str = ""
    title: str = ""
    description: str = ""
    political_level: str = ""
    rows: list[dict[str, str]] = field(default_factory=list)
    note: str = ""
    version: str = ""

    def __post_init__(self) -> None:
        while len(self.rows) < ROWS:
            self.rows.append(dict.fromkeys(ROW_FIELDS, "") | {"gender": "T"})

    @classmethod
    def of_record(cls, goal: GoalRecord) -> GoalForm:
        rows = [
            {
                "kpi": i.kpi,
                "gender": i.gender,
                "direction": i.direction,
                "baseline_year": str(i.baseline_year),
                "baseline_value": _text(i.baseline_value),
                "target_value": _text(i.target_value),
                "target_year": str(i.target_year),
                "interim": "; ".join(f"{y}: {_text(v)}" for y, v in i.interim),
            }
            for i in goal.indicators
        ]
        if len(rows) < MAX_ROWS:  # one empty row beyond the indicators there are
            rows.append(dict.fromkeys(ROW_FIELDS, "") | {"gender": "T"})
        return cls(
            goal.organisation_code,
            goal.title,
            goal.description,
            goal.political_level,
            rows,
            "",
            str(goal.version),
        )

    @classmethod
    def of_form(cls, form: Mapping[str, Sequence[str]]) -> GoalForm:
        def text(name: str) -> str:
            # NUL cannot be stored (PostgreSQL refuses it); nothing else is touched.
            return first(form, name).replace("\x00", "")

        rows = []
        for i in range(MAX_ROWS):
            if f"ind-{i}-kpi" not in form:
                break
            row = {name: text(f"ind-{i}-{name}") for name in ROW_FIELDS}
            row["gender"] = row["gender"] if row["gender"] in GENDER_LABELS else "T"
            if row["direction"] not in GOAL_DIRECTION_LABELS:
                row["direction"] = ""
            rows.append(row)
        return cls(
            text("organisation").strip(),
            text("title"),
            text("description"),
            text("political_level"),
            rows,
            text("note"),
            text("version").strip(),
        )

    def filled_rows(self) -> list[int]:
        """The indicator rows with anything typed in them (empty rows are ignored)."""
        return [
            i
            for i, r in enumerate(self.rows)
            if any(r[k].strip() for k in ROW_FIELDS if k not in ("gender", "direction"))
            or r["direction"]
        ]

    def check(self) -> tuple[list[tuple[str, str]], list[dict[str, Any]]]:
        """What the form can tell before the store and the bank are asked: a title, at least
        one indicator, each with a KPI, a direction, a target value and year, numbers and
        years that are numbers and years. Returns the errors (control id, message) and the
        indicators as ``prepare_goal`` takes them."""
        errors: list[tuple[str, str]] = []
        if not self.title.strip():
            errors.append((field_id("title"), f"{LABELS['title']}: skriv vad målet är."))
        rows = self.filled_rows()
        if not rows:
            message = f"{LABELS['kpi']}: ange minst ett nyckeltal med målvärde och målår."
            errors.append((field_id("kpi", 0), message))
        indicators = []
        for i in rows:
            row, where = self.rows[i], f"rad {i + 1}"

            def bad(name: str, message: str, row_: int = i, where_: str = where) -> None:
                errors.append((field_id(name, row_), f"{LABELS[name]} ({where_}): {message}"))

            item: dict[str, Any] = {"kpi": row["kpi"].strip().upper(), "gender": row["gender"]}
            if not item["kpi"]:
                bad("kpi", "ange nyckeltalets id i Kolada, t.ex. N15419.")
            if not row["direction"]:
                bad("direction", "välj om värdet ska öka, minska, hållas minst eller högst.")
            item["direction"] = row["direction"]
            for name, required in (("target_value", True), ("baseline_value", False)):
                typed = row[name].strip()
                if not typed:
                    if required:
                        bad(name, "skriv målvärdet, t.ex. 85 eller 67,8.")
                    continue
                value = _number(typed)
                if value is None:
                    bad(name, f"skriv ett tal, t.ex. 85 eller 67,8, inte {typed!r}.")
                item[name] = value
            for name, required in (("target_year", True), ("baseline_year", False)):
                typed = row[name].strip()
                if not typed:
                    if required:
                        bad(name, "skriv året målet ska vara nått, t.ex. 2030.")
                    continue
                year = request_int(typed, low=1990, high=2100)
                if year is None:
                    bad(name, f"skriv ett årtal mellan 1990 och 2100, inte {typed!r}.")
                item[name] = year
            interim = []
            for part in row["interim"].replace("\n", ";").split(";"):
                if not part.strip():
                    continue
                year_text, _, value_text = part.replace("=", ":").partition(":")
                year = request_int(year_text, low=1990, high=2100)
                value = _number(value_text)
                if year is None or value is None:
                    bad(
                        "interim",
                        f"skriv år: värde, åtskilda med semikolon (t.ex. "
                        f"2026: 80; 2028: 83), inte {part.strip()!r}.",
                    )
                    break
                interim.append([year, value])
            item["interim"] = interim
            indicators.append(item)
        return errors, indicators

    def data(self, indicators: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "organisation": self.organisation,
            "title": self.title.strip(),
            "description": self.description,
            "political_level": self.political_level.strip(),
            "indicators": indicators,
        }


def _store(state: WebState) -> Store:
    if state.atlas is None:
        raise NoDataError(
            "Servern har inget arkiv med Koladas värden, så mål kan inte sättas eller ändras här.",
            hint="Starta `tillit serve` med ett arkiv (`tillit import` eller `tillit sync`).",
        )
    return state.atlas.store


def _writer(who: Viewer) -> UserRecord:
    assert who.user is not None
    if who.user.role not in ("admin", "editor"):
        raise PermissionDeniedError(
            "Bara redaktörer och administratörer får sätta och ändra mål.",
            hint="Be en administratör om redaktörsbehörighet för din kommun eller region.",
        )
    return who.user


def _own_unit(state: WebState, user: UserRecord) -> str | None:
    """The code of an editor's municipality or region: its goals are the only ones the
    editor sets. None for an admin (who chooses)."""
    if user.role == "admin":
        return None
    org = state.bank.organisation(user.organisation_id) if user.organisation_id else None
    if org is None or org.kind not in _KINDS or not org.code:
        raise PermissionDeniedError(
            "Mål sätts av en kommun eller en region för sig själv, och din organisation är "
            "ingen av dem.",
            hint="Be en administratör att sätta målet.",
        )
    return org.code


def _editable(state: WebState, user: UserRecord, goal_id: int) -> GoalRecord:
    if not 1 <= goal_id <= MAX_ID:
        raise NotFoundError(f"Målet {goal_id} finns inte.")
    goal = goals_of(state.bank).goal(user, goal_id)
    if not may_edit_goal(user, goal.organisation_id):
        raise PermissionDeniedError(
            "Du får inte ändra det här målet.",
            hint="Bara redaktörer för målets kommun eller region och administratörer får "
            "ändra det.",
        )
    return goal


def _problem(form: GoalForm, exc: TillitError) -> tuple[str, str]:
    """(the control the store's or the bank's error is about, when it can be told; the
    message with its hint)."""
    message = exc.message + (f" {exc.hint}" if exc.hint else "")
    text = exc.message
    for i in form.filled_rows():
        kpi = form.rows[i]["kpi"].strip().upper()
        if kpi and kpi in text.upper():
            return field_id("kpi", i), message
    for n, i in enumerate(form.filled_rows(), start=1):
        if f"indikator nr {n}" in text:
            for name in ("target_value", "target_year", "baseline_value", "baseline_year"):
                if LABELS[name].lower() in text.lower():
                    return field_id(name, i), message
            return field_id("kpi", i), message
    if "kommun" in text.lower() and "region" in text.lower() and not form.filled_rows():
        return field_id("organisation"), message
    return "", message


def _form_page(
    request: Request,
    state: WebState,
    who: Viewer,
    form: GoalForm,
    *,
    goal: GoalRecord | None = None,
    errors: Sequence[tuple[str, str]] = (),
    conflict: str | None = None,
    checks: Sequence[IndicatorCheck] | None = None,
    unit_name: str = "",
    status: int = 200,
) -> Response:
    user = who.user
    assert user is not None
    fixed = goal.organisation_code if goal else _own_unit(state, user)
    if fixed:
        form = replace(form, organisation=fixed)
    units = sorted(
        (o.name, o.code, o.kind) for o in state.bank.organisations() if o.code and o.kind in _KINDS
    )
    names = {code: name for name, code, _ in units}
    by_id: dict[str, str] = {}
    for control, message in errors:
        if control:
            by_id.setdefault(control, message)
    while len(form.rows) < ROWS:
        form.rows.append(dict.fromkeys(ROW_FIELDS, "") | {"gender": "T"})
    return render(
        request,
        "goals/form.html",
        {
            "viewer": who,
            "form": form,
            "goal": goal,
            "action": f"/mal/{goal.id}/andra" if goal else "/mal/ny",
            "errors": list(errors),
            "field_errors": by_id,
            "conflict": conflict,
            "checks": checks,
            "fixed": fixed,
            "unit_name": unit_name or names.get(form.organisation, form.organisation),
            "regions": [(c, n) for n, c, k in units if k == "region"],
            "municipalities": [(c, n) for n, c, k in units if k == "kommun"],
            "directions": GOAL_DIRECTION_LABELS,
            "genders": GENDER_LABELS,
            "labels": LABELS,
            "field_id": field_id,
        },
        status=status,
    )


def _prepare(
    state: WebState, store: Store, form: GoalForm
) -> tuple[list[tuple[str, str]], list[dict[str, Any]], Any]:
    """The form's own checks, then ``prepare_goal``'s (the store's): errors, the indicators
    and the prepared goal (None when there were errors)."""
    errors, indicators = form.check()
    if not form.organisation:
        message = f"{LABELS['organisation']}: välj kommunen eller regionen som satt målet."
        errors.insert(0, (field_id("organisation"), message))
    if errors:
        return errors, indicators, None
    try:
        prepared = prepare_goal(store, form.data(indicators), atlas=state.atlas)
    except (InvalidInputError, NoDataError, NotFoundError) as exc:
        return [_problem(form, exc)], indicators, None
    return [], indicators, prepared


@router.get("/mal/ny")
def new_goal_page(request: Request, state: State, kommun: Code = "") -> Response:
    who = viewer(request, state)
    if who.user is None:
        return login_redirect(request)
    _writer(who)
    _store(state)
    return _form_page(request, state, who, GoalForm(organisation=kommun.strip()))


@router.post("/mal/ny")
async def create_goal(request: Request, state: State) -> Response:
    posted = await read_form(request)
    who = viewer(request, state)
    if who.user is None:
        return login_redirect(request)
    check_csrf(request, posted, who.csrf_token)
    user = _writer(who)
    store = _store(state)
    form = GoalForm.of_form(posted)
    own = _own_unit(state, user)
    if own:
        form = replace(form, organisation=own)
    errors, indicators, prepared = _prepare(state, store, form)
    if errors:
        return _form_page(request, state, who, form, errors=errors, status=422)
    if first(posted, "action") != "save":
        return _form_page(
            request, state, who, form, checks=prepared.checks, unit_name=prepared.unit_name
        )
    try:
        goal, _ = add_goal(store, state.bank, user, form.data(indicators), atlas=state.atlas)
    except (InvalidInputError, NoDataError, NotFoundError, PermissionDeniedError) as exc:
        status = 403 if isinstance(exc, PermissionDeniedError) else 422
        errors = [_problem(form, exc)]
        return _form_page(request, state, who, form, errors=errors, status=status)
    return RedirectResponse(f"/mal/{goal.id}", status_code=303)


@router.get("/mal/{goal_id:int}/andra")
def edit_goal_page(request: Request, state: State, goal_id: int) -> Response:
    who = viewer(request, state)
    if who.user is None:
        return login_redirect(request)
    goal = _editable(state, who.user, goal_id)
    _store(state)
    return _form_page(request, state, who, GoalForm.of_record(goal), goal=goal)


@router.post("/mal/{goal_id:int}/andra")
async def change_goal(request: Request, state: State, goal_id: int) -> Response:
    posted = await read_form(request)
    who = viewer(request, state)
    if who.user is None:
        return login_redirect(request)
    check_csrf(request, posted, who.csrf_token)
    user = who.user
    goal = _editable(state, user, goal_id)
    store = _store(state)
    form = replace(GoalForm.of_form(posted), organisation=goal.organisation_code)
    errors, indicators, prepared = _prepare(state, store, form)
    version = request_int(form.version, low=1, high=MAX_ID)
    if version is None:
        form = replace(form, version=str(goal.version))
        missing = "Formuläret saknar versionen det utgick från. Kontrollera och spara igen."
        errors.append(("", missing))
    if errors:
        return _form_page(request, state, who, form, goal=goal, errors=errors, status=422)
    if first(posted, "action") != "save":
        return _form_page(request, state, who, form, goal=goal, checks=prepared.checks)
    changes = {k: v for k, v in form.data(indicators).items() if k != "organisation"}
    if form.note.strip():
        changes["note"] = form.note.strip()
    try:
        saved, _ = edit_goal(
            store, state.bank, user, goal_id, changes, version=version, atlas=state.atlas
        )
    except (InvalidInputError, NoDataError, NotFoundError) as exc:
        errors = [_problem(form, exc)]
        return _form_page(request, state, who, form, goal=goal, errors=errors, status=422)
    except ConflictError as exc:
        # Keep what the user typed; the next save starts from the version stored now, so
        # that saving again (after comparing) deliberately replaces the other change.
        current = goals_of(state.bank).goal(user, goal_id)
        form = replace(form, version=str(current.version))
        return _form_page(request, state, who, form, goal=current, conflict=exc.message, status=409)
    return RedirectResponse(f"/mal/{saved.id}", status_code=303)
