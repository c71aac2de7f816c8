"""Uploading consultation responses (``/remisser/{nr}/svar``): one or several files (PDF,
DOCX, Markdown, text, HTML) in one multipart form, each read by
``tillit.query.read_response`` (text, respondent, stances) in a worker thread. What cannot
be read is said per file in Swedish and the other files are still read; a file above
``MAX_FILE_BYTES`` is a 413. Only who may write the remiss uploads."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException

from tillit.bank import RemissRecord, remisser_of
from tillit.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from tillit.query import read_response
from tillit.web._auth import WebState, web_state
from tillit.web._errors import WebError
from tillit.web._params import MAX_ID
from tillit.web.pages._account import login_redirect
from tillit.web.pages._remiss import may_write
from tillit.web.pages._remiss_forms import WRITERS, said
from tillit.web.pages._render import Viewer, check_csrf, read_form, render, viewer

__all__ = ["MAX_FILES", "MAX_FILE_BYTES", "Upload", "UploadResult", "router"]

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
State = Annotated[WebState, Depends(web_state)]

#: A response file at most (bytes), files per upload, and other fields of the form.
MAX_FILE_BYTES = 20_000_000
MAX_FILES = 50
MAX_FIELDS = 20
#: The formats ``tillit.sources.documents`` reads.
ACCEPT = ".pdf,.docx,.md,.markdown,.txt,.html,.htm"
AGAIN = "Ladda om sidan, välj filerna och skicka igen."


@dataclass
class Upload:
    """What became of one uploaded file."""

    file_name: str
    response_id: int | None = None
    respondent: str = ""
    stances: int = 0
    error: str = ""


@dataclass
class UploadResult:
    files: list[Upload] = field(default_factory=list)
    respondent: str = ""


def _remiss_for_upload(state: WebState, who: Viewer, remiss_id: int) -> RemissRecord:
    if not 1 <= remiss_id <= MAX_ID:
        raise NotFoundError(f"Remissen {remiss_id} finns inte.", hint="Se listan på /remisser.")
    remiss = remisser_of(state.bank).remiss(who.user, remiss_id)
    if not may_write(who.user, remiss):
        raise PermissionDeniedError(
            "Du får inte läsa in svar på den här remissen.",
            hint=WRITERS,
        )
    return remiss


def _upload_page(
    request: Request,
    who: Viewer,
    remiss: RemissRecord,
    result: UploadResult | None = None,
    error: str = "",
    status: int = 200,
) -> Response:
    return render(
        request,
        "remiss/upload.html",
        {
            "viewer": who,
            "remiss": remiss,
            "result": result,
            "error": error,
            "accept": ACCEPT,
            "max_mb": MAX_FILE_BYTES // 1_000_000,
        },
        status=status,
    )


def _file_name(upload: UploadFile) -> str:
    name = PurePath((upload.filename or "").replace("\\", "/")).name
    return "".join(ch for ch in name if ch.isprintable())[:200] or "svar"


@router.get("/remisser/{remiss_id:int}/svar")
def upload_page(request: Request, state: State, remiss_id: int) -> Response:
    who = viewer(request, state)
    if who.user is None:
        return login_redirect(request)
    return _upload_page(request, who, _remiss_for_upload(state, who, remiss_id))


async def _posted(request: Request) -> FormData:
    """The multipart form, or a Swedish 413/415/400 (never Starlette's English)."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media == "application/x-www-form-urlencoded":
        await read_form(request)  # too many fields: 413, as for every form
    if media != "multipart/form-data":
        raise WebError(
            415,
            "Svaren ska skickas som filer (multipart/form-data).",
            hint="Välj filerna i formuläret och tryck på Läs in.",
        )
    try:
        return await request.form(max_files=MAX_FILES, max_fields=MAX_FIELDS)
    except HTTPException as exc:  # Starlette's: too many files or fields, a broken body
        detail = str(exc.detail)
        if "files" in detail:
            raise WebError(
                413,
                f"Högst {MAX_FILES} filer åt gången.",
                hint="Läs in resten av svaren i en ny omgång.",
            ) from None
        if "fields" in detail:
            raise WebError(413, "För många fält i formuläret.", hint=AGAIN) from None
        raise WebError(400, "Formuläret med filerna gick inte att läsa.", hint=AGAIN) from None


@router.post("/remisser/{remiss_id:int}/svar")
async def upload_responses(request: Request, state: State, remiss_id: int) -> Response:
    posted = await _posted(request)
    try:
        token = posted.get("csrf_token")
        who = viewer(request, state)
        if who.user is None:
            return login_redirect(request)
        check_csrf(
            request, {"csrf_token": [token if isinstance(token, str) else ""]}, who.csrf_token
        )
        remiss = _remiss_for_upload(state, who, remiss_id)
        respondent = posted.get("respondent")
        override = respondent.strip()[:200] if isinstance(respondent, str) else ""
        files = [f for f in posted.getlist("filer") if isinstance(f, UploadFile)]
        files = [f for f in files if f.filename or (f.size or 0) > 0]
        result = UploadResult(respondent=override)
        if not files:
            return _upload_page(
                request, who, remiss, result, "Välj minst en fil med ett remissvar.", status=422
            )
        for upload in files:
            name = _file_name(upload)
            body = await upload.read(MAX_FILE_BYTES + 1)
            if len(body) > MAX_FILE_BYTES:
                raise WebError(
                    413,
                    f"{name} är större än {MAX_FILE_BYTES // 1_000_000} MB.",
                    hint="Dela upp filen, eller läs in den med `tillit remiss svar`.",
                )
            result.files.append(
                await run_in_threadpool(_read, state, who, remiss, name, body, override)
            )
    finally:
        await posted.close()
    done = [f for f in result.files if f.response_id is not None]
    if len(result.files) == 1 and done:
        return RedirectResponse(f"/remisser/svar/{done[0].response_id}", status_code=303)
    return _upload_page(request, who, remiss, result, status=200 if done else 422)


def _read(
    state: WebState, who: Viewer, remiss: RemissRecord, name: str, body: bytes, respondent: str
) -> Upload:
    if not body:
        return Upload(name, error=f"{name} är tom. Välj filen med remissvaret igen.")
    try:
        record = read_response(
            state.bank, who.user, remiss.id, body, filename=name, respondent=respondent or None
        )
    except (InvalidInputError, NotFoundError, PermissionDeniedError) as exc:
        return Upload(name, error=said(exc))
    except Exception:  # a file nobody foresaw: reported with the others, never a 500
        log.exception("reading the response %s failed", name)
        return Upload(
            name,
            error=f"{name} kunde inte läsas (ett oväntat fel, som är loggat). Spara filen "
            "som PDF eller DOCX och försök igen.",
        )
    return Upload(name, record.id, record.respondent_name, len(record.stances))
