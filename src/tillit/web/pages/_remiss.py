"""The consultation pages (remisser): the list (``/remisser``), a remiss's compilation
(``/remisser/{nr}``: proposals × respondents, a symbol and a word per stance, the counts per
proposal, who did not answer, a filter by kind of respondent and the downloads) and a
response's review page (``/remisser/svar/{nr}``: the text with each stance's quote marked,
beside its stances). Each page has a JSON twin (``….json``). The forms that create a
remiss, upload responses and review stances are in ``_remiss_forms``."""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from markupsafe import Markup, escape

from tillit.bank import RemissRecord, ResponseRecord, StanceRecord, UserRecord, remisser_of
from tillit.errors import NotFoundError
from tillit.query import ANSWER_LABELS, Compilation, compilation_data, compile_remiss
from tillit.web._auth import WebState, web_state
from tillit.web._errors import SECURITY_HEADERS
from tillit.web._params import MAX_ID, request_int
from tillit.web.pages._render import Viewer, json_response, render, viewer

__all__ = [
    "BASIS_LABELS",
    "KIND_LABELS",
    "compilation_page_data",
    "list_data",
    "may_write",
    "response_text_html",
    "review_context",
    "review_data",
    "router",
]

router = APIRouter(include_in_schema=False)
State = Annotated[WebState, Depends(web_state)]
Kinds = Annotated[list[str], Query(max_length=20)]
Text = Annotated[str, Query(max_length=20)]

#: The kinds of respondent the compilation filters by (``?slag=kommun&slag=region``).
KIND_LABELS = {
    "kommun": "Kommuner",
    "region": "Regioner",
    "myndighet": "Myndigheter",
    "organisation": "Organisationer och andra",
}
#: How the extraction tied a stance to its proposal, in words.
BASIS_LABELS = {
    "section": "avsnittets nummer",
    "range": "ett intervall av avsnitt",
    "heading": "förslagets rubrik",
    "words": "förslagets ord",
    "i_ovrigt": "”i övrigt”",
    "general": "hela remissen",
    "reviewer": "granskare",
}
PER_PAGE = 50
_MONTHS = ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti",
           "september", "oktober", "november", "december")  # fmt: skip
DOWNLOADS = {
    "csv": ("text/csv; charset=utf-8", "data (CSV)"),
    "docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "remissammanställning (Word)",
    ),
    "xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "tabeller (Excel)",
    ),
}


def swedish_date(value: date | None) -> str:
    """12 mars 2019 (an empty string for no date)."""
    return f"{value.day} {_MONTHS[value.month - 1]} {value.year}" if value else ""


def may_write(user: UserRecord | None, remiss: RemissRecord) -> bool:
    """The bank's rule: admins write every remiss, editors those their organisation owns."""
    from tillit.bank._remiss_records import may_write_remiss

    return may_write_remiss(user, remiss.organisation_id)


def may_create(user: UserRecord | None) -> bool:
    return user is not None and user.role in ("admin", "editor")


def remiss_id_of(value: int) -> int:
    if not 1 <= value <= MAX_ID:
        raise NotFoundError(f"Remissen {value} finns inte.", hint="Se listan på /remisser.")
    return value


def stance_label(stance: str) -> str:
    return ANSWER_LABELS[stance][0] if stance in ANSWER_LABELS else stance


# --- the list -----------------------------------------------------------------------------
def _remiss_item(r: RemissRecord) -> dict[str, Any]:
    return {
        "id": r.id,
        "document": r.document,
        "title": r.title,
        "ministry": r.ministry,
        "diarienummer": r.diarienummer,
        "deadline": r.deadline.isoformat() if r.deadline else None,
        "deadline_text": swedish_date(r.deadline),
        "proposals": len(r.proposals),
        "bodies": len(r.bodies),
        "responses": r.responses,
        "organisation": r.organisation_name,
        "url": f"/remisser/{r.id}",
    }


def list_data(state: WebState, who: Viewer, sida: str = "") -> dict[str, Any]:
    """A page of remisser, the latest deadline first."""
    page = request_int(sida, low=1, high=100_000) or 1
    found = remisser_of(state.bank).remisser(
        who.user, limit=PER_PAGE + 1, offset=(page - 1) * PER_PAGE
    )
    return {
        "page": page,
        "per_page": PER_PAGE,
        "has_next": len(found) > PER_PAGE,
        "items": [_remiss_item(r) for r in found[:PER_PAGE]],
    }


@router.get("/remisser.json")
def remisser_json(request: Request, state: State, sida: Text = "") -> Response:
    return json_response(list_data(state, viewer(request, state), sida))


@router.get("/remisser")
def remisser_page(request: Request, state: State, sida: Text = "") -> Response:
    who = viewer(request, state)
    return render(
        request,
        "remiss/list.html",
        {"viewer": who, "result": list_data(state, who, sida), "may_create": may_create(who.user)},
    )


# --- the compilation ----------------------------------------------------------------------
def _compilation(state: WebState, who: Viewer, remiss_id: int, kinds: Sequence[str]) -> Compilation:
    remisser_of(state.bank).remiss(who.user, remiss_id_of(remiss_id))  # "finns inte"
    chosen = list(dict.fromkeys(k.strip() for k in kinds if k.strip()))
    return compile_remiss(state.bank, remiss_id, kinds=chosen, actor=who.user)


def cell_url(c: Compilation, key: str, i: int) -> str | None:
    """Where a cell's quote is: its anchor on the response's review page."""
    cell = c.cells[(key, i)]
    if cell.stance_id is None:
        return None
    return f"/remisser/svar/{c.respondents[i].response_id}#stance-{cell.stance_id}"


def compilation_page_data(c: Compilation) -> dict[str, Any]:
    """``tillit.query.compilation_data`` (the same shape as the command line's and the
    download's JSON) with the web's addresses: each respondent's review page and each
    stance's quote."""
    data = compilation_data(c)
    data["remiss"].update(_remiss_item(c.remiss))
    for i, who in enumerate(c.respondents):
        data["respondents"][i]["url"] = f"/remisser/svar/{who.response_id}"
    urls = [
        cell_url(c, p.key, i)
        for p in c.remiss.proposals
        for i in range(len(c.respondents))
        if c.cells[(p.key, i)].stance != "ej_besvarat"
    ]
    assert len(urls) == len(data["stances"])
    for stance, url in zip(data["stances"], urls, strict=True):
        stance["url"] = url
    data["labels"] = {k: {"label": v[0], "symbol": v[1]} for k, v in ANSWER_LABELS.items()}
    data["downloads"] = {
        fmt: _download_url(c.remiss.id, fmt, c.kinds) for fmt in ("json", *DOWNLOADS)
    }
    return data


def _download_url(remiss_id: int, fmt: str, kinds: Sequence[str]) -> str:
    query = "&".join(f"slag={k}" for k in kinds)
    return f"/remisser/{remiss_id}.{fmt}" + (f"?{query}" if query else "")


@router.get("/remisser/{remiss_id:int}.json")
def compilation_json(request: Request, state: State, remiss_id: int, slag: Kinds = []) -> Response:  # noqa: B006
    c = _compilation(state, viewer(request, state), remiss_id, slag)
    return json_response(compilation_page_data(c))


@router.get("/remisser/{remiss_id:int}.{fmt}")
def compilation_file(
    request: Request,
    state: State,
    remiss_id: int,
    fmt: str,
    slag: Kinds = [],  # noqa: B006
) -> Response:
    from tillit.reports import remiss_bytes

    if fmt not in DOWNLOADS:
        raise NotFoundError(
            f"Sammanställningen finns inte som .{fmt[:10]}.",
            hint="Den finns som .json, .csv, .docx och .xlsx.",
        )
    c = _compilation(state, viewer(request, state), remiss_id, slag)
    body = remiss_bytes(c, fmt)
    if fmt == "csv":
        body = b"\xef\xbb\xbf" + body  # a BOM, so that Excel reads å, ä and ö
    return Response(
        body,
        media_type=DOWNLOADS[fmt][0],
        headers={
            **SECURITY_HEADERS,
            "Content-Disposition": f'attachment; filename="remiss-{remiss_id}.{fmt}"',
        },
    )


@router.get("/remisser/{remiss_id:int}")
def compilation_page(request: Request, state: State, remiss_id: int, slag: Kinds = []) -> Response:  # noqa: B006
    who = viewer(request, state)
    c = _compilation(state, who, remiss_id, slag)
    responses = remisser_of(state.bank).responses(who.user, remiss_id)
    return render(
        request,
        "remiss/compilation.html",
        {
            "viewer": who,
            "c": c,
            "r": c.remiss,
            "labels": ANSWER_LABELS,
            "kinds": KIND_LABELS,
            "cell_url": cell_url,
            "responses": responses,
            "swedish_date": swedish_date,
            "may_write": may_write(who.user, c.remiss),
            "downloads": {
                fmt: (_download_url(c.remiss.id, fmt, c.kinds), label)
                for fmt, (_media, label) in DOWNLOADS.items()
            },
            "json_url": _download_url(c.remiss.id, "json", c.kinds),
        },
    )


# --- a response's review page ---------------------------------------------------------------
def response_text_html(
    text: str, stances: Sequence[StanceRecord], pages: Sequence[Sequence[int]] = ()
) -> list[Markup]:
    """The response's paragraphs as HTML: each stance's quote in a ``<mark>`` (the first
    piece of it carries ``id="stance-{id}"``), and "Sida N" where a page begins."""
    paragraphs = []
    at = 0
    for gap in re.finditer(r"\n[ \t\r\f\v]*\n\s*", text):
        paragraphs.append((at, gap.start()))
        at = gap.end()
    paragraphs.append((at, len(text)))
    starts = sorted((p[1], p[0]) for p in pages if p[0] > 1) if len(pages) > 1 else []
    anchored: set[int] = set()
    out: list[Markup] = []
    for p_start, p_end in paragraphs:
        if p_start >= p_end:
            continue
        cuts = {p_start, p_end}
        for s in stances:
            cuts.update(x for x in (s.start, s.end) if p_start < x < p_end)
        cuts.update(o for o, _n in starts if p_start < o < p_end)
        edges = sorted(cuts)
        parts: list[str] = []
        for a, b in itertools.pairwise(edges):
            while starts and starts[0][0] <= a:
                parts.append(f'<span class="page-mark">Sida {starts.pop(0)[1]}</span> ')
            piece = str(escape(text[a:b]))
            covering = [s for s in stances if s.start < b and s.end > a]
            if not covering:
                parts.append(piece)
                continue
            anchors = [s for s in covering if s.id not in anchored]
            anchored.update(s.id for s in anchors)
            first = f' id="stance-{anchors[0].id}"' if anchors else ""
            extra = "".join(f'<span id="stance-{s.id}"></span>' for s in anchors[1:])
            parts.append(f"<mark{first}>{extra}{piece}</mark>")
        out.append(Markup("".join(parts)))
    return out


def _stance_item(s: StanceRecord, headings: dict[str, str], rid: int) -> dict[str, Any]:
    return {
        "id": s.id,
        "section": s.proposal_key,
        "proposal": headings.get(s.proposal_key or "") if s.proposal_key else None,
        "stance": s.stance,
        "stance_label": stance_label(s.stance),
        "quote": s.quote,
        "start": s.start,
        "end": s.end,
        "page": s.page,
        "basis": s.basis,
        "basis_label": BASIS_LABELS.get(s.basis, s.basis),
        "confirmed": s.confirmed,
        "source": s.source,
        "version": s.version,
        "url": f"/remisser/svar/{rid}#stance-{s.id}",
    }


def load_response(
    state: WebState, who: Viewer, response_id: int
) -> tuple[ResponseRecord, RemissRecord]:
    if not 1 <= response_id <= MAX_ID:
        raise NotFoundError(f"Svaret {response_id} finns inte.", hint="Se remissens svar.")
    remisser = remisser_of(state.bank)
    response = remisser.response(who.user, response_id)
    return response, remisser.remiss(who.user, response.remiss_id)


def review_data(response: ResponseRecord, remiss: RemissRecord, writable: bool) -> dict[str, Any]:
    """A response with its stances, in text order (the JSON twin of the review page)."""
    headings = {p.key: p.heading for p in remiss.proposals}
    return {
        "remiss": {
            "id": remiss.id,
            "document": remiss.document,
            "title": remiss.title,
            "url": f"/remisser/{remiss.id}",
            "proposals": [{"section": p.key, "proposal": p.heading} for p in remiss.proposals],
        },
        "response": {
            "id": response.id,
            "respondent": response.respondent_name,
            "organisation_code": response.organisation_code,
            "organisation": response.organisation_name,
            "file": response.file_name,
            "format": response.format,
            "needs_ocr": response.needs_ocr,
            "uploaded_at": response.uploaded_at.isoformat(),
            "pages": [list(p) for p in response.pages],
            "version": response.version,
            "url": f"/remisser/svar/{response.id}",
        },
        "text": response.text,
        "stances": [
            _stance_item(s, headings, response.id)
            for s in sorted(response.stances, key=lambda s: (s.start, s.id))
        ],
        "may_review": writable,
    }


def review_context(state: WebState, who: Viewer, response_id: int, **extra: Any) -> dict[str, Any]:
    """What the review page shows (``extra``: the forms' errors, a conflict, what was typed)."""
    response, remiss = load_response(state, who, response_id)
    writable = may_write(who.user, remiss)
    data = review_data(response, remiss, writable)
    return {
        "viewer": who,
        "data": data,
        "remiss": remiss,
        "response": response,
        "paragraphs": response_text_html(response.text, response.stances, response.pages),
        "stances": list(ANSWER_LABELS.items())[:4],
        "labels": ANSWER_LABELS,
        "may_review": writable,
        "swedish_date": swedish_date,
        "errors": [],
        "conflict": None,
        "added": {},
        **extra,
    }


@router.get("/remisser/svar/{response_id:int}.json")
def review_json(request: Request, state: State, response_id: int) -> Response:
    who = viewer(request, state)
    response, remiss = load_response(state, who, response_id)
    return json_response(review_data(response, remiss, may_write(who.user, remiss)))


@router.get("/remisser/svar/{response_id:int}")
def review_page(request: Request, state: State, response_id: int) -> Response:
    who = viewer(request, state)
    return render(request, "remiss/review.html", review_context(state, who, response_id))
