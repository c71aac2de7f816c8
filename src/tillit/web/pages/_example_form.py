"""The form that creates (``/exempel/nytt``) and edits (``/exempel/{id}/andra``) a good
example. "Förhandsgranska" shows the example as it would look and saves nothing; "Spara"
saves and goes to the example. Whatever goes wrong (a bad field, someone else saving
first), the form comes back with the user's text in it. The bank decides who may write;
this module only asks it and translates its errors into messages next to the fields."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from tillit.bank import TRUST_PRINCIPLES, ExampleRecord, UserRecord
from tillit.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from tillit.web._auth import WebState, web_state
from tillit.web._params import request_int
from tillit.web.pages._account import login_redirect
from tillit.web.pages._bank import MAX_ID, PRINCIPLE_NAMES, STATUS_NAMES, may_edit
from tillit.web.pages._render import Viewer, check_csrf, first, read_form, render, viewer

__all__ = ["ExampleForm", "router"]

router = APIRouter(include_in_schema=False)
State = Annotated[WebState, Depends(web_state)]

KPI_ROWS = 3
TEXTS = (
    "title",
    "summary",
    "problem",
    "what_was_done",
    "results",
    "operating_area",
    "period_start",
    "period_end",
    "contact_role",
    "tags",
)
KPI_FIELDS = ("kpi", "municipality", "year_from", "year_to")
LABELS = {
    "title": "Titel",
    "summary": "Sammanfattning",
    "problem": "Problem",
    "what_was_done": "Vad som gjordes",
    "results": "Resultat",
    "operating_area": "Verksamhetsområde",
    "period_start": "Startår",
    "period_end": "Slutår",
    "contact_role": "Kontaktroll",
    "tags": "Taggar",
    "principles": "Tillitsprinciper",
    "status": "Status",
    "organisation": "Organisation",
    "kpi": "Nyckeltal",
    "municipality": "Kommun",
    "year_from": "Från år",
    "year_to": "Till år",
    "note": "Anteckning",
}
_BANK_FIELD = re.compile(r"^(?P<name>\w+)(?:\[(?P<index>\d+)\])?(?:\.(?P<sub>\w+))?$")


def _clean(value: str) -> str:
    # NUL cannot be stored (PostgreSQL refuses it); nothing else is touched.
    return value.replace("\x00", "")


@dataclass
class ExampleForm:
    """What the form holds, as typed (strings), so that it can always be shown again."""

    values: dict[str, str] = field(default_factory=lambda: dict.fromkeys(TEXTS, ""))
    principles: list[str] = field(default_factory=list)
    kpis: list[dict[str, str]] = field(default_factory=list)
    status: str = "draft"
    organisation: str = ""
    version: str = ""

    def __post_init__(self) -> None:
        blank = dict.fromkeys((*KPI_FIELDS, "note"), "")
        while len(self.kpis) < KPI_ROWS:
            self.kpis.append(dict(blank))

    @classmethod
    def of_record(cls, e: ExampleRecord) -> ExampleForm:
        values = {name: str(getattr(e, name) or "") for name in TEXTS if name != "tags"}
        values["tags"] = ", ".join(e.tags)
        kpis = [
            {
                "kpi": k.kpi,
                "municipality": k.municipality,
                "year_from": "" if k.year_from is None else str(k.year_from),
                "year_to": "" if k.year_to is None else str(k.year_to),
                "note": k.note,
            }
            for k in e.kpis
        ]
        # One empty row beyond the links there are, and at least KPI_ROWS rows.
        kpis.append(dict.fromkeys((*KPI_FIELDS, "note"), ""))
        return cls(
            values,
            list(e.principles),
            kpis,
            e.status,
            str(e.organisation_id),
            str(e.version),
        )

    @classmethod
    def of_form(cls, form: Mapping[str, Sequence[str]]) -> ExampleForm:
        values = {name: _clean(first(form, name)) for name in TEXTS}
        principles = [p for p in TRUST_PRINCIPLES if p in form.get("principles", [])]
        kpis = []
        for i in range(100):
            if f"kpi-{i}-kpi" not in form:
                break
            kpis.append(
                {name: _clean(first(form, f"kpi-{i}-{name}")) for name in (*KPI_FIELDS, "note")}
            )
        status = first(form, "status")
        return cls(
            values,
            principles,
            kpis,
            status if status in STATUS_NAMES else "draft",
            first(form, "organisation").strip(),
            first(form, "version").strip(),
        )

    def filled_rows(self) -> list[int]:
        """The KPI rows with anything in them (empty rows are ignored)."""
        return [i for i, row in enumerate(self.kpis) if any(row[n].strip() for n in KPI_FIELDS)]

    def data(self, *, admin: bool) -> dict[str, Any]:
        """The fields for ``Bank.create_example``/``update_example`` (all of them, like the
        API's PUT; ``source`` is not on the form and stays as it is)."""
        v = self.values
        out: dict[str, Any] = {
            name: v[name] for name in ("title", "summary", "problem", "what_was_done", "results")
        }
        out["contact_role"] = v["contact_role"]
        out["operating_area"] = v["operating_area"].strip() or None
        out["period_start"] = v["period_start"].strip() or None
        out["period_end"] = v["period_end"].strip() or None
        out["tags"] = [t.strip() for t in v["tags"].split(",") if t.strip()]
        out["principles"] = list(self.principles)
        out["status"] = self.status
        out["kpis"] = [
            {
                "kpi": self.kpis[i]["kpi"],
                "municipality": self.kpis[i]["municipality"],
                "year_from": self.kpis[i]["year_from"].strip() or None,
                "year_to": self.kpis[i]["year_to"].strip() or None,
                "note": self.kpis[i]["note"],
            }
            for i in self.filled_rows()
        ]
        organisation = request_int(self.organisation, low=1, high=MAX_ID)
        if admin and organisation is not None:
            out["organisation"] = organisation
        return out

    def preview(self, organisation: Mapping[str, Any]) -> dict[str, Any]:
        """The example as its page would show it (nothing checked, nothing saved)."""
        v = self.values

        def year(text: str) -> int | str | None:
            number = request_int(text, low=0, high=9999)
            return number if number is not None else (text.strip() or None)

        return {
            "title": v["title"].strip() or "(titel saknas)",
            "organisation": dict(organisation),
            "summary": v["summary"].strip(),
            "problem": v["problem"].strip(),
            "what_was_done": v["what_was_done"].strip(),
            "results": v["results"].strip(),
            "operating_area": v["operating_area"].strip() or None,
            "period_start": year(v["period_start"]),
            "period_end": year(v["period_end"]),
            "contact_role": v["contact_role"].strip(),
            "status": self.status,
            "tags": [t.strip() for t in v["tags"].split(",") if t.strip()],
            "principles": list(self.principles),
            "kpis": [
                {
                    "kpi": self.kpis[i]["kpi"].strip().upper(),
                    "municipality": self.kpis[i]["municipality"].strip(),
                    "year_from": year(self.kpis[i]["year_from"]),
                    "year_to": year(self.kpis[i]["year_to"]),
                    "title": None,
                    "municipality_name": None,
                    "url": None,
                }
                for i in self.filled_rows()
            ],
        }


def field_id(name: str, row: int | None = None) -> str:
    """The id of a form control: ``f-title``, ``f-kpi-0-municipality``, ``f-principles``."""
    return f"f-kpi-{row}-{name}" if row is not None else f"f-{name}"


def bank_error(form: ExampleForm, exc: InvalidInputError) -> tuple[str, str]:
    """(the id of the control the bank's error is about, a Swedish message naming it)."""
    message = exc.message
    name = getattr(exc, "field", None)
    found = _BANK_FIELD.match(name) if isinstance(name, str) else None
    if found is None:
        return "", message
    detail = message.split(": ", 1)[1] if message.startswith("Fältet ") else message
    base, index, sub = found["name"], found["index"], found["sub"]
    if base == "kpis" and index is not None:
        rows = form.filled_rows()
        row = rows[int(index)] if int(index) < len(rows) else 0
        column = sub if sub in KPI_FIELDS else "kpi"
        label = f"{LABELS[column]} (rad {row + 1})"
        return field_id(column, row), f"{label}: {detail}"
    if base in LABELS:
        return field_id(base), f"{LABELS[base]}: {detail}"
    return "", message


# --- the pages ----------------------------------------------------------------------------------
def _organisation_of(state: WebState, user: UserRecord, form: ExampleForm) -> dict[str, Any]:
    wanted = form.organisation if user.role == "admin" and form.organisation else None
    key = request_int(wanted, low=1, high=MAX_ID) or user.organisation_id
    if key is None:
        return {"id": None, "code": None, "name": "(ingen organisation vald)"}
    try:
        org = state.bank.organisation(key)
    except NotFoundError:
        return {"id": None, "code": None, "name": "(okänd organisation)"}
    return {"id": org.id, "code": org.code, "name": org.name}


def _form_page(
    request: Request,
    state: WebState,
    who: Viewer,
    form: ExampleForm,
    *,
    example: ExampleRecord | None = None,
    errors: Sequence[tuple[str, str]] = (),
    conflict: str | None = None,
    preview: bool = False,
    status: int = 200,
) -> Response:
    assert who.user is not None
    admin = who.user.role == "admin"
    by_id: dict[str, str] = {}
    for control, message in errors:
        if control:
            by_id.setdefault(control, message)
    return render(
        request,
        "example_form.html",
        {
            "viewer": who,
            "form": form,
            "example": example,
            "action": f"/exempel/{example.id}/andra" if example else "/exempel/nytt",
            "errors": list(errors),
            "field_errors": by_id,
            "conflict": conflict,
            "preview": preview and form.preview(_organisation_of(state, who.user, form)),
            "organisations": state.bank.organisations() if admin else [],
            "principles": PRINCIPLE_NAMES,
            "statuses": STATUS_NAMES,
            "labels": LABELS,
        },
        status=status,
    )


def _writer(who: Viewer) -> UserRecord:
    assert who.user is not None
    if who.user.role not in ("admin", "editor"):
        raise PermissionDeniedError(
            "Bara redaktörer och administratörer får lägga till och ändra exempel.",
            hint="Be en administratör om redaktörsbehörighet för din organisation.",
        )
    return who.user


def _editable(state: WebState, user: UserRecord, example_id: int) -> ExampleRecord:
    if not 1 <= example_id <= MAX_ID:
        raise NotFoundError(f"Exemplet {example_id} finns inte.")
    record = state.bank.example(user, example_id)  # a draft one may not see: 404
    if not may_edit(user, record):
        raise PermissionDeniedError(
            "Du får inte ändra det här exemplet.",
            hint="Bara redaktörer för exemplets organisation och administratörer får ändra det.",
        )
    return record


@router.get("/exempel/nytt")
def new_example_page(request: Request, state: State) -> Response:
    who = viewer(request, state)
    if who.user is None:
        return login_redirect(request)
    user = _writer(who)
    form = ExampleForm(organisation=str(user.organisation_id or ""))
    return _form_page(request, state, who, form)


@router.post("/exempel/nytt")
async def create_example(request: Request, state: State) -> Response:
    posted = await read_form(request)
    who = viewer(request, state)
    if who.user is None:
        return login_redirect(request)
    check_csrf(request, posted, who.csrf_token)
    user = _writer(who)
    form = ExampleForm.of_form(posted)
    if first(posted, "action") != "save":
        return _form_page(request, state, who, form, preview=True)
    try:
        record = state.bank.create_example(user, form.data(admin=user.role == "admin"))
    except InvalidInputError as exc:
        return _form_page(request, state, who, form, errors=[bank_error(form, exc)], status=422)
    return RedirectResponse(f"/exempel/{record.id}", status_code=303)


@router.get("/exempel/{example_id:int}/andra")
def edit_example_page(request: Request, state: State, example_id: int) -> Response:
    who = viewer(request, state)
    if who.user is None:
        return login_redirect(request)
    record = _editable(state, who.user, example_id)
    return _form_page(request, state, who, ExampleForm.of_record(record), example=record)


@router.post("/exempel/{example_id:int}/andra")
async def update_example(request: Request, state: State, example_id: int) -> Response:
    posted = await read_form(request)
    who = viewer(request, state)
    if who.user is None:
        return login_redirect(request)
    check_csrf(request, posted, who.csrf_token)
    user = who.user
    record = _editable(state, user, example_id)
    form = ExampleForm.of_form(posted)
    if first(posted, "action") != "save":
        return _form_page(request, state, who, form, example=record, preview=True)
    version = request_int(form.version, low=1, high=MAX_ID)
    if version is None:
        form = replace(form, version=str(record.version))
        error = (
            "",
            "Formuläret saknar versionen det utgick från. Kontrollera texten och spara igen.",
        )
        return _form_page(request, state, who, form, example=record, errors=[error], status=422)
    try:
        saved = state.bank.update_example(
            user, example_id, form.data(admin=user.role == "admin"), version
        )
    except InvalidInputError as exc:
        errors = [bank_error(form, exc)]
        return _form_page(request, state, who, form, example=record, errors=errors, status=422)
    except ConflictError as exc:
        # Keep the user's text; the next save starts from the version stored now, so that
        # saving again (after comparing) deliberately replaces the other change.
        current = state.bank.example(user, example_id)
        form = replace(form, version=str(current.version))
        return _form_page(
            request, state, who, form, example=current, conflict=exc.message, status=409
        )
    return RedirectResponse(f"/exempel/{saved.id}", status_code=303)
