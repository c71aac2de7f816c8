"""The API's request and response bodies (pydantic). Requests reject unknown fields, take
integers only as JSON integers (not ``true`` nor ``"1"``), and enforce the same length limits
and id patterns as the bank; responses mirror the bank's records."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt

from tillit.bank import (
    AuditRecord,
    ExampleRecord,
    OrganisationRecord,
    RevisionRecord,
    TokenRecord,
    UserRecord,
)

MAX_TEXT = 100_000


def _storable(value: str) -> str:
    # NUL and lone surrogates cannot be stored (PostgreSQL refuses NUL, UTF-8 surrogates).
    if "\x00" in value:
        raise ValueError("texten får inte innehålla NUL-tecken")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("texten är inte giltig Unicode") from None
    return value


_Clean = AfterValidator(_storable)
Title = Annotated[str, Field(min_length=1, max_length=300), _Clean]
ShortText = Annotated[str, Field(max_length=300), _Clean]
LongText = Annotated[str, Field(max_length=MAX_TEXT), _Clean]
AreaText = Annotated[str, Field(max_length=200), _Clean]
SourceText = Annotated[str, Field(max_length=500), _Clean]
Year = Annotated[StrictInt, Field(ge=1900, le=2200)]
#: Kolada's KPI id (as tillit.bank._validate.KPI_ID; lower case is upper-cased) and
#: municipality or region code: ASCII only, whatever Python's ``\d`` would take.
KPI_PATTERN = "^[A-Za-z][0-9]{5}$"
CODE_PATTERN = "^[0-9]{4}$"
Tag = Annotated[str, Field(min_length=1, max_length=100), _Clean]
Status = Literal["draft", "published"]
#: What a text is (tillit.bank.EXAMPLE_KINDS; a test checks they agree): "example" is a good
#: example; the others are imported texts.
Kind = Literal["example", "project", "press_release", "text"]
SourceName = Annotated[str, Field(max_length=200), _Clean]
SourceUrl = Annotated[str, Field(max_length=1000, pattern=r"^https?://\S+$"), _Clean]
#: The seven trust principles (tillit.bank.TRUST_PRINCIPLES; a test checks they agree).
Principle = Literal[
    "tillit", "medborgarfokus", "helhetssyn", "handlingsutrymme", "stöd", "kunskap", "öppenhet"
]
Version = Annotated[StrictInt, Field(ge=1, le=2_147_483_647)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- requests --------------------------------------------------------------------------------


class LoginIn(_Strict):
    email: Annotated[str, Field(min_length=1, max_length=320), AfterValidator(_storable)]
    password: Annotated[str, Field(min_length=1, max_length=1024), AfterValidator(_storable)]


class TokenIn(_Strict):
    name: Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_storable)]


class KpiLinkIn(_Strict):
    kpi: Annotated[str, Field(pattern=KPI_PATTERN)] = Field(
        description="Koladas nyckeltals-id, t.ex. N00945."
    )
    municipality: Annotated[str, Field(pattern=CODE_PATTERN)] = Field(
        description="Koladas fyrsiffriga kommun- eller regionkod, t.ex. 1480."
    )
    year_from: Year | None = None
    year_to: Year | None = None
    note: LongText = ""


class _ExampleFields(_Strict):
    summary: LongText = ""
    problem: LongText = ""
    what_was_done: LongText = ""
    results: LongText = ""
    operating_area: AreaText | None = None
    period_start: Year | None = None
    period_end: Year | None = None
    contact_role: ShortText = Field("", description="En roll, inte en person.")
    status: Status = "draft"
    source: SourceText | None = None
    kind: Kind = Field(
        "example",
        description="example (gott exempel), project (projektbeskrivning), press_release "
        "(pressmeddelande) eller text (importerad text).",
    )
    source_name: SourceName | None = Field(None, description="Vem som publicerade texten.")
    source_url: SourceUrl | None = Field(None, description="Länk till texten där den finns.")
    tags: Annotated[list[Tag], Field(max_length=50)] = []
    principles: Annotated[list[Principle], Field(max_length=7)] = Field(
        [], description="Tillitsprinciper."
    )
    kpis: Annotated[list[KpiLinkIn], Field(max_length=100)] = []
    organisation: AreaText | None = Field(
        None,
        description="Organisationens Kolada-kod eller namn; en redaktörs egen om den utelämnas.",
    )


class ExampleIn(_ExampleFields):
    """A new example."""

    title: Title


class ExampleReplace(ExampleIn):
    """PUT: every field, with the version the change starts from."""

    version: Version = Field(description="Versionen ändringen utgår från (optimistisk låsning).")


class ExamplePatch(_Strict):
    """PATCH: only the given fields change."""

    version: Version = Field(description="Versionen ändringen utgår från (optimistisk låsning).")
    title: Title | None = None
    summary: LongText | None = None
    problem: LongText | None = None
    what_was_done: LongText | None = None
    results: LongText | None = None
    operating_area: AreaText | None = None
    period_start: Year | None = None
    period_end: Year | None = None
    contact_role: ShortText | None = None
    status: Status | None = None
    source: SourceText | None = None
    kind: Kind | None = None
    source_name: SourceName | None = None
    source_url: SourceUrl | None = None
    tags: Annotated[list[Tag], Field(max_length=50)] | None = None
    principles: Annotated[list[Principle], Field(max_length=7)] | None = None
    kpis: Annotated[list[KpiLinkIn], Field(max_length=100)] | None = None
    organisation: AreaText | None = None


class VersionIn(_Strict):
    version: Version | None = Field(
        None, description="Versionen du utgår från; utelämnad: den senaste."
    )


# -- responses -------------------------------------------------------------------------------


class UserOut(BaseModel):
    id: int
    email: str
    display_name: str
    role: str
    organisation_code: str | None

    @classmethod
    def of(cls, user: UserRecord) -> UserOut:
        return cls(
            id=user.id,
            email=user.email,
            display_name=user.display_name,
            role=user.role,
            organisation_code=user.organisation_code,
        )


class LoginOut(BaseModel):
    user: UserOut
    csrf_token: str


class MeOut(BaseModel):
    user: UserOut | None
    authenticated_by: Literal["session", "token"] | None
    csrf_token: str | None


class TokenOut(BaseModel):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, token: TokenRecord) -> TokenOut:
        return cls(
            id=token.id,
            name=token.name,
            prefix=token.prefix,
            created_at=token.created_at,
            last_used_at=token.last_used_at,
            revoked_at=token.revoked_at,
        )


class NewTokenOut(TokenOut):
    token: str = Field(description="Själva token; visas bara nu, spara den.")


class OrganisationOut(BaseModel):
    id: int
    code: str | None
    name: str
    kind: str

    @classmethod
    def of(cls, org: OrganisationRecord) -> OrganisationOut:
        return cls(id=org.id, code=org.code, name=org.name, kind=org.kind)


class OrganisationRef(BaseModel):
    id: int
    code: str | None
    name: str


class KpiLinkOut(BaseModel):
    kpi: str
    municipality: str
    year_from: int | None
    year_to: int | None
    note: str


class SimilarOut(BaseModel):
    id: int
    title: str
    organisation: str
    snippet_html: str = Field(description="HTML-escapad text, träffar i <mark>.")


class ExampleOut(BaseModel):
    id: int
    organisation: OrganisationRef
    title: str
    summary: str
    problem: str
    what_was_done: str
    results: str
    operating_area: str | None
    period_start: int | None
    period_end: int | None
    contact_role: str
    status: str
    source: str | None
    kind: str
    kind_label: str
    source_name: str | None
    source_url: str | None
    source_area: str | None
    version: int
    tags: list[str]
    principles: list[str]
    kpis: list[KpiLinkOut]
    created_at: datetime
    updated_at: datetime
    created_by: int | None
    updated_by: int | None

    @classmethod
    def of(cls, e: ExampleRecord, **extra: Any) -> Self:
        return cls(
            id=e.id,
            organisation=OrganisationRef(
                id=e.organisation_id, code=e.organisation_code, name=e.organisation_name
            ),
            title=e.title,
            summary=e.summary,
            problem=e.problem,
            what_was_done=e.what_was_done,
            results=e.results,
            operating_area=e.operating_area,
            period_start=e.period_start,
            period_end=e.period_end,
            contact_role=e.contact_role,
            status=e.status,
            source=e.source,
            kind=e.kind,
            kind_label=e.kind_label,
            source_name=e.source_name,
            source_url=e.source_url,
            source_area=e.source_area,
            version=e.version,
            tags=list(e.tags),
            principles=list(e.principles),
            kpis=[
                KpiLinkOut(
                    kpi=k.kpi,
                    municipality=k.municipality,
                    year_from=k.year_from,
                    year_to=k.year_to,
                    note=k.note,
                )
                for k in e.kpis
            ],
            created_at=e.created_at,
            updated_at=e.updated_at,
            created_by=e.created_by,
            updated_by=e.updated_by,
            **extra,
        )


class ExampleDetailOut(ExampleOut):
    similar: list[SimilarOut] = Field(description="Liknande publicerade exempel.")


class ExampleListOut(BaseModel):
    items: list[ExampleOut]
    total: int
    limit: int
    offset: int


class RevisionOut(BaseModel):
    example_id: int
    version: int
    data: dict[str, Any]
    created_at: datetime
    created_by: int | None

    @classmethod
    def of(cls, r: RevisionRecord) -> RevisionOut:
        return cls(
            example_id=r.example_id,
            version=r.version,
            data=r.data,
            created_at=r.created_at,
            created_by=r.created_by,
        )


class SearchHitOut(BaseModel):
    id: int
    title: str
    organisation: str
    score: float
    snippet_html: str = Field(description="HTML-escapad text, träffar i <mark>.")


class SearchOut(BaseModel):
    query: str
    total: int
    limit: int
    offset: int
    fallback_used: bool = Field(
        description="Sant när ingen träff fanns och prefixsökning användes."
    )
    hits: list[SearchHitOut]


class AuditOut(BaseModel):
    id: int
    at: datetime
    user_id: int | None
    action: str
    entity: str
    entity_id: str | None
    details: dict[str, Any]

    @classmethod
    def of(cls, a: AuditRecord) -> AuditOut:
        return cls(
            id=a.id,
            at=a.at,
            user_id=a.user_id,
            action=a.action,
            entity=a.entity,
            entity_id=a.entity_id,
            details=a.details,
        )


class FieldErrorOut(BaseModel):
    field: str = Field(description="Var felet sitter, t.ex. body.title.")
    message: str


class ErrorDetail(BaseModel):
    status: int
    code: str
    message: str
    hint: str | None
    fields: list[FieldErrorOut] = Field(
        [], description="Felaktiga fält (bara vid 422); saknas annars."
    )


class ErrorOut(BaseModel):
    error: ErrorDetail
