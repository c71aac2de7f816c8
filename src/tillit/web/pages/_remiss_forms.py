"""The consultation forms: a new remiss (``/remisser/ny``: title, document, ministry,
diarienummer, deadline, consulted bodies and the proposals pasted as "7.1 Rubrik" lines) and
reviewing a response's stances (``/remisser/svar/{nr}/granska``: confirm, correct, add a
missed one, delete); uploading responses is in ``_remiss_upload``. Like the other forms: a
CSRF token, the bank decides who may write, whatever goes wrong comes back as a Swedish
message with what the user typed, and a stale version is a 409 page showing what is saved
now."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from tillit.bank import UserRecord, remisser_of
from tillit.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    TillitError,
)
from tillit.query import parse_proposals
from tillit.web._auth import WebState, web_state
from tillit.web._errors import WebError
from tillit.web._params import MAX_ID, request_int
from tillit.web.pages._account import login_redirect
from tillit.web.pages._remiss import load_response, may_create, may_write, review_context
from tillit.web.pages._render import Viewer, check_csrf, first, read_form, render, viewer

__all__ = ["WRITERS", "RemissForm", "find_quote", "router", "said"]

router = APIRouter(include_in_schema=False)
State = Annotated[WebState, Depends(web_state)]

WRITERS = "Bara redaktörer för organisationen som äger remissen och administratörer får det."
LABELS = {
    "title": "Titel",
    "document": "Remitterat dokument",
    "ministry": "Departement",
    "diarienummer": "Diarienummer",
    "deadline": "Sista svarsdag",
    "bodies": "Remissinstanser",
    "proposals": "Förslag",
}


# --- a new remiss ---------------------------------------------------------------------------
@dataclass
class RemissForm:
    """The new-remiss form as typed."""

    title: str = ""
    document: str = ""
    ministry: str = ""
    diarienummer: str = ""
    deadline: str = ""
    bodies: str = ""
    proposals: str = ""

    @classmethod
    def of_form(cls, form: dict[str, list[str]]) -> RemissForm:
        return cls(**{name: first(form, name).replace("\x00", "") for name in LABELS})

    def data(self) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """The bank's fields, and the errors (control, message) the form can tell."""
        errors: list[tuple[str, str]] = []
        data: dict[str, Any] = {
            name: getattr(self, name).strip()
            for name in ("title", "document", "ministry", "diarienummer", "deadline")
        }
        if not data["title"]:
            errors.append(
                ("f-title", f"{LABELS['title']}: skriv det remitterade dokumentets titel.")
            )
        data["deadline"] = data["deadline"] or None
        data["bodies"] = [line.strip() for line in self.bodies.splitlines() if line.strip()]
        if self.proposals.strip():
            try:
                data["proposals"] = parse_proposals(self.proposals)
            except InvalidInputError as exc:
                errors.append(("f-proposals", f"{LABELS['proposals']}: {said(exc)}"))
        return data, errors


def said(exc: TillitError) -> str:
    return exc.message + (f" {exc.hint}" if exc.hint else "")


def _control(exc: InvalidInputError) -> str:
    """The control a bank's message is about ("deadline: … är inget datum")."""
    name = exc.message.split(":", 1)[0].split("[", 1)[0].strip()
    return f"f-{name}" if name in LABELS else ""


def _writer(who: Viewer) -> UserRecord:
    if not may_create(who.user):
        raise PermissionDeniedError(
            "Bara redaktörer och administratörer får skapa remisser och läsa in svar.",
            hint="Be en administratör om redaktörsbehörighet för din organisation.",
        )
    assert who.user is not None
    return who.user


def _new_page(
    request: Request,
    who: Viewer,
    form: RemissForm,
    errors: list[tuple[str, str]] | None = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        "remiss/new.html",
        {
            "viewer": who,
            "form": form,
            "labels": LABELS,
            "errors": errors or [],
            "field_errors": dict(reversed([e for e in errors or [] if e[0]])),
        },
        status=status,
    )


@router.get("/remisser/ny")
def new_remiss_page(request: Request, state: State) -> Response:
    who = viewer(request, state)
    if who.user is None:
        return login_redirect(request)
    _writer(who)
    return _new_page(request, who, RemissForm())


@router.post("/remisser/ny")
async def create_remiss(request: Request, state: State) -> Response:
    posted = await read_form(request)
    who = viewer(request, state)
    if who.user is None:
        return login_redirect(request)
    check_csrf(request, posted, who.csrf_token)
    user = _writer(who)
    form = RemissForm.of_form(posted)
    data, errors = form.data()
    if errors:
        return _new_page(request, who, form, errors, status=422)
    try:
        remiss = await run_in_threadpool(remisser_of(state.bank).create_remiss, user, data)
    except (InvalidInputError, NotFoundError, ConflictError) as exc:
        control = _control(exc) if isinstance(exc, InvalidInputError) else ""
        return _new_page(request, who, form, [(control, said(exc))], status=422)
    return RedirectResponse(f"/remisser/{remiss.id}", status_code=303)


# --- reviewing a response's stances -----------------------------------------------------------
def find_quote(text: str, typed: str) -> tuple[int, int] | None:
    """Where ``typed`` stands in ``text``: exactly, or with any white space between its
    words (a quote copied from the page); None when it is not there."""
    typed = typed.strip()
    if not typed:
        return None
    at = text.find(typed)
    if at >= 0:
        return at, at + len(typed)
    pattern = r"\s+".join(re.escape(word) for word in typed.split())
    found = re.search(pattern, text)
    return (found.start(), found.end()) if found else None


def _int(form: dict[str, list[str]], name: str) -> int:
    value = request_int(first(form, name), low=1, high=MAX_ID)
    if value is None:
        raise WebError(400, f"Formuläret saknar {name}.", hint="Ladda om sidan och försök igen.")
    return value


@router.post("/remisser/svar/{response_id:int}/granska")
async def review_stance(request: Request, state: State, response_id: int) -> Response:
    posted = await read_form(request)
    who = viewer(request, state)
    if who.user is None:
        return login_redirect(request)
    check_csrf(request, posted, who.csrf_token)
    response, remiss = await run_in_threadpool(load_response, state, who, response_id)
    if not may_write(who.user, remiss):
        raise PermissionDeniedError(
            "Du får inte granska svaren på den här remissen.",
            hint=WRITERS,
        )
    remisser = remisser_of(state.bank)
    action = first(posted, "action")
    keys = {p.key for p in remiss.proposals}
    try:
        if action == "add":
            return await _add(request, state, who, response_id, posted, keys)
        stance_id = _int(posted, "stance")
        version = _int(posted, "version")
        current = next((s for s in response.stances if s.id == stance_id), None)
        if current is None:
            raise NotFoundError(
                f"Ställningstagandet {stance_id} hör inte till svaret {response_id}.",
                hint="Ladda om sidan.",
            )
        if action == "confirm":
            await run_in_threadpool(remisser.confirm_stance, who.user, stance_id, version)
        elif action == "correct":
            changes: dict[str, Any] = {}
            wanted = first(posted, "new_stance")
            if wanted and wanted != current.stance:
                changes["stance"] = wanted
            key = first(posted, "proposal", "-")
            if key != "-" and (key or None) != current.proposal_key:
                if key and key not in keys:
                    raise InvalidInputError(f"Förslaget {key[:50]!r} finns inte i remissen.")
                changes["proposal_key"] = key or None
            if changes:
                await run_in_threadpool(
                    remisser.correct_stance, who.user, stance_id, version, changes
                )
            else:
                await run_in_threadpool(remisser.confirm_stance, who.user, stance_id, version)
        elif action == "delete":
            await run_in_threadpool(remisser.delete_stance, who.user, stance_id, version)
            return RedirectResponse(f"/remisser/svar/{response_id}#stances", status_code=303)
        else:
            raise WebError(400, "Okänd åtgärd.", hint="Använd knapparna i formuläret.")
    except InvalidInputError as exc:
        return _review_again(request, state, who, response_id, errors=[said(exc)], status=422)
    except ConflictError as exc:
        return _review_again(request, state, who, response_id, conflict=said(exc), status=409)
    return RedirectResponse(f"/remisser/svar/{response_id}#stance-{stance_id}", status_code=303)


async def _add(
    request: Request,
    state: State,
    who: Viewer,
    response_id: int,
    posted: dict[str, list[str]],
    keys: set[str],
) -> Response:
    response, _remiss = await run_in_threadpool(load_response, state, who, response_id)
    typed = {name: first(posted, name) for name in ("proposal", "new_stance", "quote")}
    key = typed["proposal"] or None
    errors = []
    if key is not None and key not in keys:
        errors.append(f"Förslaget {key[:50]!r} finns inte i remissen.")
    span = find_quote(response.text, typed["quote"])
    if span is None:
        errors.append(
            "Citatet finns inte ordagrant i svarets text. Kopiera det ur texten till vänster."
        )
    if errors or span is None:
        return _review_again(
            request, state, who, response_id, errors=errors, added=typed, status=422
        )
    start, end = span
    page = next((p for p, a, b in response.pages if a <= start < b), None)
    stance = (key, typed["new_stance"], response.text[start:end], start, end, page, "reviewer")
    try:
        added = await run_in_threadpool(
            remisser_of(state.bank).add_stance, who.user, response_id, stance
        )
    except InvalidInputError as exc:
        return _review_again(
            request, state, who, response_id, errors=[said(exc)], added=typed, status=422
        )
    return RedirectResponse(f"/remisser/svar/{response_id}#stance-{added.id}", status_code=303)


def _review_again(
    request: Request, state: WebState, who: Viewer, response_id: int, *, status: int, **extra: Any
) -> Response:
    context = review_context(state, who, response_id, **extra)
    return render(request, "remiss/review.html", context, status=status)
