"""What the trial form holds (``TrialForm``, as typed, so it can always be shown again),
the checks it makes against the store before the bank is asked, the bank's errors put next
to their fields, and how each KPI would be registered if the form were saved now
(``Stamp``: pre-registered or not)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tillit.bank import TrialRecord
from tillit.errors import InvalidInputError, NotFoundError
from tillit.query import check_kpi_kind, kpi_data_through, resolve_municipality
from tillit.store import Store
from tillit.web._params import MAX_ID, request_int
from tillit.web.pages._render import first
from tillit.web.pages._trials import DIRECTIONS

__all__ = ["KPI_ROWS", "LABELS", "Stamp", "TrialForm", "bank_error", "check", "field_id", "stamps"]

KPI_ROWS = 3
LABELS = {
    "municipality": "Kommun eller region",
    "title": "Titel",
    "description": "Beskrivning",
    "start_year": "Startår",
    "kpi": "Nyckeltal",
    "direction": "Väntas",
    "example_id": "Gott exempel",
    "example_other": "Eller ett annat exempels nummer",
}


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
        return request_int(self.start_year, low=0, high=9999)

    def example(self) -> str:
        return self.example_other or self.example_id

    def data(self) -> dict[str, Any]:
        """The fields for ``tillit.query.register_trial``/``update_trial`` (all of them)."""
        return {
            "title": self.title,
            "description": self.description,
            "start_year": self.start() or self.start_year or None,
            "kpis": [
                {"kpi": self.kpis[i]["kpi"].strip(), "direction": self.kpis[i]["direction"]}
                for i in self.filled_rows()
            ],
            "example_id": request_int(self.example(), low=1, high=MAX_ID) or self.example() or None,
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
    """What the form can tell before the bank is asked: a municipality or a region to
    register in (not Riket), a start year in digits, at least one KPI, each one known to
    the store, published by Kolada for that kind of unit (a region's trial is measured on
    a region KPI), and with a direction. The bank checks the rest (lengths, the year's
    range, the example, who may register for whom)."""
    errors: list[tuple[str, str]] = []
    unit_label = LABELS["municipality"]
    focal: dict[str, Any] | None = None
    if creating and not form.municipality:
        message = f"{unit_label}: välj kommunen eller regionen där försöket görs."
        errors.append((field_id("municipality"), message))
    elif form.municipality:
        try:
            focal = resolve_municipality(store, form.municipality)
        except (NotFoundError, InvalidInputError) as exc:
            if creating:
                errors.append((field_id("municipality"), f"{unit_label}: {exc.message}"))
    if form.start() is None:
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
                meta = store.kpi(kpi)
                if focal is not None:
                    check_kpi_kind(store, meta, focal)
            except (NotFoundError, InvalidInputError) as exc:
                hint = f" {exc.hint}" if exc.hint else ""
                errors.append((field_id("kpi", i), f"Nyckeltal ({label}): {exc.message}{hint}"))
        if not form.kpis[i]["direction"]:
            message = f"Väntas ({label}): välj om nyckeltalet väntas öka eller minska."
            errors.append((field_id("direction", i), message))
    example = form.example()
    if example and request_int(example, low=1, high=MAX_ID) is None:
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
